/**
 * difftypes side by side with every peer, in one process: tfjs-cpu, tfjs-wasm (SIMD, 1 thread), and jax-js
 * 0.1.25 on its wasm device, eager and `jit`. difftypes runs twice, at 1 and at 2 threads
 * (`setThreadCount`). Each table has the per-round speed against the fastest peer of the round
 * ("vs best peer", > 1: difftypes is ahead of every peer). The cases are the targets of the kernels work:
 * matmul 512, conv2d forward (both benchmark layers), add / exp / sum on 1e6 float32, and an Adam training
 * step of an MLP 784-256-128-10 (batch 128) and of a CNN c32-pool-c64-pool-d10 (batch 32).
 *
 * jax-js: arrays are reference-counted (`.ref` keeps an argument alive, `.dispose()` drops one); every
 * jax-js call reads its result (`dataSync`, as tfjs's contenders do) inside the timed region: its arrays are
 * lazy, and `blockUntilReady` returns at once for an unevaluated elementwise expression. A training step
 * reads its loss. Under Node its wasm device is
 * the default; `init("wasm")` is called with an argument (without, it probes WebGPU and throws on Node 20).
 *
 * Run alone: `npx tsx bench/peers.bench.ts [--quick] [--case=matmul]`; or `npm run bench -- peers`.
 */
import {
  Adam, add, conv2d, differentiable, exp, matmul, maxPool2d, randomNormal, randomUniform, relu, setThreadCount, getThreadCount,
  softmaxCrossEntropy, sum, tensor, valueWithGradient, Tensor,
} from "../src/index.js";
import { workersReady } from "../src/tensor/wasm/threads.js";
import { setFusedStepsEnabled } from "../src/optimizers/fused.js";
import type { Tensor as TfTensor, Tensor4D, Variable } from "@tensorflow/tfjs";
import { Suite, loadTf, onTfBackend, runIfMain, selected, tfContender, tfRead, type Contender } from "./harness.js";

type Jax = typeof import("@jax-js/jax");
type JaxArray = import("@jax-js/jax").Array;

/** difftypes at 1 and at 2 threads: the setup switches the thread count before each batch. */
function ours(run: () => unknown, extra: Partial<Contender> = {}, fused = true): Contender[] {
  return [1, 2].map((threads) => ({
    name: `difftypes ${threads}t${fused ? "" : ", fused step off"}`,
    setup: async () => {
      setFusedStepsEnabled(fused);
      setThreadCount(threads);
      await workersReady();
    },
    run,
    ...extra,
  }));
}

const PEERS = ["tfjs-cpu", "tfjs-wasm", "jax-js eager", "jax-js jit"];

/** A jax-js array with the values of a difftypes tensor. */
function toJax(jax: Jax, t: Tensor): JaxArray {
  return jax.numpy.array(t.dataSync()).reshape([...t.shape]);
}

/** jax-js contenders (eager and jit) for `f` of arrays kept alive across calls; results forced and freed. */
function jaxPair(jax: Jax, f: (...xs: JaxArray[]) => JaxArray, inputs: JaxArray[], extra: Partial<Contender> = {}): Contender[] {
  const jitted = jax.jit(f);
  // dataSync, like tfjs's contenders: blockUntilReady returns at once for a lazy elementwise expression,
  // which would time nothing.
  const call = (g: (...xs: JaxArray[]) => JaxArray): void => {
    g(...inputs.map((x) => x.ref)).dataSync(); // dataSync consumes the array
  };
  return [
    { name: "jax-js eager", run: () => call(f), ...extra },
    { name: "jax-js jit", run: () => call(jitted), ...extra },
  ];
}

/** The MLP 784-256-128-10 of the training-step cases. */
export class Mlp {
  @differentiable w1 = randomNormal([784, 256], { seed: 1, stddev: 0.05 });
  @differentiable b1 = randomNormal([256], { seed: 2, stddev: 0.01 });
  @differentiable w2 = randomNormal([256, 128], { seed: 3, stddev: 0.05 });
  @differentiable b2 = randomNormal([128], { seed: 4, stddev: 0.01 });
  @differentiable w3 = randomNormal([128, 10], { seed: 5, stddev: 0.05 });
  @differentiable b3 = randomNormal([10], { seed: 6, stddev: 0.01 });
  logits(x: Tensor): Tensor {
    const h1 = relu(matmul(x, this.w1).add(this.b1));
    const h2 = relu(matmul(h1, this.w2).add(this.b2));
    return matmul(h2, this.w3).add(this.b3);
  }
}

/** The CNN c32-pool-c64-pool-d10 of the training-step cases. */
export class Cnn {
  @differentiable c1 = randomNormal([3, 3, 1, 32], { seed: 7, stddev: 0.2 });
  @differentiable c2 = randomNormal([3, 3, 32, 64], { seed: 8, stddev: 0.05 });
  @differentiable d = randomNormal([7 * 7 * 64, 10], { seed: 9, stddev: 0.02 });
  logits(x: Tensor): Tensor {
    const h1 = maxPool2d(relu(conv2d(x, this.c1, { padding: "same" })), { size: 2 });
    const h2 = maxPool2d(relu(conv2d(h1, this.c2, { padding: "same" })), { size: 2 });
    return matmul(h2.reshape([h2.shape[0]!, 7 * 7 * 64]), this.d);
  }
}

/**
 * An Adam step of jax-js under `jit`: the loss's gradient and Adam's update in one function. The step size
 * with both bias corrections folded in, lr·√(1-β₂ᵗ)/(1-β₁ᵗ), comes in as a scalar argument (Kingma and Ba's
 * "efficient" form of the update, ε added to √v).
 */
function jaxAdamStep(jax: Jax, loss: (p: Record<string, JaxArray>, x: JaxArray, y: JaxArray) => JaxArray) {
  const np = jax.numpy;
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  return jax.jit((p: Record<string, JaxArray>, m: Record<string, JaxArray>, v: Record<string, JaxArray>, lrT: JaxArray, x: JaxArray, y: JaxArray) => {
    const [value, g] = jax.valueAndGrad(loss)(jax.tree.ref(p), x, y) as [JaxArray, Record<string, JaxArray>];
    const np2: Record<string, JaxArray> = {}, nm: Record<string, JaxArray> = {}, nv: Record<string, JaxArray> = {};
    for (const k of Object.keys(p)) {
      const gk = g[k]!;
      const mk = np.add(np.multiply(b1, m[k]!), np.multiply(1 - b1, gk.ref));
      const vk = np.add(np.multiply(b2, v[k]!), np.multiply(1 - b2, np.multiply(gk.ref, gk)));
      np2[k] = np.subtract(p[k]!, np.multiply(lrT.ref, np.divide(mk.ref, np.add(np.sqrt(vk.ref), eps))));
      nm[k] = mk;
      nv[k] = vk;
    }
    lrT.dispose();
    return [np2, nm, nv, value] as const;
  });
}

/** A jax-js training loop state: parameters and Adam moments, advanced by one jit step per call. */
function jaxTrainer(jax: Jax, params: Record<string, JaxArray>, loss: (p: Record<string, JaxArray>, x: JaxArray, y: JaxArray) => JaxArray, x: JaxArray, y: JaxArray): () => void {
  const np = jax.numpy;
  const step = jaxAdamStep(jax, loss);
  let p = params;
  let m = Object.fromEntries(Object.entries(p).map(([k, a]) => [k, np.zerosLike(a.ref)]));
  let v = Object.fromEntries(Object.entries(p).map(([k, a]) => [k, np.zerosLike(a.ref)]));
  let t = 0;
  return () => {
    t++;
    const lrT = np.array(1e-3 * Math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t));
    const [np2, nm, nv, value] = step(p, m, v, lrT, x.ref, y.ref);
    [p, m, v] = [np2, nm, nv];
    value.dataSync(); // consumes it
  };
}

export async function main(): Promise<void> {
  const { tf, backends } = await loadTf();
  const jax: Jax = await import("@jax-js/jax");
  await jax.init("wasm");
  const suite = new Suite("peers");
  const initialThreads = getThreadCount();
  const np = jax.numpy;
  const tfBoth = async (make: () => () => unknown, extra: Partial<Contender> = {}): Promise<Contender[]> => {
    const out: Contender[] = [];
    for (const b of backends) out.push(tfContender(tf, b, await onTfBackend(tf, b, make), extra));
    return out;
  };
  const toTf = (t: Tensor): TfTensor => tf.tensor(t.dataSync(), [...t.shape], "float32");

  // ---- matmul 512 ----
  if (selected("matmul 512")) {
    const a = randomNormal([512, 512], { seed: 1 }), b = randomNormal([512, 512], { seed: 2 });
    const ja = toJax(jax, a), jb = toJax(jax, b);
    const got = matmul(a, b).dataSync();
    const theirs = np.matmul(ja.ref, jb.ref);
    suite.check("matmul 512: difftypes = jax-js", got, theirs.dataSync(), 1e-3);
    await suite.compare("matmul 512x512 f32", {
      reference: "tfjs-wasm", unit: "GFLOP/s", work: 2 * 512 ** 3, peers: PEERS,
      contenders: [
        ...ours(() => matmul(a, b)),
        ...(await tfBoth(() => { const ta = toTf(a), tb = toTf(b); return () => tfRead(tf, () => tf.matMul(ta, tb)); }, { maxRounds: 3 })),
        ...jaxPair(jax, (x, y) => np.matmul(x, y), [ja, jb]),
      ].map((c) => (c.name === "tfjs-cpu" ? { ...c, slow: true } : c)),
    });
  }

  // ---- conv2d forward, NHWC (jax-js: NCHW / OIHW) ----
  for (const layer of [
    { name: "b32 28x28x1->32", x: [32, 28, 28, 1], w: [3, 3, 1, 32] },
    { name: "b32 14x14x32->64", x: [32, 14, 14, 32], w: [3, 3, 32, 64] },
  ] as const) {
    const title = `conv2d ${layer.name} 3x3 same, forward`;
    if (!selected(title)) continue;
    const x = randomNormal(layer.x, { seed: 3 }), w = randomNormal(layer.w, { seed: 4, stddev: 0.1 });
    const [nb, h, wd, cin] = layer.x;
    const cout = layer.w[3];
    const jx = toJax(jax, x.transpose([0, 3, 1, 2])), jw = toJax(jax, w.transpose([3, 2, 0, 1]));
    const conv = (a: JaxArray, f: JaxArray): JaxArray => jax.lax.convGeneralDilated(a, f, [1, 1], "SAME");
    const theirs = conv(jx.ref, jw.ref);
    suite.check(`conv2d ${layer.name}: difftypes = jax-js`, conv2d(x, w, { padding: "same" }).transpose([0, 3, 1, 2]).dataSync(), theirs.dataSync(), 1e-3);
    await suite.compare(title, {
      reference: "tfjs-wasm", unit: "GFLOP/s", work: 2 * nb * h * wd * cout * 9 * cin, peers: PEERS,
      contenders: [
        ...ours(() => conv2d(x, w, { padding: "same" })),
        ...(await tfBoth(() => { const tx = toTf(x) as Tensor4D, tw = toTf(w) as Tensor4D; return () => tfRead(tf, () => tf.conv2d(tx, tw, 1, "same")); }, { maxRounds: 3 })),
        ...jaxPair(jax, conv, [jx, jw], { maxRounds: 3, slow: true }),
      ],
    });
  }

  // ---- elementwise and sum on 1e6 float32 ----
  const n = 1_000_000;
  const a = randomUniform([n], { seed: 5, min: -2, max: 2 }), b = randomUniform([n], { seed: 6, min: -2, max: 2 });
  const ja = toJax(jax, a), jb = toJax(jax, b);
  const elementwise: [string, () => unknown, (...xs: TfTensor[]) => TfTensor, (...xs: JaxArray[]) => JaxArray, Tensor[], JaxArray[]][] = [
    ["add 1e6 f32", () => add(a, b), (x, y) => tf.add(x, y), (x, y) => np.add(x, y), [a, b], [ja, jb]],
    ["exp 1e6 f32", () => exp(a), (x) => tf.exp(x), (x) => np.exp(x), [a], [ja]],
    ["sum 1e6 f32", () => sum(a), (x) => tf.sum(x), (x) => np.sum(x), [a], [ja]],
  ];
  for (const [title, mine, theirTf, theirJax, inputs, jaxInputs] of elementwise) {
    if (!selected(title)) continue;
    await suite.compare(title, {
      reference: "tfjs-wasm", unit: "ns/element", work: n, peers: PEERS,
      contenders: [
        ...ours(mine),
        ...(await tfBoth(() => { const ts = inputs.map(toTf); return () => tfRead(tf, () => theirTf(...ts)); })),
        ...jaxPair(jax, theirJax, jaxInputs),
      ],
    });
  }

  // ---- training steps with Adam ----
  if (selected("MLP 784-256-128-10")) {
    const model = new Mlp();
    const optimizer = new Adam(model, { learningRate: 1e-3 });
    const x = randomNormal([128, 784], { seed: 10 });
    const labels = tensor(Array.from({ length: 128 }, (_, i) => (i * 7) % 10), { dtype: "int32" });
    const step = (): number => {
      const { value, gradient } = valueWithGradient(model, (m) => softmaxCrossEntropy(m.logits(x), labels));
      optimizer.update(model, gradient);
      return value.item();
    };
    // tfjs: variables, tf.train.adam, minimize
    const tfStep = (): (() => unknown) => {
      const vars = [model.w1, model.b1, model.w2, model.b2, model.w3, model.b3].map((t): Variable => tf.variable(toTf(t)));
      const [w1, b1, w2, b2, w3, b3] = vars as [Variable, Variable, Variable, Variable, Variable, Variable];
      const tx = toTf(x), ty = tf.oneHot(tf.tensor1d(Array.from(labels.dataSync()), "int32"), 10);
      const opt = tf.train.adam(1e-3);
      return () => tfRead(tf, () => opt.minimize(() => {
        const h1 = tf.relu(tf.add(tf.matMul(tx, w1), b1));
        const h2 = tf.relu(tf.add(tf.matMul(h1, w2), b2));
        return tf.losses.softmaxCrossEntropy(ty, tf.add(tf.matMul(h2, w3), b3));
      }, true)!);
    };
    const jp = { w1: toJax(jax, model.w1), b1: toJax(jax, model.b1), w2: toJax(jax, model.w2), b2: toJax(jax, model.b2), w3: toJax(jax, model.w3), b3: toJax(jax, model.b3) };
    const jy = toJax(jax, tensor(Array.from({ length: 128 * 10 }, (_, i) => (Math.floor(i / 10) * 7) % 10 === i % 10 ? 1 : 0), { shape: [128, 10] }));
    const mlpLoss = (p: Record<string, JaxArray>, xx: JaxArray, yy: JaxArray): JaxArray => {
      const h1 = jax.nn.relu(np.add(np.matmul(xx, p.w1!), p.b1!));
      const h2 = jax.nn.relu(np.add(np.matmul(h1, p.w2!), p.b2!));
      const logits = np.add(np.matmul(h2, p.w3!), p.b3!);
      return np.negative(np.mean(np.sum(np.multiply(jax.nn.logSoftmax(logits), yy), -1)));
    };
    await suite.compare("MLP 784-256-128-10 b128, Adam step", {
      reference: "tfjs-wasm", unit: "ms", work: 1, peers: PEERS,
      note: "'fused step off': the optimizer's rule, learning rate and θ + u as separate passes",
      contenders: [
        ...ours(step),
        ...ours(step, {}, false),
        ...(await tfBoth(tfStep, { maxRounds: 4 })),
        { name: "jax-js jit", run: jaxTrainer(jax, jp, mlpLoss, toJax(jax, x), jy) },
      ],
    });
  }

  if (selected("CNN c32-pool-c64-pool-d10")) {
    const model = new Cnn();
    const optimizer = new Adam(model, { learningRate: 1e-3 });
    const x = randomNormal([32, 28, 28, 1], { seed: 11 });
    const labels = tensor(Array.from({ length: 32 }, (_, i) => (i * 3) % 10), { dtype: "int32" });
    const step = (): number => {
      const { value, gradient } = valueWithGradient(model, (m) => softmaxCrossEntropy(m.logits(x), labels));
      optimizer.update(model, gradient);
      return value.item();
    };
    const jp = { c1: toJax(jax, model.c1.transpose([3, 2, 0, 1])), c2: toJax(jax, model.c2.transpose([3, 2, 0, 1])), d: toJax(jax, model.d) };
    const jy = toJax(jax, tensor(Array.from({ length: 32 * 10 }, (_, i) => (Math.floor(i / 10) * 3) % 10 === i % 10 ? 1 : 0), { shape: [32, 10] }));
    const pool = (h: JaxArray): JaxArray => {
      const [nb, c, hh, ww] = h.shape as [number, number, number, number];
      return np.max(h.reshape([nb, c, hh / 2, 2, ww / 2, 2]), [3, 5]);
    };
    const cnnLoss = (p: Record<string, JaxArray>, xx: JaxArray, yy: JaxArray): JaxArray => {
      const h1 = pool(jax.nn.relu(jax.lax.convGeneralDilated(xx, p.c1!, [1, 1], "SAME")));
      const h2 = pool(jax.nn.relu(jax.lax.convGeneralDilated(h1, p.c2!, [1, 1], "SAME")));
      const logits = np.matmul(np.transpose(h2, [0, 2, 3, 1]).reshape([32, 7 * 7 * 64]), p.d!);
      return np.negative(np.mean(np.sum(np.multiply(jax.nn.logSoftmax(logits), yy), -1)));
    };
    await suite.compare("CNN c32-pool-c64-pool-d10 b32, Adam step", {
      reference: "difftypes 1t", unit: "ms", work: 1, peers: PEERS,
      note: "tfjs-wasm has no Conv2DBackpropFilter kernel; tfjs-cpu takes ~17 s per step (perf-anchors.md) and is left out",
      contenders: [
        ...ours(step),
        { name: "jax-js jit", run: jaxTrainer(jax, jp, cnnLoss, toJax(jax, x.transpose([0, 3, 1, 2])), jy), maxRounds: 3, slow: true },
      ],
    });
  }

  setThreadCount(initialThreads);
  setFusedStepsEnabled(true);
  suite.save();
}
runIfMain(import.meta.url, main);
