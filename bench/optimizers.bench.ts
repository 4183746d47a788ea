/**
 * Optimizers: one Adam step on a model of 200 parameter tensors (100 dense layers of a 100×100 weight and a
 * 100 bias: 1,010,000 parameters), side by side with TensorFlow.js's Adam (`applyGradients` on variables of
 * the same shapes, cpu backend), and the cost of the shared walk: the full `update` against the rule
 * arithmetic alone (the same per-leaf loops of scaleByAdam and scaleByLearningRate, and θ + u, called
 * directly on the typed arrays), the full `update` with the fused step off (Adam's SIMD kernel, then the
 * learning rate and θ + u as separate loops, the gradient copied into an update buffer), the full `update`
 * in TypeScript only (no SIMD kernel), and the walk alone (pairing and validating model and gradient leaves, grouping
 * parameters, writing them back). Targets from issue 5: faster than tfjs-cpu; walk overhead under 10%.
 *
 * Run alone: `npx tsx bench/optimizers.bench.ts [--quick]`; or `npm run bench -- optimizers`.
 */
import * as tf from "@tensorflow/tfjs";
import {
  Tensor,
  differentiable,
  randomNormal,
  Adam,
  scaleByAdam,
  scaleByLearningRate,
  slot,
  type FloatArray,
  type ParameterInfo,
  type Slots,
} from "../src/index.js";
import { parametersOf } from "../src/optimizers/parameters.js";
import { setWasmOptimizerEnabled } from "../src/tensor/wasm/optimizer.js";
import { setFusedStepsEnabled } from "../src/optimizers/fused.js";
import { assignLeaves } from "../src/keypaths/walk.js";
import { Suite, runIfMain } from "./harness.js";

const LAYERS = 100;
const WIDTH = 100;
const PARAMS = LAYERS * (WIDTH * WIDTH + WIDTH);

class Layer {
  @differentiable weight: Tensor;
  @differentiable bias: Tensor;
  constructor(seed: number) {
    this.weight = randomNormal([WIDTH, WIDTH], { seed, stddev: 0.1 });
    this.bias = randomNormal([WIDTH], { seed: seed + 1, stddev: 0.1 });
  }
}
class Net {
  @differentiable layers = Array.from({ length: LAYERS }, (_, i) => new Layer(2 * i));
}

/** A fixed gradient shaped like `Net` (a plain tangent value). */
function gradientFor(net: Net) {
  return {
    layers: net.layers.map((l, i) => ({
      weight: randomNormal(l.weight.shape, { seed: 10_000 + 2 * i }),
      bias: randomNormal(l.bias.shape, { seed: 10_001 + 2 * i }),
    })),
  };
}

/**
 * The rule arithmetic alone: Adam's and the learning rate's per-leaf loops and θ + u into a new array that
 * replaces the old one (kept alive like a model's parameter, so the garbage collector sees the same
 * lifetimes), with no walk, validation or bookkeeping.
 */
function rawAdam(net: Net, grad: ReturnType<typeof gradientFor>) {
  const adam = scaleByAdam();
  const lr = scaleByLearningRate(1e-3);
  const leaves = net.layers.flatMap((l, i) => [
    { θ: l.weight._values as Float32Array, g: grad.layers[i]!.weight._values as Float32Array },
    { θ: l.bias._values as Float32Array, g: grad.layers[i]!.bias._values as Float32Array },
  ]);
  const infos: ParameterInfo[] = leaves.map((x, i) => ({ path: String(i), paths: [String(i)], shape: [x.θ.length], dtype: "float32", size: x.θ.length }));
  const states: Slots[] = infos.map((info, i) => adam.init({ info, value: leaves[i]!.θ }));
  const scratch: FloatArray[] = infos.map((info) => slot(info));
  let count = 0;
  return (): Float32Array[] => {
    const t = ++count;
    const α = lr.hyper!({ step: t, count: t - 1 });
    for (let k = 0; k < leaves.length; k++) {
      const leaf = leaves[k]!;
      const θ = leaf.θ;
      const u = scratch[k]!;
      u.set(leaf.g);
      const view = { info: infos[k]!, value: θ };
      adam.apply(states[k]!, view, u, { step: t, hyper: undefined });
      lr.apply({}, view, u, { step: t, hyper: α });
      const out = new Float32Array(θ.length);
      for (let i = 0; i < out.length; i++) out[i] = θ[i]! + u[i]!;
      leaf.θ = out;
    }
    return leaves.map((l) => l.θ);
  };
}

export async function main(): Promise<void> {
  const suite = new Suite("optimizers");
  const kernels = (simd: boolean, fused: boolean) => (): void => {
    setWasmOptimizerEnabled(simd);
    setFusedStepsEnabled(fused);
  };

  // difftypes: the full update (walk, validation, rules, new tensors written into the class model).
  const net = new Net();
  const grad = gradientFor(net);
  const opt = new Adam(net, { learningRate: 1e-3 });
  const ours = (): Net => opt.update(net, grad);

  // The rule arithmetic alone on a copy of the same parameters.
  const raw = rawAdam(new Net(), grad);
  // The walk alone: pair model and gradient leaves (validating them), group parameters, write them back.
  const walkNet = new Net();
  const walkOnly = (): unknown => {
    const { pairs } = parametersOf("bench", walkNet, grad, "gradient");
    return assignLeaves(walkNet, pairs.map((p) => p.value));
  };

  // TensorFlow.js: variables of the same shapes and values, the same gradient, Adam with the same ε.
  await tf.setBackend("cpu");
  const twin = new Net();
  const variables = twin.layers.flatMap((l, i) => [
    tf.variable(tf.tensor(l.weight.dataSync(), [WIDTH, WIDTH]), true, `w${i}`),
    tf.variable(tf.tensor(l.bias.dataSync(), [WIDTH]), true, `b${i}`),
  ]);
  const tfGrads: { name: string; tensor: tf.Tensor }[] = grad.layers.flatMap((g, i) => [
    { name: `w${i}`, tensor: tf.tensor(g.weight.dataSync(), [WIDTH, WIDTH]) },
    { name: `b${i}`, tensor: tf.tensor(g.bias.dataSync(), [WIDTH]) },
  ]);
  const tfAdam = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);

  // Correctness first: three steps from the same start agree.
  {
    const a = new Net();
    const oa = new Adam(a, { learningRate: 1e-3 });
    const va = a.layers.map((l, i) => tf.variable(tf.tensor(l.weight.dataSync(), [WIDTH, WIDTH]), true, `check${i}`));
    const ga: { name: string; tensor: tf.Tensor }[] = va.map((_, i) => ({ name: `check${i}`, tensor: tfGrads[2 * i]!.tensor }));
    const ta = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
    for (let s = 0; s < 3; s++) {
      oa.update(a, grad);
      ta.applyGradients(ga);
    }
    suite.check("Adam, 3 steps: difftypes vs tfjs (first layer's weight)", a.layers[0]!.weight.dataSync(), va[0]!.dataSync(), 1e-4);
    va.forEach((v) => v.dispose());
    ta.dispose();
  }

  await suite.compare(`Adam step, ${LAYERS * 2} tensors, ${PARAMS.toLocaleString("en")} parameters`, {
    reference: "tfjs-cpu",
    unit: "ms",
    work: 1,
    contenders: [
      { name: "tfjs-cpu", setup: async () => { await tf.setBackend("cpu"); }, run: () => tfAdam.applyGradients(tfGrads) },
      { name: "difftypes Adam.update", setup: kernels(true, true), run: ours },
      { name: "Adam.update, fused step off", setup: kernels(true, false), run: ours },
      { name: "Adam.update, TypeScript loops (fused)", setup: kernels(false, true), run: ours },
      { name: "Adam.update, TypeScript loops, fused step off", setup: kernels(false, false), run: ours },
      { name: "rule arithmetic only", setup: kernels(true, true), run: raw },
      { name: "walk only", setup: kernels(true, true), run: walkOnly },
    ],
    note:
      "difftypes: class model, walk + validation + Adam step + new parameter tensors: Adam, the learning rate and θ + u in one SIMD pass per parameter " +
      "('fused step off': Adam's SIMD kernel, then the rate and θ + u as separate loops; 'TypeScript loops': no SIMD kernel); " +
      "'rule arithmetic only' is the unfused per-leaf calls without the walk",
  });
  kernels(true, true)();

  const c = suite.comparisons.at(-1);
  if (c) {
    const med = (name: string) => {
      const r = c.results.find((x) => x.name === name);
      if (!r || r.status !== "ok") return NaN;
      const s = [...r.msPerCall].sort((p, q) => p - q);
      return s[Math.floor(s.length / 2)]!;
    };
    const step = med("difftypes Adam.update");
    const arith = med("rule arithmetic only");
    const tfjs = med("tfjs-cpu");
    const walk = med("walk only");
    console.log(
      `\ndifftypes ${step.toFixed(2)} ms vs tfjs-cpu ${tfjs.toFixed(2)} ms per step: ${(tfjs / step).toFixed(1)}x faster\n` +
        `step minus rule arithmetic: ${(step - arith).toFixed(2)} ms = ${((100 * (step - arith)) / step).toFixed(1)}% of the step ` +
        `(the walk itself: ${walk.toFixed(2)} ms = ${((100 * walk) / step).toFixed(1)}%; the rest is bookkeeping and garbage collection)`,
    );
  }

  variables.forEach((v) => v.dispose());
  tfGrads.forEach((g) => g.tensor.dispose());
  tfAdam.dispose();
  suite.save();
}

runIfMain(import.meta.url, main);
