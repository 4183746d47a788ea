/** @internal Shape arithmetic shared by every op: validation, sizes, strides, broadcasting, axes. */

/** @internal Formats a shape the way every error message prints it: `[2,3]`. */
export function fmt(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/**
 * @internal Checks that `shape` is a list of non-negative integers with at most {@link MAX_TENSOR_SIZE}
 * elements in all, and returns a frozen copy.
 */
export function checkShape(op: string, shape: unknown): readonly number[] {
  if (!Array.isArray(shape)) {
    throw new TypeError(`${op}: a shape must be an array of non-negative integers, got ${String(shape)}`);
  }
  for (const d of shape as unknown[]) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) {
      throw new RangeError(
        `${op}: invalid shape ${JSON.stringify(shape)}: every dimension must be a non-negative integer`,
      );
    }
  }
  checkSize(op, shape as number[]);
  return Object.freeze((shape as number[]).slice());
}

/**
 * The largest number of elements a tensor may hold: 2³¹ − 1. Kernels index elements with int32 offsets,
 * and a JavaScript engine caps typed arrays near this size anyway (memory usually runs out first: a
 * float32 tensor of this size takes 8 GiB). Creating a larger tensor is an error naming the shape.
 * @category Tensors
 */
export const MAX_TENSOR_SIZE = 2147483647;

/**
 * @internal Checks that a tensor of `shape` stays within {@link MAX_TENSOR_SIZE} elements, naming the op
 * and the shape otherwise; returns the size.
 */
export function checkSize(op: string, shape: readonly number[]): number {
  const n = sizeOf(shape);
  if (n > MAX_TENSOR_SIZE) {
    throw new RangeError(
      `${op}: shape ${fmt(shape)} has ${n} elements, more than a tensor can hold (${MAX_TENSOR_SIZE}, 2^31 - 1); ` +
        `use smaller dimensions or split the data into several tensors`,
    );
  }
  return n;
}

/** @internal The number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

/** @internal Row-major strides of a contiguous array of this shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** @internal True when both shapes have the same rank and dimensions. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * @internal NumPy broadcasting: aligns shapes on the right; each pair of dimensions must be equal or
 * one of them 1.
 */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): readonly number[] {
  if (sameShape(a, b)) return a;
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else {
      throw new RangeError(
        `${op}: cannot broadcast ${fmt(a)} with ${fmt(b)} (dimension ${i - rank} is ${da} vs ${db}; ` +
          `each pair must be equal or one of them 1)`,
      );
    }
  }
  return out;
}

/**
 * @internal Normalises an axis list for a tensor of `rank`: negative axes count from the end, `undefined`
 * means every axis. Rejects duplicates and axes out of range. Returns sorted axes.
 */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === "number" ? [axes] : axes;
  const out: number[] = [];
  for (const a of list) {
    out.push(normalizeAxis(op, a, rank));
  }
  out.sort((x, y) => x - y);
  for (let i = 1; i < out.length; i++) {
    if (out[i] === out[i - 1]) throw new RangeError(`${op}: axis ${out[i]} is listed twice in ${JSON.stringify(axes)}`);
  }
  return out;
}

/** @internal Normalises one axis (negative counts from the end) for a tensor of `rank`. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new RangeError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank} (valid: ${-rank} to ${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}
