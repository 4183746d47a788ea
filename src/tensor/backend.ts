import type { ElementwiseKernels } from "./cpu/elementwise.js";
import type { ReduceKernels } from "./cpu/reduce.js";
import type { LinalgKernels } from "./cpu/linalg.js";
import type { ConvKernels } from "./cpu/conv.js";
import type { MovementKernels } from "./cpu/movement.js";
import type { DecompositionKernels } from "./cpu/decompositions.js";
import type { Conv3DKernels } from "./cpu/conv3d.js";
import type { Pool3DKernels } from "./cpu/pool.js";
import type { SpecialKernels } from "./cpu/special.js";
import { cpuElementwise } from "./cpu/elementwise.js";
import { cpuReduce } from "./cpu/reduce.js";
import { cpuLinalg } from "./cpu/linalg.js";
import { cpuConv } from "./cpu/conv.js";
import { cpuMovement } from "./cpu/movement.js";
import { cpuDecompositions } from "./cpu/decompositions.js";
import { cpuConv3d } from "./cpu/conv3d.js";
import { cpuPool3d } from "./cpu/pool.js";
import { cpuSpecial } from "./cpu/special.js";

/**
 * @internal Every kernel the ops call, in one interface. Kernels work on typed arrays and shapes only
 * (no Tensor, no tracing): a primitive's `impl` validates, allocates the output and calls one kernel.
 * Each family declares its part next to its CPU implementation; another backend (WebAssembly SIMD)
 * implements the same interface and is swapped in with {@link setBackend}.
 */
export interface Backend extends ElementwiseKernels, ReduceKernels, LinalgKernels, ConvKernels, MovementKernels,
    DecompositionKernels, Conv3DKernels, Pool3DKernels, SpecialKernels {
  readonly name: string;
}

/** @internal The pure TypeScript backend. */
export const cpuBackend: Backend = {
  name: "cpu",
  ...cpuElementwise,
  ...cpuReduce,
  ...cpuLinalg,
  ...cpuConv,
  ...cpuMovement,
  ...cpuDecompositions,
  ...cpuConv3d,
  ...cpuPool3d,
  ...cpuSpecial,
};

let current: Backend = cpuBackend;

/** @internal The backend kernels run on. */
export function backend(): Backend {
  return current;
}

/** @internal Replaces the backend (for a faster one, or a test double). Returns the previous one. */
export function setBackend(b: Backend): Backend {
  const prev = current;
  current = b;
  return prev;
}
