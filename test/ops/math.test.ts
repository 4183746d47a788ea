/**
 * The elementwise ops added to the first family (erf, rounding, predicates, logic, mod, atan2), compared
 * with plain definitions written here over every dtype each accepts, broadcasting and edge shapes.
 */
import { describe, expect, test } from "vitest";
import {
  atan2,
  ceil,
  derivative,
  erf,
  floor,
  gradient,
  isFinite,
  isNaN,
  logicalAnd,
  logicalNot,
  logicalOr,
  mod,
  round,
  softplus,
  tensor,
  type Tensor,
} from "../../src/index.js";
import { broadcastShape, close, make, size, sourceIndex, stored } from "../helpers/reference.js";

/** erf by its Taylor series, and for |z| > 3 by the asymptotic series of erfc (both well inside 1e-13 there). */
function erfRef(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (Math.abs(z) > 3) {
    let term = 1, s = 1;
    for (let n = 1; n < 12; n++) {
      term *= -(2 * n - 1) / (2 * z * z);
      s += term;
    }
    const erfc = (Math.exp(-z * z) / (Math.abs(z) * Math.sqrt(Math.PI))) * s;
    return Math.sign(z) * (1 - erfc);
  }
  let sum = 0, term = z;
  for (let n = 0; n < 100; n++) {
    sum += term / (2 * n + 1);
    term *= (-z * z) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
const roundHalfEven = (x: number): number => {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
};
const floorMod = (a: number, b: number): number => a - b * Math.floor(a / b);

const shapes = [[[]], [[7]], [[2, 3]], [[0, 4]], [[1, 1, 3]]] as const;

const unaryRefs: Record<string, [(x: Tensor) => Tensor, (x: number) => number, number, number]> = {
  erf: [erf, erfRef, -5, 5],
  floor: [floor, Math.floor, -4, 4],
  ceil: [ceil, Math.ceil, -4, 4],
  round: [round, roundHalfEven, -4, 4],
  softplus: [softplus, (x) => Math.log1p(Math.exp(x)), -20, 20],
};

describe("unary ops against a reference", () => {
  for (const dtype of ["float32", "float64"] as const) {
    for (const [op, [f, ref, lo, hi]] of Object.entries(unaryRefs)) {
      test.each(shapes)(`${op} ${dtype} %j`, (shape) => {
        const x = make(shape, dtype, 5, lo, hi);
        const y = f(x);
        expect(y.shape).toEqual(shape);
        expect(y.dtype).toBe(dtype);
        close(y.dataSync(), Array.from(x.dataSync(), (v) => stored(ref(v), dtype)), dtype);
      });
    }
  }
  test("rounding keeps int32 as it is; erf of int32 gives float32", () => {
    const x = tensor([-2, 0, 3], { dtype: "int32" });
    for (const f of [floor, ceil, round]) {
      expect(f(x).dtype).toBe("int32");
      expect(f(x).toArray()).toEqual([-2, 0, 3]);
    }
    expect(erf(x).dtype).toBe("float32");
  });
  test("round halves to even, keeps signed zeros, passes infinities and NaN", () => {
    const y = round(tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, Infinity, NaN], { dtype: "float64" })).dataSync();
    expect(Array.from(y)).toEqual([0, 2, 2, -0, -2, -2, 2, Infinity, NaN]);
    expect(Object.is(y[3], -0)).toBe(true);
  });
  test("erf at its special values", () => {
    expect(erf(tensor([0, Infinity, -Infinity, NaN], { dtype: "float64" })).toArray()).toEqual([0, 1, -1, NaN]);
  });
  test("softplus'(0) is 0.5 in both modes, and its second derivative is 0.25", () => {
    expect(gradient(0, (x) => softplus(x))).toBe(0.5);
    expect(derivative(0, (x) => softplus(x)).item()).toBe(0.5);
    expect(gradient(0, (x) => gradient(x, (y) => softplus(y)))).toBe(0.25);
  });
});

describe("predicates and logic", () => {
  const special = tensor([0, -1, 2.5, NaN, Infinity, -Infinity], { dtype: "float64" });
  test("isFinite and isNaN (int32 masks)", () => {
    expect(isFinite(special).toArray()).toEqual([1, 1, 1, 0, 0, 0]);
    expect(isNaN(special).toArray()).toEqual([0, 0, 0, 1, 0, 0]);
    expect(isFinite(special).dtype).toBe("int32");
    expect(isFinite(tensor([1, 2], { dtype: "int32" })).toArray()).toEqual([1, 1]);
    expect(isNaN(tensor([], { shape: [0, 2] })).shape).toEqual([0, 2]);
  });
  test("logicalNot: zero is false, anything else (NaN too) is true", () => {
    expect(logicalNot(special).toArray()).toEqual([1, 0, 0, 0, 0, 0]);
  });
  test.each([["float32"], ["float64"], ["int32"]] as const)("logicalAnd and logicalOr broadcast over %s, against a truth table", (dtype) => {
    const a = tensor([[0, 1], [2, 0], [-3, 5]], { dtype });
    const b = tensor([1, 0], { dtype: dtype === "int32" ? "float32" : "int32" });
    const av = a.dataSync(), bv = b.dataSync();
    expect(logicalAnd(a, b).toArray()).toEqual([[0, 0], [1, 0], [1, 0]]);
    expect(Array.from(logicalOr(a, b).dataSync())).toEqual(Array.from(av, (v, i) => +(v !== 0 || bv[i % 2] !== 0)));
    expect(logicalAnd(a, 1).dtype).toBe("int32");
    expect(logicalOr(0, a).toArray()).toEqual([[0, 1], [1, 0], [1, 1]]);
  });
  test("the masks feed where and carry no derivative", () => {
    expect(gradient(tensor([1, 2]), (x) => x.mul(logicalNot(x.greater(1)).cast("float32")).sum()).toArray()).toEqual([1, 0]);
  });
});

describe("mod and atan2 against a reference, with broadcasting", () => {
  const pairs: [number[], number[]][] = [[[], []], [[4], [4]], [[2, 3], [3]], [[2, 1], [1, 4]], [[0, 3], [3]]];
  for (const dtype of ["float32", "float64", "int32"] as const) {
    test.each(pairs)(`mod ${dtype} %j by %j`, (sa, sb) => {
      const a = make(sa, dtype, 1, -9, 9);
      const b0 = make(sb, dtype, 2, 1, 4);
      const b = b0.mul(make(sb, "int32", 3, -1, 1).greaterEqual(0).mul(2).sub(1).cast(dtype)); // signs of both kinds
      const y = mod(a, b);
      const out = broadcastShape(sa, sb);
      expect(y.shape).toEqual(out);
      expect(y.dtype).toBe(dtype);
      const av = a.dataSync(), bv = b.dataSync();
      const expected = Array.from({ length: size(out) }, (_, i) => stored(floorMod(av[sourceIndex(i, out, sa)]!, bv[sourceIndex(i, out, sb)]!), dtype));
      close(y.dataSync(), expected, dtype, dtype === "float32" ? 1e-5 : undefined);
      // the result takes the divisor's sign
      Array.from(y.dataSync()).forEach((r, i) => {
        if (r !== 0) expect(Math.sign(r)).toBe(Math.sign(bv[sourceIndex(i, out, sb)]!));
      });
    });
    test.each(pairs)(`atan2 ${dtype} %j with %j`, (sa, sb) => {
      const y0 = make(sa, dtype, 4, -3, 3), x0 = make(sb, dtype, 5, -3, 3);
      const r = atan2(y0, x0);
      const out = broadcastShape(sa, sb);
      const d = dtype === "int32" ? "float32" : dtype;
      expect(r.dtype).toBe(d);
      const yv = y0.dataSync(), xv = x0.dataSync();
      close(r.dataSync(), Array.from({ length: size(out) }, (_, i) => stored(Math.atan2(yv[sourceIndex(i, out, sa)]!, xv[sourceIndex(i, out, sb)]!), d)), d);
    });
  }
  test("float mod by 0 is NaN; int32 mod by 0 is an error naming the position", () => {
    expect(mod(tensor([1, 2]), tensor([1, 0])).toArray()).toEqual([0, NaN]);
    expect(() => mod(tensor([1, 2], { dtype: "int32" }), tensor([1, 0], { dtype: "int32" }))).toThrow(
      /mod: the int32 divisor is 0 at flat index 1 \(shape \[2\]\)/,
    );
  });
  test("atan2 covers all four quadrants and the axes", () => {
    const r = atan2(tensor([0, 1, 0, -1, 0], { dtype: "float64" }), tensor([1, 0, -1, 0, 0], { dtype: "float64" })).toArray() as number[];
    expect(r).toEqual([0, Math.PI / 2, Math.PI, -Math.PI / 2, 0]);
  });
  test("shape errors name the op", () => {
    expect(() => mod(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(/^mod: cannot broadcast \[2\] with \[3\]/);
    expect(() => atan2(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(/^atan2: cannot broadcast/);
    expect(() => logicalAnd(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(/^logicalAnd: cannot broadcast/);
  });
});
