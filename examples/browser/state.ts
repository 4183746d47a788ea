/**
 * The page's state as the outside reads it, in a module without DOM code so that the browser test can
 * import its type.
 */
import type { OnnxComparison } from "./onnx.js";

/** What the page shows, readable from the outside (the browser test polls it). */
export interface DemoState {
  seed: number;
  steps: number;
  step: number;
  losses: number[];
  accuracy: number;
  /** Times the page drew while training was still going: each one a yield to the event loop. */
  renders: number;
  done: boolean;
  error: string | undefined;
  /** The trained model exported and run in ONNX Runtime Web, once that finished (after `done`). */
  onnx: OnnxComparison | undefined;
  /** Why the ONNX export or ONNX Runtime Web failed, if it did. */
  onnxError: string | undefined;
}
