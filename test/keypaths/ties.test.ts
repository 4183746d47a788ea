/**
 * Ties are one parameter everywhere: a tensor reachable from two fields gets one gradient entry per field
 * (each its own contribution), and every consumer that moves, updates, saves, loads or counts it treats
 * it as one tensor and leaves it shared.
 */
import { describe, expect, it } from "vitest";
import {
  Tensor,
  tensor,
  gradient,
  move,
  tangentScale,
  differentiable,
  keyPathChildren,
  Layer,
  Dense,
  SGD,
  Adam,
  summary,
  serializeCheckpoint,
  deserializeCheckpoint,
  decodeSafetensors,
  encodeSafetensors,
  CheckpointError,
  type CustomKeyPathIterable,
} from "../../src/index.js";

const x = tensor([[1, 2, 3], [0.5, -1, 2]], { dtype: "float32" });

/** Two dense layers whose weights are one tensor. */
class TiedPair extends Layer<Tensor, Tensor> {
  @differentiable a = new Dense({ inputSize: 3, outputSize: 3, seed: 1 });
  @differentiable b = new Dense({ inputSize: 3, outputSize: 3, seed: 2 });
  constructor(tied = true) {
    super();
    if (tied) this.b.weight = this.a.weight;
  }
  callAsFunction(input: Tensor): Tensor {
    return this.b.callAsFunction(this.a.callAsFunction(input)).mul(2);
  }
}
const loss = (m: TiedPair) => m.callAsFunction(x).square().sum();

function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

describe("a tied tensor", () => {
  it("gradient keeps one entry per field, each its own contribution", () => {
    const m = new TiedPair();
    const g = gradient(m, loss);
    // Each entry is the derivative with respect to that use alone: untie, differentiate, compare.
    const untied = new TiedPair(false);
    untied.b.weight = untied.a.weight.add(0); // equal values, another tensor
    const gu = gradient(untied, loss);
    expect(values(g.a.weight)).toEqual(values(gu.a.weight));
    expect(values(g.b.weight)).toEqual(values(gu.b.weight));
    expect(values(g.a.weight)).not.toEqual(values(g.b.weight));
  });

  it("move and Layer.move move it once by the sum and leave it shared", () => {
    for (const viaLayer of [false, true]) {
      const m = new TiedPair();
      const before = values(m.a.weight);
      const g = gradient(m, loss);
      const d = tangentScale(g, -0.01);
      if (viaLayer) m.move(d);
      else move(m, d);
      expect(m.b.weight).toBe(m.a.weight);
      const sum = values(d.a.weight.add(d.b.weight));
      values(m.a.weight).forEach((v, i) => expect(v).toBeCloseTo(before[i]! + sum[i]!, 6));
    }
  });

  it.each([["SGD", (m: TiedPair) => new SGD(m, { learningRate: 0.01 })], ["Adam", (m: TiedPair) => new Adam(m, { learningRate: 0.01 })]] as const)(
    "%s updates it once and leaves it shared",
    (_name, make) => {
      const m = new TiedPair();
      const opt = make(m);
      for (let i = 0; i < 3; i++) opt.update(m, gradient(m, loss));
      expect(m.b.weight).toBe(m.a.weight);
      expect(Object.keys(opt.state().parameterSteps)).toEqual(["a.weight", "a.bias", "b.bias"]);
    },
  );

  it("a checkpoint stores it once (a plain safetensors file) and restores it tied", () => {
    const m = new TiedPair();
    new SGD(m, { learningRate: 0.1 }).update(m, gradient(m, loss));
    const bytes = serializeCheckpoint(m);
    const file = decodeSafetensors(bytes);
    expect([...file.tensors.keys()].sort()).toEqual(["a.bias", "a.weight", "b.bias"]);
    expect(JSON.parse(file.metadata.get("difftypes.ties")!)).toEqual({ "b.weight": "a.weight" });
    for (const fresh of [new TiedPair(), new TiedPair(false)]) {
      deserializeCheckpoint(bytes, fresh);
      expect(fresh.b.weight).toBe(fresh.a.weight);
      expect(values(fresh.a.weight)).toEqual(values(m.a.weight));
    }
  });

  it("a file from another writer holding the tie twice loads tied when equal, and is an error when not", () => {
    const m = new TiedPair();
    const w = m.a.weight;
    const entries = (b: Tensor) => new Map([["a.weight", w], ["a.bias", m.a.bias], ["b.weight", b], ["b.bias", m.b.bias]]);
    const fresh = new TiedPair();
    deserializeCheckpoint(encodeSafetensors(entries(w.add(0)), {}), fresh);
    expect(fresh.b.weight).toBe(fresh.a.weight);
    const target = new TiedPair();
    const before = target.a.weight;
    expect(() => deserializeCheckpoint(encodeSafetensors(entries(w.add(1)), {}), target)).toThrow(CheckpointError);
    expect(() => deserializeCheckpoint(encodeSafetensors(entries(w.add(1)), {}), target)).toThrow(/untied: 'a.weight' and 'b.weight' are one tensor in the model but differ in the checkpoint/);
    expect(target.a.weight).toBe(before);
    expect(target.b.weight).toBe(before);
  });

  it("summary counts it once", () => {
    const tied = summary(new TiedPair(), [2, 3]);
    const untied = summary(new TiedPair(false), [2, 3]);
    expect(tied).toMatch(/Trainable parameters: 15\b/); // 9 + 3 + 3
    expect(untied).toMatch(/Trainable parameters: 24\b/);
  });
});

/** Layers held by name, listed at run time. */
class Heads extends Layer<Tensor, Tensor> implements CustomKeyPathIterable {
  [keyPathChildren](): readonly string[] {
    return Object.keys(this);
  }
  callAsFunction(input: Tensor): Tensor {
    return Object.values(this as unknown as Record<string, Dense>).reduce((s, l) => s.add(l.callAsFunction(input)), input.mul(0).sum([1], true));
  }
}

describe("summary", () => {
  it("lists layers held by a container that lists its own children", () => {
    class Model extends Layer<Tensor, Tensor> {
      @differentiable heads = Object.assign(new Heads(), { left: new Dense({ inputSize: 3, outputSize: 2, seed: 1 }), right: new Dense({ inputSize: 3, outputSize: 2, seed: 2 }) });
      callAsFunction(input: Tensor): Tensor {
        return this.heads.callAsFunction(input);
      }
    }
    const text = summary(new Model(), [2, 3]);
    expect(text).toMatch(/heads\.left\s+Dense\s+\[2, 2\]\s+8/);
    expect(text).toMatch(/heads\.right\s+Dense\s+\[2, 2\]\s+8/);
    expect(text).toMatch(/Trainable parameters: 16\b/);
  });
});
