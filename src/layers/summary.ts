/**
 * `summary(model, inputShape)`: a table of a model's layers, their output shapes and parameter counts,
 * found by running the model once on zeros (Keras's `model.summary()`, Swift's `summary(input:)`).
 */
import { Tensor } from "../tensor/tensor.js";
import { zeros } from "../tensor/creation.js";
import type { DType } from "../tensor/dtype.js";
import { foldLeaves, leavesOf, tieGroups, walk, type Segment } from "../keypaths/walk.js";
import { NoDerivative } from "../protocols/differentiable.js";
import { Layer } from "./layer.js";
import { withLearningPhase } from "./phase.js";

/**
 * Options of {@link summary}.
 * @category Layers
 */
export interface SummaryOptions {
  /** The dtype of the zeros fed to the model (default `'float32'`; `'int32'` for an `Embedding` input). */
  dtype?: DType;
}

interface Node {
  readonly path: string;
  readonly depth: number;
  readonly layer: Layer<unknown, unknown>;
}

/**
 * Every layer reachable through stored properties (also inside arrays, records and containers that list
 * their own children), before the layers inside it; a layer reached twice is listed once.
 */
function layersOf(root: Layer<unknown, unknown>): Node[] {
  const out: Node[] = [];
  const note = (v: unknown, path: readonly Segment[]): void => {
    if (!(v instanceof Layer)) return;
    // The depth is the number of layers above this one on its path.
    let depth = 0;
    let o: unknown = root;
    for (const k of path) {
      if (o instanceof Layer) depth++;
      o = (o as Record<Segment, unknown>)[k];
    }
    out.push({ path: path.join(".") || "(model)", depth, layer: v as Layer<unknown, unknown> });
  };
  // A layer with stored properties is a container; one without (a pooling layer, Flatten) is a leaf.
  walk<void>("summary", "stored", root, { leaf: (v, path) => note(v, path), enter: (_kind, v, _keys, path) => note(v, path) }, { shared: true });
  return out;
}

/** A layer's output as its shapes: `[1, 10]`, or the same inside arrays and records. */
function describeOutput(v: unknown): string {
  try {
    return walk<string>("summary", "stored", v, {
      leaf: (x) => (x instanceof Tensor ? `[${x.shape.join(", ")}]` : typeof x),
      node(kind, _x, keys, results, _c, path) {
        if (path.length >= 3) return "…";
        return kind === "array" ? `[${results.join(", ")}]` : `{ ${keys.map((k, j) => `${String(k)}: ${results[j]!}`).join(", ")} }`;
      },
    });
  } catch {
    return "(an output of another kind)";
  }
}

/** The number of parameters of `x`: elements of its differentiable leaves, a tied tensor counted once. */
function countParameters(x: object): number {
  const leaves = leavesOf("summary", x);
  let n = 0;
  for (const group of tieGroups(leaves)) n += leaves[group[0]!]!.value.size;
  return n;
}

/** The number of elements of the tensors held in `NoDerivative` boxes below `x`, each box counted once. */
function countState(x: object): number {
  return foldLeaves("summary", "stored", x, 0, (n, v) => n + (v instanceof NoDerivative && v.value instanceof Tensor ? v.value.size : 0), { shared: true });
}

/**
 * A table of the model's layers (every layer reachable through stored properties, including containers
 * that list their own children; nested ones indented; a shared layer once), each with its output shape for an input of `inputShape` and its number of parameters
 * (including its sub-layers'), followed by the totals. The model runs once, in the inference phase, on
 * zeros; it is not changed.
 *
 * @param model any layer.
 * @param inputShape the input's shape, batch included, e.g. `[1, 28, 28, 1]`.
 * @param options the input's dtype.
 * @returns the table as text.
 * @example
 * ```ts
 * const model = new Sequential(
 *   new Conv2D({ filterShape: [3, 3, 1, 8], padding: "same", activation: relu, seed: 0 }),
 *   new MaxPool2D({ poolSize: 2 }),
 *   new Flatten(),
 *   new Dense({ inputSize: 14 * 14 * 8, outputSize: 10, seed: 1 }),
 * );
 * const table = summary(model, [1, 28, 28, 1]);
 * console.log(table);
 * // Layer       Type        Output shape    Parameters
 * // --------------------------------------------------
 * // (model)     Sequential  [1, 10]             15,770
 * //   layers.0  Conv2D      [1, 28, 28, 8]          80
 * // …
 * table.split("\n").at(-2); // "Trainable parameters: 15,770"
 * ```
 * @category Layers
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
