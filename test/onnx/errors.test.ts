/**
 * What cannot be exported fails with an error that names the problem and the fix; nothing is written.
 */
import { describe, expect, test } from "vitest";
import { cholesky, conv2dBackpropFilter, Dense, exportOnnx, qr, randomNormal, solve, Tensor, tensor, triangularSolve } from "../../src/index.js";

const x = randomNormal([2, 3], { seed: 1 });

describe("exportOnnx refuses", () => {
  test("a primitive with no ONNX mapping, naming it", () => {
    const dy = randomNormal([1, 3, 3, 2], { seed: 2 });
    const input = randomNormal([1, 5, 5, 1], { seed: 3 });
    expect(() => exportOnnx((a: Tensor, b: Tensor) => conv2dBackpropFilter(a, b, [3, 3, 1, 2]), [input, dy])).toThrow(
      /exportOnnx: the primitive 'conv2dBackpropFilter' has no ONNX mapping .*Deploying a model/,
    );
  });

  test("a linear-algebra primitive ONNX has no operator for, naming it and why", () => {
    const a = tensor([[4, 1, 0], [1, 3, 1], [0, 1, 2]]);
    const b = randomNormal([3, 2], { seed: 4 });
    const cases: [string, (m: Tensor, r: Tensor) => Tensor, RegExp][] = [
      ["cholesky", (m) => cholesky(m), /no Cholesky factorization operator/],
      ["triangularSolve", (m, r) => triangularSolve(m, r), /no triangular or linear solve operator/],
      ["solve", (m, r) => solve(m, r), /no linear solve \(LU\) operator/],
      ["qr", (m) => qr(m).r, /no QR factorization operator/],
    ];
    for (const [primitive, f, why] of cases) {
      expect(() => exportOnnx(f, [a, b])).toThrow(new RegExp(`the primitive '${primitive}' has no ONNX mapping`));
      expect(() => exportOnnx(f, [a, b])).toThrow(why);
    }
  });

  test("a non-tensor output, naming where it is", () => {
    expect(() => exportOnnx((a: Tensor) => ({ y: a.exp(), count: 3 }), [x])).toThrow(
      /exportOnnx: the result at count is a number, not a Tensor/,
    );
    expect(() => exportOnnx((a: Tensor) => a.shape, [x])).toThrow(/the result at \[0\] is a number/);
    expect(() => exportOnnx((_a: Tensor) => [], [x])).toThrow(/returned no Tensor/);
    expect(() => exportOnnx((a: Tensor) => ({ y: a, layer: new Dense({ inputSize: 3, outputSize: 1, seed: 1 }) }), [x])).toThrow(
      /exportOnnx: the result at layer is an instance of Dense, not a Tensor/,
    );
    const cyclic: Record<string, unknown> = {};
    expect(() => exportOnnx((a: Tensor) => Object.assign(cyclic, { y: a, self: cyclic }), [x])).toThrow(
      /exportOnnx: the structure is cyclic: self is the same object as \(root\)/,
    );
  });

  test("data-dependent control flow (a value read from a tensor computed from the inputs)", () => {
    const branchy = (a: Tensor) => (a.sum().item() > 0 ? a.exp() : a.neg());
    expect(() => exportOnnx(branchy, [x])).toThrow(/exportOnnx: the function read the values of a tensor computed from its inputs or the model's tensors \(item\(\)\).*where, maximum, a mask/);
    expect(() => exportOnnx((a: Tensor) => tensor(a.toArray() as number[][]).mul(2), [x])).toThrow(/\(toArray\(\)\)/);
    expect(() => exportOnnx((a: Tensor) => a.mul(a.dataSync()[0]!), [x])).toThrow(/\(dataSync\(\)\)/);
    expect(() => exportOnnx((a: Tensor) => a.mul((a.sum() as unknown as number) > 0 ? 1 : 2), [x])).toThrow(/\(used as a JavaScript number\)/);
    // The model's tensors are placeholders while it is recorded too (so they stay initializers under their key paths).
    const dense = new Dense({ inputSize: 3, outputSize: 2, seed: 2 });
    const bias = dense.bias;
    const readsItsBias = (a: Tensor) => (dense.bias.sum().item() > 0 ? dense.callAsFunction(a) : dense.callAsFunction(a).neg());
    expect(() => exportOnnx(readsItsBias, [x], { model: dense })).toThrow(/read the values of a tensor computed from its inputs or the model's tensors \(item\(\)\)/);
    // ... and it has its own tensors back afterwards.
    expect(dense.bias).toBe(bias);
  });

  test("but reading the values of a tensor it captures, not one of the model's, is fine (it does not depend on the inputs)", () => {
    const w = randomNormal([3], { seed: 4 });
    expect(exportOnnx((a: Tensor) => (w.sum().item() > 0 ? a.mul(w) : a.sub(w)), [x])).toBeInstanceOf(Uint8Array);
  });

  test("a program whose steps change with the batch size, under a dynamic batch", () => {
    const byBatch = (a: Tensor) => (a.shape[0]! > 2 ? a.exp() : a.neg().abs());
    expect(() => exportOnnx(byBatch, [x], { dynamicBatch: true })).toThrow(
      /exportOnnx: the function runs a different program at batch size 5 than at 2 .*export with a fixed batch size/,
    );
    // With a fixed batch the example's path is the program.
    expect(exportOnnx(byBatch, [x])).toBeInstanceOf(Uint8Array);
  });

  test("a constant made inside the function whose contents follow the batch size by no rule of its shape", () => {
    // Squares: neither one value everywhere nor a count (start + i·step), so the file could not make them.
    const f = (a: Tensor) => a.add(tensor(Array.from({ length: a.shape[0]! * 3 }, (_, i) => i * i), { shape: [a.shape[0]!, 3] }));
    expect(() => exportOnnx(f, [x], { dynamicBatch: true })).toThrow(
      /exportOnnx: a constant of shape \[2,3\] made inside the function changes shape with the batch size \(shape \[5,3\] at batch size 5\) and is neither filled with one value nor a count \(start \+ i·step\).*export with a fixed batch size/,
    );
    // One value at the example's batch size of 1 is not enough: at batch size 3 it is [5, 5, 7].
    const g = (a: Tensor) => a.add(tensor(Array.from({ length: a.shape[0]! }, (_, i) => (i === 2 ? 7 : 5)), { shape: [a.shape[0]!, 1] }));
    expect(() => exportOnnx(g, [x.slice([0, 0], [1, 3])], { dynamicBatch: true })).toThrow(/a constant of shape \[1,1\] .*is neither filled with one value nor a count/);
  });

  test("a constant of fixed shape whose values change with the batch size, under a dynamic batch", () => {
    // Drawn at random inside the function: each recording draws other values.
    const noisy = (a: Tensor) => a.add(randomNormal([3]));
    expect(() => exportOnnx(noisy, [x], { dynamicBatch: true })).toThrow(
      /exportOnnx: a constant of shape \[3\] made inside the function holds other values at batch size 5 than at 2 \(drawn at random, or computed from a size that follows the batch\).*export with a fixed batch size/,
    );
    expect(exportOnnx(noisy, [x])).toBeInstanceOf(Uint8Array);
    // A number that is no integer multiple of the batch size plus a constant: its square root.
    expect(() => exportOnnx((a: Tensor) => a.div(Math.sqrt(a.shape[0]!)), [x], { dynamicBatch: true })).toThrow(
      /a constant of shape \[\] made inside the function holds other values at batch size 5 than at 2/,
    );
  });

  test("an async function", () => {
    expect(() => exportOnnx(async (a: Tensor) => Promise.resolve(a.exp()), [x])).toThrow(/the function returned a Promise; an exported function must be synchronous/);
  });

  test("inputs of unequal batch sizes under a dynamic batch", () => {
    expect(() => exportOnnx((a: Tensor, b: Tensor) => a.add(b), [x, randomNormal([1, 3], { seed: 5 })], { dynamicBatch: true })).toThrow(
      /dynamicBatch needs every input to have the same non-zero size on axis 0 .*got input_0 \[2,3\], input_1 \[1,3\]/,
    );
  });

  test("bad options and arguments", () => {
    const dense = new Dense({ inputSize: 3, outputSize: 2, seed: 1 });
    expect(() => exportOnnx(dense, x, { opset: 13 as 17 })).toThrow(/opset 13 is not supported; choose 17 \(default\) or 18/);
    expect(() => exportOnnx(dense, x, { inputNames: ["a", "b"] })).toThrow(/inputNames must list 1 non-empty name, one per tensor/);
    expect(() => exportOnnx(dense, x, { outputNames: [""] })).toThrow(/outputNames must list 1 non-empty name/);
    expect(() => exportOnnx((a: Tensor, b: Tensor) => a.add(b), [x, x.mul(2)], { inputNames: ["a", "a"] })).toThrow(/lists 'a' twice/);
    expect(() => exportOnnx(dense, x, { inputNames: ["weight"] })).toThrow(/the parameter 'weight' has the same name as an input or output/);
    expect(() => exportOnnx(dense, x, { inputNames: ["y"], outputNames: ["y"] })).toThrow(/'y' names both an input and an output/);
    expect(() => exportOnnx(dense, x, { dynamicBatch: "" })).toThrow(/dynamicBatch must be true, false or a non-empty dimension name/);
    expect(() => exportOnnx(42 as unknown as (a: Tensor) => Tensor, x)).toThrow(/the first argument must be a layer \(with callAsFunction\) or a function, got a number/);
    expect(() => exportOnnx((a: Tensor) => a, { a: x } as unknown as [Tensor])).toThrow(/exampleInputs must be its argument list/);
    expect(() => exportOnnx(() => x.exp(), [])).toThrow(/the example inputs hold no Tensor/);
    expect(() => exportOnnx((a: Tensor, b: Tensor) => a.add(b), [x, x])).toThrow(/the input at \[1\] is the same Tensor object as an earlier input/);
  });
});

test("tensors a plain function captures become constants; a model passed in options names its own", () => {
  const dense = new Dense({ inputSize: 3, outputSize: 2, seed: 1 });
  const f = (a: Tensor) => dense.callAsFunction(a);
  const anonymous = exportOnnx(f, [x]);
  const named = exportOnnx(f, [x], { model: dense });
  const text = (b: Uint8Array) => new TextDecoder("latin1").decode(b);
  expect(text(anonymous)).not.toContain("weight");
  expect(text(anonymous)).toContain("constant_0");
  expect(text(named)).toContain("weight");
});
