// Entry of the WebAssembly SIMD128 kernels module: every export the TypeScript side calls. The module
// imports its memory (`env.memory`), so that worker threads can run the same code on the same memory.
// Build: `npm run build:wasm` (scripts/build-wasm.mjs) regenerates src/tensor/wasm/kernels-binary.ts.
export { workspaceBytes, sgemm, sgemmPart } from "./gemm";
export { binaryRows, whereF32, unaryF32, reduceRows, reduceColumns, argRows, argColumns, maxPool2x2Argmax } from "./elementwise";
export { adamF32, adamStepF32, momentumStepF32, scaledAddF32, firstNonFiniteF32 } from "./optimizer";
export { conv2dPart, conv2dFilterPart, conv2dInputPart, packFilterPanels } from "./conv";
