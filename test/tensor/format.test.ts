import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { tensor, zeros } from "../../src/tensor/creation.js";
import { formatTensor } from "../../src/tensor/format.js";
import { liftTapeInput, withTapeLevel } from "../../src/autodiff/tape.js";

describe("formatTensor", () => {
  it("prints scalars and vectors on one line", () => {
    expect(formatTensor(tensor(3))).toBe("Tensor([] float32) 3.0000");
    expect(formatTensor(tensor([1, -2.5]))).toBe("Tensor([2] float32) [ 1.0000, -2.5000]");
    expect(formatTensor(tensor([1, 22, 333], { dtype: "int32" }))).toBe("Tensor([3] int32) [  1,  22, 333]");
  });

  it("prints matrices as aligned rows and higher ranks as blocks", () => {
    expect(formatTensor(tensor([[1, 2], [3, 40]], { dtype: "float64" }))).toBe(
      "Tensor([2,2] float64)\n[[ 1.0000,  2.0000],\n [ 3.0000, 40.0000]]",
    );
    expect(formatTensor(tensor([[[1, 2]], [[3, 4]]], { dtype: "int32" }))).toBe(
      "Tensor([2,1,2] int32)\n[[[1, 2]],\n\n [[3, 4]]]",
    );
  });

  it("is what Tensor.toString returns", () => {
    const x = tensor([[1, 2], [3, 4]]);
    expect(String(x)).toBe(formatTensor(x));
  });

  it("elides the middle of long axes in large tensors", () => {
    const v = Array.from({ length: 100 }, (_, i) => i);
    expect(formatTensor(tensor(v, { dtype: "int32" }))).toBe("Tensor([100] int32) [ 0,  1,  2, ..., 97, 98, 99]");
    const m = formatTensor(tensor(Array.from({ length: 400 }, (_, i) => i), { shape: [20, 20], dtype: "int32" }));
    const lines = m.split("\n");
    expect(lines[0]).toBe("Tensor([20,20] int32)");
    expect(lines[1]).toBe("[[  0,   1,   2, ...,  17,  18,  19],");
    expect(lines[4]).toBe(" ...,");
    expect(lines.at(-1)).toBe(" [380, 381, 382, ..., 397, 398, 399]]");
    expect(lines.length).toBe(8);
    // small tensors are shown in full even with long axes
    expect(formatTensor(tensor([0, 1, 2, 3, 4, 5, 6, 7], { dtype: "int32" }))).toBe("Tensor([8] int32) [0, 1, 2, 3, 4, 5, 6, 7]");
  });

  it("switches to scientific notation for very large or small magnitudes, and spells non-finite values", () => {
    expect(formatTensor(tensor([1e9, 1], { dtype: "float64" }))).toBe("Tensor([2] float64) [1.0000e+9, 1.0000e+0]");
    expect(formatTensor(tensor([1e-6, 0], { dtype: "float64" }))).toBe("Tensor([2] float64) [1.0000e-6, 0.0000e+0]");
    expect(formatTensor(tensor([NaN, Infinity, -Infinity, 1]))).toBe("Tensor([4] float32) [   NaN,    Inf,   -Inf, 1.0000]");
  });

  it("prints empty tensors", () => {
    expect(formatTensor(zeros([0]))).toBe("Tensor([0] float32) []");
    expect(formatTensor(zeros([2, 0]))).toBe("Tensor([2,0] float32)\n[[],\n []]");
    expect(formatTensor(zeros([0, 3]))).toBe("Tensor([0,3] float32)\n[]");
  });

  it("says when a tensor is traced, and shows the values it stands for", () => {
    const s = withTapeLevel((main) => formatTensor(liftTapeInput(main, tensor([[1, 2], [3, 4]]))));
    expect(s).toBe("Tensor([2,2] float32, traced)\n[[1.0000, 2.0000],\n [3.0000, 4.0000]]");
  });

  it("is what console.log and util.inspect show: dtype, shape and values, not internal fields", () => {
    const x = tensor([[1, 2], [3, 4]]);
    expect(inspect(x)).toBe(formatTensor(x));
    const nested = inspect({ w: tensor([1, 2]), big: zeros([1000]) });
    expect(nested).toContain("w: Tensor([2] float32) [1.0000, 2.0000]");
    expect(nested).toContain("big: Tensor([1000] float32) [0.0000, 0.0000, 0.0000, ..., 0.0000, 0.0000, 0.0000]");
    expect(nested).not.toMatch(/_data|_trace|_primal|Float32Array/);
  });
});
