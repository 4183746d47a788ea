/**
 * Human-readable rendering of tensors, used by `Tensor.toString()`.
 *
 * The layout follows NumPy's printer: a header with shape and dtype, then nested brackets, rows aligned
 * in columns, blank lines between blocks of rank 3 and more, and `...` in place of the middle of any axis
 * longer than {@link EDGE_ITEMS}·2 once the tensor has more than {@link ELIDE_ABOVE} elements.
 */
import type { Tensor } from "./tensor.js";
import type { TypedArray } from "./dtype.js";
import { stridesOf } from "./shape.js";

/** Tensors with more elements than this are shown elided. */
const ELIDE_ABOVE = 64;
/** Items kept at each end of a long axis when eliding. */
const EDGE_ITEMS = 3;
/** Digits after the decimal point for floats. */
const PRECISION = 4;

/** The indices shown along an axis of length `n`: all, or the first and last few with a gap (-1). */
function shownIndices(n: number, elide: boolean): number[] {
  if (!elide || n <= 2 * EDGE_ITEMS) return Array.from({ length: n }, (_, i) => i);
  const head = Array.from({ length: EDGE_ITEMS }, (_, i) => i);
  const tail = Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i);
  return [...head, -1, ...tail];
}

/** Collects the flat offsets of the elements that will be displayed (for choosing a number format). */
function collectShown(shape: readonly number[], strides: readonly number[], elide: boolean): number[] {
  const out: number[] = [];
  const walk = (d: number, off: number): void => {
    if (d === shape.length) {
      out.push(off);
      return;
    }
    for (const i of shownIndices(shape[d]!, elide)) if (i >= 0) walk(d + 1, off + i * strides[d]!);
  };
  walk(0, 0);
  return out;
}

/** Builds the formatter shared by every element shown, so that columns line up. */
function numberFormat(values: TypedArray, offsets: readonly number[], isInt: boolean): (v: number) => string {
  if (isInt) return (v) => String(v);
  let maxAbs = 0;
  let minAbs = Infinity;
  for (const o of offsets) {
    const a = Math.abs(values[o]!);
    if (!Number.isFinite(a)) continue;
    if (a > maxAbs) maxAbs = a;
    if (a !== 0 && a < minAbs) minAbs = a;
  }
  const scientific = maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity);
  return (v) => {
    if (Number.isNaN(v)) return "NaN";
    if (v === Infinity) return "Inf";
    if (v === -Infinity) return "-Inf";
    return scientific ? v.toExponential(PRECISION) : v.toFixed(PRECISION);
  };
}

/**
 * Renders a tensor: `Tensor([2,3] float32)` followed by its values, nested like `toArray()`. A traced
 * tensor (inside a differential operator) says so, and shows the values it stands for.
 *
 * @param t any tensor, concrete or traced.
 * @returns a multi-line string for rank 2 and above, a single line otherwise.
 * @example
 * ```ts
 * // `String(t)`, `t.toString()` and Node's `console.log(t)` all show this.
 * String(tensor([[1, 2], [3, 4]])); // "Tensor([2,2] float32)\n[[1.0000, 2.0000],\n [3.0000, 4.0000]]"
 * ```
 */
export function formatTensor(t: Tensor): string {
  const shape = t.shape;
  const header = `Tensor(${"[" + shape.join(",") + "]"} ${t.dtype}${t._data === undefined ? ", traced" : ""})`;
  const values = t._values;
  const size = values.length;
  const elide = size > ELIDE_ABOVE;
  const strides = stridesOf(shape);
  const fmt = numberFormat(values, collectShown(shape, strides, elide), t.dtype === "int32");

  // Width of the widest shown element, so every column is right-aligned.
  let width = 0;
  for (const o of collectShown(shape, strides, elide)) width = Math.max(width, fmt(values[o]!).length);
  const cell = (v: number): string => fmt(v).padStart(width);

  const render = (d: number, off: number, indent: string): string => {
    if (d === shape.length) return cell(values[off]!);
    const idx = shownIndices(shape[d]!, elide);
    if (d === shape.length - 1) {
      return "[" + idx.map((i) => (i < 0 ? "..." : cell(values[off + i * strides[d]!]!))).join(", ") + "]";
    }
    // Rows of a matrix are separated by one newline; blocks of higher rank by blank lines.
    const sep = "," + "\n".repeat(shape.length - d - 1) + indent + " ";
    const parts = idx.map((i) => (i < 0 ? "..." : render(d + 1, off + i * strides[d]!, indent + " ")));
    return "[" + parts.join(sep) + "]";
  };

  const body = render(0, 0, "");
  return shape.length >= 2 ? `${header}\n${body}` : `${header} ${body}`;
}
