/**
 * einsum compared with a plain-loop reference written here: for every assignment of every label, the
 * product of the operands' elements is added into the output element its output labels address.
 */
import { describe, expect, test } from "vitest";
import { einsum, gradient, tensor, type Tensor } from "../../src/index.js";
import { close, make, size } from "../helpers/reference.js";

/** Reference einsum over explicit specs without "..." (each operand's labels given, output given). */
function einsumRef(spec: string, ...xs: Tensor[]): { shape: number[]; values: number[] } {
  const [lhs, out] = spec.split("->") as [string, string];
  const terms = lhs.split(",");
  const dims = new Map<string, number>();
  terms.forEach((t, i) => [...t].forEach((l, a) => dims.set(l, xs[i]!.shape[a]!)));
  const labels = [...dims.keys()];
  const shape = [...out].map((l) => dims.get(l)!);
  const values = new Array<number>(size(shape)).fill(0);
  const data = xs.map((x) => x.dataSync());
  const total = size(labels.map((l) => dims.get(l)!));
  for (let k = 0; k < total; k++) {
    const val = new Map<string, number>();
    let rest = k;
    for (let j = labels.length - 1; j >= 0; j--) {
      const n = dims.get(labels[j]!)!;
      val.set(labels[j]!, rest % n);
      rest = Math.floor(rest / n);
    }
    let p = 1;
    terms.forEach((t, i) => {
      let flat = 0;
      [...t].forEach((l, a) => (flat = flat * xs[i]!.shape[a]! + val.get(l)!));
      p *= data[i]![flat]!;
    });
    let o = 0;
    [...out].forEach((l) => (o = o * dims.get(l)! + val.get(l)!));
    values[o]! += p;
  }
  return { shape, values };
}

const cases: [string, number[][]][] = [
  ["ij,jk->ik", [[2, 3], [3, 4]]],
  ["ij,kj->ik", [[2, 3], [4, 3]]],
  ["bij,bjk->bik", [[2, 2, 3], [2, 3, 2]]],
  ["ii->", [[3, 3]]],
  ["ii->i", [[4, 4]]],
  ["iij->ij", [[2, 2, 3]]],
  ["ij->ji", [[2, 3]]],
  ["ij->", [[2, 3]]],
  ["ijk->jk", [[2, 3, 2]]],
  ["i,j->ij", [[3], [2]]],
  ["i,i->", [[4], [4]]],
  ["i,i->i", [[4], [4]]],
  ["ij,j->i", [[3, 4], [4]]],
  ["ij,ij,i->j", [[2, 3], [2, 3], [2]]],
  ["abc,cd,da->b", [[2, 3, 2], [2, 3], [3, 2]]],
  ["ijk,ikl->jl", [[2, 3, 2], [2, 2, 3]]],
  ["ij,jk,kl->il", [[2, 3], [3, 2], [2, 2]]],
  ["ij,k->ijk", [[2, 2], [3]]],
  ["ij,jk->ik", [[0, 3], [3, 2]]],
  ["ij,jk->ik", [[2, 0], [0, 2]]],
];

describe.each(["float32", "float64", "int32"] as const)("%s", (dtype) => {
  test.each(cases)("%s on %j", (spec, shapes) => {
    const xs = shapes.map((s, i) => make(s, dtype, 30 + i, -2, 2));
    const y = einsum(spec, ...xs);
    const ref = einsumRef(spec, ...xs);
    expect(y.shape).toEqual(ref.shape);
    expect(y.dtype).toBe(dtype);
    close(y.dataSync(), ref.values, dtype, dtype === "float32" ? 1e-5 : undefined);
  });
});

describe("einsum details", () => {
  const a = make([2, 3], "float64", 1);
  const b = make([3, 4], "float64", 2);
  test("implicit output: labels used once, alphabetically", () => {
    close(einsum("ij,jk", a, b).dataSync(), einsumRef("ij,jk->ik", a, b).values, "float64");
    close(einsum("ba", a).dataSync(), einsumRef("ba->ab", a).values, "float64");
    expect(einsum("ii", tensor([[1, 2], [3, 4]])).item()).toBe(5);
  });
  test("spaces are ignored", () => {
    close(einsum(" ij , jk -> ik ", a, b).dataSync(), einsumRef("ij,jk->ik", a, b).values, "float64");
  });
  test("'...' broadcasts leading axes, right-aligned, size 1 against n", () => {
    const x = make([2, 1, 2, 3], "float64", 3);
    const w = make([4, 3, 2], "float64", 4);
    const y = einsum("...ij,...jk->...ik", x, w);
    expect(y.shape).toEqual([2, 4, 2, 2]);
    // against a loop over the broadcast batch
    const xv = x.dataSync(), wv = w.dataSync();
    const expected: number[] = [];
    for (let p = 0; p < 2; p++) for (let q = 0; q < 4; q++) for (let i = 0; i < 2; i++) for (let k = 0; k < 2; k++) {
      let s = 0;
      for (let j = 0; j < 3; j++) s += xv[p * 6 + i * 3 + j]! * wv[q * 6 + j * 2 + k]!;
      expected.push(s);
    }
    close(y.dataSync(), expected, "float64");
    expect(einsum("...ii->...i", make([3, 2, 2], "float64", 5)).shape).toEqual([3, 2]);
    expect(einsum("...i->...", make([3, 2], "float64", 5)).shape).toEqual([3]);
    expect(einsum("i...->...", make([3, 2, 4], "float64", 5)).shape).toEqual([2, 4]);
    const z = make([2, 3, 4], "float64", 6);
    close(einsum("...ij->ij", z).dataSync(), z.sum(0).dataSync(), "float64");
  });
  test("mixed dtypes are promoted", () => {
    expect(einsum("i,i->", tensor([1, 2], { dtype: "int32" }), tensor([0.5, 0.25], { dtype: "float64" })).dtype).toBe("float64");
  });
  test("the gradient of a full contraction: ∂/∂a_ij = Σ_k b_jk and ∂/∂b_jk = Σ_i a_ij", () => {
    const [ga, gb] = gradient(a, b, (x, y) => einsum("ij,jk->", x, y));
    const rowSums = einsumRef("jk->j", b).values;
    const colSums = einsumRef("ij->j", a).values;
    close(ga.dataSync(), [...rowSums, ...rowSums], "float64");
    close(gb.dataSync(), colSums.flatMap((v) => [v, v, v, v]), "float64");
  });
  test("errors name the spec, the term and the fix", () => {
    expect(() => einsum("ij,jk->ik", a)).toThrow(/^einsum: "ij,jk->ik" has 2 input terms but 1 operand was given/);
    expect(() => einsum("ijk->i", a)).toThrow(/^einsum: "ijk->i": term "ijk" labels 3 axes but operand 0 has shape \[2,3\] \(rank 2\)/);
    expect(() => einsum("i->i", a)).toThrow(/add "\.\.\." for the extra leading axes/);
    expect(() => einsum("ij,jk->ik", a, a)).toThrow(/^einsum: "ij,jk->ik": label "j" has size 3 in an earlier use but 2 in operand 1/);
    expect(() => einsum("ij->ik", a)).toThrow(/^einsum: "ij->ik": the output label "k" appears in no input term/);
    expect(() => einsum("ij->ii", a)).toThrow(/the output repeats label "i"/);
    expect(() => einsum("i2->i", a)).toThrow(/^einsum: "i2->i": input term 0 "i2" holds "2"/);
    expect(() => einsum("i->i->i", a)).toThrow(/has "->" twice/);
  });
});
