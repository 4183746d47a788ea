/** Losses against plain definitions written here, their reductions, gradients, and stability at ±1e4. */
import { describe, expect, test } from "vitest";
import {
  Tensor,
  categoricalHingeLoss,
  checkGradients,
  cosineSimilarity,
  gradient,
  hingeLoss,
  huberLoss,
  kullbackLeiblerDivergence,
  l1Loss,
  l2Loss,
  logCoshLoss,
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredError,
  meanSquaredLogarithmicError,
  poissonLoss,
  sigmoidCrossEntropy,
  softmaxCrossEntropy,
  squaredHingeLoss,
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
  /** The predictions, when the loss needs a domain other than `data(1)` (rates must be positive). */
  readonly predicted?: () => number[][];
  /** What the loss reduces with when no `reduction` is given (default `'mean'`). */
  readonly defaultReduction?: "sum";
}

const signs = (s: number): number[][] => data(s).map((r) => r.map((v) => (v > 0 ? 1 : -1)));
/** Integer counts 0…4, with some zeros. */
const counts = (s: number): number[][] => data(s, 0, 5).map((r) => r.map(Math.floor));

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
  { name: "hingeLoss", f: hingeLoss, plain: (p, e) => Math.max(0, 1 - p * e), labels: signs },
  { name: "l1Loss", f: l1Loss, plain: (p, e) => Math.abs(p - e), labels: (s) => data(s), defaultReduction: "sum" },
  { name: "l2Loss", f: l2Loss, plain: (p, e) => (p - e) ** 2, labels: (s) => data(s), defaultReduction: "sum" },
  {
    name: "meanSquaredLogarithmicError",
    f: meanSquaredLogarithmicError,
    plain: (p, e) => (Math.log(1 + Math.max(p, 0)) - Math.log(1 + Math.max(e, 0))) ** 2,
    labels: (s) => data(s, -0.5, 3),
  },
  {
    name: "meanAbsolutePercentageError",
    f: meanAbsolutePercentageError,
    plain: (p, e) => (100 * Math.abs(p - e)) / Math.abs(e),
    labels: (s) => data(s),
  },
  { name: "squaredHingeLoss", f: squaredHingeLoss, plain: (p, e) => Math.max(0, 1 - p * e) ** 2, labels: signs },
  {
    name: "poissonLoss",
    f: poissonLoss,
    plain: (p, e) => p - e * Math.log(p),
    labels: counts,
    predicted: () => data(1, 0.1, 4),
  },
  {
    name: "poissonLoss (logInput)",
    f: (p, e, o) => poissonLoss(p, e, { ...o, logInput: true }),
    plain: (x, e) => Math.exp(x) - e * x,
    labels: counts,
  },
];

describe.each(elementRows)("$name", ({ f, plain, labels, predicted, defaultReduction }) => {
  const p = predicted?.() ?? data(1);
  const e = labels(2);
  const expected = p.map((row, i) => row.map((v, j) => plain(v, e[i]![j]!)));
  const flat = expected.flat();

  test(`'none' is the plain elementwise definition; 'sum' and 'mean' reduce it (default '${defaultReduction ?? "mean"}')`, () => {
    const none = rows2(f(f64(p), f64(e), { reduction: "none" }));
    none.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 12)));
    const sum = flat.reduce((a, b) => a + b, 0);
    expect(f(f64(p), f64(e), { reduction: "sum" }).item()).toBeCloseTo(sum, 11);
    expect(f(f64(p), f64(e), { reduction: "mean" }).item()).toBeCloseTo(sum / flat.length, 12);
    expect(f(f64(p), f64(e)).item()).toBeCloseTo(defaultReduction === "sum" ? sum : sum / flat.length, 11);
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

/** Per-example losses over the last axis: name, function, plain per-example definition, labels. */
interface ExampleRow {
  readonly name: string;
  readonly f: (p: Tensor, e: Tensor, o?: LossOptions) => Tensor;
  readonly plain: (p: number[], e: number[]) => number;
  readonly labels: (seed: number) => number[][];
}

const oneHotRows = (classes: number[]): number[][] => classes.map((c) => [0, 1, 2, 3].map((j) => (j === c ? 1 : 0)));
const dot = (u: number[], v: number[]): number => u.reduce((a, x, i) => a + x * v[i]!, 0);

const exampleRows: ExampleRow[] = [
  {
    name: "categoricalHingeLoss",
    f: categoricalHingeLoss,
    plain: (p, e) => Math.max(0, 1 + Math.max(...p.map((v, j) => (1 - e[j]!) * v)) - dot(p, e)),
    labels: () => oneHotRows([2, 0, 3]),
  },
  {
    name: "cosineSimilarity",
    f: cosineSimilarity,
    plain: (p, e) => dot(p, e) / (Math.sqrt(dot(p, p)) * Math.sqrt(dot(e, e))),
    labels: (s) => data(s),
  },
];

describe.each(exampleRows)("$name", ({ f, plain, labels }) => {
  const p = data(9);
  const e = labels(10);
  const expected = p.map((row, i) => plain(row, e[i]!));

  test("'none' is the plain per-example definition; 'sum' and 'mean' (default) reduce it", () => {
    const none = f(f64(p), f64(e), { reduction: "none" });
    expect(none.shape).toEqual([3]);
    (none.toArray() as number[]).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
    expect(f(f64(p), f64(e), { reduction: "sum" }).item()).toBeCloseTo(expected.reduce((a, b) => a + b, 0), 12);
    expect(f(f64(p), f64(e)).item()).toBeCloseTo(expected.reduce((a, b) => a + b, 0) / 3, 12);
  });

  test("gradients match finite differences", () => {
    checkGradients((x) => f(x, f64(e), { reduction: "none" }), [f64(p)], { order: 1 });
  });

  test("rejects mismatched shapes and scalars", () => {
    expect(() => f(f64(p), f64([[1, 2]]))).toThrow(/shape/);
    expect(() => f(tensor(1), tensor(1))).toThrow(/axis; got scalars/);
  });
});

describe("edge cases of the losses Swift added", () => {
  test("categoricalHingeLoss is Crammer–Singer's max(0, 1 + max_{j≠y} p_j − p_y) when a wrong class scores ≥ 0", () => {
    const scores = [[1, 0.5, 1.5], [2, 0.5, 1], [0.2, -1, -3]];
    const labels = oneHotRows([0, 0, 0]).map((r) => r.slice(0, 3));
    const l = categoricalHingeLoss(f64(scores), f64(labels), { reduction: "none" }).toArray() as number[];
    expect(l[0]).toBeCloseTo(1.5, 14);
    expect(l[1]).toBe(0);
    expect(l[2]).toBeCloseTo(0.8, 14); // every wrong class < 0: the true class's 0 is the maximum, max(0, 1 − p_y)
  });

  test("meanAbsolutePercentageError floors |expected| at epsilon, so a zero target is finite", () => {
    const l = meanAbsolutePercentageError(tensor([1, 2]), tensor([0, 4]), { reduction: "none" }).toArray() as number[];
    expect(l[0]).toBeCloseTo(1e9, -3);
    expect(l[1]).toBeCloseTo(50, 5);
    expect(meanAbsolutePercentageError(tensor([1]), tensor([0]), { epsilon: 1 }).item()).toBe(100);
    expect(() => meanAbsolutePercentageError(tensor([1]), tensor([1]), { epsilon: 0 })).toThrow(/epsilon must be positive/);
    expect(gradient(tensor([1, 2]), (x) => meanAbsolutePercentageError(x, tensor([0, 4]), { reduction: "sum" })).dataSync().every(Number.isFinite)).toBe(true);
  });

  test("meanSquaredLogarithmicError clamps negatives to 0: finite, with zero gradient there", () => {
    const x = tensor([-5, -0.5, 1], { dtype: "float64" });
    const e = tensor([1, 0, 1], { dtype: "float64" });
    expect(meanSquaredLogarithmicError(x, e, { reduction: "none" }).toArray()).toEqual([Math.LN2 ** 2, 0, 0]);
    expect(gradient(x, (v) => meanSquaredLogarithmicError(v, e, { reduction: "sum" })).toArray()).toEqual([0, 0, 0]);
  });

  test("poissonLoss takes 0 · log 0 = 0, keeps the exact derivative in expected, and is finite for any log-rate", () => {
    const rate = tensor([0, 2, 0.5], { dtype: "float64" });
    const count = tensor([0, 0, 3], { dtype: "float64" });
    expect(poissonLoss(rate, count, { reduction: "none" }).toArray()).toEqual([0, 2, 0.5 - 3 * Math.log(0.5)]);
    const [gRate, gCount] = gradient(rate, count, (r, c) => poissonLoss(r, c, { reduction: "sum" })).map((g) => g.toArray() as number[]);
    expect(gRate).toEqual([1, 1, 1 - 3 / 0.5]);
    expect(gCount![1]).toBeCloseTo(-Math.log(2), 15); // −log(rate) even where the count is 0
    expect(gCount![2]).toBeCloseTo(-Math.log(0.5), 15);
    expect(gCount!.every(Number.isFinite)).toBe(true);
    expect(poissonLoss(tensor([0]), tensor([1])).item()).toBe(Infinity); // a zero rate for a positive count
    const logRate = tensor([-1e4, 50]);
    const l = poissonLoss(logRate, tensor([2, 0]), { logInput: true, reduction: "none" }).toArray() as number[];
    expect(l[0]).toBe(2e4);
    expect(l[1]).toBeCloseTo(Math.exp(50), -15);
    expect(gradient(logRate, (v) => poissonLoss(v, tensor([2, 0]), { logInput: true, reduction: "sum" })).dataSync().every(Number.isFinite)).toBe(true);
  });

  test("cosineSimilarity: ±1 for (anti)parallel vectors, 0 with a finite gradient for a zero vector, and checks epsilon", () => {
    const a = tensor([[1, 0], [1, 1], [0, 0]]);
    const b = tensor([[2, 0], [-1, -1], [3, 4]]);
    const s = cosineSimilarity(a, b, { reduction: "none" }).toArray() as number[];
    expect(s[0]).toBeCloseTo(1, 6);
    expect(s[1]).toBeCloseTo(-1, 6);
    expect(s[2]).toBe(0);
    const g = gradient(a, (x) => cosineSimilarity(x, b, { reduction: "sum" })).toArray() as number[][];
    expect(g.flat().every(Number.isFinite)).toBe(true);
    expect(cosineSimilarity(tensor([[1e4, -1e4]]), tensor([[-1e4, 1e4]])).item()).toBeCloseTo(-1, 6);
    expect(() => cosineSimilarity(a, b, { epsilon: -1 })).toThrow(/epsilon must be positive/);
  });

  test("l1Loss and l2Loss default to 'sum' (Swift's default), and equal MAE and MSE with 'mean'", () => {
    const p = f64(data(11));
    const e = f64(data(12));
    expect(l1Loss(p, e).item()).toBeCloseTo(meanAbsoluteError(p, e, { reduction: "sum" }).item(), 13);
    expect(l2Loss(p, e, { reduction: "mean" }).item()).toBeCloseTo(meanSquaredError(p, e).item(), 13);
    expect(() => l2Loss(p, e, { reduction: "avg" as "mean" })).toThrow(/l2Loss: reduction must be/);
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

describe("exact derivatives at the smooth points built from kinked pieces", () => {
  test("sigmoidCrossEntropy at logits exactly 0 has gradient (0.5 - z) / n (Swift's testSigmoidCrossEntropyGradient values)", () => {
    const labels = tensor([[0, 1, 0, 1], [1, 0, 1, 0]]);
    const g = gradient(tensor([[0, 0, 0, 0], [0, 0, 0, 0]]), (x) => sigmoidCrossEntropy(x, labels));
    expect(g.toArray()).toEqual([[0.0625, -0.0625, 0.0625, -0.0625], [-0.0625, 0.0625, -0.0625, 0.0625]]);
  });
  test("logCoshLoss has gradient 0 at zero error", () => {
    const g = gradient(tensor([0, 2], { dtype: "float64" }), (p) => logCoshLoss(p, tensor([0, 2], { dtype: "float64" })));
    expect(g.toArray()).toEqual([0, 0]);
  });
  test("huberLoss has second derivative 1 at zero error", () => {
    const h = gradient(tensor(0, { dtype: "float64" }), (p) => gradient(p, (q) => huberLoss(q, tensor(0, { dtype: "float64" }))));
    expect(h.item()).toBe(1);
  });
});
