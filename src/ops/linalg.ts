/**
 * Linear algebra: the matrix product and its derivative rules.
 *
 * One primitive, `matmul`, carries transpose flags: `op(A) · op(B)` with `op` the identity or the
 * transpose. The public {@link matmul} always multiplies untransposed operands; the flags exist for the
 * rules, so that the cotangent of `A·B`, which is `Ċ·Bᵀ` and `Aᵀ·Ċ`, runs through the same fast kernel
 * without a transpose being copied out (the cost that makes tfjs' backward passes 14× slower than its
 * forward ones).
 */
import { Tensor } from "../tensor/tensor.js";
import { allocate, promote } from "../tensor/dtype.js";
import { fmt } from "../tensor/shape.js";
import { fromTyped } from "../tensor/creation.js";
import { backend } from "../tensor/backend.js";
import { definePrimitive } from "../autodiff/primitive.js";
import { bind } from "../autodiff/trace.js";

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
 * matmul(ones([2, 3]), ones([3, 4])).shape;        // [2, 4], every element 3
 * matmul(ones([5, 2, 3]), ones([3, 4])).shape;     // [5, 2, 4]: the matrix is shared by the batch
 * matmul(tensor([1, 2]), tensor([3, 4])).item();   // 11
 * ```
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
