import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  Tensor,
  tensor,
  gradient,
  zeroTangentVector,
  tangentAdd,
  tangentSub,
  tangentScale,
  tangentAddScalar,
  tangentMul,
  tangentDiv,
  tangentNeg,
  tangentSqrt,
  tangentDot,
  tangentSquaredNorm,
  tangentZerosLike,
  tangentOnesLike,
  tangentMap,
  tangentZip,
  type VectorSpace,
} from "../../src/index.js";
import { Simple, Mixed, Nested, Stack, Derived } from "../keypaths/fixtures.js";

/** Every leaf of a tangent as a flat list of numbers, for comparisons. */
function flat(t: unknown): number[] {
  const out: number[] = [];
  tangentMap(t, (x) => {
    if (typeof x === "number") out.push(x);
    else out.push(...Array.from(x.dataSync()));
    return x;
  });
  return out;
}

function close(a: unknown, b: unknown, tol = 1e-9): void {
  const x = flat(a);
  const y = flat(b);
  expect(x.length).toBe(y.length);
  x.forEach((v, i) => {
    const w = y[i]!;
    expect(Math.abs(v - w)).toBeLessThanOrEqual(tol * (1 + Math.abs(v) + Math.abs(w)));
  });
}

const num = fc.double({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true });
const positive = fc.double({ min: 0.5, max: 10, noNaN: true, noDefaultInfinity: true });

/** A generator of tangents of one structure: given a template tangent, random values of its shapes. */
function tangentsLike(template: unknown, elem = num): fc.Arbitrary<unknown> {
  const n = flat(template).length;
  return fc.array(elem, { minLength: n, maxLength: n }).map((values) => {
    let i = 0;
    return tangentMap(template, (x) => {
      if (typeof x === "number") return values[i++]!;
      const v = values.slice(i, i + x.size);
      i += x.size;
      return tensor(v, { shape: x.shape, dtype: "float64" });
    });
  });
}

// The instances checked: numbers, tensors, arrays, records, and the tangents of fixture classes.
const instances: [string, unknown][] = [
  ["number", 0],
  ["Tensor [2,3]", tensor([[0, 0, 0], [0, 0, 0]], { dtype: "float64" })],
  ["array", [0, tensor([0, 0], { dtype: "float64" })]],
  ["record", { a: tensor([0], { dtype: "float64" }), b: { c: tensor([[0, 0]], { dtype: "float64" }) } }],
  ["TangentVector<Simple>", zeroTangentVector(new Simple())],
  ["TangentVector<Mixed>", zeroTangentVector(new Mixed())],
  ["TangentVector<Nested>", zeroTangentVector(new Nested())],
  ["TangentVector<Stack>", zeroTangentVector(new Stack())],
  ["TangentVector<Derived>", zeroTangentVector(new Derived())],
];

describe.each(instances)("VectorSpace laws: %s", (_name, template) => {
  const T = tangentsLike(template);
  const P = tangentsLike(template, positive);
  const runs = { numRuns: 40 };
  const zero = tangentZerosLike(template);
  const one = tangentOnesLike(template);

  it("additive group: associativity, commutativity, identity, inverse", () => {
    fc.assert(fc.property(T, T, T, (u, v, w) => {
      close(tangentAdd(tangentAdd(u, v), w), tangentAdd(u, tangentAdd(v, w)));
      close(tangentAdd(u, v), tangentAdd(v, u));
      close(tangentAdd(v, zero), v);
      close(tangentSub(v, v), zero);
      close(tangentAdd(v, tangentNeg(v)), zero);
      close(tangentSub(u, v), tangentAdd(u, tangentNeg(v)));
    }), runs);
  });
  it("scalar multiplication: identity, compatibility, distributivity, adding", () => {
    fc.assert(fc.property(T, T, num, num, (u, v, a, b) => {
      close(tangentScale(v, 1), v);
      close(tangentScale(v, 0), zero);
      close(tangentScale(tangentScale(v, a), b), tangentScale(v, a * b));
      close(tangentScale(tangentAdd(u, v), a), tangentAdd(tangentScale(u, a), tangentScale(v, a)));
      close(tangentScale(v, a + b), tangentAdd(tangentScale(v, a), tangentScale(v, b)));
      close(tangentAddScalar(v, a), tangentAdd(v, tangentScale(one, a)));
    }), runs);
  });
  it("pointwise multiplication: commutative, associative, identity, distributive; division", () => {
    fc.assert(fc.property(T, T, T, P, (u, v, w, p) => {
      close(tangentMul(u, v), tangentMul(v, u));
      close(tangentMul(tangentMul(u, v), w), tangentMul(u, tangentMul(v, w)));
      close(tangentMul(v, one), v);
      close(tangentMul(u, tangentAdd(v, w)), tangentAdd(tangentMul(u, v), tangentMul(u, w)));
      close(tangentDiv(u, p), tangentMul(u, tangentDiv(one, p)));
      close(tangentDiv(p, p), one);
    }), runs);
  });
  it("elementary functions: sqrt(v ⊙ v) = |v|", () => {
    fc.assert(fc.property(T, (v) => {
      close(tangentSqrt(tangentMul(v, v)), tangentMap(v, (x) => (typeof x === "number" ? Math.abs(x) : x.abs())));
    }), runs);
  });
  it("inner product: symmetric, bilinear, positive, equal to squaredNorm", () => {
    fc.assert(fc.property(T, T, T, num, (u, v, w, a) => {
      const tol = (x: number) => 1e-9 * (1 + Math.abs(x));
      expect(Math.abs(tangentDot(u, v) - tangentDot(v, u))).toBeLessThanOrEqual(tol(tangentDot(u, v)));
      const lhs = tangentDot(tangentAdd(u, w), v);
      expect(Math.abs(lhs - (tangentDot(u, v) + tangentDot(w, v)))).toBeLessThanOrEqual(tol(lhs) * 10);
      const scaled = tangentDot(tangentScale(u, a), v);
      expect(Math.abs(scaled - a * tangentDot(u, v))).toBeLessThanOrEqual(tol(scaled) * 10);
      const n = tangentSquaredNorm(v);
      expect(n).toBeGreaterThanOrEqual(0);
      expect(Math.abs(n - tangentDot(v, v))).toBeLessThanOrEqual(tol(n));
    }), runs);
    expect(tangentSquaredNorm(zero)).toBe(0);
  });
});

describe("class tangents carry the VectorSpace methods", () => {
  it("as prototype methods, not own keys", () => {
    const m = new Nested();
    const g = gradient(m, (x) => x.simple.call(tensor([1, 2], { dtype: "float64" })));
    expect(Object.keys(g)).toEqual(["simple", "mixed"]);
    expect(Object.keys(g.simple)).toEqual(["w", "b"]);
    const vs = g as unknown as VectorSpace<typeof g>;
    close(vs.add(g), tangentScale(g, 2));
    close(vs.sub(g), tangentZerosLike(g));
    close(vs.scaled(3), tangentScale(g, 3));
    close(vs.adding(1), tangentAddScalar(g, 1));
    close(vs.mul(g), tangentMul(g, g));
    close(vs.neg(), tangentNeg(g));
    close((tangentAddScalar(g, 1) as unknown as VectorSpace<typeof g>).div(tangentAddScalar(g, 1)), tangentOnesLike(g));
    close((tangentMul(g, g) as unknown as VectorSpace<typeof g>).sqrt(), tangentMap(g, (x) => (x as Tensor).abs()));
    expect(vs.dot(g)).toBeCloseTo(1 + 4 + 1, 9);
    expect(vs.squaredNorm()).toBeCloseTo(6, 9);
    // Results of operations keep the class tangent's prototype.
    const sum = vs.add(g) as unknown as VectorSpace<typeof g>;
    expect(typeof sum.scaled).toBe("function");
  });
  it("prints readably", () => {
    const g = zeroTangentVector(new Simple());
    const s = (g as unknown as { toString(): string }).toString(); // a class tangent prints itself
    expect(s).toMatch(/^TangentVector<Simple> \{ w: Tensor\(\[2\] float64\)/);
    expect(s).toContain("b: Tensor([] float64)");
    const inspect = (g as unknown as Record<symbol, () => string>)[Symbol.for("nodejs.util.inspect.custom")]!;
    expect(inspect.call(g)).toBe(s);
    expect(JSON.stringify(Object.keys((g as unknown as { toJSON(): object }).toJSON()))).toBe('["w","b"]');
  });
});

describe("structure errors", () => {
  it("name the path where tangents differ", () => {
    expect(() => tangentAdd({ a: [tensor(1)] }, { a: [tensor(1), tensor(2)] })).toThrow(/tangentAdd: the tangents differ in structure at a: an array of length 1/);
    expect(() => tangentAdd({ a: tensor(1) }, { b: tensor(1) })).toThrow(/no field 'a'/);
    expect(() => tangentDot({ a: tensor([1, 2]) }, { a: tensor([1, 2, 3]) })).toThrow(/shapes \[2\] and \[3\]/);
    expect(() => tangentScale(new Simple(), 2)).toThrow(/instance of Simple, which is not a tangent vector.*zeroTangentVector/);
    expect(() => tangentScale(tensor(1), "2" as unknown as number)).toThrow(/scalar must be a number/);
  });
  it("tangentZip passes paths", () => {
    const seen: string[] = [];
    tangentZip({ a: [tensor(1)], b: 2 }, { a: [tensor(3)], b: 4 }, (x, _y, p) => {
      seen.push(p.join("."));
      return x;
    });
    expect(seen).toEqual(["a.0", "b"]);
  });
});
