/**
 * Fixture models for the optimizer tests: small classes (nested, with arrays, with non-differentiable
 * fields, with a shared tensor), and the same parameters as plain objects and arrays.
 */
import { Tensor, tensor, differentiable, noDerivative, type DType } from "../../src/index.js";
import { rng } from "../helpers/rows.js";

/** Values in [-1, 1) from a seed. */
export function values(n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => 2 * r() - 1);
}

/** A tensor of the given shape filled from a seed. */
export function randomTensor(shape: number[], seed: number, dtype: DType = "float64"): Tensor {
  return tensor(values(shape.reduce((a, b) => a * b, 1), seed), { shape, dtype });
}

/** A dense layer: weight and bias, with configuration that is not differentiated. */
export class Dense {
  @differentiable weight: Tensor;
  @differentiable bias: Tensor;
  @noDerivative activation = "tanh";
  constructor(inputs: number, outputs: number, seed: number, dtype: DType = "float64") {
    this.weight = randomTensor([inputs, outputs], seed, dtype);
    this.bias = randomTensor([outputs], seed + 1, dtype);
  }
  call(x: Tensor): Tensor {
    return x.matmul(this.weight).add(this.bias).tanh();
  }
}

/** Two layers and a counter. */
export class MLP {
  @differentiable hidden: Dense;
  @differentiable out: Dense;
  @noDerivative steps = 0;
  constructor(dtype: DType = "float64") {
    this.hidden = new Dense(3, 4, 10, dtype);
    this.out = new Dense(4, 2, 20, dtype);
  }
  call(x: Tensor): Tensor {
    return this.out.call(this.hidden.call(x));
  }
}

/** An array of layers. */
export class Stack {
  @differentiable layers: Dense[];
  constructor(dtype: DType = "float64") {
    this.layers = [new Dense(2, 3, 30, dtype), new Dense(3, 3, 40, dtype), new Dense(3, 1, 50, dtype)];
  }
}

/** Tied weights: the decoder's weight is the encoder's (one tensor at two key paths). */
export class Tied {
  @differentiable encoder: Dense;
  @differentiable decoderWeight: Tensor;
  @differentiable scale: Tensor;
  constructor(dtype: DType = "float64") {
    this.encoder = new Dense(3, 3, 60, dtype);
    this.decoderWeight = this.encoder.weight;
    this.scale = tensor(1.5, { dtype });
  }
}

/** The parameters of `MLP` as a plain object. */
export function plainMLP(dtype: DType = "float64") {
  const m = new MLP(dtype);
  return {
    hidden: { weight: m.hidden.weight, bias: m.hidden.bias },
    out: { weight: m.out.weight, bias: m.out.bias },
    name: "plain",
  };
}

/** Parameters in nested arrays (a number leaf among them). */
export function arrayModel(dtype: DType = "float64"): [Tensor, [Tensor, Tensor]] {
  return [randomTensor([2, 2], 70, dtype), [randomTensor([3], 71, dtype), randomTensor([], 72, dtype)]];
}

/**
 * Every element of every leaf of a value, in walk order of plain containers (for comparisons in tests);
 * numbers count in arrays, not as object fields (those are configuration).
 */
export function flatValues(x: unknown): number[] {
  if (x instanceof Tensor) return Array.from(x.dataSync());
  if (typeof x === "number") return [x];
  if (Array.isArray(x)) return x.flatMap(flatValues);
  if (typeof x === "object" && x !== null) {
    return Object.keys(x).flatMap((k) => {
      const v = (x as Record<string, unknown>)[k];
      return typeof v === "number" ? [] : flatValues(v);
    });
  }
  return [];
}

/** A gradient shaped like `model`'s parameters: `coef · θ + shift`, elementwise (plain containers). */
export function affineGradient<T>(model: T, coef: number, shift: number): T {
  const map = (x: unknown): unknown => {
    if (x instanceof Tensor) return x.mul(coef).add(shift);
    if (Array.isArray(x)) return x.map(map);
    if (typeof x === "object" && x !== null) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x)) {
        const v = (x as Record<string, unknown>)[k];
        if (v instanceof Tensor || Array.isArray(v) || (typeof v === "object" && v !== null)) out[k] = map(v);
      }
      return out;
    }
    return x;
  };
  return map(model) as T;
}
