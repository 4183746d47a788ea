/**
 * Automatic-differentiation overhead side by side with TensorFlow.js `tf.grad`: a chain of 1000 scalar
 * ops (per-op cost of the tape), two single big ops (backward cost next to the kernel), and a tiny MLP
 * training step (many small ops). Each case first checks that both libraries give the same gradient.
 *
 * Run alone: `npx tsx bench/autodiff.bench.ts [--quick] [--case=chain]`; or `npm run bench -- autodiff`.
 */
import type { Tensor as TfTensor } from "@tensorflow/tfjs";
import { gradient, matmul, randomNormal, randomUniform, tensor, type Tensor } from "../src/index.js";
import { Suite, loadTf, onTfBackend, runIfMain, selected, tfContender, tfRead, type Contender, type TfBackend } from "./harness.js";

const LINKS = 500; // 500 × (x*c1 + c2) = 1000 scalar ops, as in perf-anchors §4
const C1 = 1.0001;
const C2 = 0.0001;

export async function main(): Promise<void> {
  const { tf, backends } = await loadTf();
  const suite = new Suite("autodiff");
  const tfContenders = async (
    only: readonly TfBackend[],
    make: () => () => unknown,
  ): Promise<Contender[]> => {
    const out: Contender[] = [];
    for (const b of backends.filter((x) => only.includes(x))) out.push(tfContender(tf, b, await onTfBackend(tf, b, make)));
    return out;
  };
  const onCpu = <T>(f: () => T): Promise<T> => onTfBackend(tf, "cpu", f);

  // ---- chain of 1000 scalar ops ----
  const c1 = tensor(C1);
  const c2 = tensor(C2);
  const x0 = tensor(0.5);
  const chain = (x: Tensor): Tensor => {
    let y = x;
    for (let i = 0; i < LINKS; i++) y = y.mul(c1).add(c2);
    return y;
  };
  const chainNumbers = (x: Tensor): Tensor => {
    let y = x;
    for (let i = 0; i < LINKS; i++) y = y.mul(C1).add(C2);
    return y;
  };
  const tfChain = (tc1: TfTensor, tc2: TfTensor) => (x: TfTensor): TfTensor => {
    let y = x;
    for (let i = 0; i < LINKS; i++) y = tf.add(tf.mul(y, tc1), tc2);
    return y;
  };
  const exact = C1 ** LINKS;
  const chainTitles = ["chain of 1000 scalar ops, forward only", "chain of 1000 scalar ops, forward+backward"] as const;
  if (chainTitles.some(selected)) {
    const [tfg] = await onCpu(() => tfRead(tf, () => tf.grad(tfChain(tf.scalar(C1), tf.scalar(C2)))(tf.scalar(0.5))));
    suite.check("chain: difftypes gradient = 1.0001^500", gradient(x0, chain).dataSync(), [exact], 1e-4);
    suite.check("chain: tfjs-cpu gradient = 1.0001^500", tfg!, [exact], 1e-4);
  }
  const tfChainContenders = (grad: boolean) =>
    tfContenders(["cpu"], () => {
      const f = tfChain(tf.scalar(C1), tf.scalar(C2));
      const x = tf.scalar(0.5);
      return grad ? () => tfRead(tf, () => tf.grad(f)(x)) : () => tfRead(tf, () => f(x));
    });
  await suite.compare(chainTitles[0], {
    reference: "tfjs-cpu",
    unit: "µs/op",
    work: 2 * LINKS,
    contenders: [
      { name: "difftypes", run: () => chain(x0) },
      { name: "difftypes (number consts)", run: () => chainNumbers(x0) },
      ...(await tfChainContenders(false)),
    ],
  });
  await suite.compare(chainTitles[1], {
    reference: "tfjs-cpu",
    unit: "µs/op",
    work: 2 * LINKS,
    note: "difftypes: gradient(x, chain) with rank-0 tensor constants (and JS numbers); tfjs: tf.grad with tf.scalar constants",
    contenders: [
      { name: "difftypes", run: () => gradient(x0, chain) },
      { name: "difftypes (number consts)", run: () => gradient(x0, chainNumbers) },
      { name: "difftypes (number in/out)", run: () => gradient(0.5, chainNumbers) },
      ...(await tfChainContenders(true)),
    ],
  });

  // ---- sum(exp(x)) on 1e6 elements ----
  const x = randomNormal([1_000_000], { seed: 7 });
  const expTitle = (grad: boolean): string => `sum(exp(x)) 1e6, ${grad ? "forward+backward" : "forward"}`;
  if (selected(expTitle(true))) {
    const [expected] = await onCpu(() => tfRead(tf, () => tf.grad((t: TfTensor) => tf.sum(tf.exp(t)))(tf.tensor(x.dataSync()))));
    suite.check("sum(exp(x)) 1e6: gradient difftypes = tfjs-cpu", gradient(x, (t) => t.exp().sum()).dataSync(), expected!, 1e-6);
  }
  for (const grad of [false, true]) {
    await suite.compare(expTitle(grad), {
      reference: "tfjs-cpu",
      unit: "ms",
      work: 1,
      contenders: [
        { name: "difftypes", run: grad ? () => gradient(x, (t) => t.exp().sum()) : () => x.exp().sum() },
        ...(await tfContenders(["cpu", "wasm"], () => {
          const tx = tf.tensor(x.dataSync());
          const f = (t: TfTensor): TfTensor => tf.sum(tf.exp(t));
          return grad ? () => tfRead(tf, () => tf.grad(f)(tx)) : () => tfRead(tf, () => f(tx));
        })),
      ],
    });
  }

  // ---- sum(matmul(A, B)) at 256, gradient with respect to A ----
  const A = randomNormal([256, 256], { seed: 8 });
  const B = randomNormal([256, 256], { seed: 9 });
  const mmTitle = (grad: boolean): string => `sum(matmul(A, B)) 256, ${grad ? "forward+backward (dA)" : "forward"}`;
  if (selected(mmTitle(true))) {
    const [expected] = await onCpu(() =>
      tfRead(tf, () => {
        const tb = tf.tensor(B.dataSync(), [256, 256]);
        return tf.grad((a: TfTensor) => tf.sum(tf.matMul(a, tb)))(tf.tensor(A.dataSync(), [256, 256]));
      }),
    );
    suite.check("sum(matmul(A, B)) 256: dA difftypes = tfjs-cpu", gradient(A, (a) => matmul(a, B).sum()).dataSync(), expected!, 1e-3);
  }
  for (const grad of [false, true]) {
    await suite.compare(mmTitle(grad), {
      reference: "tfjs-cpu",
      unit: "ms",
      work: 1,
      contenders: [
        { name: "difftypes", run: grad ? () => gradient(A, (a) => matmul(a, B).sum()) : () => matmul(A, B).sum() },
        ...(await tfContenders(["cpu", "wasm"], () => {
          const ta = tf.tensor(A.dataSync(), [256, 256]);
          const tb = tf.tensor(B.dataSync(), [256, 256]);
          const f = (a: TfTensor): TfTensor => tf.sum(tf.matMul(a, tb));
          return grad ? () => tfRead(tf, () => tf.grad(f)(ta)) : () => tfRead(tf, () => f(ta));
        })),
      ],
    });
  }

  // ---- tiny MLP 2-16-16-1, batch 32, tanh, MSE: one gradient step (no optimizer update) ----
  const shapes = { w1: [2, 16], b1: [16], w2: [16, 16], b2: [16], w3: [16, 1], b3: [1] } as const;
  const names = Object.keys(shapes) as (keyof typeof shapes)[];
  const params = Object.fromEntries(names.map((k, i) => [k, randomNormal(shapes[k], { seed: 10 + i, stddev: 0.5 })])) as Record<keyof typeof shapes, Tensor>;
  const xb = randomUniform([32, 2], { seed: 20, min: -1, max: 1 });
  const yb = randomUniform([32, 1], { seed: 21, min: -1, max: 1 });
  type Params = Record<keyof typeof shapes, Tensor>;
  const loss = (p: Params): Tensor => {
    const h1 = matmul(xb, p.w1).add(p.b1).tanh();
    const h2 = matmul(h1, p.w2).add(p.b2).tanh();
    return matmul(h2, p.w3).add(p.b3).sub(yb).square().mean();
  };
  const tfMlp = () => {
    const tp = names.map((k) => tf.tensor(params[k].dataSync(), [...shapes[k]]));
    const tx = tf.tensor(xb.dataSync(), [32, 2]);
    const ty = tf.tensor(yb.dataSync(), [32, 1]);
    const f = (w1: TfTensor, b1: TfTensor, w2: TfTensor, b2: TfTensor, w3: TfTensor, b3: TfTensor): TfTensor => {
      const h1 = tf.tanh(tf.add(tf.matMul(tx, w1), b1));
      const h2 = tf.tanh(tf.add(tf.matMul(h1, w2), b2));
      return tf.mean(tf.square(tf.sub(tf.add(tf.matMul(h2, w3), b3), ty)));
    };
    const g = tf.grads(f);
    return () => tfRead(tf, () => g(tp));
  };
  const mlpTitle = "tiny MLP 2-16-16-1 b32, gradient step";
  if (selected(mlpTitle)) {
    const expected = await onCpu(() => tfMlp()());
    const got = gradient(params, loss) as Params;
    names.forEach((k, i) => suite.check(`tiny MLP d${k}: difftypes = tfjs-cpu`, got[k].dataSync(), expected[i]!, 1e-4));
  }
  await suite.compare(mlpTitle, {
    reference: "tfjs-cpu",
    unit: "steps/s",
    work: 1,
    note: "loss = mean((tanh(tanh(x·W1+b1)·W2+b2)·W3+b3 - y)²); gradient with respect to all 6 parameters, no update",
    contenders: [{ name: "difftypes", run: () => gradient(params, loss) }, ...(await tfContenders(["cpu", "wasm"], tfMlp))],
  });

  suite.save();
}

runIfMain(import.meta.url, main);
