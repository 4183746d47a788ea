/**
 * 3-D convolution, 3-D pooling and QR side by side with TensorFlow.js (cpu backend; tfjs-wasm 4.22 has no
 * Conv3D, pooling-3D or QR kernels of its own). Same inputs for both libraries; each case first checks that
 * they agree.
 *
 * Run alone: `npx tsx bench/volumes.bench.ts [--quick] [--case=conv3d]`; or `npm run bench -- volumes`.
 */
import { avgPool3d, conv3d, gradient, matmul, maxPool3d, qr, randomNormal, type Tensor } from "../src/index.js";
import type { Tensor as TfTensor, Tensor2D, Tensor5D } from "@tensorflow/tfjs";
import { Suite, loadTf, onTfBackend, runIfMain, selected, tfContender, tfRead } from "./harness.js";

export async function main(): Promise<void> {
  const { tf } = await loadTf();
  const suite = new Suite("volumes");
  const toTf = (t: Tensor): TfTensor => tf.tensor(t.dataSync(), [...t.shape], "float32");
  const onCpu = <T>(f: () => T): Promise<T> => onTfBackend(tf, "cpu", f);

  // ---- conv3d, NDHWC, 3x3x3, stride 1, 'same' ----
  const x = randomNormal([2, 8, 16, 16, 8], { seed: 1 });
  const w = randomNormal([3, 3, 3, 8, 16], { seed: 2, stddev: 0.1 });
  const flops = 2 * 2 * 8 * 16 * 16 * 27 * 8 * 16;
  const fwd = "conv3d b2 8x16x16x8->16 3x3x3 same, forward";
  if (selected(fwd)) {
    const [expected] = await onCpu(() => tfRead(tf, () => tf.conv3d(toTf(x) as Tensor5D, toTf(w) as Tensor5D, 1, "same")));
    suite.check("conv3d forward: difftypes = tfjs-cpu", conv3d(x, w, { padding: "same" }).dataSync(), expected!, 1e-3);
    const tx = await onCpu(() => toTf(x) as Tensor5D);
    const tw = await onCpu(() => toTf(w) as Tensor5D);
    await suite.compare(fwd, {
      reference: "tfjs-cpu",
      unit: "GFLOP/s",
      work: flops,
      contenders: [
        { name: "difftypes", run: () => conv3d(x, w, { padding: "same" }) },
        tfContender(tf, "cpu", () => tfRead(tf, () => tf.conv3d(tx, tw, 1, "same"))),
      ],
    });
  }
  const bwd = "conv3d b2 8x16x16x8->16 3x3x3 same, forward+backward (dx, dw)";
  if (selected(bwd)) {
    const dtGrad = (): [Tensor, Tensor] => gradient(x, w, (a, b) => conv3d(a, b, { padding: "same" }).sum());
    const tfGrad = (a: Tensor5D, b: Tensor5D) =>
      tf.grads((p: TfTensor, q: TfTensor) => tf.sum(tf.conv3d(p as Tensor5D, q as Tensor5D, 1, "same")))([a, b]);
    const tx = await onCpu(() => toTf(x) as Tensor5D);
    const tw = await onCpu(() => toTf(w) as Tensor5D);
    const [edx, edw] = await onCpu(() => tfRead(tf, () => tfGrad(tx, tw)));
    const [dx, dw] = dtGrad();
    suite.check("conv3d dx: difftypes = tfjs-cpu", dx.dataSync(), edx!, 1e-3);
    suite.check("conv3d dw: difftypes = tfjs-cpu", dw.dataSync(), edw!, 1e-3);
    await suite.compare(bwd, {
      reference: "tfjs-cpu",
      unit: "GFLOP/s",
      work: 3 * flops,
      note: "GFLOP/s counts 3 convolutions per call (forward, dx, dw)",
      contenders: [
        { name: "difftypes", run: dtGrad },
        tfContender(tf, "cpu", () => tfRead(tf, () => tfGrad(tx, tw)), { maxRounds: 3, slow: true }),
      ],
    });
  }

  // ---- 3-D pooling, 2x2x2 windows ----
  const v = randomNormal([4, 8, 32, 32, 16], { seed: 3 });
  for (const kind of ["max", "avg"] as const) {
    const title = `${kind}Pool3d b4 8x32x32x16 2x2x2`;
    if (!selected(title)) continue;
    const ours = kind === "max" ? () => maxPool3d(v, { size: 2 }) : () => avgPool3d(v, { size: 2 });
    const tv = await onCpu(() => toTf(v) as Tensor5D);
    const theirs = () => tfRead(tf, () => (kind === "max" ? tf.maxPool3d(tv, 2, 2, "valid") : tf.avgPool3d(tv, 2, 2, "valid")));
    const [expected] = await onCpu(theirs);
    suite.check(`${kind}Pool3d: difftypes = tfjs-cpu`, ours().dataSync(), expected!, 1e-5);
    await suite.compare(title, {
      reference: "tfjs-cpu",
      unit: "ns/element",
      work: v.size,
      contenders: [{ name: "difftypes", run: ours }, tfContender(tf, "cpu", theirs)],
    });
  }

  // ---- QR (tfjs composes Householder steps from its ops) ----
  for (const n of [32, 128]) {
    const title = `qr ${n}x${n} f32`;
    if (!selected(title)) continue;
    const a = randomNormal([n, n], { seed: 4 });
    const ta = await onCpu(() => toTf(a) as Tensor2D);
    const theirs = () => tfRead(tf, () => tf.linalg.qr(ta));
    // The factorizations agree up to the sign of each column of Q / row of R, so compare |R| and Q·R = A.
    const [, er] = await onCpu(theirs);
    const { q, r } = qr(a);
    suite.check(`qr ${n}: |R| difftypes = |R| tfjs-cpu`, Array.from(r.dataSync(), Math.abs), Array.from(er!, Math.abs), 1e-2);
    suite.check(`qr ${n}: Q·R = A`, matmul(q, r).dataSync(), a.dataSync(), 1e-3);
    await suite.compare(title, {
      reference: "tfjs-cpu",
      unit: "ms",
      work: 1,
      contenders: [{ name: "difftypes", run: () => qr(a) }, tfContender(tf, "cpu", theirs)],
    });
  }

  suite.save();
}

runIfMain(import.meta.url, main);
