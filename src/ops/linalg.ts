/**
 * Linear algebra: the matrix product, decompositions (Cholesky, QR), solves, inverses and determinants,
 * with their derivative rules.
 *
 * One primitive, `matmul`, carries transpose flags: `op(A) · op(B)` with `op` the identity or the
 * transpose. The public {@link matmul} always multiplies untransposed operands; the flags exist for the
 * rules, so that the cotangent of `A·B`, which is `Ċ·Bᵀ` and `Aᵀ·Ċ`, runs through the same fast kernel
 * without a transpose being copied out (the cost that makes tfjs' backward passes 14× slower than its
 * forward ones).
 *
 * The decompositions and solves are batched over leading axes, run in float32 or float64 (kernels
 * accumulate in double precision) and reject int32. Their rules are the standard matrix-calculus
 * identities (Giles 2008, "An extended collection of matrix derivative results for forward and reverse
 * mode algorithmic differentiation"; Murray 2016, "Differentiation of the Cholesky decomposition";
 * Walter & Lehmann 2018 and Seeger et al. 2017 for QR), each written beside its rule with the public ops
 * of this library (matmul, triangularSolve, solve, masks), so every rule differentiates again.
 */
import { Tensor } from "../tensor/tensor.js";
import { allocate, promote, type DType } from "../tensor/dtype.js";
import { fmt, sizeOf } from "../tensor/shape.js";
import { fromTyped } from "../tensor/creation.js";
import { backend } from "../tensor/backend.js";
import { definePrimitive, type Primitive } from "../autodiff/primitive.js";
import { bind } from "../autodiff/trace.js";
import type { Breakdown } from "../tensor/cpu/decompositions.js";
import { concat } from "./movement.js";

/** @internal Params of the matmul primitive: which operands are read transposed. */
export interface MatmulParams {
  readonly transposeA: boolean;
  readonly transposeB: boolean;
}

/**
 * @internal The batch shape two operands of rank ≥ 2 broadcast to (everything before the last two axes),
 * or `undefined` when they do not broadcast.
 */
function batchShapeOf(a: readonly number[], b: readonly number[]): number[] | undefined {
  const ra = a.length - 2;
  const rb = b.length - 2;
  const rank = Math.max(ra, rb);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i - rank + ra >= 0 ? a[i - rank + ra]! : 1;
    const db = i - rank + rb >= 0 ? b[i - rank + rb]! : 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else return undefined;
  }
  return out;
}

/** Element strides of an operand's batch axes against the broadcast batch shape (0 where broadcast). */
function batchStrides(shape: readonly number[], batch: readonly number[], matrixSize: number): number[] {
  const r = shape.length - 2;
  const out = new Array<number>(batch.length).fill(0);
  let acc = matrixSize;
  for (let i = r - 1; i >= 0; i--) {
    const d = shape[i]!;
    out[batch.length - r + i] = d === 1 ? 0 : acc;
    acc *= d;
  }
  return out;
}

/**
 * @internal `op(A) · op(B)` over the last two axes, batch axes broadcast. Inputs have rank ≥ 2, one dtype,
 * and agree on the inner dimension (checked by the callers).
 */
export const matmulP = definePrimitive<MatmulParams>({
  name: "matmul",
  impl([a, b], { transposeA, transposeB }) {
    const sa = a!.shape;
    const sb = b!.shape;
    const m = sa[sa.length - (transposeA ? 1 : 2)]!;
    const k = sa[sa.length - (transposeA ? 2 : 1)]!;
    const n = sb[sb.length - (transposeB ? 2 : 1)]!;
    const batch = batchShapeOf(sa, sb)!;
    const shape = Object.freeze([...batch, m, n]);
    let size = m * n;
    for (const d of batch) size *= d;
    const out = allocate(a!.dtype, size);
    backend().matmul(
      a!._data!,
      b!._data!,
      out,
      batch,
      batchStrides(sa, batch, m * k),
      batchStrides(sb, batch, k * n),
      m,
      k,
      n,
      transposeA,
      transposeB,
    );
    return fromTyped(out, shape, a!.dtype);
  },
  jvp([a, b], [ta, tb], _out, { transposeA, transposeB }) {
    const da = ta ? matmulT(ta, b!, transposeA, transposeB) : null;
    const db = tb ? matmulT(a!, tb, transposeA, transposeB) : null;
    return da && db ? da.add(db) : (da ?? db);
  },
  vjp(ct, [a, b], _out, { transposeA, transposeB }, [na, nb]) {
    // C = op(A)·op(B). With Ċ the cotangent: d op(A) = Ċ·op(B)ᵀ and d op(B) = op(A)ᵀ·Ċ; when an operand is
    // stored transposed, its cotangent is the transpose of that, rewritten so no transpose is copied.
    // Only the operands traced at this level get a cotangent (a constant weight or input costs nothing).
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (!transposeA && !transposeB) {
      if (na) ga = matmulT(ct, b!, false, true); // Ċ·Bᵀ
      if (nb) gb = matmulT(a!, ct, true, false); // Aᵀ·Ċ
    } else if (!transposeA && transposeB) {
      if (na) ga = matmulT(ct, b!, false, false); // Ċ·B
      if (nb) gb = matmulT(ct, a!, true, false); // Ċᵀ·A
    } else if (transposeA && !transposeB) {
      if (na) ga = matmulT(b!, ct, false, true); // B·Ċᵀ
      if (nb) gb = matmulT(a!, ct, false, false); // A·Ċ
    } else {
      if (na) ga = matmulT(b!, ct, true, true); // Bᵀ·Ċᵀ
      if (nb) gb = matmulT(ct, a!, true, true); // Ċᵀ·Aᵀ
    }
    return [ga && sumToShape(ga, a!.shape), gb && sumToShape(gb, b!.shape)];
  },
});

/** @internal Binds the matmul primitive with transpose flags (operands of rank ≥ 2, validated). */
export function matmulT(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  return bind(matmulP, [a, b], { transposeA, transposeB });
}

/**
 * @internal Sums a cotangent over the batch axes its operand was broadcast along, so it gets the operand's
 * shape back (leading axes the operand lacks, and axes where the operand has size 1).
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  const gs = g.shape;
  if (gs.length === shape.length) {
    let same = true;
    for (let i = 0; i < gs.length; i++) if (gs[i] !== shape[i]) same = false;
    if (same) return g;
  }
  const lead = gs.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < gs.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && gs[i] !== 1)) axes.push(i);
  }
  return (axes.length > 0 ? g.sum(axes) : g).reshape(shape);
}

/**
 * The matrix product, with NumPy's `matmul` semantics.
 *
 * Operands of rank ≥ 2 are stacks of matrices: the last two axes are multiplied, the leading (batch) axes
 * broadcast against each other. A rank-1 operand is a vector: on the left it is treated as a `[1, k]`
 * row, on the right as a `[k, 1]` column, and that axis is removed from the result (two vectors give
 * their inner product, a scalar). Operands of different dtypes are promoted (int32 < float32 < float64).
 * Differentiable in both operands, to any order; the derivative rules reuse the same kernel with
 * transposed reads, so the backward pass costs about twice the forward one.
 *
 * @param a `[..., m, k]`, or a vector `[k]`.
 * @param b `[..., k, n]`, or a vector `[k]`.
 * @returns `[...batch, m, n]` with `batch` the broadcast of both batch shapes (vector axes removed).
 * @example
 * ```ts
 * matmul(tensor([[1, 2], [3, 4]]), tensor([[1, 0], [0, 2]])); // [[1, 4], [3, 8]]
 * // A batch of five [2, 3] matrices times one [3, 4] matrix, shared by the batch.
 * matmul(ones([5, 2, 3]), ones([3, 4])).shape; // [5, 2, 4]
 * matmul(tensor([1, 2]), tensor([3, 4])).item();   // 11
 * ```
 * @category Linear algebra
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const op = "matmul";
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) {
    throw new TypeError(`${op}: both operands must be Tensors, got ${describe(a)} and ${describe(b)}; wrap arrays with tensor(...)`);
  }
  const sa = a.shape;
  const sb = b.shape;
  if (sa.length === 0 || sb.length === 0) {
    throw new RangeError(
      `${op}: operands must have rank ≥ 1, got ${fmt(sa)} x ${fmt(sb)}; to scale by a scalar use mul`,
    );
  }
  const k = sa[sa.length - 1]!;
  const kb = sb.length === 1 ? sb[0]! : sb[sb.length - 2]!;
  if (k !== kb) {
    throw new RangeError(
      `${op}: inner dimensions differ: ${fmt(sa)} x ${fmt(sb)} (${k} vs ${kb}); ` +
        `the last axis of the first operand must equal the ${sb.length === 1 ? "length" : "second-to-last axis"} of the second`,
    );
  }
  let a2 = sa.length === 1 ? a.reshape([1, k]) : a;
  let b2 = sb.length === 1 ? b.reshape([k, 1]) : b;
  const batch = batchShapeOf(a2.shape, b2.shape);
  if (batch === undefined) {
    throw new RangeError(
      `${op}: batch dimensions ${fmt(sa.slice(0, -2))} and ${fmt(sb.slice(0, -2))} of ${fmt(sa)} x ${fmt(sb)} ` +
        `do not broadcast (each pair must be equal or one of them 1)`,
    );
  }
  if (a2.dtype !== b2.dtype) {
    const dt = promote(a2.dtype, b2.dtype);
    if (a2.dtype !== dt) a2 = a2.cast(dt);
    if (b2.dtype !== dt) b2 = b2.cast(dt);
  }
  const m = a2.shape[a2.rank - 2]!;
  const n = b2.shape[b2.rank - 1]!;
  let out: Tensor;
  if (b2.rank === 2 && a2.rank > 2) {
    // A stack of matrices times one matrix is one tall product: its gradient for B needs no batch sum.
    let rows = m;
    for (const d of batch) rows *= d;
    out = matmulT(a2.reshape([rows, k]), b2, false, false).reshape([...batch, m, n]);
  } else {
    out = matmulT(a2, b2, false, false);
  }
  if (sa.length === 1 && sb.length === 1) return out.reshape([]);
  if (sa.length === 1) return out.reshape([...batch, n]);
  if (sb.length === 1) return out.reshape([...batch, m]);
  return out;
}

function describe(x: unknown): string {
  if (x instanceof Tensor) return `Tensor${fmt(x.shape)}`;
  if (Array.isArray(x)) return "an array";
  return typeof x;
}

// ---------------------------------------------------------------------------------------------------
// Helpers shared by the decompositions

/** Swaps the last two axes (the matrix transpose of every matrix in a stack). */
function mT(x: Tensor): Tensor {
  const r = x.rank;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return x.transpose(perm);
}

/** A constant `n × n` matrix of `dtype` with entries `f(i, j)` (masks and identities for the rules). */
function constantMatrix(n: number, dtype: DType, f: (i: number, j: number) => number): Tensor {
  const d = allocate(dtype, n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d[i * n + j] = f(i, j);
  return fromTyped(d, Object.freeze([n, n]), dtype);
}

/** Ones on and below the diagonal (`lower`) or on and above it. */
function triangleMask(n: number, dtype: DType, lower: boolean): Tensor {
  return constantMatrix(n, dtype, (i, j) => ((lower ? j <= i : j >= i) ? 1 : 0));
}

/** Ones strictly below the diagonal. */
function strictLowerMask(n: number, dtype: DType): Tensor {
  return constantMatrix(n, dtype, (i, j) => (j < i ? 1 : 0));
}

/** The identity matrix of size `n`. */
function identity(n: number, dtype: DType): Tensor {
  return constantMatrix(n, dtype, (i, j) => (i === j ? 1 : 0));
}

/** Sum of the diagonal of every matrix in a stack `[..., n, n]`, giving `[...]`. */
function trace(x: Tensor): Tensor {
  const n = x.shape[x.rank - 1]!;
  return x.mul(identity(n, x.dtype)).sum([x.rank - 2, x.rank - 1]);
}

/** The batch shape of a stack of matrices (everything before the last two axes). */
function batchPart(shape: readonly number[]): number[] {
  return shape.slice(0, shape.length - 2);
}

/** A flat batch position as the index a user would write, e.g. `[1, 0]` (`[]` for a single matrix). */
function batchIndex(flat: number, shape: readonly number[]): string {
  const batch = batchPart(shape);
  const idx = new Array<number>(batch.length);
  for (let d = batch.length - 1; d >= 0; d--) {
    idx[d] = flat % batch[d]!;
    flat = Math.floor(flat / batch[d]!);
  }
  return `[${idx.join(", ")}]`;
}

/** Machine epsilon of a float dtype: the relative pivot size below which a matrix counts as singular. */
function epsilonOf(dtype: DType): number {
  return dtype === "float32" ? 1.1920928955078125e-7 : 2.220446049250313e-16;
}

/** @internal Params of the solve-like primitives: the op the user called, for error messages. */
export interface LinalgParams {
  readonly op: string;
}

/** @internal Params of the triangular solve: which triangle is read and whether it is transposed. */
export interface TriangularSolveParams extends LinalgParams {
  readonly lower: boolean;
  readonly transpose: boolean;
}

/** @internal Params of the determinant primitive: `det` or `log|det|`. */
export interface DeterminantParams extends LinalgParams {
  readonly logAbs: boolean;
}

function singularError(op: string, shape: readonly number[], bad: Breakdown, what: string): RangeError {
  const where = shape.length > 2 ? ` at batch index ${batchIndex(bad.batch, shape)}` : "";
  if (bad.pivot < 0) {
    return new RangeError(`${op}: the matrix${where} of ${fmt(shape)} holds a non-finite value (${bad.value}); remove NaN and Infinity first`);
  }
  return new RangeError(
    `${op}: the ${what}${where} of ${fmt(shape)} is singular (pivot ${bad.pivot} is ${bad.value}); ` +
      `check that it has full rank, or add a small multiple of the identity to regularize it`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Cholesky

/**
 * @internal The lower Cholesky factor of symmetric positive-definite matrices (the lower triangle is
 * read). Its rules assume a symmetric tangent, which the public {@link cholesky} guarantees by
 * symmetrizing its input first.
 */
export const choleskyP = definePrimitive<LinalgParams>({
  name: "cholesky",
  impl([a], { op }) {
    const s = a!.shape;
    const n = s[s.length - 1]!;
    const out = allocate(a!.dtype, a!.size);
    const bad = backend().cholesky(a!._data!, out, n === 0 ? 0 : a!.size / (n * n), n);
    if (bad !== undefined) {
      const where = s.length > 2 ? ` at batch index ${batchIndex(bad.batch, s)}` : "";
      throw new RangeError(
        `${op}: the matrix${where} of ${fmt(s)} is not positive definite (pivot ${bad.pivot} is ${bad.value}); ` +
          `cholesky needs a symmetric positive-definite matrix: check for NaN and asymmetry, or add a small ` +
          `multiple of the identity (a jitter such as 1e-6) to the diagonal`,
      );
    }
    return fromTyped(out, s, a!.dtype);
  },
  jvp(_a, [ta], l) {
    // L̇ = L·Φ(L⁻¹·Ȧ·L⁻ᵀ), Φ taking the lower triangle with the diagonal halved (Murray 2016, eq. 7).
    const n = l.shape[l.rank - 1]!;
    const y = solveTriangularT(l, ta!, true, false, "cholesky"); // L⁻¹·Ȧ
    const x = mT(solveTriangularT(l, mT(y), true, false, "cholesky")); // L⁻¹·Ȧ·L⁻ᵀ
    return matmulT(l, x.mul(phiMask(n, l.dtype)), false, false);
  },
  vjp(ct, _a, l) {
    // Ā = ½(S + Sᵀ) with S = L⁻ᵀ·Φ(Lᵀ·L̄)·L⁻¹ (Murray 2016, eq. 10); only L̄'s lower triangle counts,
    // the upper one being constant zeros.
    const n = l.shape[l.rank - 1]!;
    const lbar = ct.mul(triangleMask(n, ct.dtype, true));
    const p = matmulT(l, lbar, true, false).mul(phiMask(n, l.dtype));
    const s1 = solveTriangularT(l, p, true, true, "cholesky"); // L⁻ᵀ·P
    const s = mT(solveTriangularT(l, mT(s1), true, true, "cholesky")); // L⁻ᵀ·P·L⁻¹
    return [s.add(mT(s)).mul(0.5)];
  },
});

/** Φ as a mask: ones strictly below the diagonal, one half on it. */
function phiMask(n: number, dtype: DType): Tensor {
  return constantMatrix(n, dtype, (i, j) => (j < i ? 1 : j === i ? 0.5 : 0));
}

// ---------------------------------------------------------------------------------------------------
// Triangular solve

/**
 * @internal Solves `op(A)·X = B` with `A` triangular (only its `lower` or upper triangle is read) and
 * `op(A) = Aᵀ` when `transpose`. Operands share their batch shape.
 */
export const triangularSolveP: Primitive<TriangularSolveParams> = definePrimitive<TriangularSolveParams>({
  name: "triangularSolve",
  impl([a, b], { op, lower, transpose }) {
    const s = a!.shape;
    const n = s[s.length - 1]!;
    const k = b!.shape[b!.rank - 1]!;
    const out = allocate(b!.dtype, b!.size);
    const count = n === 0 ? sizeOf(batchPart(s)) : a!.size / (n * n);
    const bad = backend().triangularSolve(a!._data!, b!._data!, out, count, n, k, lower, transpose);
    if (bad !== undefined) {
      const where = s.length > 2 ? ` at batch index ${batchIndex(bad.batch, s)}` : "";
      throw new RangeError(
        `${op}: the ${lower ? "lower" : "upper"}-triangular matrix${where} of ${fmt(s)} has ${bad.value} on its ` +
          `diagonal (row ${bad.pivot}), so it is singular; a triangular system needs a non-zero, finite diagonal`,
      );
    }
    return fromTyped(out, b!.shape, b!.dtype);
  },
  jvp([a], [ta, tb], x, p) {
    // op(A)·X = B  ⇒  op(A)·Ẋ = Ḃ − op(Ȧ)·X, with Ȧ restricted to the triangle that is read.
    let rhs = tb;
    if (ta) {
      const n = a!.shape[a!.rank - 1]!;
      const d = matmulT(ta.mul(triangleMask(n, ta.dtype, p.lower)), x, p.transpose, false);
      rhs = rhs ? rhs.sub(d) : d.neg();
    }
    return bind(triangularSolveP, [a!, rhs!], p);
  },
  vjp(ct, [a], x, p, [na, nb]) {
    // B̄ = op(A)⁻ᵀ·X̄; Ā = −B̄·Xᵀ (or −X·B̄ᵀ when op transposes), restricted to the triangle read
    // (Giles 2008, §2.3.1, for the inverse product).
    const bbar = bind(triangularSolveP, [a!, ct], { ...p, transpose: !p.transpose });
    let abar: Tensor | null = null;
    if (na) {
      const n = a!.shape[a!.rank - 1]!;
      const outer = p.transpose ? matmulT(x, bbar, false, true) : matmulT(bbar, x, false, true);
      abar = outer.mul(triangleMask(n, outer.dtype, p.lower)).neg();
    }
    return [abar, nb ? bbar : null];
  },
});

/** Binds the triangular solve (operands validated, batch shapes equal). */
function solveTriangularT(a: Tensor, b: Tensor, lower: boolean, transpose: boolean, op: string): Tensor {
  return bind(triangularSolveP, [a, b], { op, lower, transpose });
}

// ---------------------------------------------------------------------------------------------------
// General solve

/** @internal Solves `A·X = B` by LU with partial pivoting; operands share their batch shape. */
export const solveP: Primitive<LinalgParams> = definePrimitive<LinalgParams>({
  name: "solve",
  impl([a, b], { op }) {
    const s = a!.shape;
    const n = s[s.length - 1]!;
    const k = b!.shape[b!.rank - 1]!;
    const out = allocate(b!.dtype, b!.size);
    const count = n === 0 ? sizeOf(batchPart(s)) : a!.size / (n * n);
    const bad = backend().luSolve(a!._data!, b!._data!, out, count, n, k, n * epsilonOf(a!.dtype));
    if (bad !== undefined) throw singularError(op, s, bad, "matrix");
    return fromTyped(out, b!.shape, b!.dtype);
  },
  jvp([a], [ta, tb], x, p) {
    // A·X = B  ⇒  Ẋ = A⁻¹·(Ḃ − Ȧ·X).
    let rhs = tb;
    if (ta) {
      const d = matmulT(ta, x, false, false);
      rhs = rhs ? rhs.sub(d) : d.neg();
    }
    return bind(solveP, [a!, rhs!], p);
  },
  vjp(ct, [a], x, p, [na, nb]) {
    // B̄ = A⁻ᵀ·X̄ and Ā = −B̄·Xᵀ (Giles 2008, §2.3.1).
    const bbar = bind(solveP, [mT(a!), ct], p);
    return [na ? matmulT(bbar, x, false, true).neg() : null, nb ? bbar : null];
  },
});

// ---------------------------------------------------------------------------------------------------
// Determinants

/** @internal `det A` (or `log|det A|` with `logAbs`) of each matrix of a stack, by LU. */
export const determinantP = definePrimitive<DeterminantParams>({
  name: "determinant",
  impl([a], { logAbs }) {
    const s = a!.shape;
    const n = s[s.length - 1]!;
    const shape = Object.freeze(batchPart(s));
    const out = allocate(a!.dtype, sizeOf(shape));
    backend().determinant(a!._data!, out, out.length, n, logAbs);
    return fromTyped(out, shape, a!.dtype);
  },
  jvp([a], [ta], d, { op, logAbs }) {
    // d(det A) = det A · tr(A⁻¹·Ȧ) and d(log|det A|) = tr(A⁻¹·Ȧ) (Jacobi's formula; Giles 2008, §2.2.4).
    const t = trace(bind(solveP, [a!, ta!], { op: `${op}'s derivative` }));
    return logAbs ? t : d.mul(t);
  },
  vjp(ct, [a], d, { op, logAbs }) {
    // Ā = c̄ · det A · A⁻ᵀ, and c̄ · A⁻ᵀ for log|det A| (Giles 2008, §2.3.4).
    const s = a!.shape;
    const n = s[s.length - 1]!;
    const eye = identity(n, a!.dtype).broadcastTo(s);
    const invT = bind(solveP, [mT(a!), eye], { op: `${op}'s derivative` });
    const scale = (logAbs ? ct : ct.mul(d)).reshape([...batchPart(s), 1, 1]);
    return [invT.mul(scale)];
  },
});

// ---------------------------------------------------------------------------------------------------
// QR

/**
 * @internal Reduced Householder QR with `diag(R) ≥ 0`. The output packs both factors per batch element,
 * `[..., m·k + k·n]` (Q's entries, then R's), so that one primitive carries both and its rules see both
 * cotangents at once; {@link qr} unpacks them.
 */
export const qrP = definePrimitive<LinalgParams>({
  name: "qr",
  impl([a]) {
    const s = a!.shape;
    const m = s[s.length - 2]!;
    const n = s[s.length - 1]!;
    const k = Math.min(m, n);
    const batch = batchPart(s);
    const count = sizeOf(batch);
    const q = new Float64Array(count * m * k);
    const r = new Float64Array(count * k * n);
    backend().qr(a!._data!, q, r, count, m, n);
    const out = allocate(a!.dtype, count * (m * k + k * n));
    const per = m * k + k * n;
    for (let b = 0; b < count; b++) {
      for (let i = 0; i < m * k; i++) out[b * per + i] = q[b * m * k + i]!;
      for (let i = 0; i < k * n; i++) out[b * per + m * k + i] = r[b * k * n + i]!;
    }
    return fromTyped(out, Object.freeze([...batch, per]), a!.dtype);
  },
  jvp([a], [ta], out) {
    const [m, n] = matrixDims(a!.shape);
    const [q, r] = unpackQR(out, m, n);
    if (m >= n) return packQR(...qrTallJvp(q, r, ta!));
    // Wide (m < n): A = [X | Y] with X square, X = Q·U and R = [U | V], V = Qᵀ·Y. Then (Q̇, U̇) is the
    // square rule for Ẋ and V̇ = Q̇ᵀ·Y + Qᵀ·Ẏ (Liao et al. 2019, "Differentiable Programming Tensor Networks").
    const [, y] = splitColumns(a!, m);
    const [tx, ty] = splitColumns(ta!, m);
    const [u] = splitColumns(r, m);
    const [dq, du] = qrTallJvp(q, u, tx);
    const dv = matmulT(dq, y, true, false).add(matmulT(q, ty, true, false));
    return packQR(dq, concat([du, dv], du.rank - 1));
  },
  vjp(ct, [a], out) {
    const [m, n] = matrixDims(a!.shape);
    const [q, r] = unpackQR(out, m, n);
    const [qbar, rbar] = unpackQR(ct, m, n);
    if (m >= n) return [qrTallVjp(q, r, qbar, rbar)];
    // Wide: Ȳ = Q·V̄, and X̄ is the square rule with Q̄ + Y·V̄ᵀ for Q̄ and Ū for R̄ (Liao et al. 2019).
    const [, y] = splitColumns(a!, m);
    const [u] = splitColumns(r, m);
    const [ubar, vbar] = splitColumns(rbar, m);
    const xbar = qrTallVjp(q, u, qbar.add(matmulT(y, vbar, false, true)), ubar);
    const ybar = matmulT(q, vbar, false, false);
    return [concat([xbar, ybar], xbar.rank - 1)];
  },
});

const QR_DERIVATIVE = "qr's derivative (it needs a matrix of full rank)";

/**
 * Tangents `(Q̇, Ṙ)` of the QR of a tall or square `A` (m ≥ n): with C = Qᵀ·Ȧ·R⁻¹ and
 * Ω = tril(C, −1) − tril(C, −1)ᵀ (that is QᵀQ̇, skew-symmetric), Ṙ = (C − Ω)·R (upper triangular) and
 * Q̇ = Ȧ·R⁻¹ − Q·(C − Ω) (Walter & Lehmann 2018, "On the algorithmic differentiation of matrix
 * decompositions"; Seeger et al. 2017).
 */
function qrTallJvp(q: Tensor, r: Tensor, ta: Tensor): [Tensor, Tensor] {
  const n = r.shape[r.rank - 1]!;
  const adRinv = mT(solveTriangularT(r, mT(ta), false, true, QR_DERIVATIVE)); // Ȧ·R⁻¹ = (R⁻ᵀ·Ȧᵀ)ᵀ
  const c = matmulT(q, adRinv, true, false);
  const low = c.mul(strictLowerMask(n, c.dtype));
  const cMinusOmega = c.sub(low).add(mT(low));
  return [adRinv.sub(matmulT(q, cMinusOmega, false, false)), matmulT(cMinusOmega, r, false, false)];
}

/**
 * The cotangent of a tall or square `A` from `(Q̄, R̄)`: Ā = (Q̄ + Q·copyltu(M))·R⁻ᵀ with
 * M = R·R̄ᵀ − Q̄ᵀ·Q and copyltu(M) = tril(M) + tril(M, −1)ᵀ (Walter & Lehmann 2018); R̄ counts on R's
 * upper triangle only, the rest of R being constant zeros.
 */
function qrTallVjp(q: Tensor, r: Tensor, qbar: Tensor, rbarFull: Tensor): Tensor {
  const n = r.shape[r.rank - 1]!;
  const rbar = rbarFull.mul(triangleMask(n, rbarFull.dtype, false));
  const mm = matmulT(r, rbar, false, true).sub(matmulT(qbar, q, true, false));
  const copyltu = mm.mul(triangleMask(n, mm.dtype, true)).add(mT(mm.mul(strictLowerMask(n, mm.dtype))));
  const z = qbar.add(matmulT(q, copyltu, false, false));
  return mT(solveTriangularT(r, mT(z), false, false, QR_DERIVATIVE)); // Z·R⁻ᵀ = (R⁻¹·Zᵀ)ᵀ
}

/** Splits the columns of a stack of matrices at `at`: `[..., :, :at]` and `[..., :, at:]`. */
function splitColumns(x: Tensor, at: number): [Tensor, Tensor] {
  const s = x.shape;
  const zeros = s.map(() => 0);
  const left = x.slice(zeros, [...s.slice(0, -1), at]);
  const right = x.slice([...zeros.slice(0, -1), at], [...s.slice(0, -1), s[s.length - 1]! - at]);
  return [left, right];
}

function matrixDims(shape: readonly number[]): [number, number] {
  return [shape[shape.length - 2]!, shape[shape.length - 1]!];
}

/** Splits a packed `[..., m·k + k·n]` tensor into `Q [..., m, k]` and `R [..., k, n]`. */
function unpackQR(packed: Tensor, m: number, n: number): [Tensor, Tensor] {
  const k = Math.min(m, n);
  const batch = packed.shape.slice(0, -1);
  const zeros = batch.map(() => 0);
  const q = packed.slice([...zeros, 0], [...batch, m * k]).reshape([...batch, m, k]);
  const r = packed.slice([...zeros, m * k], [...batch, k * n]).reshape([...batch, k, n]);
  return [q, r];
}

/** The inverse of {@link unpackQR}: both factors flattened per batch element, Q's entries first. */
function packQR(q: Tensor, r: Tensor): Tensor {
  const batch = q.shape.slice(0, -2);
  const [m, k] = matrixDims(q.shape);
  const n = r.shape[r.rank - 1]!;
  return concat([q.reshape([...batch, m * k]), r.reshape([...batch, k * n])], batch.length);
}

// ---------------------------------------------------------------------------------------------------
// Public functions

/** Validates a (stack of) float matrices, square when asked; names the op and the fix. */
function checkMatrix(op: string, name: string, x: unknown, square: boolean): Tensor {
  if (!(x instanceof Tensor)) {
    throw new TypeError(`${op}: ${name} must be a Tensor, got ${describe(x)}; wrap arrays with tensor(...)`);
  }
  if (x.rank < 2) {
    throw new RangeError(
      `${op}: ${name} must be a matrix or a stack of matrices [..., ${square ? "n, n" : "m, n"}], got shape ${fmt(x.shape)}` +
        (x.rank === 1 ? `; reshape a vector with .reshape([1, -1]) or .reshape([-1, 1])` : ""),
    );
  }
  const [m, n] = matrixDims(x.shape);
  if (square && m !== n) {
    throw new RangeError(
      `${op}: ${name} must be square in its last two axes, got ${fmt(x.shape)} (${m}×${n}); ` +
        `for a non-square system use least squares through qr`,
    );
  }
  if (x.dtype === "int32") {
    throw new TypeError(`${op}: ${name} is int32, but linear algebra needs float32 or float64; cast it first (x.cast('float64'))`);
  }
  return x;
}

/**
 * Validates and prepares the right-hand side of a solve: a vector `[n]` becomes a column, batch axes
 * broadcast, dtypes are promoted. Returns both operands with equal batch shapes.
 */
function prepareSystem(op: string, a: unknown, b: unknown): { a: Tensor; b: Tensor; vector: boolean } {
  const A = checkMatrix(op, "a", a, true);
  if (!(b instanceof Tensor)) {
    throw new TypeError(`${op}: b must be a Tensor, got ${describe(b)}; wrap arrays with tensor(...)`);
  }
  if (b.dtype === "int32") {
    throw new TypeError(`${op}: b is int32, but linear algebra needs float32 or float64; cast it first (b.cast('float64'))`);
  }
  if (b.rank === 0) {
    throw new RangeError(`${op}: b must be a vector [n] or a stack of matrices [..., n, k], got a scalar`);
  }
  const n = A.shape[A.rank - 1]!;
  const vector = b.rank === 1;
  let B = vector ? b.reshape([b.shape[0]!, 1]) : b;
  const rows = B.shape[B.rank - 2]!;
  if (rows !== n) {
    throw new RangeError(
      `${op}: a ${fmt(A.shape)} is ${n}×${n} but b ${fmt(b.shape)} has ${rows} ${vector ? "entries" : "rows"}; ` +
        `b must be [..., ${n}, k] (or a vector [${n}])`,
    );
  }
  const batch = batchShapeOf(A.shape, B.shape);
  if (batch === undefined) {
    throw new RangeError(
      `${op}: batch dimensions ${fmt(batchPart(A.shape))} of a ${fmt(A.shape)} and ${fmt(batchPart(B.shape))} of b ` +
        `${fmt(b.shape)} do not broadcast (each pair must be equal or one of them 1)`,
    );
  }
  let a2: Tensor = A;
  if (A.dtype !== B.dtype) {
    const dt = promote(A.dtype, B.dtype);
    if (A.dtype !== dt) a2 = A.cast(dt);
    if (B.dtype !== dt) B = B.cast(dt);
  }
  const k = B.shape[B.rank - 1]!;
  const aShape = [...batch, n, n];
  const bShape = [...batch, n, k];
  if (a2.rank !== aShape.length || a2.shape.some((d, i) => d !== aShape[i])) a2 = a2.broadcastTo(aShape);
  if (B.rank !== bShape.length || B.shape.some((d, i) => d !== bShape[i])) B = B.broadcastTo(bShape);
  return { a: a2, b: B, vector };
}

/** Turns a solution `[..., n, 1]` back into the vector shape the caller gave. */
function unColumn(x: Tensor, vector: boolean): Tensor {
  return vector ? x.reshape(x.shape.slice(0, -1)) : x;
}

/**
 * The Cholesky factorization `A = L·Lᵀ` of symmetric positive-definite matrices, batched over leading
 * axes. Returns the lower factor `L` (zeros above the diagonal).
 *
 * The input is symmetrized first, `(A + Aᵀ)/2`, as JAX does: a matrix that is symmetric up to rounding
 * factors as expected, and the derivative with respect to `A` is the symmetric one (a perturbation of
 * `A[i][j]` counts half through `A[j][i]`). Differentiable to any order (Murray 2016).
 *
 * @param a `[..., n, n]`, float32 or float64, symmetric positive definite.
 * @returns `L`, `[..., n, n]`, lower triangular with a positive diagonal.
 * @throws RangeError naming the batch index and pivot when a matrix is not positive definite.
 * @example
 * ```ts
 * const a = tensor([[4, 2], [2, 3]], { dtype: "float64" });
 * const l = cholesky(a);
 * l.toArray();                      // [[2, 0], [1, 1.4142135623730951]]
 * matmul(l, l.transpose()); // [[4, 2], [2, 3]]
 * ```
 * @category Linear algebra
 */
export function cholesky(a: Tensor): Tensor {
  const op = "cholesky";
  const x = checkMatrix(op, "a", a, true);
  return bind(choleskyP, [x.add(mT(x)).mul(0.5)], { op });
}

/**
 * Options of {@link triangularSolve}.
 * @category Linear algebra
 */
export interface TriangularSolveOptions {
  /** Read the lower triangle of `a` (default `true`); `false` reads the upper one. The other is ignored. */
  lower?: boolean;
  /** Solve `aᵀ·x = b` instead of `a·x = b` (default `false`). */
  transpose?: boolean;
}

/**
 * Solves `A·X = B` (or `Aᵀ·X = B` with `transpose`) for triangular `A` by substitution, batched over
 * leading axes that broadcast. Only the triangle chosen by `lower` (default: the lower one) is read;
 * entries of the other triangle are ignored, so the factor from {@link cholesky} or the `r` of {@link qr}
 * can be passed as they are. Differentiable in both operands to any order (the derivative with respect
 * to `A` lies on the triangle that is read).
 *
 * @param a `[..., n, n]` triangular, float32 or float64, with a non-zero diagonal.
 * @param b `[..., n, k]`, or a vector `[n]`.
 * @param options `lower` (default `true`), `transpose` (default `false`).
 * @returns `X` of shape `[...batch, n, k]` (or `[...batch, n]` for a vector `b`).
 * @example
 * ```ts
 * const l = tensor([[2, 0], [1, 1]], { dtype: "float64" });
 * triangularSolve(l, tensor([2, 3], { dtype: "float64" })).toArray();                      // [1, 2]
 * triangularSolve(l, tensor([2, 3], { dtype: "float64" }), { transpose: true }).toArray(); // [-0.5, 3]
 * ```
 * @category Linear algebra
 */
export function triangularSolve(a: Tensor, b: Tensor, options?: TriangularSolveOptions): Tensor {
  const op = "triangularSolve";
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError(`${op}: options must be an object such as { lower: true, transpose: false }, got ${JSON.stringify(options)}`);
  }
  const lower = options?.lower ?? true;
  const transpose = options?.transpose ?? false;
  if (typeof lower !== "boolean" || typeof transpose !== "boolean") {
    throw new TypeError(`${op}: options.lower and options.transpose must be booleans, got ${JSON.stringify(options)}`);
  }
  const sys = prepareSystem(op, a, b);
  return unColumn(bind(triangularSolveP, [sys.a, sys.b], { op, lower, transpose }), sys.vector);
}

/**
 * Solves the linear system `A·X = B` for square `A`, by LU factorization with partial pivoting, batched
 * over leading axes that broadcast (NumPy's `solve` semantics). Differentiable in both operands to any
 * order: `B̄ = A⁻ᵀ·X̄`, `Ā = −B̄·Xᵀ`.
 *
 * @param a `[..., n, n]`, float32 or float64, invertible.
 * @param b `[..., n, k]`, or a vector `[n]`.
 * @returns `X` of shape `[...batch, n, k]` (or `[...batch, n]` for a vector `b`).
 * @throws RangeError naming the batch index when a matrix is singular (a pivot below `n·ε·max|A|`).
 * @example
 * ```ts
 * const a = tensor([[3, 1], [1, 2]], { dtype: "float64" });
 * solve(a, tensor([9, 8], { dtype: "float64" })).toArray(); // [2, 3]
 * ```
 * @category Linear algebra
 */
export function solve(a: Tensor, b: Tensor): Tensor {
  const op = "solve";
  const sys = prepareSystem(op, a, b);
  return unColumn(bind(solveP, [sys.a, sys.b], { op }), sys.vector);
}

/**
 * The inverse of square matrices, batched over leading axes: `solve(a, I)`. Prefer {@link solve} for
 * `A⁻¹·b` (cheaper and more accurate). Differentiable to any order: `Ā = −A⁻ᵀ·C̄·A⁻ᵀ`.
 *
 * @param a `[..., n, n]`, float32 or float64, invertible.
 * @returns `[..., n, n]`.
 * @throws RangeError naming the batch index when a matrix is singular.
 * @example
 * ```ts
 * inverse(tensor([[2, 0], [0, 4]], { dtype: "float64" })).toArray(); // [[0.5, 0], [0, 0.25]]
 * ```
 * @category Linear algebra
 */
export function inverse(a: Tensor): Tensor {
  const op = "inverse";
  const x = checkMatrix(op, "a", a, true);
  const n = x.shape[x.rank - 1]!;
  return bind(solveP, [x, identity(n, x.dtype).broadcastTo(x.shape)], { op });
}

/**
 * The determinant of square matrices, batched over leading axes, by LU factorization with partial
 * pivoting (a singular matrix gives 0, one holding NaN or ±Infinity gives NaN). Differentiable to any
 * order where the matrix is invertible (Jacobi's formula, `Ā = c̄·det(A)·A⁻ᵀ`); at a singular matrix the
 * derivative (the adjugate) is not supported yet and is an error. For large matrices prefer {@link logDet}, which does not overflow.
 *
 * @param a `[..., n, n]`, float32 or float64.
 * @returns `[...]`, one determinant per matrix (a scalar for a single matrix).
 * @example
 * ```ts
 * det(tensor([[1, 2], [3, 4]], { dtype: "float64" })).item(); // -2
 * ```
 * @category Linear algebra
 */
export function det(a: Tensor): Tensor {
  const op = "det";
  const x = checkMatrix(op, "a", a, true);
  return bind(determinantP, [x], { op, logAbs: false });
}

/**
 * The logarithm of the absolute value of the determinant, `log|det A|`, batched over leading axes,
 * computed from the LU factorization without overflow. The sign is dropped: for the symmetric
 * positive-definite matrices where a log-determinant usually appears (Gaussian likelihoods) it is +1,
 * and in general it is `det(a).sign()`. A singular matrix gives `-Infinity`, one holding NaN or ±Infinity
 * gives NaN. Differentiable to any order where the matrix is invertible: `Ā = c̄·A⁻ᵀ`.
 *
 * @param a `[..., n, n]`, float32 or float64.
 * @returns `[...]`, one `log|det|` per matrix.
 * @example
 * ```ts
 * // log |2 · (-3)| = log 6
 * logDet(tensor([[2, 0], [0, -3]], { dtype: "float64" })).item(); // 1.7917595
 * ```
 * @category Linear algebra
 */
export function logDet(a: Tensor): Tensor {
  const op = "logDet";
  const x = checkMatrix(op, "a", a, true);
  return bind(determinantP, [x], { op, logAbs: true });
}

/**
 * The factors returned by {@link qr}.
 * @category Linear algebra
 */
export interface QRResult {
  /** `[..., m, k]` with orthonormal columns, `k = min(m, n)`. */
  readonly q: Tensor;
  /** `[..., k, n]`, upper triangular with a non-negative diagonal. */
  readonly r: Tensor;
}

/**
 * The reduced QR decomposition `A = Q·R` by Householder reflections, batched over leading axes: for an
 * `m × n` matrix, `q` is `m × k` with orthonormal columns and `r` is `k × n` upper triangular, with
 * `k = min(m, n)`. Sign convention: the diagonal of `r` is non-negative (LAPACK leaves its signs to the
 * reflections; fixing them makes the factorization of a full-rank matrix unique and its derivative
 * well defined). Differentiable to any order where the leading `min(m, n)` columns have full rank (tall,
 * square and wide matrices alike).
 *
 * @param a `[..., m, n]`, float32 or float64.
 * @returns `{ q: [..., m, k], r: [..., k, n] }`.
 * @example
 * ```ts
 * const { q, r } = qr(tensor([[3, 1], [4, 2]], { dtype: "float64" }));
 * r; // [[5, 2.2], [0, 0.4]]
 * matmul(q, r); // [[3, 1], [4, 2]]
 * ```
 * @category Linear algebra
 */
export function qr(a: Tensor): QRResult {
  const op = "qr";
  const x = checkMatrix(op, "a", a, false);
  const [m, n] = matrixDims(x.shape);
  const [q, r] = unpackQR(bind(qrP, [x], { op }), m, n);
  return { q, r };
}
