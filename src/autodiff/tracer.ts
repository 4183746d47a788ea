import { Tensor } from "../tensor/tensor.js";
import type { Trace } from "./trace.js";

/**
 * @internal A tensor as one level of interpretation sees it: the user holds it as a `Tensor` (it has every
 * member, so code never tells it apart), while the engine reads its level and the per-level state of the
 * subclass. Everything a tracer carries lives here, outside `Tensor`.
 *
 * A tracer holds its level and, for the derivative levels, the value it stands for one level down
 * (`_primal`, itself possibly a tracer of a lower level). A tracer that outlives its level is read through
 * `_primal` (see `settled`); a level drops its recording when it closes, so such a tracer holds its value
 * and nothing more.
 */
export abstract class Tracer extends Tensor {
  /** The level this tracer belongs to. */
  readonly _trace: Trace;
  /** The value one level down; `undefined` for a tracer that has no value (a staged program's variable). */
  abstract readonly _primal: Tensor | undefined;

  constructor(trace: Trace, shape: readonly number[], dtype: Tensor["dtype"]) {
    super(shape, dtype, undefined);
    this._trace = trace;
  }

  override get _concrete(): Tensor {
    const p = this._primal;
    if (p === undefined) {
      throw new TypeError(
        `this tensor [${this.shape.join(",")}] ${this.dtype} is a placeholder while a function is being staged and has no values yet; ` +
          `read values (item, toArray, dataSync) outside the staged function`,
      );
    }
    return p._concrete;
  }
}

/**
 * @internal A tracer of a derivative level: it always stands for a value (`_primal`), on which the level
 * adds a tangent (forward mode) or a tape node (reverse mode).
 */
export abstract class PrimalTracer extends Tracer {
  constructor(
    trace: Trace,
    readonly _primal: Tensor,
  ) {
    super(trace, _primal.shape, _primal.dtype);
  }
}
