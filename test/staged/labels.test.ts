/**
 * Class labels inside `compile`: `oneHot` compares its indices with the classes by ops (the indices have no
 * elements while tracing), so `softmaxCrossEntropy` with int32 labels compiles and agrees with eager.
 */
import { expect, test } from "vitest";
import { compile, oneHot, randomNormal, softmaxCrossEntropy, tensor, valueWithGradient, type Tensor } from "../../src/index.js";

test("oneHot of staged indices agrees with eager, with on and off values and an int32 output", () => {
  const encode = compile((i: Tensor) => oneHot(i, 4, { onValue: 3, offValue: -1 }));
  const asInt = compile((i: Tensor) => oneHot(i, 3, { dtype: "int32" }));
  const indices = tensor([[0, 3], [2, 1]], { dtype: "int32" });
  expect(encode(indices).toArray()).toEqual(oneHot(indices, 4, { onValue: 3, offValue: -1 }).toArray());
  const other = tensor([[1, 1], [0, 2]], { dtype: "int32" });
  expect(encode(other).toArray()).toEqual(oneHot(other, 4, { onValue: 3, offValue: -1 }).toArray());
  expect(encode.stats.traces).toBe(1);
  const ints = asInt(tensor([2, 0], { dtype: "int32" }));
  expect(ints.dtype).toBe("int32");
  expect(ints.toArray()).toEqual([[0, 0, 1], [1, 0, 0]]);
});

test("softmaxCrossEntropy with int32 labels: compiled loss and gradient equal eager", () => {
  const logits = randomNormal([5, 3], { seed: 4 });
  const labels = tensor([0, 2, 1, 1, 0], { dtype: "int32" });
  const step = (z: typeof logits, y: typeof labels) => valueWithGradient(z, (w) => softmaxCrossEntropy(w, y));
  const eager = step(logits, labels);
  const staged = compile(step)(logits, labels);
  expect(staged.value.item()).toBeCloseTo(eager.value.item(), 6);
  const a = staged.gradient.dataSync(), b = eager.gradient.dataSync();
  for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 6);
});

test("mod with a staged int32 divisor compiles, and a zero divisor is the eager error when the program runs", () => {
  const m = compile((a: Tensor, b: Tensor) => a.mod(b));
  const a = tensor([7, -7, 9], { dtype: "int32" });
  expect(m(a, tensor([3, 3, 4], { dtype: "int32" })).toArray()).toEqual(a.mod(tensor([3, 3, 4], { dtype: "int32" })).toArray());
  expect(() => m(a, tensor([3, 0, 4], { dtype: "int32" }))).toThrow(/mod: the int32 divisor is 0 at flat index 1/);
  expect(m.stats.traces).toBe(1);
});
