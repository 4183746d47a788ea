/**
 * `summary(model, inputShape)`: a table of a model's layers, their output shapes and parameter counts,
 * found by running the model once on zeros (Keras's `model.summary()`, Swift's `summary(input:)`).
 */
import { Tensor } from "../tensor/tensor.js";
import { zeros } from "../tensor/creation.js";
import type { DType } from "../tensor/dtype.js";
import { storedProperties } from "../keypaths/decorators.js";
import { leavesOf } from "../keypaths/walk.js";
import { NoDerivative } from "../protocols/differentiable.js";
import { Layer } from "./layer.js";
import { withLearningPhase } from "./phase.js";

/** Options of {@link summary}. */
export interface SummaryOptions {
  /** The dtype of the zeros fed to the model (default `'float32'`; `'int32'` for an `Embedding` input). */
  dtype?: DType;
}

interface Node {
  readonly path: string;
  readonly depth: number;
  readonly layer: Layer<unknown, unknown>;
}

function layersOf(root: Layer<unknown, unknown>): Node[] {
  const out: Node[] = [];
  const seen = new Set<object>();
  const visit = (v: unknown, path: string[], depth: number): void => {
    if (v === null || typeof v !== "object" || v instanceof Tensor || v instanceof NoDerivative) return;
    if (Array.isArray(v)) {
      v.forEach((e, i) => visit(e, [...path, String(i)], depth));
      return;
    }
    let d = depth;
    if (v instanceof Layer) {
      if (seen.has(v)) return;
      seen.add(v);
      out.push({ path: path.join(".") || "(model)", depth, layer: v as Layer<unknown, unknown> });
      d = depth + 1;
    }
    const isPlain = Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null;
    const keys = isPlain ? Object.keys(v) : storedProperties(v).filter((p) => p.kind === "differentiable").map((p) => p.name);
    for (const k of keys) visit((v as Record<string, unknown>)[k], [...path, k], d);
  };
  visit(root, [], 0);
  return out;
}

function describeOutput(v: unknown, depth = 0): string {
  if (v instanceof Tensor) return `[${v.shape.join(", ")}]`;
  if (depth > 3) return "…";
  if (Array.isArray(v)) return `[${v.map((e) => describeOutput(e, depth + 1)).join(", ")}]`;
  if (v !== null && typeof v === "object") {
    return `{ ${Object.entries(v).map(([k, e]) => `${k}: ${describeOutput(e, depth + 1)}`).join(", ")} }`;
  }
  return typeof v;
}

function countParameters(x: object): number {
  let n = 0;
  for (const l of leavesOf("summary", x)) n += l.value.size;
  return n;
}

function countState(x: unknown, seen = new Set<object>()): number {
  if (x === null || typeof x !== "object" || seen.has(x)) return 0;
  seen.add(x);
  if (x instanceof NoDerivative) return x.value instanceof Tensor ? x.value.size : 0;
  if (x instanceof Tensor) return 0;
  if (Array.isArray(x)) return x.reduce((s: number, e) => s + countState(e, seen), 0);
  let n = 0;
  const isPlain = Object.getPrototypeOf(x) === Object.prototype || Object.getPrototypeOf(x) === null;
  const keys = isPlain ? Object.keys(x) : storedProperties(x).map((p) => p.name);
  for (const k of keys) n += countState((x as Record<string, unknown>)[k], seen);
  return n;
}

/**
 * A table of the model's layers (every layer reachable through differentiable stored properties, nested
 * ones indented), each with its output shape for an input of `inputShape` and its number of parameters
 * (including its sub-layers'), followed by the totals. The model runs once, in the inference phase, on
 * zeros; it is not changed.
 *
 * @param model any layer.
 * @param inputShape the input's shape, batch included, e.g. `[1, 28, 28, 1]`.
 * @param options the input's dtype.
 * @returns the table as text.
 * @example
 * ```ts
 * console.log(summary(model, [1, 28, 28, 1]));
 * // Layer                 Type        Output shape     Parameters
 * // (model)               Sequential  [1, 10]          …
 * //   layers.0            Conv2D      [1, 28, 28, 8]   80
 * ```
 */
export function summary<I, O>(model: Layer<I, O>, inputShape: readonly number[], options: SummaryOptions = {}): string {
  if (!(model instanceof Layer)) throw new TypeError("summary: the model must be a Layer");
  const nodes = layersOf(model);
  const shapes = new Map<object, string>();
  const patched: Layer<unknown, unknown>[] = [];
  try {
    for (const { layer } of nodes) {
      const original = Object.getPrototypeOf(layer) as { callAsFunction: (this: Layer<unknown, unknown>, input: unknown) => unknown };
      Object.defineProperty(layer, "callAsFunction", {
        configurable: true,
        enumerable: false,
        writable: true,
        value(this: Layer<unknown, unknown>, input: unknown): unknown {
          const out = original.callAsFunction.call(this, input);
          shapes.set(layer, describeOutput(out));
          return out;
        },
      });
      patched.push(layer);
    }
    const input = zeros(inputShape, { dtype: options.dtype ?? "float32" });
    withLearningPhase("inference", () => model.callAsFunction(input as I));
  } finally {
    for (const layer of patched) delete (layer as unknown as Record<string, unknown>).callAsFunction;
  }
  const rows = nodes.map((n) => [
    "  ".repeat(n.depth) + n.path,
    n.layer.constructor.name,
    shapes.get(n.layer) ?? "(not called)",
    countParameters(n.layer).toLocaleString("en-US"),
  ]);
  const header = ["Layer", "Type", "Output shape", "Parameters"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  const rule = "-".repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1));
  const total = countParameters(model);
  const state = countState(model);
  return [
    line(header),
    rule,
    ...rows.map(line),
    rule,
    `Trainable parameters: ${total.toLocaleString("en-US")}`,
    `Non-trainable state (NoDerivative tensors): ${state.toLocaleString("en-US")}`,
  ].join("\n");
}
