import { describe, expect, it, test } from "vitest";
import fc from "fast-check";
import { Tensor } from "../../src/tensor/tensor.js";
import { tensor } from "../../src/tensor/creation.js";
import type { DType } from "../../src/tensor/dtype.js";
import {
  broadcastTo,
  concat,
  expandDims,
  gather,
  pad,
  reshape,
  scatterAdd,
  slice,
  split,
  squeeze,
  stack,
  tile,
  transpose,
} from "../../src/ops/movement.js";
import { liftTapeInput, nodeAt, sweepBackward, withTapeLevel } from "../../src/autodiff/tape.js";
import { liftJvpInput, tangentAt, withJvpLevel } from "../../src/autodiff/forward.js";

// ---------------------------------------------------------------------------------------------------
// Reference machinery: plain index arithmetic, independent of the kernels.

const DTYPES: DType[] = ["float32", "float64", "int32"];

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function unravel(k: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = k % shape[d]!;
    k = Math.floor(k / shape[d]!);
  }
  return idx;
}

function ravel(idx: readonly number[], shape: readonly number[]): number {
  let k = 0;
  for (let d = 0; d < shape.length; d++) k = k * shape[d]! + idx[d]!;
  return k;
}

/** A tensor whose element k is a distinct small integer (exact in every dtype). */
function ramp(shape: readonly number[], dtype: DType = "float32", offset = 0): Tensor {
  const n = size(shape);
  const v = Array.from({ length: n }, (_, k) => ((k * 37 + offset * 11) % 997) - 400);
  return tensor(v, { shape, dtype });
}

/** Builds the expected flat values of an output of `shape` from a function of its index. */
function expected(shape: readonly number[], f: (idx: number[]) => number): number[] {
  return Array.from({ length: size(shape) }, (_, k) => f(unravel(k, shape)));
}

function flat(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

function expectTensor(t: Tensor, shape: readonly number[], dtype: DType, values: number[]): void {
  expect(t.shape).toEqual(shape);
  expect(t.dtype).toBe(dtype);
  expect(flat(t)).toEqual(values);
}

// ---------------------------------------------------------------------------------------------------
// Forward values

describe("reshape", () => {
  test.each(DTYPES)("keeps row-major order and shares the data (%s)", (dtype) => {
    const x = ramp([2, 3, 4], dtype);
    for (const s of [[24], [4, 6], [2, -1, 2], [1, 24, 1], [-1]]) {
      const y = reshape(x, s);
      expect(size(y.shape)).toBe(24);
      expect(flat(y)).toEqual(flat(x));
      expect(y._data).toBe(x._data);
    }
    expect(reshape(x, [2, 3, 4])).toBe(x);
  });

  it("handles size-0 and scalar shapes", () => {
    expectTensor(reshape(ramp([0, 3]), [3, 0]), [3, 0], "float32", []);
    expectTensor(reshape(ramp([0, 3]), [-1, 5]), [0, 5], "float32", []);
    expectTensor(reshape(tensor(5), [1, 1]), [1, 1], "float32", [5]);
    expectTensor(reshape(tensor([5]), []), [], "float32", [5]);
  });

  it("rejects bad shapes with messages that say how to fix them", () => {
    const x = ramp([2, 3]);
    expect(() => reshape(x, [4, 2])).toThrow("reshape: cannot reshape [2,3] (6 elements) into [4,2] (8 elements)");
    expect(() => reshape(x, [-1, -1])).toThrow("more than one -1");
    expect(() => reshape(x, [4, -1])).toThrow("6 is not a multiple of 4");
    expect(() => reshape(x, [2.5, 2])).toThrow("must be an array of integers");
    expect(() => reshape(x, [-2, -3])).toThrow("invalid dimension -2");
    expect(() => reshape(ramp([0]), [0, -1])).toThrow("ambiguous");
  });

  it("property: reshaping there and back is the identity", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }), fc.integer({ min: 0, max: 3 }), (shape, cut) => {
        const x = ramp(shape, "float64");
        const c = Math.min(cut, shape.length);
        const merged = [size(shape.slice(0, c)), ...shape.slice(c)];
        const back = reshape(reshape(x, merged), shape);
        expect(back.shape).toEqual(shape);
        expect(flat(back)).toEqual(flat(x));
      }),
    );
  });
});

describe("transpose", () => {
  const cases: [number[], number[] | undefined][] = [
    [[2, 3], undefined],
    [[2, 3, 4], [2, 0, 1]],
    [[2, 3, 4], [1, 0, 2]],
    [[2, 1, 3], [2, 1, 0]],
    [[1, 3, 1, 2], [3, 0, 2, 1]],
    [[0, 3, 2], [2, 0, 1]],
    [[4], undefined],
    [[], undefined],
    [[2, 3, 2, 3], [3, 1, 2, 0]],
    // large enough for the tiled path (both swapped axes ≥ 32), with ragged tile edges
    [[70, 45], [1, 0]],
    [[2, 33, 40], [0, 2, 1]],
    [[33, 3, 40], [2, 1, 0]],
  ];
  for (const dtype of DTYPES) {
    test.each(cases)(`%j by %j matches the reference (${dtype})`, (shape, perm) => {
      const x = ramp(shape, dtype);
      const p = perm ?? shape.map((_, i) => shape.length - 1 - i);
      const outShape = p.map((a) => shape[a]!);
      const xs = flat(x);
      const want = expected(outShape, (idx) => {
        const src = new Array<number>(shape.length);
        p.forEach((a, d) => (src[a] = idx[d]!));
        return xs[ravel(src, shape)]!;
      });
      expectTensor(transpose(x, perm), outShape, dtype, want);
    });
  }

  it("returns the input for the identity permutation and reshapes when only size-1 axes move", () => {
    const x = ramp([2, 3]);
    expect(transpose(x, [0, 1])).toBe(x);
    const x1 = ramp([1, 3, 1]);
    const y = transpose(x1, [2, 1, 0]);
    expect(y.shape).toEqual([1, 3, 1]);
    expect(y._data).toBe(x1._data); // a reshape: no copy
    expect(transpose(x, [-1, -2]).shape).toEqual([3, 2]);
  });

  it("rejects what is not a permutation", () => {
    const x = ramp([2, 3, 4]);
    expect(() => transpose(x, [0, 1])).toThrow("transpose: perm [0,1] has 2 entries but the tensor of shape [2,3,4] has rank 3");
    expect(() => transpose(x, [0, 1, 1])).toThrow("not a permutation of 0..2 (axis 1 appears twice)");
    expect(() => transpose(x, [0, 1, 3])).toThrow("axis 3 is out of range");
  });

  it("property: transposing by p then by p's inverse is the identity", () => {
    const arb = fc
      .array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 5 })
      .chain((shape) => fc.tuple(fc.constant(shape), fc.shuffledSubarray(shape.map((_, i) => i), { minLength: shape.length })));
    fc.assert(
      fc.property(arb, ([shape, perm]) => {
        const x = ramp(shape, "float64");
        const inv = new Array<number>(perm.length);
        perm.forEach((a, i) => (inv[a] = i));
        const back = transpose(transpose(x, perm), inv);
        expect(back.shape).toEqual(shape);
        expect(flat(back)).toEqual(flat(x));
      }),
    );
  });
});

describe("expandDims and squeeze", () => {
  it("insert and remove size-1 axes", () => {
    const x = ramp([2, 3]);
    expect(expandDims(x).shape).toEqual([1, 2, 3]);
    expect(expandDims(x, 1).shape).toEqual([2, 1, 3]);
    expect(expandDims(x, -1).shape).toEqual([2, 3, 1]);
    expect(expandDims(tensor(1), 0).shape).toEqual([1]);
    expect(flat(expandDims(x, 2))).toEqual(flat(x));
    expect(squeeze(ramp([1, 3, 1])).shape).toEqual([3]);
    expect(squeeze(ramp([1, 3, 1]), 0).shape).toEqual([3, 1]);
    expect(squeeze(ramp([1, 3, 1]), [-1, 0]).shape).toEqual([3]);
    expect(squeeze(ramp([1, 1])).shape).toEqual([]);
    expect(squeeze(ramp([0, 1]), 1).shape).toEqual([0]);
  });

  it("reject bad axes", () => {
    expect(() => expandDims(ramp([2, 3]), 4)).toThrow("expandDims: axis 4 is out of range");
    expect(() => squeeze(ramp([1, 3]), 1)).toThrow("squeeze: cannot squeeze axis 1 of shape [1,3]: it has size 3, not 1");
  });
});

describe("broadcastTo", () => {
  const cases: [number[], number[]][] = [
    [[3], [2, 3]],
    [[2, 1], [2, 4]],
    [[1, 3, 1], [2, 3, 4]],
    [[], [2, 2]],
    [[1], [0]],
    [[2, 1, 3], [4, 2, 5, 3]],
    [[1, 1], [1, 1]],
    [[1], [3, 1]],
    [[1, 80], [3, 80]],
  ];
  for (const dtype of DTYPES) {
    test.each(cases)(`%j to %j matches the reference (${dtype})`, (from, to) => {
      const x = ramp(from, dtype);
      const xs = flat(x);
      const lead = to.length - from.length;
      const want = expected(to, (idx) => xs[ravel(from.map((d, i) => (d === 1 ? 0 : idx[lead + i]!)), from)]!);
      expectTensor(broadcastTo(x, to), to, dtype, want);
    });
  }

  it("property: agrees with the NumPy index mapping", () => {
    const arb = fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean()), { maxLength: 4 }).chain((dims) =>
      fc.tuple(fc.constant(dims), fc.integer({ min: 0, max: 2 }), fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 })),
    );
    fc.assert(
      fc.property(arb, ([dims, drop, extra]) => {
        const to = [...extra, ...dims.map(([d]) => d)];
        const fromFull = dims.map(([d, one]) => (one ? 1 : d));
        const from = fromFull.slice(Math.min(drop, fromFull.length));
        const x = ramp(from, "float64");
        const xs = flat(x);
        const lead = to.length - from.length;
        const want = expected(to, (idx) => xs[ravel(from.map((d, i) => (d === 1 ? 0 : idx[lead + i]!)), from)]!);
        expectTensor(broadcastTo(x, to), to, "float64", want);
      }),
    );
  });

  it("names both shapes when broadcasting is impossible", () => {
    expect(() => broadcastTo(ramp([2, 3]), [2, 4])).toThrow(
      "broadcastTo: cannot broadcast [2,3] to [2,4]: dimension 1 of the tensor is 3 but the target's is 4",
    );
    expect(() => broadcastTo(ramp([2, 3]), [3])).toThrow("cannot broadcast [2,3] to [3]: the target has fewer axes");
    expect(() => broadcastTo(ramp([2]), [-1])).toThrow("invalid shape");
  });
});

describe("slice", () => {
  const cases: [number[], number[], number[] | undefined][] = [
    [[5], [1], [3]],
    [[5], [-2], undefined],
    [[3, 4], [1, 1], [2, -1]],
    [[3, 4], [0, -3], [3, 2]],
    [[3, 4], [1], undefined],
    [[2, 3, 4], [1, 0, 2], [1, 3, 2]],
    [[2, 3, 4], [0, 3, 0], [2, 0, 4]],
    [[0, 3], [0, 1], [0, 2]],
    [[1, 1], [0, 0], [1, 1]],
    // long contiguous runs (block-copy path)
    [[3, 130], [1, 2], [2, 100]],
  ];
  for (const dtype of DTYPES) {
    test.each(cases)(`%j from %j size %j matches the reference (${dtype})`, (shape, begin, sz) => {
      const x = ramp(shape, dtype);
      const xs = flat(x);
      const b = shape.map((d, i) => {
        const v = begin[i] ?? 0;
        return v < 0 ? v + d : v;
      });
      const s = shape.map((d, i) => {
        const v = sz?.[i] ?? -1;
        return v === -1 ? d - b[i]! : v;
      });
      const want = expected(s, (idx) => xs[ravel(idx.map((v, i) => v + b[i]!), shape)]!);
      expectTensor(slice(x, begin, sz), s, dtype, want);
    });
  }

  it("returns the input for a full slice", () => {
    const x = ramp([2, 3]);
    expect(slice(x, [0, 0])).toBe(x);
    expect(slice(x, [0, 0], [-1, 3])).toBe(x);
  });

  it("reports out-of-range begins and sizes", () => {
    const x = ramp([3, 4]);
    expect(() => slice(x, [4, 0])).toThrow("slice: begin 4 is out of range for axis 0 of shape [3,4] (valid: -3 to 3");
    expect(() => slice(x, [-4])).toThrow("begin -4 is out of range");
    expect(() => slice(x, [1, 1], [3, 1])).toThrow("the slice at axis 0 runs past the end of shape [3,4] (begin 1 + size 3 > 3)");
    expect(() => slice(x, [0, 0, 0])).toThrow("begin [0,0,0] has 3 entries but the tensor of shape [3,4] has rank 2");
    expect(() => slice(x, [0, 0], [1])).toThrow("must have the same length");
    expect(() => slice(x, [0], [-2])).toThrow("size -2 at axis 0 is invalid");
  });
});

describe("split", () => {
  it("splits into equal parts or given sizes", () => {
    const x = ramp([6, 2]);
    const parts = split(x, 3);
    expect(parts.map((p) => p.shape)).toEqual([[2, 2], [2, 2], [2, 2]]);
    expect(parts.flatMap(flat)).toEqual(flat(x));
    const cols = split(ramp([2, 5], "int32"), [2, -1, 1], 1);
    expect(cols.map((p) => p.shape)).toEqual([[2, 2], [2, 2], [2, 1]]);
    expect(flat(concat(cols, 1))).toEqual(flat(ramp([2, 5], "int32")));
    expect(split(ramp([3]), [0, 3]).map((p) => p.shape)).toEqual([[0], [3]]);
  });

  it("rejects splits that do not add up", () => {
    expect(() => split(ramp([5]), 2)).toThrow("split: cannot split axis 0 of shape [5] (size 5) into 2 equal parts");
    expect(() => split(ramp([5]), [2, 2])).toThrow("sizes [2,2] sum to 4, but axis 0 of shape [5] has size 5");
    expect(() => split(ramp([5]), [-1, -1])).toThrow("more than one -1");
  });
});

describe("concat and stack", () => {
  const cases: [number[][], number][] = [
    [[[2], [3]], 0],
    [[[2, 3], [1, 3], [0, 3]], 0],
    [[[2, 1], [2, 3]], 1],
    [[[2, 3, 2], [2, 1, 2], [2, 2, 2]], 1],
    [[[2, 3, 2], [2, 3, 1]], -1],
    [[[1, 1], [1, 1]], 0],
    [[[2, 70], [2, 66]], 1],
  ];
  for (const dtype of DTYPES) {
    test.each(cases)(`%j along %i matches the reference (${dtype})`, (shapes, axis) => {
      const xs = shapes.map((s, i) => ramp(s, dtype, i + 1));
      const a = axis < 0 ? axis + shapes[0]!.length : axis;
      const outShape = shapes[0]!.slice();
      outShape[a] = shapes.reduce((acc, s) => acc + s[a]!, 0);
      const want = expected(outShape, (idx) => {
        let at = idx[a]!;
        for (let i = 0; i < shapes.length; i++) {
          if (at < shapes[i]![a]!) {
            const j = idx.slice();
            j[a] = at;
            return flat(xs[i]!)[ravel(j, shapes[i]!)]!;
          }
          at -= shapes[i]![a]!;
        }
        throw new Error("unreachable");
      });
      expectTensor(concat(xs, axis), outShape, dtype, want);
    });
  }

  it("stacks along a new axis", () => {
    const a = ramp([2, 3], "float64", 1);
    const b = ramp([2, 3], "float64", 2);
    for (const axis of [0, 1, 2, -1]) {
      const s = stack([a, b], axis);
      const ax = axis < 0 ? axis + 3 : axis;
      const shape = [2, 3];
      shape.splice(ax, 0, 2);
      const want = expected(shape, (idx) => {
        const which = idx[ax]!;
        const rest = idx.filter((_, i) => i !== ax);
        return flat(which === 0 ? a : b)[ravel(rest, [2, 3])]!;
      });
      expectTensor(s, shape, "float64", want);
    }
    expect(stack([tensor(1), tensor(2)]).toArray()).toEqual([1, 2]);
  });

  it("rejects mismatched inputs", () => {
    expect(() => concat([])).toThrow("concat: expected a non-empty array of tensors");
    expect(() => concat([ramp([2, 3]), ramp([2, 4])])).toThrow(
      "concat: tensors[1] has shape [2,4], incompatible with tensors[0] of shape [2,3] along axis 0",
    );
    expect(() => concat([ramp([2]), ramp([2], "float64")])).toThrow("tensors[1] has dtype float64 but tensors[0] has float32");
    expect(() => concat([tensor(1), tensor(2)])).toThrow("cannot concatenate scalars");
    expect(() => stack([ramp([2]), ramp([3])])).toThrow("stack: tensors[1] has shape [3] but tensors[0] has [2]");
  });
});

describe("pad", () => {
  const cases: [number[], [number, number][], number][] = [
    [[3], [[1, 2]], 0],
    [[2, 3], [[1, 0], [0, 2]], 7],
    [[2, 1, 2], [[0, 1], [2, 0], [1, 1]], -1],
    [[0, 2], [[1, 1], [0, 0]], 5],
    [[], [], 3],
  ];
  for (const dtype of DTYPES) {
    test.each(cases)(`%j by %j with %d matches the reference (${dtype})`, (shape, paddings, value) => {
      const x = ramp(shape, dtype);
      const xs = flat(x);
      const outShape = shape.map((d, i) => d + paddings[i]![0] + paddings[i]![1]);
      const want = expected(outShape, (idx) => {
        const src = idx.map((v, i) => v - paddings[i]![0]);
        return src.every((v, i) => v >= 0 && v < shape[i]!) ? xs[ravel(src, shape)]! : value;
      });
      expectTensor(pad(x, paddings, value), outShape, dtype, want);
    });
  }

  it("rejects bad paddings", () => {
    expect(() => pad(ramp([2, 3]), [[1, 1]])).toThrow("pad: paddings must hold one [before, after] pair per axis");
    expect(() => pad(ramp([2]), [[-1, 0]])).toThrow("paddings[0] must be a pair [before, after] of non-negative integers");
    expect(() => pad(ramp([2], "int32"), [[1, 0]], 0.5)).toThrow("not an integer, but the tensor is int32");
  });
});

describe("tile", () => {
  const cases: [number[], number[]][] = [
    [[2], [3]],
    [[2, 3], [2, 1]],
    [[1, 2], [2, 2]],
    [[2, 1, 2], [1, 3, 2]],
    [[2], [0]],
    [[0, 2], [2, 2]],
  ];
  for (const dtype of DTYPES) {
    test.each(cases)(`%j by %j matches the reference (${dtype})`, (shape, reps) => {
      const x = ramp(shape, dtype);
      const xs = flat(x);
      const outShape = shape.map((d, i) => d * reps[i]!);
      const want = expected(outShape, (idx) => xs[ravel(idx.map((v, i) => v % shape[i]!), shape)]!);
      expectTensor(tile(x, reps), outShape, dtype, want);
    });
  }

  it("rejects bad reps", () => {
    // NumPy's rules for unequal lengths: a longer reps adds leading axes, a shorter one is padded with 1s.
    expect(tile(tensor([1, 2]), [2, 2]).toArray()).toEqual([[1, 2, 1, 2], [1, 2, 1, 2]]);
    expect(tile(tensor([[1, 2], [3, 4]]), [2]).toArray()).toEqual([[1, 2, 1, 2], [3, 4, 3, 4]]);
    expect(tile(tensor(5), [3]).toArray()).toEqual([5, 5, 5]);
    expect(() => tile(ramp([2]), [-1])).toThrow("must be non-negative");
  });
});

describe("gather and scatterAdd", () => {
  const cases: [number[], number[], number[], number][] = [
    [[5], [3], [4, 0, 4], 0],
    [[4, 3], [2], [3, 1], 0],
    [[4, 3], [2, 2], [2, 0, 2, 1], 1],
    [[2, 3, 4], [3], [1, 1, 0], 1],
    [[2, 3, 4], [0], [], 2],
    [[3, 2], [], [2], 0],
    [[3, 1], [4], [0, 1, 2, 0], 0],
    [[4, 70], [3], [3, 1, 3], 0],
  ];
  for (const dtype of DTYPES) {
    test.each(cases)(`gather from %j with indices of shape %j (%j) along %i matches the reference (${dtype})`, (shape, ishape, ivals, axis) => {
      const x = ramp(shape, dtype);
      const xs = flat(x);
      const idx = tensor(ivals, { shape: ishape, dtype: "int32" });
      const outShape = [...shape.slice(0, axis), ...ishape, ...shape.slice(axis + 1)];
      const r = ishape.length;
      const want = expected(outShape, (o) => {
        const j = o.slice(axis, axis + r);
        const src = [...o.slice(0, axis), ivals[ravel(j, ishape)]!, ...o.slice(axis + r)];
        return xs[ravel(src, shape)]!;
      });
      expectTensor(gather(x, idx, axis), outShape, dtype, want);

      // scatterAdd is the adjoint: a plain accumulation loop over the updates.
      const updates = ramp(outShape, dtype, 3);
      const us = flat(updates);
      const acc = new Array<number>(size(shape)).fill(0);
      for (let k = 0; k < us.length; k++) {
        const o = unravel(k, outShape);
        const j = o.slice(axis, axis + r);
        const dst = [...o.slice(0, axis), ivals[ravel(j, ishape)]!, ...o.slice(axis + r)];
        acc[ravel(dst, shape)]! += us[k]!;
      }
      expectTensor(scatterAdd(updates, idx, axis, shape), shape, dtype, acc.map((v) => (dtype === "float32" ? Math.fround(v) : v)));
    });
  }

  it("accepts arrays and float tensors of integers as indices", () => {
    const x = tensor([[1, 2], [3, 4], [5, 6]]);
    expect(gather(x, [2, 0]).toArray()).toEqual([[5, 6], [1, 2]]);
    expect(gather(x, tensor([1]), 1).toArray()).toEqual([[2], [4], [6]]);
    expect(x.gather([0], -1).toArray()).toEqual([[1], [3], [5]]);
    expect(scatterAdd(tensor([1, 2, 3]), [0, 2, 0], 0, [3]).toArray()).toEqual([4, 0, 2]);
  });

  it("bounds-checks indices", () => {
    const x = ramp([3, 2]);
    expect(() => gather(x, [0, 3])).toThrow("gather: index 3 at position 1 is out of range for axis 0 of shape [3,2] (valid: 0 to 2)");
    expect(() => gather(x, [-1])).toThrow("index -1 at position 0 is out of range");
    expect(() => gather(x, tensor([0.5]))).toThrow("indices must be integers, got 0.5");
    expect(() => gather(x, tensor([[0, 2]], { dtype: "int32" }), 1)).toThrow("index 2 at flat position 1 is out of range for axis 1");
    expect(() => gather(tensor(1), [0])).toThrow("cannot gather from a scalar");
    expect(() => scatterAdd(ramp([2]), [0, 1, 2], 0, [3])).toThrow(
      "scatterAdd: updates have shape [2] but scattering indices of shape [3] into [3] along axis 0 needs [3]",
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Derivative rules: every op here is linear, so its JVP must equal the op applied to the tangent and
// its VJP must be the adjoint: <f(t), c> = <t, vjp(c)>. (The shared gradient checker additionally
// compares with finite differences to second order.)

function jvpOf(f: (x: Tensor) => Tensor, x: Tensor, t: Tensor): Tensor {
  return withJvpLevel((main) => tangentAt(main, f(liftJvpInput(main, x, t))) ?? tensor(0));
}

function vjpOf(f: (x: Tensor) => Tensor, x: Tensor, ct: Tensor): Tensor | null {
  return withTapeLevel((main) => {
    const xt = liftTapeInput(main, x);
    const y = f(xt);
    const [g] = sweepBackward(main.recording, [{ node: nodeAt(main, y), cotangent: ct }], [xt._node], (a, b) => a.add(b));
    return g!;
  });
}

function dot(a: Tensor, b: Tensor): number {
  const x = a._values;
  const y = b._values;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

function noise(shape: readonly number[], seed: number): Tensor {
  let a = seed >>> 0;
  const v = Array.from({ length: size(shape) }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 32 - 0.5;
  });
  return tensor(v, { shape, dtype: "float64" });
}

const linear: [string, number[], (x: Tensor) => Tensor][] = [
  ["reshape", [2, 3], (x) => reshape(x, [3, 2])],
  ["transpose", [2, 3, 4], (x) => transpose(x, [2, 0, 1])],
  ["expandDims∘squeeze", [2, 1, 3], (x) => expandDims(squeeze(x), 2)],
  ["broadcastTo", [3, 1], (x) => broadcastTo(x, [2, 3, 4])],
  ["slice", [3, 4], (x) => slice(x, [1, -3], [2, 2])],
  ["pad", [2, 3], (x) => pad(x, [[1, 0], [2, 1]], 0.5)],
  ["concat", [2, 3], (x) => concat([x, slice(x, [0, 1]), x], 1)],
  ["stack", [2, 3], (x) => stack([x, x], 1)],
  ["split", [4, 3], (x) => concat(split(x, [1, 3]).reverse())],
  ["tile", [2, 3], (x) => tile(x, [2, 3])],
  ["gather", [4, 3], (x) => gather(x, [3, 0, 3, 1])],
  ["gather axis 1", [2, 4], (x) => gather(x, tensor([[0, 3], [3, 3]], { dtype: "int32" }), 1)],
  ["scatterAdd", [3, 2], (x) => scatterAdd(x, [0, 2, 0], 0, [4, 2])],
];

describe("derivative rules", () => {
  test.each(linear)("%s: JVP is the op on the tangent, VJP is its adjoint", (_name, shape, f) => {
    const x = noise(shape, 1);
    const t = noise(shape, 2);
    const ft = f(t);
    // For the affine pad (value 0.5) the tangent map is pad with zeros: f(t) - f(0).
    const f0 = f(tensor(new Array<number>(size(shape)).fill(0), { shape, dtype: "float64" }));
    const lin = ft._values.map((v, i) => v - f0._values[i]!);
    const jt = jvpOf(f, x, t);
    expect(jt.shape).toEqual(ft.shape);
    expect(Array.from(jt._values)).toEqual(Array.from(lin));

    const c = noise(ft.shape, 3);
    const g = vjpOf(f, x, c)!;
    expect(g.shape).toEqual(shape);
    expect(dot(g, t)).toBeCloseTo(dot(c, tensor(Array.from(lin), { shape: ft.shape, dtype: "float64" })), 12);
  });
});
