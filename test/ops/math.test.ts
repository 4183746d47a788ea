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
import { rng } from "../helpers/rows.js";

/**
 * The reference for erf: its Taylor series `erf(x) = 2/√π Σ (−1)ⁿ x²ⁿ⁺¹ / (n! (2n + 1))` summed in exact
 * integer arithmetic on values scaled by 2^BITS (fixed point), with π from Machin's formula. A double `x` in
 * [2^-130, 8) is an integer multiple of 2^-BITS, so it enters exactly. Each step truncates by one unit of
 * 2^-BITS; carried through partial terms as large as 2^48 (at |x| = 6) that stays below 2^-130 absolute, and
 * for small |x| it is a few units of 2^-BITS: far below an ulp of erf(x) for every |x| ≥ 2^-99 it is used at.
 */
const BITS = 192n;
const SCALE = 2 ** Number(BITS);
/** `x · 2^BITS` as an integer: exact for the doubles the reference takes. */
const fixed = (x: number): bigint => BigInt(x * SCALE);
/** `arctan(1/k) · 2^BITS` by its alternating series. */
function arctanInverse(k: bigint): bigint {
  let power = (1n << BITS) / k, sum = 0n;
  for (let n = 0n; power !== 0n; n++) {
    sum += (n % 2n === 0n ? power : -power) / (2n * n + 1n);
    power /= k * k;
  }
  return sum;
}
/** `⌊√v⌋` by Newton's method from above. */
function isqrt(v: bigint): bigint {
  let r = 1n << BigInt((v.toString(2).length >> 1) + 1); // at least √v
  for (;;) {
    const next = (r + v / r) >> 1n;
    if (next >= r) return r;
    r = next;
  }
}
const PI_FIXED = 4n * (4n * arctanInverse(5n) - arctanInverse(239n)); // Machin: π/4 = 4 atan(1/5) − atan(1/239)
const TWO_OVER_SQRT_PI_FIXED = (2n << (2n * BITS)) / isqrt(PI_FIXED << BITS);
/** `erf(x) · 2^BITS` for a double `x` with 2^-130 ≤ |x| < 8. */
function erfFixed(x: number): bigint {
  const t = fixed(x);
  const t2 = (t * t) >> BITS;
  let term = t, sum = 0n;
  for (let n = 0n; term !== 0n; n++) {
    sum += term / (2n * n + 1n);
    term = -((term * t2) >> BITS) / (n + 1n);
  }
  return (sum * TWO_OVER_SQRT_PI_FIXED) >> BITS;
}
const erfRef = (z: number): number =>
  Number.isNaN(z) ? NaN : Math.abs(z) >= 8 ? Math.sign(z) : z === 0 ? z : Number(erfFixed(z)) / SCALE;
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

describe("erf in float64 against the exact reference", () => {
  /** The double next to a positive `x`, `by` steps up (or down when negative). */
  const bits = new Float64Array(1), word = new BigInt64Array(bits.buffer);
  const neighbour = (x: number, by: number): number => {
    bits[0] = x;
    word[0] = word[0]! + BigInt(by);
    return bits[0];
  };
  /** `v · 2^1074` as an integer, exact for |v| < 2^-50 (2^1074 itself is beyond float64). */
  const inSubnormalSteps = (v: number): bigint => BigInt(v * 2 ** 600 * 2 ** 474);
  /**
   * How far `y` is from erf(x) (x > 0): in ulps of the binade holding the exact value (2^-1074 at the bottom),
   * and relative to it. Below 2^-100 the exact value is 2x/√π: the next series term is under 2^-200 of it.
   */
  function errorOf(x: number, y: number): { ulps: number; relative: number } {
    const tiny = x < 2 ** -100;
    const exact = tiny ? inSubnormalSteps(x) * TWO_OVER_SQRT_PI_FIXED : erfFixed(x); // units of 2^-(1074+BITS) or 2^-BITS
    const got = tiny ? inSubnormalSteps(y) << BITS : fixed(y);
    const ulpUnits = Math.max(exact.toString(2).length - 53, tiny ? Number(BITS) : Number(BITS) - 1074);
    const diff = got - exact;
    return { ulps: Math.abs(Number(diff) / 2 ** ulpUnits), relative: Math.abs(Number((diff << 80n) / exact) / 2 ** 80) };
  }
  const erf64 = (xs: readonly number[]): Float64Array => erf(tensor(xs, { dtype: "float64" })).dataSync() as Float64Array;

  test("within one ulp on a dense grid of [-6, 6], random points and every interval edge; odd exactly", () => {
    const r = rng(2024);
    const xs: number[] = [];
    for (let i = 1; i <= 12000; i++) xs.push(i * 0.0005); // full-mantissa points, 0.0005 apart
    for (let i = 0; i < 3000; i++) xs.push(6 * r());
    for (const edge of [2 ** -28, 0.84375, 1.25, 1 / 0.35, 6]) for (const by of [-2, -1, 0, 1, 2]) xs.push(neighbour(edge, by));
    xs.push(1e-3, 1e-6, 1e-9, 2 ** -60, 2 ** -99);
    const up = erf64(xs), down = erf64(xs.map((x) => -x));
    let worstRelative = 0;
    for (let i = 0; i < xs.length; i++) {
      expect(Object.is(down[i], -up[i]!), `erf(-x) = -erf(x) at ${xs[i]}`).toBe(true);
      const { ulps, relative } = errorOf(xs[i]!, up[i]!);
      expect(ulps, `erf(${xs[i]}) = ${up[i]}`).toBeLessThan(1);
      worstRelative = Math.max(worstRelative, relative);
    }
    expect(worstRelative).toBeLessThan(2 ** -52);
  });

  test("tiny and subnormal inputs give 2x/√π within one ulp; signed zeros, infinities and NaN", () => {
    const xs = [2 ** -29, 1e-20, 2 ** -200, 1e-300, 2 ** -1022, neighbour(2 ** -1022, -1), 1e-310, 3e-320, 2 ** -1073, Number.MIN_VALUE];
    const up = erf64(xs), down = erf64(xs.map((x) => -x));
    for (let i = 0; i < xs.length; i++) {
      expect(Object.is(down[i], -up[i]!)).toBe(true);
      expect(up[i]).toBeGreaterThan(0);
      expect(errorOf(xs[i]!, up[i]!).ulps, `erf(${xs[i]}) = ${up[i]}`).toBeLessThanOrEqual(1);
    }
    const special = erf64([0, -0, Infinity, -Infinity, NaN, Number.MAX_VALUE, -Number.MAX_VALUE, 6, -6, 27]);
    expect(Array.from(special)).toEqual([0, -0, 1, -1, NaN, 1, -1, 1, -1, 1]);
    expect(Object.is(special[1], -0)).toBe(true);
  });

  test("the reference itself: 2/√π to 40 digits, and erf(0.5), erf(1), erf(3) correctly rounded", () => {
    expect((TWO_OVER_SQRT_PI_FIXED * 10n ** 40n) >> BITS).toBe(11283791670955125738961589031215451716881n);
    expect(erfRef(1)).toBe(0.8427007929497149);
    expect(erfRef(0.5)).toBe(0.5204998778130465);
    expect(erfRef(3)).toBe(0.9999779095030014);
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
