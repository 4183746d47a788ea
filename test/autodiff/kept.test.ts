/**
 * A tensor kept from inside a differential operator (logits kept for an accuracy, as the demo does) is a plain
 * value once the operator returns: it holds its value and nothing of the recording.
 */
import { describe, expect, test } from "vitest";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { valueWithGradient, valueWithPullback, gradient, derivative, randomNormal, tensor, Tensor } from "../../src/index.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

// Typed arrays over 64 bytes live outside the JS heap, so both heaps are counted.
const memory = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

const params = {
  w1: randomNormal([4, 64], { seed: 1 }), b1: randomNormal([64], { seed: 2 }),
  w2: randomNormal([64, 1], { seed: 3 }), b2: randomNormal([1], { seed: 4 }),
};
const x = randomNormal([32, 4], { seed: 5 });
const y = randomNormal([32, 1], { seed: 6 });
const predict = (p: typeof params): Tensor => x.matmul(p.w1).add(p.b1).tanh().matmul(p.w2).add(p.b2);

/** Bytes retained by 1,000 training steps that each keep `keep(prediction)`. */
function retainedBy(keep: (prediction: Tensor) => Tensor): { bytes: number; kept: Tensor[] } {
  const kept: Tensor[] = [];
  const step = (store: boolean): void => {
    valueWithGradient(params, (p) => {
      const pred = predict(p);
      if (store) kept.push(keep(pred));
      return pred.sub(y).square().mean();
    });
  };
  for (let i = 0; i < 50; i++) step(false); // warm up code and caches
  gc();
  gc();
  const before = memory();
  for (let i = 0; i < 1000; i++) step(true);
  gc();
  gc();
  return { bytes: memory() - before, kept };
}

describe("kept tensors", () => {
  test("1,000 kept [32,1] predictions cost about what 1,000 copies cost, not the recordings", () => {
    const copies = retainedBy((p) => tensor(p.dataSync(), { shape: p.shape }));
    const kept = retainedBy((p) => p);
    expect(kept.kept).toHaveLength(1000);
    // A kept tracer adds one small object to its value. Each step's recording (~30 KB: the hidden layer's
    // activations, the weights' primals, the tape) would add ~30 MB if a kept tracer still reached it.
    expect(kept.bytes).toBeLessThan(copies.bytes * 1.5 + 256 * 1024);
    expect(kept.bytes).toBeLessThan(2 * 1024 * 1024);
    // The kept values are the predictions.
    expect(kept.kept[999]!.dataSync()).toEqual(predict(params).dataSync());
  });

  test("a kept tensor is a plain value afterwards: ops on it are concrete, and it can be differentiated again", () => {
    let kept: Tensor | undefined;
    const g = gradient(tensor([1, 2, 3]), (v) => {
      kept = v.mul(v);
      return kept.sum();
    });
    expect(g.toArray()).toEqual([2, 4, 6]);
    const k = kept!;
    expect(k.toArray()).toEqual([1, 4, 9]);
    expect(k.add(1).toArray()).toEqual([2, 5, 10]);
    // As the point of a new operator, and as a constant inside one.
    expect(gradient(k, (v) => v.square().sum()).toArray()).toEqual([2, 8, 18]);
    expect(gradient(tensor([1, 1, 1]), (v) => v.mul(k).sum()).toArray()).toEqual([1, 4, 9]);
    expect(derivative(2, (s) => k.mul(s).sum()).item()).toBe(14);
  });

  test("a pullback still works after a tracer of its level has been kept and used elsewhere", () => {
    let kept: Tensor | undefined;
    const { pullback } = valueWithPullback(tensor([1, 2]), (v) => {
      kept = v.exp();
      return kept.mul(v);
    });
    expect(kept!.mul(0).toArray()).toEqual([0, 0]);
    const g = pullback(tensor([1, 1])).toArray() as number[];
    expect(g[0]).toBeCloseTo(2 * Math.E, 5);
    expect(g[1]).toBeCloseTo(3 * Math.exp(2), 4);
  });
});
