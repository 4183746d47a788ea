/**
 * Einstein summation, lowered to the primitives that already carry rules, so it differentiates to any
 * order without rules of its own (the plan of `opt_einsum` and of JAX's `einsum`, in its simplest form:
 * operands are contracted left to right).
 *
 * 1. Each operand: a label repeated inside it takes the diagonal (`gather` on the merged axes); a label
 *    that no other operand and not the output uses is summed away at once; size-1 axes under `...` are
 *    broadcast to the size the other operands give them.
 * 2. Each pair: labels of both operands that are still needed are batch axes; labels of both that are not
 *    are contracted; each operand is transposed to `[batch, own, contracted]`, reshaped to three axes and
 *    multiplied with one batched `matmul`.
 * 3. The result is summed over what the output leaves out and transposed into the output's order.
 */
import { Tensor } from "../tensor/tensor.js";
import { fmt, sizeOf } from "../tensor/shape.js";
import { promote } from "../tensor/dtype.js";
import { checkTensor } from "./util.js";
import { cast } from "./unary.js";
import { sum } from "./reduce.js";
import { reshape, transpose, broadcastTo, gather } from "./movement.js";
import { matmul } from "./linalg.js";

/** One operand during lowering: its tensor and the label of each of its axes. */
interface Term {
  t: Tensor;
  labels: string[];
}

const ELLIPSIS = "...";

function parseTerm(op: string, spec: string, term: string, where: string): { letters: string[]; ellipsis: number } {
  const at = term.indexOf(ELLIPSIS);
  if (at >= 0 && term.indexOf(ELLIPSIS, at + 1) >= 0) throw new SyntaxError(`${op}: "${spec}": ${where} "${term}" has "..." twice; at most once per term`);
  const plain = at >= 0 ? term.slice(0, at) + "\u0000" + term.slice(at + 3) : term;
  const letters: string[] = [];
  let ellipsis = -1;
  for (const c of plain) {
    if (c === "\u0000") ellipsis = letters.length;
    else if (/^[a-zA-Z]$/.test(c)) letters.push(c);
    else throw new SyntaxError(`${op}: "${spec}": ${where} "${term}" holds ${JSON.stringify(c)}; labels are letters a-z, A-Z (and one "..." for broadcast axes)`);
  }
  return { letters, ellipsis };
}

/** The labels of an operand's axes, with `...` expanded right-aligned into the shared broadcast labels `…0`, `…1`, … */
function expand(letters: string[], ellipsis: number, count: number, total: number): string[] {
  if (ellipsis < 0) return letters;
  const dots = Array.from({ length: count }, (_, j) => `…${total - count + j}`);
  return [...letters.slice(0, ellipsis), ...dots, ...letters.slice(ellipsis)];
}

/** Takes the diagonal over every label repeated inside one operand; each repeat becomes one trailing axis. */
function diagonals(term: Term): Term {
  let { t, labels } = term;
  for (;;) {
    const seen = labels.findIndex((l, i) => labels.indexOf(l) !== i);
    if (seen < 0) return { t, labels };
    const label = labels[seen]!;
    const at = labels.flatMap((l, i) => (l === label ? [i] : []));
    const rest = labels.flatMap((l, i) => (l === label ? [] : [i]));
    const n = t.shape[at[0]!]!;
    const moved = transpose(t, [...rest, ...at]);
    const merged = reshape(moved, [...rest.map((i) => t.shape[i]!), n ** at.length]);
    // Element (i, i, …, i) of the merged axis sits at i · (1 + n + n² + …).
    let step = 0;
    for (let k = 0; k < at.length; k++) step = step * n + 1;
    const positions = Array.from({ length: n }, (_, i) => i * step);
    t = gather(merged, positions, merged.rank - 1);
    labels = [...rest.map((i) => labels[i]!), label];
  }
}

function sumOut(term: Term, drop: (l: string) => boolean): Term {
  const axes = term.labels.flatMap((l, i) => (drop(l) ? [i] : []));
  if (axes.length === 0) return term;
  return { t: sum(term.t, axes), labels: term.labels.filter((l) => !drop(l)) };
}

function permuted(term: Term, order: string[]): Tensor {
  return transpose(term.t, order.map((l) => term.labels.indexOf(l)));
}

/** Contracts two operands over the labels they share that `keep` does not need, with one batched matmul. */
function contract(a: Term, b: Term, keep: Set<string>, size: Map<string, number>): Term {
  const inB = new Set(b.labels);
  const batch = a.labels.filter((l) => inB.has(l) && keep.has(l));
  const summed = a.labels.filter((l) => inB.has(l) && !keep.has(l));
  const aOwn = a.labels.filter((l) => !inB.has(l));
  const bOwn = b.labels.filter((l) => !a.labels.includes(l));
  const dims = (ls: string[]): number => sizeOf(ls.map((l) => size.get(l)!));
  const left = reshape(permuted(a, [...batch, ...aOwn, ...summed]), [dims(batch), dims(aOwn), dims(summed)]);
  const right = reshape(permuted(b, [...batch, ...summed, ...bOwn]), [dims(batch), dims(summed), dims(bOwn)]);
  const product = matmul(left, right);
  const labels = [...batch, ...aOwn, ...bOwn];
  return { t: reshape(product, labels.map((l) => size.get(l)!)), labels };
}

/**
 * Einstein summation over the operands, by a subscript `spec` such as `"ij,jk->ik"` (NumPy's, JAX's and
 * TensorFlow's `einsum`): each operand's axes are labelled with letters; labels shared between operands
 * are multiplied together; labels absent from the output (after `->`) are summed over. Supported:
 * any number of operands; repeated labels inside one operand (`"ii->i"` is the diagonal, `"ii"` the
 * trace); labels summed within one operand (`"ij->i"`); `...` for leading broadcast axes, which are
 * right-aligned and broadcast where one operand has size 1 (`"...ij,...jk->...ik"`; an explicit output that
 * leaves `...` out sums over those axes, as PyTorch does); and the implicit
 * output (no `->`): the labels used exactly once, in alphabetical order, after the broadcast axes.
 * Operands of different dtypes are promoted (int32 < float32 < float64). Differentiable in every operand,
 * to any order.
 * @param spec the subscripts, e.g. `"bij,bjk->bik"`; spaces are ignored.
 * @param operands one tensor per comma-separated term, each of rank equal to its number of labels (plus
 *   the axes under `...`).
 * @returns the result, with one axis per output label, in the output's order.
 * @example
 * ```ts
 * const a = tensor([[1, 2], [3, 4]]);
 * einsum("ij,jk->ik", a, a); // [[7, 10], [15, 22]]
 * // The trace: a repeated label on one operand takes the diagonal.
 * einsum("ii", a).item(); // 5
 * // Column sums: a label missing from the output is summed over.
 * einsum("ij->j", a); // [4, 6]
 * einsum("i,j->ij", tensor([1, 2]), tensor([3, 4])).toArray(); // [[3, 4], [6, 8]]
 * ```
 * @category Linear algebra
 */
export function einsum(spec: string, ...operands: Tensor[]): Tensor {
  const op = "einsum";
  if (typeof spec !== "string") throw new TypeError(`${op}: the first argument must be the subscript string, e.g. "ij,jk->ik", got ${typeof spec}`);
  operands.forEach((t, i) => checkTensor(op, `operand ${i}`, t));
  const clean = spec.replace(/\s+/g, "");
  const arrow = clean.indexOf("->");
  if (arrow >= 0 && clean.indexOf("->", arrow + 1) >= 0) throw new SyntaxError(`${op}: "${spec}" has "->" twice`);
  const lhs = arrow >= 0 ? clean.slice(0, arrow) : clean;
  const terms = lhs.split(",");
  if (terms.length !== operands.length) {
    throw new RangeError(`${op}: "${spec}" has ${terms.length} input term${terms.length === 1 ? "" : "s"} but ${operands.length} operand${operands.length === 1 ? " was" : "s were"} given; give one tensor per term`);
  }
  if (operands.length === 0) throw new RangeError(`${op}: needs at least one operand`);

  // Parse every term and check ranks; work out how many broadcast axes "..." stands for.
  const parsed = terms.map((term, i) => parseTerm(op, spec, term, `input term ${i}`));
  const dotsCount = parsed.map((p, i) => {
    const t = operands[i]!;
    const extra = t.rank - p.letters.length;
    if (p.ellipsis < 0 ? extra !== 0 : extra < 0) {
      throw new RangeError(
        `${op}: "${spec}": term "${terms[i]}" labels ${p.letters.length} axes${p.ellipsis >= 0 ? ' plus "..."' : ""} but operand ${i} has shape ${fmt(t.shape)} (rank ${t.rank})` +
          (p.ellipsis < 0 && extra > 0 ? '; add "..." for the extra leading axes' : ""),
      );
    }
    return p.ellipsis < 0 ? 0 : extra;
  });
  const totalDots = Math.max(0, ...dotsCount);
  const dotLabels = Array.from({ length: totalDots }, (_, j) => `…${j}`);
  const inputs: Term[] = operands.map((t, i) => ({ t, labels: expand(parsed[i]!.letters, parsed[i]!.ellipsis, dotsCount[i]!, totalDots) }));

  // Sizes: equal for every use of a label; broadcast axes may also be 1.
  const size = new Map<string, number>();
  inputs.forEach(({ t, labels }, i) => {
    labels.forEach((l, axis) => {
      const d = t.shape[axis]!;
      const prev = size.get(l);
      if (prev === undefined || (l.startsWith("…") && prev === 1)) size.set(l, d);
      else if (prev !== d && !(l.startsWith("…") && d === 1)) {
        const name = l.startsWith("…") ? "a broadcast axis under \"...\"" : `label "${l}"`;
        throw new RangeError(`${op}: "${spec}": ${name} has size ${prev} in an earlier use but ${d} in operand ${i} (shape ${fmt(t.shape)}); sizes of one label must agree${l.startsWith("…") ? " or be 1" : ""}`);
      }
    });
  });

  // The output labels.
  let output: string[];
  if (arrow >= 0) {
    const p = parseTerm(op, spec, clean.slice(arrow + 2), "the output");
    output = expand(p.letters, p.ellipsis, p.ellipsis >= 0 ? totalDots : 0, totalDots);
    for (const l of p.letters) {
      if (!size.has(l)) throw new RangeError(`${op}: "${spec}": the output label "${l}" appears in no input term`);
    }
    const dup = p.letters.find((l, i) => p.letters.indexOf(l) !== i);
    if (dup !== undefined) throw new RangeError(`${op}: "${spec}": the output repeats label "${dup}"; each output label appears once`);
  } else {
    const counts = new Map<string, number>();
    for (const p of parsed) for (const l of p.letters) counts.set(l, (counts.get(l) ?? 0) + 1);
    output = [...dotLabels, ...[...counts].filter(([, c]) => c === 1).map(([l]) => l).sort()];
  }

  const dtype = operands.map((t) => t.dtype).reduce(promote);
  let terms2 = inputs.map((term) => {
    let t = cast(term.t, dtype);
    // Broadcast size-1 "..." axes to the size the other operands give them.
    const full = term.labels.map((l, axis) => (l.startsWith("…") ? size.get(l)! : t.shape[axis]!));
    if (full.some((d, axis) => d !== t.shape[axis])) t = broadcastTo(t, full);
    return diagonals({ t, labels: term.labels });
  });
  const outSet = new Set(output);
  const neededBy = (from: number): Set<string> => {
    const s = new Set(outSet);
    for (let j = from; j < terms2.length; j++) for (const l of terms2[j]!.labels) s.add(l);
    return s;
  };
  // Sum away what only one operand uses.
  terms2 = terms2.map((term, i) => {
    const others = new Set(outSet);
    terms2.forEach((u, j) => { if (j !== i) for (const l of u.labels) others.add(l); });
    return sumOut(term, (l) => !others.has(l));
  });
  let acc = terms2[0]!;
  for (let i = 1; i < terms2.length; i++) {
    const keep = neededBy(i + 1);
    acc = sumOut(acc, (l) => !keep.has(l) && !terms2[i]!.labels.includes(l));
    const next = sumOut(terms2[i]!, (l) => !keep.has(l) && !acc.labels.includes(l));
    acc = contract(acc, next, keep, size);
  }
  acc = sumOut(acc, (l) => !outSet.has(l));
  return acc.labels.length === 0 ? acc.t : permuted(acc, output);
}
