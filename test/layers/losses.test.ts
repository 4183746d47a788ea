/** Losses against plain definitions written here, their reductions, gradients, and stability at ±1e4. */
import { describe, expect, test } from "vitest";
import {
  Tensor,
  checkGradients,
  gradient,
  hingeLoss,
  huberLoss,
  kullbackLeiblerDivergence,
  logCoshLoss,
  meanAbsoluteError,
  meanSquaredError,
  sigmoidCrossEntropy,
  softmaxCrossEntropy,
  tensor,
  type LossOptions,
} from "../../src/index.js";
import { rng } from "../helpers/rows.js";

const f64 = (v: number[][]): Tensor => tensor(v, { dtype: "float64" });
const rows2 = (t: Tensor): number[][] => t.toArray() as number[][];

function data(seed: number, lo = -2, hi = 2): number[][] {
  const r = rng(seed);
  return Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => lo + (hi - lo) * r()));
}

function probs(seed: number): number[][] {
  return data(seed, 0.1, 1).map((row) => {
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => v / s);
  });
}

/** Elementwise losses: name, function, plain per-element definition, label generator. */
interface ElementRow {
  readonly name: string;
  readonly f: (p: Tensor, e: Tensor, o?: LossOptions) => Tensor;
  readonly plain: (p: number, e: number) => number;
  readonly labels: (seed: number) => number[][];
}

const elementRows: ElementRow[] = [
  { name: "meanSquaredError", f: meanSquaredError, plain: (p, e) => (p - e) ** 2, labels: (s) => data(s) },
  { name: "meanAbsoluteError", f: meanAbsoluteError, plain: (p, e) => Math.abs(p - e), labels: (s) => data(s) },
  {
    name: "huberLoss",
    f: huberLoss,
    plain: (p, e) => (Math.abs(p - e) <= 1 ? 0.5 * (p - e) ** 2 : Math.abs(p - e) - 0.5),
    labels: (s) => data(s),
  },
  {
    name: "huberLoss (delta 0.5)",
    f: (p, e, o) => huberLoss(p, e, { ...o, delta: 0.5 }),
    plain: (p, e) => (Math.abs(p - e) <= 0.5 ? 0.5 * (p - e) ** 2 : 0.5 * (Math.abs(p - e) - 0.25)),
    labels: (s) => data(s),
  },
  { name: "logCoshLoss", f: logCoshLoss, plain: (p, e) => Math.log(Math.cosh(p - e)), labels: (s) => data(s) },
  {
    name: "sigmoidCrossEntropy",
    f: sigmoidCrossEntropy,
    plain: (x, z) => {
      const s = 1 / (1 + Math.exp(-x));
      return -z * Math.log(s) - (1 - z) * Math.log(1 - s);
    },
    labels: (s) => data(s, 0, 1),
  },
  { name: "hingeLoss", f: hingeLoss, plain: (p, e) => Math.max(0, 1 - p * e), labels: (s) => data(s).map((r) => r.map((v) => (v > 0 ? 1 : -1))) },
];

describe.each(elementRows)("$name", ({ f, plain, labels }) => {
  const p = data(1);
  const e = labels(2);
  const expected = p.map((row, i) => row.map((v, j) => plain(v, e[i]![j]!)));
  const flat = expected.flat();

  test("'none' is the plain elementwise definition; 'sum' and 'mean' (default) reduce it", () => {
    const none = rows2(f(f64(p), f64(e), { reduction: "none" }));
    none.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 12)));
    expect(f(f64(p), f64(e), { reduction: "sum" }).item()).toBeCloseTo(flat.reduce((a, b) => a + b, 0), 11);
    expect(f(f64(p), f64(e)).item()).toBeCloseTo(flat.reduce((a, b) => a + b, 0) / flat.length, 12);
  });

  test("gradients match finite differences", () => {
    checkGradients((x) => f(x, f64(e), { reduction: "none" }), [f64(p)], { order: 1 });
  });

  test("rejects mismatched shapes", () => {
    expect(() => f(f64(p), f64([[1, 2]]))).toThrow(/shape/);
  });
});

describe("softmaxCrossEntropy", () => {
  const logits = data(3);
  const classes = [2, 0, 3];
  const plainLse = (row: number[]): number => Math.log(row.reduce((a, v) => a + Math.exp(v), 0));

  test("with int32 class indices: logSumExp(logits) − logits[label] per example", () => {
    const none = softmaxCrossEntropy(f64(logits), tensor(classes, { dtype: "int32" }), { reduction: "none" }).toArray() as number[];
    none.forEach((v, i) => expect(v).toBeCloseTo(plainLse(logits[i]!) - logits[i]![classes[i]!]!, 12));
    const mean = softmaxCrossEntropy(f64(logits), tensor(classes, { dtype: "int32" })).item();
    expect(mean).toBeCloseTo(none.reduce((a, b) => a + b, 0) / 3, 12);
  });

  test("with probabilities: −Σ p log softmax(logits)", () => {
    const p = probs(4);
    const none = softmaxCrossEntropy(f64(logits), f64(p), { reduction: "none" }).toArray() as number[];
    none.forEach((v, i) => {
      const lse = plainLse(logits[i]!);
      expect(v).toBeCloseTo(-p[i]!.reduce((a, pj, j) => a + pj * (logits[i]![j]! - lse), 0), 12);
    });
    expect(softmaxCrossEntropy(f64(logits), f64(p), { reduction: "sum" }).item()).toBeCloseTo(none.reduce((a, b) => a + b, 0), 12);
  });

  test("gradients (softmax − onehot) match finite differences to second order", () => {
    checkGradients((x) => softmaxCrossEntropy(x, tensor(classes, { dtype: "int32" }), { reduction: "none" }), [f64(logits)], { order: 2 });
    checkGradients((x) => softmaxCrossEntropy(x, f64(probs(5))), [f64(logits)], { order: 2 });
  });

  test("explains wrong labels", () => {
    expect(() => softmaxCrossEntropy(f64(logits), tensor(classes))).toThrow(/int32/);
    expect(() => softmaxCrossEntropy(f64(logits), tensor([1, 2], { dtype: "int32" }))).toThrow(/class indices of shape \[3\]/);
  });
});

describe("kullbackLeiblerDivergence", () => {
  test("is Σ e (log e − log p) per example, with 0 log 0 = 0, and finite gradients at e = 0", () => {
    const p = probs(6);
    const e = probs(7);
    e[0] = [0, 0.5, 0.5, 0];
    const none = kullbackLeiblerDivergence(f64(p), f64(e), { reduction: "none" }).toArray() as number[];
    none.forEach((v, i) => {
      const plain = e[i]!.reduce((a, ej, j) => a + (ej === 0 ? 0 : ej * (Math.log(ej) - Math.log(p[i]![j]!))), 0);
      expect(v).toBeCloseTo(plain, 12);
    });
    expect(kullbackLeiblerDivergence(f64(p), f64(p)).item()).toBeCloseTo(0, 14);
    checkGradients((x, y) => kullbackLeiblerDivergence(x, y, { reduction: "none" }), [f64(p), f64(probs(8))], { order: 1 });
    const [gp, ge] = gradient(f64(p), f64(e), (x, y) => kullbackLeiblerDivergence(x, y));
    expect(rows2(gp).flat().every(Number.isFinite)).toBe(true);
    expect(rows2(ge).flat().every(Number.isFinite)).toBe(true);
  });
});

describe("stability at extreme logits (±1e4)", () => {
  const extreme = tensor([[1e4, -1e4, 0], [-1e4, -1e4, 1e4]]);
  test("softmaxCrossEntropy is exact and finite, in float32 too", () => {
    const l = softmaxCrossEntropy(extreme, tensor([0, 1], { dtype: "int32" }), { reduction: "none" }).toArray() as number[];
    expect(Math.abs(l[0]!)).toBe(0);
    expect(l[1]).toBe(2e4);
    const g = gradient(extreme, (x) => softmaxCrossEntropy(x, tensor([0, 1], { dtype: "int32" })));
    expect(rows2(g)).toEqual([[0, 0, 0], [0, -0.5, 0.5]]);
  });
  test("sigmoidCrossEntropy is exact and finite", () => {
    const x = tensor([1e4, -1e4, 1e4, -1e4]);
    const z = tensor([1, 0, 0, 1]);
    expect(sigmoidCrossEntropy(x, z, { reduction: "none" }).toArray()).toEqual([0, 0, 1e4, 1e4]);
    const g = gradient(x, (v) => sigmoidCrossEntropy(v, z, { reduction: "sum" }));
    expect(g.toArray()).toEqual([0, 0, 1, -1]);
  });
  test("logCoshLoss is |d| − log 2 for huge errors, with gradient ±1", () => {
    const d = tensor([1e4, -1e4], { dtype: "float64" });
    expect(logCoshLoss(d, tensor([0, 0], { dtype: "float64" }), { reduction: "none" }).toArray()).toEqual([1e4 - Math.LN2, 1e4 - Math.LN2]);
    expect(gradient(d, (v) => logCoshLoss(v, tensor([0, 0], { dtype: "float64" }), { reduction: "sum" })).toArray()).toEqual([1, -1]);
  });
});

test("an unknown reduction is an error", () => {
  expect(() => meanSquaredError(tensor([1]), tensor([1]), { reduction: "avg" as "mean" })).toThrow(/'mean', 'sum' or 'none'/);
});
