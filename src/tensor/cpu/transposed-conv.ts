/*
 * A stride-1 convolution's input gradient as a forward convolution of `dy` (the adjoint written as
 * the op itself): by the filter flipped in space with its channel axes swapped,
 * `W'[fh-1-ky, fw-1-kx, co, ci] = W[ky, kx, ci, co]`, over the "full" padding `(f-1)·d - pad`. Shared by the
 * TypeScript and the wasm kernels.
 */
import type { TypedArray } from "../dtype.js";
import type { ConvGeometry } from "./conv.js";

/** @internal Writes the flipped, channel-swapped filter `W'` of `filter` (geometry `g`) into `out` (same length). */
export function flipFilter(filter: TypedArray, g: ConvGeometry, out: TypedArray): void {
  const { cin, cout, fh, fw } = g;
  for (let ky = 0; ky < fh; ky++) {
    for (let kx = 0; kx < fw; kx++) {
      const src = ((fh - 1 - ky) * fw + (fw - 1 - kx)) * cin * cout;
      const dst = (ky * fw + kx) * cout * cin;
      for (let ci = 0; ci < cin; ci++) {
        for (let co = 0; co < cout; co++) out[dst + co * cin + ci] = filter[src + ci * cout + co]!;
      }
    }
  }
}

/** @internal The geometry of the forward convolution of `dy` by `W'` whose output is the input gradient of `g` (stride 1). */
export function transposedGeometry(g: ConvGeometry): ConvGeometry {
  const { n, h, w, cin, oh, ow, cout, fh, fw, dilationH, dilationW, padTop, padLeft } = g;
  return {
    n, h: oh, w: ow, cin: cout, oh: h, ow: w, cout: cin, fh, fw, strideH: 1, strideW: 1, dilationH, dilationW,
    padTop: (fh - 1) * dilationH - padTop,
    padLeft: (fw - 1) * dilationW - padLeft,
  };
}
