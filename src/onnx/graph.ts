/**
 * The program an exporter writes: a graph of primitive applications.
 *
 * This is the small interface between what produces a program (`record.ts`, from a staged trace) and the
 * ONNX writer. A value is a numbered variable with a dtype and a shape;
 * every equation applies one primitive, by its name and params, to variables and gives one variable.
 */
import type { DType } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";

/** @internal A value of the program. */
export interface GraphVar {
  readonly id: number;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** @internal One primitive application: `output = primitive(inputs; params)`. */
export interface GraphEquation {
  readonly primitive: string;
  readonly params: unknown;
  readonly inputs: readonly GraphVar[];
  readonly output: GraphVar;
}

/**
 * @internal A constant of the program: a parameter of the model (with its key path), or a tensor the
 * function captured or created (no path).
 */
export interface GraphConstant {
  readonly variable: GraphVar;
  readonly value: Tensor;
  /** The key path of a model parameter (`layers.0.weight`); undefined for other constants. */
  readonly path: string | undefined;
}

/** @internal A whole program: inputs in argument order, equations in execution order, outputs. */
export interface PrimitiveGraph {
  readonly inputs: readonly GraphVar[];
  readonly constants: readonly GraphConstant[];
  readonly equations: readonly GraphEquation[];
  readonly outputs: readonly GraphVar[];
}
