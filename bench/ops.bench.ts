/**
 * The scan, sort, indexing and einsum operations side by side with TensorFlow.js (cpu backend, and wasm
 * where it runs): cumsum, cumprod, topk, sort, gatherNd, segment sums, einsum against its matmul, and the
 * reverse pass of cumprod (a prefix scan of products, exact at zeros). Same inputs for every library.
 *
 * Run alone: `npx tsx bench/ops.bench.ts [--quick] [--case=topk]`; or `npm run bench -- ops`.
 */
import { cumprod, cumsum, einsum, gatherNd, gradient, matmul, randomNormal, randomUniform, segmentSum, sort, topk, type Tensor } from "../src/index.js";
import type { Tensor as TfTensor } from "@tensorflow/tfjs";
import { Suite, loadTf, onTfBackend, runIfMain, tfContender, tfRead, type Contender, type Tf, type TfBackend } from "./harness.js";

function toTf(tf: Tf, t: Tensor): TfTensor {
  return tf.tensor(t.dataSync(), [...t.shape], t.dtype === "int32" ? "int32" : "float32");
}

export async function main(): Promise<void> {
  const { tf, backends } = await loadTf();
  const suite = new Suite("ops");
  const tfContenders = async (make: () => () => unknown, only?: TfBackend[]): Promise<Contender[]> => {
    const out: Contender[] = [];
    for (const b of backends) if (!only || only.includes(b)) out.push(tfContender(tf, b, await onTfBackend(tf, b, make)));
    return out;
  };

  const x = randomNormal([256, 1024], { seed: 1 });
  const n = x.size;
  suite.check("cumsum: difftypes = tfjs-cpu", cumsum(x).dataSync(), (await onTfBackend(tf, "cpu", () => tfRead(tf, () => tf.cumsum(toTf(tf, x), 1))))[0]!, 1e-3);
  await suite.compare("cumsum [256,1024] along the last axis", {
    reference: "tfjs-cpu", unit: "ns/element", work: n,
    contenders: [{ name: "difftypes", run: () => cumsum(x) }, ...(await tfContenders(() => { const t = toTf(tf, x); return () => tfRead(tf, () => tf.cumsum(t, 1)); }))],
  });
  const y = randomUniform([256, 1024], { seed: 2, min: 0.999, max: 1.001 });
  await suite.compare("cumprod [256,1024] along the last axis", {
    reference: "tfjs-cpu", unit: "ns/element", work: n,
    contenders: [{ name: "difftypes", run: () => cumprod(y) }, ...(await tfContenders(() => { const t = toTf(tf, y); return () => tfRead(tf, () => tf.cumprod(t, 1)); }))],
  });
  await suite.compare("cumprod [256,1024], value and gradient (difftypes only: tfjs has no cumprod gradient)", {
    reference: "difftypes", unit: "ns/element", work: n,
    contenders: [{ name: "difftypes", run: () => gradient(y, (t) => cumprod(t).sum()) }],
  });
  await suite.compare("topk k=10 of [256,1024]", {
    reference: "tfjs-cpu", unit: "ns/element", work: n,
    contenders: [{ name: "difftypes", run: () => topk(x, 10).values }, ...(await tfContenders(() => { const t = toTf(tf, x); return () => tfRead(tf, () => tf.topk(t, 10).values); }))],
  });
  await suite.compare("sort [256,1024] along the last axis (tfjs: topk with k = n)", {
    reference: "tfjs-cpu", unit: "ns/element", work: n,
    contenders: [{ name: "difftypes", run: () => sort(x, -1, { descending: true }) }, ...(await tfContenders(() => { const t = toTf(tf, x); return () => tfRead(tf, () => tf.topk(t, 1024).values); }))],
  });
  const table = randomNormal([4096, 64], { seed: 3 });
  const rows = Array.from({ length: 2048 }, (_, i) => [(i * 7919) % 4096]);
  await suite.compare("gatherNd 2048 rows of [4096,64]", {
    reference: "tfjs-cpu", unit: "ns/element", work: 2048 * 64,
    contenders: [{ name: "difftypes", run: () => gatherNd(table, rows) }, ...(await tfContenders(() => { const t = toTf(tf, table); const i = tf.tensor(rows, undefined, "int32"); return () => tfRead(tf, () => tf.gatherND(t, i)); }))],
  });
  const ids = Array.from({ length: 4096 }, (_, i) => (i * 31) % 100);
  await suite.compare("segmentSum [4096,64] into 100 segments", {
    reference: "tfjs-cpu", unit: "ns/element", work: 4096 * 64,
    contenders: [{ name: "difftypes", run: () => segmentSum(table, ids, 100) }, ...(await tfContenders(() => { const t = toTf(tf, table); const s = tf.tensor1d(ids, "int32"); return () => tfRead(tf, () => tf.unsortedSegmentSum(t, s, 100)); }))],
  });
  const a = randomNormal([16, 64, 64], { seed: 4 });
  const b = randomNormal([16, 64, 64], { seed: 5 });
  await suite.compare("einsum bij,bjk->bik [16,64,64] against matmul", {
    reference: "matmul", unit: "GFLOP/s", work: 2 * 16 * 64 ** 3,
    contenders: [
      { name: "matmul", run: () => matmul(a, b) },
      { name: "einsum", run: () => einsum("bij,bjk->bik", a, b) },
      ...(await tfContenders(() => { const ta = toTf(tf, a), tb = toTf(tf, b); return () => tfRead(tf, () => tf.einsum("bij,bjk->bik", ta, tb)); })),
    ],
  });
  suite.save();
}

runIfMain(import.meta.url, main);
