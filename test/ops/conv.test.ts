import { describe, expect, it } from "vitest";
import {
  avgPool2d,
  conv1d,
  conv2d,
  conv2dBackpropFilter,
  conv2dBackpropInput,
  conv2dTranspose,
  depthwiseConv2d,
  derivative,
  gradient,
  maxPool2d,
  pullback,
  tensor,
  type Conv2DOptions,
  type DType,
  type Pool2DOptions,
  type Tensor,
} from "../../src/index.js";
import {
  avgPool1d,
  avgPool3d,
  conv3d,
  conv3dBackpropFilter,
  conv3dBackpropInput,
  depthwiseConv2dBackpropFilter,
  depthwiseConv2dBackpropInput,
  maxPool1d,
  maxPool3d,
  type Conv3DOptions,
  type Pool3DOptions,
} from "../../src/ops/conv.js";
import { rng } from "../helpers/rows.js";
import { cpuConv, type ConvGeometry, type PoolGeometry } from "../../src/tensor/cpu/conv.js";
import { setWasmGemmEnabled } from "../../src/tensor/wasm/gemm.js";

// ---------------------------------------------------------------------------------------------------
// Reference implementations, written from the definitions with plain loops.

function values(shape: readonly number[], seed: number, real = false): number[] {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, () => (real ? r() * 2 - 1 : Math.floor(r() * 7) - 3));
}

interface Geo {
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pb: number;
  pl: number;
  pr: number;
  oh: number;
  ow: number;
}

/** Resolves options the way TensorFlow documents them. */
function geo(h: number, w: number, fh: number, fw: number, o: Conv2DOptions = {}): Geo {
  const pair = (v: number | readonly [number, number] | undefined): [number, number] =>
    v === undefined ? [1, 1] : typeof v === "number" ? [v, v] : [v[0], v[1]];
  const [sh, sw] = pair(o.strides);
  const [dh, dw] = pair(o.dilations);
  const eh = (fh - 1) * dh + 1, ew = (fw - 1) * dw + 1;
  let pt = 0, pb = 0, pl = 0, pr = 0;
  const p = o.padding ?? "valid";
  if (p === "same") {
    const th = Math.max((Math.ceil(h / sh) - 1) * sh + eh - h, 0);
    const tw = Math.max((Math.ceil(w / sw) - 1) * sw + ew - w, 0);
    pt = Math.floor(th / 2); pb = th - pt; pl = Math.floor(tw / 2); pr = tw - pl;
  } else if (typeof p === "number") {
    pt = pb = pl = pr = p;
  } else if (p !== "valid") {
    [[pt, pb], [pl, pr]] = p;
  }
  const oh = Math.floor((h + pt + pb - eh) / sh) + 1;
  const ow = Math.floor((w + pl + pr - ew) / sw) + 1;
  return { sh, sw, dh, dw, pt, pb, pl, pr, oh, ow };
}

/** Visits every (output pixel, tap) pair whose input pixel lies inside the image. */
function forEachTap(
  xs: readonly number[],
  fh: number,
  fw: number,
  g: Geo,
  visit: (b: number, oy: number, ox: number, ky: number, kx: number, iy: number, ix: number) => void,
): void {
  const [n, h, w] = xs as [number, number, number];
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++)
        for (let ky = 0; ky < fh; ky++)
          for (let kx = 0; kx < fw; kx++) {
            const iy = oy * g.sh - g.pt + ky * g.dh, ix = ox * g.sw - g.pl + kx * g.dw;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) visit(b, oy, ox, ky, kx, iy, ix);
          }
}

/** Regular (depthwise = false) or depthwise convolution and its two adjoints, as flat arrays. */
function refConv(x: number[], xs: number[], f: number[], fs: number[], o: Conv2DOptions, depthwise = false) {
  const [n, h, w, cin] = xs as [number, number, number, number];
  const [fh, fw, , fc] = fs as [number, number, number, number];
  const cout = depthwise ? cin * fc : fc;
  const g = geo(h, w, fh, fw, o);
  const X = (b: number, iy: number, ix: number, c: number): number => ((b * h + iy) * w + ix) * cin + c;
  const Y = (b: number, oy: number, ox: number, c: number): number => ((b * g.oh + oy) * g.ow + ox) * cout + c;
  // Pairs (input channel, output channel, filter index) that a tap connects.
  const links: [number, number, (ky: number, kx: number) => number][] = [];
  for (let ci = 0; ci < cin; ci++) {
    if (depthwise) {
      for (let q = 0; q < fc; q++) links.push([ci, ci * fc + q, (ky, kx) => ((ky * fw + kx) * cin + ci) * fc + q]);
    } else {
      for (let co = 0; co < cout; co++) links.push([ci, co, (ky, kx) => ((ky * fw + kx) * cin + ci) * cout + co]);
    }
  }
  const yShape = [n, g.oh, g.ow, cout];
  const forward = (): number[] => {
    const y = new Array<number>(n * g.oh * g.ow * cout).fill(0);
    forEachTap(xs, fh, fw, g, (b, oy, ox, ky, kx, iy, ix) => {
      for (const [ci, co, fi] of links) y[Y(b, oy, ox, co)]! += x[X(b, iy, ix, ci)]! * f[fi(ky, kx)]!;
    });
    return y;
  };
  const backpropInput = (dy: number[]): number[] => {
    const dx = new Array<number>(x.length).fill(0);
    forEachTap(xs, fh, fw, g, (b, oy, ox, ky, kx, iy, ix) => {
      for (const [ci, co, fi] of links) dx[X(b, iy, ix, ci)]! += dy[Y(b, oy, ox, co)]! * f[fi(ky, kx)]!;
    });
    return dx;
  };
  const backpropFilter = (dy: number[]): number[] => {
    const dw = new Array<number>(f.length).fill(0);
    forEachTap(xs, fh, fw, g, (b, oy, ox, ky, kx, iy, ix) => {
      for (const [ci, co, fi] of links) dw[fi(ky, kx)]! += x[X(b, iy, ix, ci)]! * dy[Y(b, oy, ox, co)]!;
    });
    return dw;
  };
  return { yShape, forward, backpropInput, backpropFilter };
}

function refPool(x: number[], xs: number[], o: Pool2DOptions) {
  const [n, h, w, c] = xs as [number, number, number, number];
  const [fh, fw] = typeof o.size === "number" ? [o.size, o.size] : o.size;
  const g = geo(h, w, fh, fw, { strides: o.strides ?? [fh, fw], padding: o.padding });
  const max: number[] = [], arg: number[] = [], avg: number[] = [], count: number[] = [];
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++)
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity, bi = -1, s = 0, k = 0;
          for (let ky = 0; ky < fh; ky++)
            for (let kx = 0; kx < fw; kx++) {
              const iy = oy * g.sh - g.pt + ky, ix = ox * g.sw - g.pl + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const i = ((b * h + iy) * w + ix) * c + ch;
              if (x[i]! > best) { best = x[i]!; bi = i; }
              s += x[i]!;
              k++;
            }
          max.push(best); arg.push(bi); avg.push(s / k); count.push(k);
        }
  return { shape: [n, g.oh, g.ow, c], max, arg, avg, count };
}

function expectArray(actual: Tensor, shape: number[], expected: number[], tol = 1e-9): void {
  expect(actual.shape).toEqual(shape);
  const got = actual.dataSync();
  expect(got.length).toBe(expected.length);
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i]! - expected[i]!) <= tol * (1 + Math.abs(expected[i]!)))) {
      throw new Error(`element ${i}: got ${got[i]}, expected ${expected[i]}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------

interface Case {
  x: number[];
  f: number[];
  o: Conv2DOptions;
}

const convCases: Case[] = [
  { x: [1, 4, 4, 1], f: [3, 3, 1, 1], o: {} },
  { x: [2, 5, 7, 3], f: [3, 3, 3, 4], o: { padding: "same" } },
  { x: [2, 5, 7, 3], f: [3, 2, 3, 5], o: { padding: "same", strides: 2 } },
  { x: [1, 9, 8, 2], f: [3, 3, 2, 3], o: { strides: [3, 2], padding: "valid" } },
  { x: [1, 7, 7, 2], f: [3, 3, 2, 2], o: { dilations: 2, padding: "same" } },
  { x: [1, 6, 5, 1], f: [2, 3, 1, 3], o: { dilations: [2, 1], strides: [1, 2], padding: [[2, 0], [1, 3]] } },
  { x: [2, 4, 4, 3], f: [1, 1, 3, 5], o: {} },
  { x: [2, 4, 4, 3], f: [1, 1, 3, 5], o: { strides: 2 } },
  { x: [1, 3, 3, 1], f: [3, 3, 1, 1], o: { padding: 1 } },
  { x: [1, 1, 1, 1], f: [1, 1, 1, 1], o: {} },
  { x: [0, 4, 4, 2], f: [3, 3, 2, 3], o: { padding: "same" } },
  { x: [1, 4, 4, 0], f: [3, 3, 0, 2], o: {} },
  { x: [1, 4, 4, 2], f: [3, 3, 2, 0], o: { padding: "same" } },
  // Enough output pixels to cross several im2col chunks.
  { x: [4, 30, 30, 8], f: [3, 3, 8, 7], o: { padding: "same" } },
];

describe("conv2d and its backprops", () => {
  for (const { x: xs, f: fs, o } of convCases) {
    const name = `${JSON.stringify(xs)} * ${JSON.stringify(fs)} ${JSON.stringify(o)}`;
    for (const dtype of ["float32", "float64", "int32"] as const) {
      it(`${dtype} ${name}: forward and both backprops match the reference`, () => {
        const x = values(xs, 1), f = values(fs, 2);
        const ref = refConv(x, xs, f, fs, o);
        const X = tensor(x, { shape: xs, dtype }), F = tensor(f, { shape: fs, dtype });
        const y = conv2d(X, F, o);
        expect(y.dtype).toBe(dtype);
        expectArray(y, ref.yShape, ref.forward());
        const dy = values(ref.yShape, 3);
        const DY = tensor(dy, { shape: ref.yShape, dtype });
        expectArray(conv2dBackpropInput(DY, F, xs, o), xs, ref.backpropInput(dy));
        expectArray(conv2dBackpropFilter(X, DY, fs, o), fs, ref.backpropFilter(dy));
      });
    }
  }

  it("real-valued float32 agrees with a float64 reference", () => {
    const xs = [3, 11, 13, 5], fs = [3, 3, 5, 6], o: Conv2DOptions = { padding: "same", strides: [2, 1] };
    const x = values(xs, 4, true).map(Math.fround), f = values(fs, 5, true).map(Math.fround);
    const ref = refConv(x, xs, f, fs, o);
    expectArray(conv2d(tensor(x, { shape: xs }), tensor(f, { shape: fs }), o), ref.yShape, ref.forward(), 1e-5);
  });

  it("reverse mode gives the backprops; the method is the same op", () => {
    const xs = [2, 5, 5, 2], fs = [3, 3, 2, 3], o: Conv2DOptions = { strides: 2, padding: "same" };
    const x = values(xs, 6, true), f = values(fs, 7, true);
    const ref = refConv(x, xs, f, fs, o);
    const dy = values(ref.yShape, 8, true);
    const X = tensor(x, { shape: xs, dtype: "float64" }), F = tensor(f, { shape: fs, dtype: "float64" });
    const [gx, gf] = pullback([X, F], ([a, b]: Tensor[]) => a!.conv2d(b!, o))(tensor(dy, { shape: ref.yShape, dtype: "float64" }));
    expectArray(gx!, xs, ref.backpropInput(dy));
    expectArray(gf!, fs, ref.backpropFilter(dy));
  });

  it("conv2dTranspose is the backprop input with TensorFlow's filter layout", () => {
    const outShape = [1, 8, 8, 2], fs = [3, 3, 2, 4], o: Conv2DOptions = { strides: 2, padding: "same" };
    const x = values([1, 4, 4, 4], 9), f = values(fs, 10);
    const ref = refConv(new Array<number>(128).fill(0), outShape, f, fs, o);
    const y = conv2dTranspose(tensor(x, { shape: [1, 4, 4, 4] }), tensor(f, { shape: fs }), outShape, o);
    expectArray(y, outShape, ref.backpropInput(x));
  });

  it("conv1d is a conv2d over a height of 1", () => {
    const xs = [2, 9, 3], fs = [3, 3, 4];
    const x = values(xs, 11), f = values(fs, 12);
    for (const [o1, o2] of [
      [{}, {}],
      [{ stride: 2, padding: "same" }, { strides: [1, 2], padding: "same" }],
      [{ dilation: 2, padding: 1 }, { dilations: [1, 2], padding: [[0, 0], [1, 1]] }],
      [{ padding: [2, 0] }, { padding: [[0, 0], [2, 0]] }],
    ] as const) {
      const ref = refConv(x, [2, 1, 9, 3], f, [1, 3, 3, 4], o2);
      const y = conv1d(tensor(x, { shape: xs }), tensor(f, { shape: fs }), o1);
      expectArray(y, [2, ref.yShape[2]!, 4], ref.forward());
    }
  });

  it("mixed dtypes are promoted", () => {
    const y = conv2d(tensor(values([1, 3, 3, 1], 1), { shape: [1, 3, 3, 1], dtype: "int32" }), tensor(values([2, 2, 1, 1], 2), { shape: [2, 2, 1, 1], dtype: "float64" }));
    expect(y.dtype).toBe("float64");
  });
});

describe("depthwiseConv2d and its backprops", () => {
  const cases: Case[] = [
    { x: [1, 5, 5, 2], f: [3, 3, 2, 1], o: {} },
    { x: [2, 6, 5, 3], f: [3, 3, 3, 2], o: { padding: "same" } },
    { x: [1, 7, 7, 2], f: [2, 3, 2, 3], o: { strides: [2, 3], dilations: [2, 1], padding: "same" } },
    { x: [0, 4, 4, 2], f: [2, 2, 2, 2], o: {} },
  ];
  for (const { x: xs, f: fs, o } of cases) {
    for (const dtype of ["float32", "float64"] as const) {
      it(`${dtype} ${JSON.stringify(xs)} * ${JSON.stringify(fs)} ${JSON.stringify(o)}`, () => {
        const x = values(xs, 13), f = values(fs, 14);
        const ref = refConv(x, xs, f, fs, o, true);
        const X = tensor(x, { shape: xs, dtype }), F = tensor(f, { shape: fs, dtype });
        expectArray(depthwiseConv2d(X, F, o), ref.yShape, ref.forward());
        const dy = values(ref.yShape, 15);
        const DY = tensor(dy, { shape: ref.yShape, dtype });
        expectArray(depthwiseConv2dBackpropInput(DY, F, xs, o), xs, ref.backpropInput(dy));
        expectArray(depthwiseConv2dBackpropFilter(X, DY, fs, o), fs, ref.backpropFilter(dy));
      });
    }
  }
});

describe("pooling", () => {
  const cases: [number[], Pool2DOptions][] = [
    [[1, 4, 4, 1], { size: 2 }],
    [[2, 5, 7, 3], { size: 2 }],
    [[2, 5, 7, 3], { size: 3, strides: 2, padding: "same" }],
    [[1, 6, 6, 2], { size: [3, 2], strides: [1, 2], padding: "same" }],
    [[1, 5, 5, 1], { size: 3, strides: 1, padding: 1 }],
    [[1, 5, 4, 2], { size: 2, strides: 1, padding: [[1, 0], [0, 1]] }],
    [[1, 1, 1, 1], { size: 1 }],
    [[0, 4, 4, 2], { size: 2 }],
  ];
  for (const [xs, o] of cases) {
    for (const dtype of ["float32", "float64"] as const) {
      it(`${dtype} ${JSON.stringify(xs)} ${JSON.stringify(o)}: max, avg and their gradients`, () => {
        const x = values(xs, 16, true);
        const ref = refPool(x, xs, o);
        const X = tensor(x, { shape: xs, dtype });
        const tol = dtype === "float32" ? 1e-6 : 1e-12;
        expectArray(maxPool2d(X, o), ref.shape, ref.max.map((v) => (dtype === "float32" ? Math.fround(v) : v)), tol);
        expectArray(avgPool2d(X, o), ref.shape, ref.avg, tol);
        const dy = values(ref.shape, 17, true);
        const DY = tensor(dy, { shape: ref.shape, dtype });
        const gMax = new Array<number>(x.length).fill(0);
        const gAvg = new Array<number>(x.length).fill(0);
        const [n, h, w, c] = xs as [number, number, number, number];
        void n;
        const [fh, fw] = typeof o.size === "number" ? [o.size, o.size] : o.size;
        const g = geo(h, w, fh, fw, { strides: o.strides ?? [fh, fw], padding: o.padding });
        ref.arg.forEach((i, k) => (gMax[i]! += dy[k]!));
        // Average: spread dy[k] / count over the window's valid cells.
        let k = 0;
        for (let b = 0; b < xs[0]!; b++)
          for (let oy = 0; oy < g.oh; oy++)
            for (let ox = 0; ox < g.ow; ox++)
              for (let ch = 0; ch < c; ch++, k++)
                for (let ky = 0; ky < fh; ky++)
                  for (let kx = 0; kx < fw; kx++) {
                    const iy = oy * g.sh - g.pt + ky, ix = ox * g.sw - g.pl + kx;
                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) gAvg[((b * h + iy) * w + ix) * c + ch]! += dy[k]! / ref.count[k]!;
                  }
        expectArray(pullback(X, (t: Tensor) => maxPool2d(t, o))(DY), xs, gMax, tol);
        expectArray(pullback(X, (t: Tensor) => avgPool2d(t, o))(DY), xs, gAvg, tol);
      });
    }
  }

  it("max pooling of int32 stays int32; ties go to the first cell", () => {
    const y = maxPool2d(tensor([1, 7, 7, 2], { shape: [1, 2, 2, 1], dtype: "int32" }), { size: 2 });
    expect(y.dtype).toBe("int32");
    expect(y.item()).toBe(7);
    const g = gradient(tensor([3, 3, 1, 3], { shape: [1, 2, 2, 1], dtype: "float64" }), (t: Tensor) => t.maxPool2d({ size: 2 }).sum());
    expect(g.toArray()).toEqual([[[[1], [0]], [[0], [0]]]]);
  });

  it("padded cells never win a max window, even against negative values", () => {
    const y = maxPool2d(tensor([-5, -6, -7, -8], { shape: [1, 2, 2, 1] }), { size: 2, strides: 1, padding: "same" });
    expect(Array.from(y.dataSync())).toEqual([-5, -6, -7, -8]);
  });
});

describe("errors", () => {
  const x = tensor(values([1, 5, 5, 3], 1), { shape: [1, 5, 5, 3] });
  it("channel mismatch names both counts and the filter shape", () => {
    expect(() => conv2d(x, tensor(values([3, 3, 4, 8], 2), { shape: [3, 3, 4, 8] }))).toThrow(
      "conv2d: input has 3 channels but filter expects 4 ([3,3,4,8])",
    );
  });
  it("rank errors name the expected layout", () => {
    expect(() => conv2d(tensor([1, 2, 3]), tensor(values([3, 3, 1, 1], 2), { shape: [3, 3, 1, 1] }))).toThrow(
      "conv2d: input must have rank 4 [batch, height, width, channels], got shape [3]",
    );
    expect(() => conv2d(x, tensor([1]))).toThrow(/conv2d: filter must have rank 4/);
    expect(() => conv1d(x, tensor([1]))).toThrow(/conv1d: input must have rank 3/);
    expect(() => maxPool2d(tensor([1]), { size: 2 })).toThrow(/maxPool2d: input must have rank 4/);
  });
  it("strides and dilations must be positive integers", () => {
    const f = tensor(values([3, 3, 3, 2], 2), { shape: [3, 3, 3, 2] });
    expect(() => conv2d(x, f, { strides: 0 })).toThrow("conv2d: strides must be a positive integer or a pair [height, width] of them, got 0");
    expect(() => conv2d(x, f, { strides: [1, 1.5] })).toThrow(/conv2d: strides must be a positive integer/);
    expect(() => conv2d(x, f, { dilations: -1 })).toThrow(/conv2d: dilations must be a positive integer/);
    expect(() => conv1d(tensor([1, 2], { shape: [1, 2, 1] }), tensor([1], { shape: [1, 1, 1] }), { stride: 0 })).toThrow(
      /conv1d: stride must be a positive integer/,
    );
  });
  it("an empty output is an error that suggests 'same'", () => {
    const f = tensor(values([7, 7, 3, 2], 2), { shape: [7, 7, 3, 2] });
    expect(() => conv2d(x, f)).toThrow(/conv2d: the output would be empty: a 7x7 filter .* does not fit in the 5x5 input \[1,5,5,3\].*use padding 'same'/);
    expect(() => maxPool2d(x, { size: 6 })).toThrow(/maxPool2d: the output would be empty/);
  });
  it("bad padding", () => {
    const f = tensor(values([3, 3, 3, 2], 2), { shape: [3, 3, 3, 2] });
    expect(() => conv2d(x, f, { padding: "full" as "same" })).toThrow(/conv2d: padding must be 'same', 'valid'/);
    expect(() => conv2d(x, f, { padding: -1 })).toThrow(/conv2d: padding must be a non-negative integer/);
    expect(() => avgPool2d(x, { size: 2, padding: 2 })).toThrow(/avgPool2d: padding \[\[2,2\],\[2,2\]\] must be smaller than the 2x2 window/);
  });
  it("pool options", () => {
    expect(() => maxPool2d(x, undefined as unknown as Pool2DOptions)).toThrow(/maxPool2d: options with a window size are required/);
    expect(() => maxPool2d(x, { size: 0 })).toThrow(/maxPool2d: size must be a positive integer/);
    expect(() => avgPool2d(tensor([1, 2, 3, 4], { shape: [1, 2, 2, 1], dtype: "int32" }), { size: 2 })).toThrow(
      /avgPool2d: averages need a float tensor, got int32/,
    );
  });
  it("backprops check that dy fits the convolution", () => {
    const f = tensor(values([3, 3, 3, 2], 2), { shape: [3, 3, 3, 2] });
    const dy = tensor(values([1, 4, 4, 2], 3), { shape: [1, 4, 4, 2] });
    expect(() => conv2dBackpropInput(dy, f, [1, 5, 5, 3])).toThrow(
      "conv2dBackpropInput: dy has shape [1,4,4,2] but a convolution of [1,5,5,3] with filter [3,3,3,2] and these options gives [1,3,3,2]",
    );
    expect(() => conv2dBackpropFilter(x, dy, [3, 3, 3, 2])).toThrow(/conv2dBackpropFilter: dy has shape \[1,4,4,2\] but .* gives \[1,3,3,2\]/);
    expect(() => conv2dBackpropInput(dy, f, [1, 5, 5] as number[])).toThrow(/conv2dBackpropInput: inputShape must have rank 4/);
    expect(() => conv2dBackpropFilter(x, dy, [3, 3, 2, 2])).toThrow("conv2dBackpropFilter: input has 3 channels but filter expects 2 ([3,3,2,2])");
  });
  it("options must be an object", () => {
    const f = tensor(values([3, 3, 3, 2], 2), { shape: [3, 3, 3, 2] });
    expect(() => conv2d(x, f, "same" as Conv2DOptions)).toThrow(/conv2d: options must be an object such as \{ strides: 1, padding: 'same' \}, got "same"/);
  });
  it("non-tensors", () => {
    expect(() => conv2d([[1]] as unknown as Tensor, x)).toThrow(/conv2d: input must be a Tensor, got an array/);
  });
});

describe("kernels keep dtype", () => {
  for (const dtype of ["float32", "float64"] as DType[]) {
    it(`${dtype} in, ${dtype} out`, () => {
      const X = tensor(values([1, 4, 4, 2], 1), { shape: [1, 4, 4, 2], dtype });
      const F = tensor(values([2, 2, 2, 2], 2), { shape: [2, 2, 2, 2], dtype });
      expect(conv2d(X, F).dtype).toBe(dtype);
      expect(depthwiseConv2d(X, F).dtype).toBe(dtype);
      expect(avgPool2d(X, { size: 2 }).dtype).toBe(dtype);
      expect(maxPool2d(X, { size: 2 }).dtype).toBe(dtype);
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// Fast paths of the CPU kernels (src/tensor/cpu/conv.ts), against the plain-loop references above.

describe("conv kernel fast paths match the references", () => {
  // Each case names the path it exercises. Integer data, so float32 results are exact.
  const cases: (Case & { why: string })[] = [
    // im2col tap by tap (fewer than 4 input channels), chunks that end mid-row.
    { why: "narrow, chunks cut rows", x: [3, 61, 67, 1], f: [3, 3, 1, 4], o: { padding: "same" } },
    { why: "narrow, 3 channels, strides, asymmetric padding", x: [2, 13, 11, 3], f: [3, 5, 3, 6], o: { strides: [2, 3], padding: [[2, 1], [0, 4]] } },
    { why: "narrow, dilation, padding wider than the window", x: [1, 6, 9, 2], f: [2, 2, 2, 3], o: { dilations: [2, 3], padding: [[4, 2], [5, 0]] } },
    // im2col by runs: short runs (plain loop), long runs (`copyWithin`), per-tap copies under width dilation.
    { why: "runs, short", x: [2, 7, 9, 5], f: [3, 3, 5, 4], o: { padding: "same" } },
    { why: "runs, long, chunks cut rows", x: [2, 23, 29, 32], f: [3, 3, 32, 12], o: { padding: "same" } },
    { why: "runs, width dilation", x: [2, 11, 12, 6], f: [3, 3, 6, 5], o: { dilations: [1, 2], padding: "same" } },
    { why: "runs, strides and explicit padding", x: [1, 12, 10, 24], f: [4, 3, 24, 7], o: { strides: [3, 2], padding: [[3, 0], [1, 2]] } },
    { why: "runs, padding wider than the window", x: [2, 6, 9, 5], f: [2, 2, 5, 3], o: { dilations: [2, 1], padding: [[4, 2], [5, 0]] } },
    { why: "runs, chunks of fields lying wholly in the bottom padding", x: [2, 5, 39, 64], f: [2, 2, 64, 3], o: { strides: [1, 2], padding: [[0, 6], [1, 0]] } },
    // Input gradient as a forward convolution (stride 1, cout <= 2·cin, cin >= 8), and just outside that rule.
    { why: "bp-input as conv, cout = 2·cin", x: [2, 7, 8, 8], f: [3, 3, 8, 16], o: { padding: "same" } },
    { why: "bp-input by col2im, cout > 2·cin", x: [1, 6, 7, 8], f: [3, 3, 8, 20], o: { padding: "same" } },
    { why: "bp-input as conv, same", x: [2, 9, 11, 8], f: [3, 3, 8, 8], o: { padding: "same" } },
    { why: "bp-input as conv, valid, cout < cin", x: [2, 8, 7, 16], f: [3, 2, 16, 5], o: {} },
    { why: "bp-input as conv, dilation, asymmetric padding", x: [1, 9, 11, 8], f: [3, 2, 8, 8], o: { dilations: [1, 2], padding: [[2, 0], [1, 3]] } },
    { why: "bp-input as conv, padding wider than the window", x: [1, 5, 6, 12], f: [2, 2, 12, 3], o: { padding: [[3, 1], [0, 4]] } },
    { why: "bp-input as conv, pointwise-like 1x1 with padding", x: [1, 4, 5, 9], f: [1, 1, 9, 4], o: { padding: 1 } },
  ];
  for (const { x: xs, f: fs, o, why } of cases) {
    for (const dtype of ["float32", "float64"] as const) {
      it(`${dtype} ${why}: ${JSON.stringify(xs)} * ${JSON.stringify(fs)} ${JSON.stringify(o)}`, () => {
        const x = values(xs, 21), f = values(fs, 22);
        const ref = refConv(x, xs, f, fs, o);
        const X = tensor(x, { shape: xs, dtype }), F = tensor(f, { shape: fs, dtype });
        expectArray(conv2d(X, F, o), ref.yShape, ref.forward());
        const dy = values(ref.yShape, 23);
        const DY = tensor(dy, { shape: ref.yShape, dtype });
        expectArray(conv2dBackpropInput(DY, F, xs, o), xs, ref.backpropInput(dy));
        expectArray(conv2dBackpropFilter(X, DY, fs, o), fs, ref.backpropFilter(dy));
      });
    }
  }

  it("float32 scratch also serves the TypeScript GEMM (wasm switched off)", () => {
    const was = setWasmGemmEnabled(false);
    try {
      const picked = cases.filter((c) => ["narrow, chunks cut rows", "runs, long, chunks cut rows", "bp-input as conv, same"].includes(c.why));
      expect(picked).toHaveLength(3);
      for (const { x: xs, f: fs, o } of picked) {
        const x = values(xs, 24), f = values(fs, 25);
        const ref = refConv(x, xs, f, fs, o);
        const X = tensor(x, { shape: xs }), F = tensor(f, { shape: fs });
        expectArray(conv2d(X, F, o), ref.yShape, ref.forward());
        const dy = values(ref.yShape, 26);
        const DY = tensor(dy, { shape: ref.yShape });
        expectArray(conv2dBackpropInput(DY, F, xs, o), xs, ref.backpropInput(dy));
        expectArray(conv2dBackpropFilter(X, DY, fs, o), fs, ref.backpropFilter(dy));
      }
    } finally {
      setWasmGemmEnabled(was);
    }
  });

  it("real-valued float32 input gradient as a convolution agrees with a float64 reference", () => {
    const xs = [2, 10, 9, 16], fs = [3, 3, 16, 16], o: Conv2DOptions = { padding: "same" };
    const f = values(fs, 27, true).map(Math.fround);
    const ref = refConv(new Array<number>(2 * 10 * 9 * 16).fill(0), xs, f, fs, o);
    const dy = values(ref.yShape, 28, true).map(Math.fround);
    const got = conv2dBackpropInput(tensor(dy, { shape: ref.yShape }), tensor(f, { shape: fs }), xs, o);
    expectArray(got, xs, ref.backpropInput(dy), 1e-5);
  });
});

describe("pooling kernel fast paths match the references", () => {
  const cases: [number[], Pool2DOptions][] = [
    // 2x2 stride 2: even sizes, odd sizes (a last row/column no window covers), one channel, 'same' on even sizes.
    [[2, 6, 8, 5], { size: 2 }],
    [[2, 7, 9, 3], { size: 2 }],
    [[3, 5, 4, 1], { size: 2, strides: 2 }],
    [[1, 6, 8, 4], { size: 2, padding: "same" }],
    // Not the fast path: 'same' on odd sizes, overlapping windows, padding.
    [[1, 7, 9, 3], { size: 2, padding: "same" }],
    [[2, 9, 8, 3], { size: 3, strides: 2 }],
    [[1, 6, 6, 2], { size: 2, strides: 2, padding: [[1, 1], [1, 1]] }],
  ];
  for (const [xs, o] of cases) {
    for (const dtype of ["float32", "float64"] as const) {
      it(`${dtype} ${JSON.stringify(xs)} ${JSON.stringify(o)}: max, avg, and their gradients`, () => {
        // Few distinct values, so windows hold ties (the first maximum must win).
        const x = values(xs, 31);
        const ref = refPool(x, xs, o);
        const X = tensor(x, { shape: xs, dtype });
        expectArray(maxPool2d(X, o), ref.shape, ref.max);
        expectArray(avgPool2d(X, o), ref.shape, ref.avg, dtype === "float32" ? 1e-6 : 1e-12);
        const dy = values(ref.shape, 32);
        const DY = tensor(dy, { shape: ref.shape, dtype });
        const gMax = new Array<number>(x.length).fill(0);
        ref.arg.forEach((i, k) => (gMax[i]! += dy[k]!));
        expectArray(pullback(X, (t: Tensor) => maxPool2d(t, o))(DY), xs, gMax);
        // The average's pullback, by adjointness: <avgPool(e_i), dy> for each cell.
        const gAvg = pullback(X, (t: Tensor) => avgPool2d(t, o))(DY).dataSync();
        for (let i = 0; i < x.length; i++) {
          const e = new Array<number>(x.length).fill(0);
          e[i] = 1;
          const pooled = avgPool2d(tensor(e, { shape: xs, dtype: "float64" }), o).dataSync();
          let want = 0;
          for (let k = 0; k < dy.length; k++) want += pooled[k]! * dy[k]!;
          if (!(Math.abs(gAvg[i]! - want) <= 1e-6 * (1 + Math.abs(want)))) throw new Error(`cell ${i}: got ${gAvg[i]}, expected ${want}`);
        }
      });
    }
  }

  /** The documented rule: a later cell wins when larger, or when NaN and the best is not; first wins ties. */
  function refArgmax(x: ArrayLike<number>, g: PoolGeometry): number[] {
    const out: number[] = [];
    for (let b = 0; b < g.n; b++)
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++)
          for (let ch = 0; ch < g.c; ch++) {
            let bi = -1;
            for (let ky = 0; ky < g.fh; ky++)
              for (let kx = 0; kx < g.fw; kx++) {
                const iy = oy * g.strideH - g.padTop + ky, ix = ox * g.strideW - g.padLeft + kx;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                const i = ((b * g.h + iy) * g.w + ix) * g.c + ch;
                if (bi < 0) bi = i;
                else {
                  const v = x[i]!, best = x[bi]!;
                  if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) bi = i;
                }
              }
            out.push(bi);
          }
    return out;
  }

  it("argmax: NaN, infinities, signed zeros and ties, in the 2x2 fast path and the general loop", () => {
    const special = [NaN, Infinity, -Infinity, 0, -0, 1, 1, -1, NaN, 2];
    const r = rng(33);
    const geometries: PoolGeometry[] = [
      { n: 2, h: 8, w: 6, c: 3, oh: 4, ow: 3, fh: 2, fw: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0 },
      { n: 1, h: 7, w: 7, c: 2, oh: 3, ow: 3, fh: 2, fw: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0 },
      { n: 2, h: 7, w: 6, c: 3, oh: 3, ow: 3, fh: 3, fw: 2, strideH: 2, strideW: 2, padTop: 1, padLeft: 0 },
      { n: 1, h: 5, w: 5, c: 2, oh: 5, ow: 5, fh: 3, fw: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1 },
    ];
    for (const g of geometries) {
      for (const Ctor of [Float32Array, Float64Array, Int32Array]) {
        for (let trial = 0; trial < 20; trial++) {
          const x = new Ctor(g.n * g.h * g.w * g.c);
          for (let i = 0; i < x.length; i++) x[i] = special[Math.floor(r() * special.length)]!;
          const argmax = new Int32Array(g.n * g.oh * g.ow * g.c);
          cpuConv.maxPool2dArgmax(x, argmax, g);
          expect(Array.from(argmax)).toEqual(refArgmax(x, g));
        }
      }
    }
  });

  it("maxPool2d returns NaN where a window holds one, and its gradient goes to the first NaN", () => {
    const x = tensor([1, NaN, -Infinity, -Infinity, NaN, 2, -Infinity, -Infinity], { shape: [1, 2, 4, 1] });
    expect(Array.from(maxPool2d(x, { size: 2 }).dataSync())).toEqual([NaN, -Infinity]);
    const g = pullback(x, (t: Tensor) => maxPool2d(t, { size: 2 }))(tensor([1, 2], { shape: [1, 1, 2, 1] }));
    expect(Array.from(g.dataSync())).toEqual([0, 1, 2, 0, 0, 0, 0, 0]);
  });
});

describe("kernels overwrite their outputs", () => {
  const fill = (n: number, v: number): Float32Array => new Float32Array(n).fill(v);
  const conv = (n: number, h: number, w: number, cin: number, cout: number, pad: number): ConvGeometry => ({
    n, h, w, cin, oh: h, ow: w, cout, fh: 3, fw: 3, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: pad, padLeft: pad,
  });
  it("conv2d and both backprops (col2im and convolution routes)", () => {
    for (const g of [conv(2, 5, 6, 3, 4, 1), conv(2, 5, 6, 8, 4, 1), conv(1, 7, 5, 16, 16, 1)]) {
      const x = Float32Array.from(values([g.n, g.h, g.w, g.cin], 41)), f = Float32Array.from(values([3, 3, g.cin, g.cout], 42));
      const dy = Float32Array.from(values([g.n, g.oh, g.ow, g.cout], 43));
      const run = (v: number) => {
        const y = fill(dy.length, v), dx = fill(x.length, v), dw = fill(f.length, v);
        cpuConv.conv2d(x, f, y, g);
        cpuConv.conv2dBackpropInput(dy, f, dx, g);
        cpuConv.conv2dBackpropFilter(x, dy, dw, g);
        return [Array.from(y), Array.from(dx), Array.from(dw)];
      };
      expect(run(NaN)).toEqual(run(0));
    }
  });
  it("pooling, 2x2 fast path and general loop", () => {
    const pools: PoolGeometry[] = [
      { n: 2, h: 7, w: 9, c: 3, oh: 3, ow: 4, fh: 2, fw: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0 },
      { n: 2, h: 7, w: 9, c: 3, oh: 3, ow: 4, fh: 3, fw: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0 },
    ];
    for (const g of pools) {
      const x = Float32Array.from(values([g.n, g.h, g.w, g.c], 44, true));
      const dy = Float32Array.from(values([g.n, g.oh, g.ow, g.c], 45, true));
      const run = (v: number) => {
        const y = fill(dy.length, v), dx = fill(x.length, v), am = new Int32Array(dy.length).fill(-7);
        cpuConv.avgPool2d(x, y, g);
        cpuConv.avgPool2dBackprop(dy, dx, g);
        if (v === 0) am.fill(0);
        cpuConv.maxPool2dArgmax(x, am, g);
        return [Array.from(y), Array.from(dx), Array.from(am)];
      };
      expect(run(NaN)).toEqual(run(0));
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Volumes and general windows, against references written from the definitions.

type T3 = [number, number, number];
const triple = (v: number | readonly number[] | undefined, def: number): T3 =>
  v === undefined ? [def, def, def] : typeof v === "number" ? [v, v, v] : [v[0]!, v[1]!, v[2]!];

/** Per-axis geometry (TensorFlow's documented rules) of windows `f` over `len` cells. */
function axisGeo(len: number, f: number, s: number, d: number, padding: "same" | "valid" | [number, number]): { before: number; out: number } {
  const e = (f - 1) * d + 1;
  let before = 0, after = 0;
  if (padding === "same") {
    const total = Math.max((Math.ceil(len / s) - 1) * s + e - len, 0);
    before = Math.floor(total / 2);
    after = total - before;
  } else if (Array.isArray(padding)) [before, after] = padding;
  return { before, out: Math.floor((len + before + after - e) / s) + 1 };
}

function paddingOf(p: Conv3DOptions["padding"], axis: number): "same" | "valid" | [number, number] {
  if (p === undefined || p === "valid" || p === "same") return p ?? "valid";
  if (typeof p === "number") return [p, p];
  return [p[axis]![0], p[axis]![1]];
}

/** 3-D cross-correlation from its definition: `[n, d, h, w, ci] * [fd, fh, fw, ci, co]`. */
function refConv3d(x: number[], xs: number[], f: number[], fs: number[], o: Conv3DOptions = {}): { data: number[]; shape: number[] } {
  const [n, , , , ci] = xs as [number, number, number, number, number];
  const co = fs[4]!;
  const st = triple(o.strides, 1), dl = triple(o.dilations, 1);
  const g = [0, 1, 2].map((a) => axisGeo(xs[a + 1]!, fs[a]!, st[a]!, dl[a]!, paddingOf(o.padding, a)));
  const shape = [n, g[0]!.out, g[1]!.out, g[2]!.out, co];
  const data: number[] = [];
  const [D, H, W] = [xs[1]!, xs[2]!, xs[3]!];
  for (let b = 0; b < n; b++)
    for (let z = 0; z < g[0]!.out; z++)
      for (let y = 0; y < g[1]!.out; y++)
        for (let xx = 0; xx < g[2]!.out; xx++)
          for (let oc = 0; oc < co; oc++) {
            let s = 0;
            for (let kz = 0; kz < fs[0]!; kz++)
              for (let ky = 0; ky < fs[1]!; ky++)
                for (let kx = 0; kx < fs[2]!; kx++) {
                  const iz = z * st[0] + kz * dl[0] - g[0]!.before;
                  const iy = y * st[1] + ky * dl[1] - g[1]!.before;
                  const ix = xx * st[2] + kx * dl[2] - g[2]!.before;
                  if (iz < 0 || iz >= D || iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                  for (let c = 0; c < ci; c++) {
                    s += x[(((b * D + iz) * H + iy) * W + ix) * ci + c]! * f[(((kz * fs[1]! + ky) * fs[2]! + kx) * ci + c) * co + oc]!;
                  }
                }
            data.push(s);
          }
  return { data, shape };
}

/** Pooling over `[n, d, h, w, c]` from its definition: max or mean of each window's cells inside the input. */
function refPool3d(x: number[], xs: number[], o: Pool3DOptions, kind: "max" | "avg"): { data: number[]; shape: number[] } {
  const [n, D, H, W, c] = xs as [number, number, number, number, number];
  const win = triple(o.size, 1), st = o.strides === undefined ? win : triple(o.strides, 1), dl = triple(o.dilations, 1);
  const g = [0, 1, 2].map((a) => axisGeo(xs[a + 1]!, win[a]!, st[a]!, dl[a]!, paddingOf(o.padding, a)));
  const shape = [n, g[0]!.out, g[1]!.out, g[2]!.out, c];
  const data: number[] = [];
  for (let b = 0; b < n; b++)
    for (let z = 0; z < g[0]!.out; z++)
      for (let y = 0; y < g[1]!.out; y++)
        for (let xx = 0; xx < g[2]!.out; xx++)
          for (let ch = 0; ch < c; ch++) {
            const cells: number[] = [];
            for (let kz = 0; kz < win[0]; kz++)
              for (let ky = 0; ky < win[1]; ky++)
                for (let kx = 0; kx < win[2]; kx++) {
                  const iz = z * st[0] + kz * dl[0] - g[0]!.before;
                  const iy = y * st[1] + ky * dl[1] - g[1]!.before;
                  const ix = xx * st[2] + kx * dl[2] - g[2]!.before;
                  if (iz < 0 || iz >= D || iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                  cells.push(x[(((b * D + iz) * H + iy) * W + ix) * c + ch]!);
                }
            data.push(kind === "max" ? Math.max(...cells) : cells.reduce((p, q) => p + q, 0) / cells.length);
          }
  return { data, shape };
}

function expectNear(t: Tensor, ref: { data: number[]; shape: number[] }, tol: number): void {
  expect(t.shape).toEqual(ref.shape);
  const got = t.dataSync();
  for (let i = 0; i < ref.data.length; i++) {
    const e = ref.data[i]!;
    if (!(Math.abs(got[i]! - e) <= tol * (1 + Math.abs(e)))) throw new Error(`element ${i}: got ${got[i]}, expected ${e}`);
  }
}

const inner = (a: Tensor, b: Tensor): number => a.mul(b).sum().item();

describe("conv3d and its backprops", () => {
  const cases: [number[], number[], Conv3DOptions][] = [
    [[1, 3, 4, 5, 2], [2, 2, 2, 2, 3], {}],
    [[2, 4, 5, 3, 1], [3, 3, 2, 1, 2], { padding: "same" }],
    [[1, 5, 5, 5, 2], [3, 2, 3, 2, 2], { strides: [2, 1, 2], padding: "same" }],
    [[1, 6, 4, 5, 1], [2, 2, 2, 1, 1], { dilations: [2, 1, 2], strides: [1, 2, 1] }],
    [[1, 3, 3, 3, 2], [2, 2, 2, 2, 1], { padding: [[1, 0], [0, 1], [2, 2]] }],
    [[2, 1, 1, 1, 3], [1, 1, 1, 3, 4], {}],
  ];
  for (const dtype of ["float64", "float32"] as const) {
    for (const [xs, fs, o] of cases) {
      it(`${dtype} ${JSON.stringify(xs)} * ${JSON.stringify(fs)} ${JSON.stringify(o)} matches the reference; backprops are its adjoints`, () => {
        const xv = values(xs, 1, true), fv = values(fs, 2, true);
        const x = tensor(xv, { shape: xs, dtype }), f = tensor(fv, { shape: fs, dtype });
        const y = conv3d(x, f, o);
        expect(y.dtype).toBe(dtype);
        const tol = dtype === "float32" ? 1e-5 : 1e-12;
        expectNear(y, refConv3d(xv, xs, fv, fs, o), tol);
        // ⟨conv3d(x, f), dy⟩ = ⟨x, backpropInput(dy, f)⟩ = ⟨f, backpropFilter(x, dy)⟩
        const dy = tensor(values(y.shape, 3, true), { shape: y.shape, dtype });
        const lhs = inner(y, dy);
        expect(inner(x, conv3dBackpropInput(dy, f, xs, o))).toBeCloseTo(lhs, dtype === "float32" ? 3 : 10);
        expect(inner(f, conv3dBackpropFilter(x, dy, fs, o))).toBeCloseTo(lhs, dtype === "float32" ? 3 : 10);
      });
    }
  }

  it("a depth-1 volume and filter is conv2d", () => {
    const x = tensor(values([2, 1, 5, 4, 3], 4), { shape: [2, 1, 5, 4, 3] });
    const f = tensor(values([1, 3, 2, 3, 2], 5), { shape: [1, 3, 2, 3, 2] });
    const y3 = conv3d(x, f, { padding: "same", strides: [1, 2, 1] });
    const y2 = conv2d(x.reshape([2, 5, 4, 3]), f.reshape([3, 2, 3, 2]), { padding: "same", strides: [2, 1] });
    expect(y3.reshape(y2.shape).toArray()).toEqual(y2.toArray());
  });

  it("reverse mode gives the backprops; the method is the same op", () => {
    const xs = [1, 3, 3, 3, 2], fs = [2, 2, 2, 2, 2];
    const x = tensor(values(xs, 6), { shape: xs, dtype: "float64" }), f = tensor(values(fs, 7), { shape: fs, dtype: "float64" });
    const dy = tensor(values([1, 2, 2, 2, 2], 8), { shape: [1, 2, 2, 2, 2], dtype: "float64" });
    const [gx, gf] = pullback([x, f], ([a, b]: Tensor[]) => a!.conv3d(b!))(dy);
    expect(gx!.toArray()).toEqual(conv3dBackpropInput(dy, f, xs).toArray());
    expect(gf!.toArray()).toEqual(conv3dBackpropFilter(x, dy, fs).toArray());
  });

  it("errors name the op, the shapes and the fix", () => {
    const x = tensor(values([1, 4, 4, 4, 2], 9), { shape: [1, 4, 4, 4, 2] });
    expect(() => conv3d(x, tensor(values([2, 2, 2, 3, 1], 1), { shape: [2, 2, 2, 3, 1] }))).toThrow(
      "conv3d: input [1,4,4,4,2] has 2 channels but the filter [2,2,2,3,1] expects 3",
    );
    expect(() => conv3d(x.reshape([1, 16, 4, 2]), x)).toThrow("conv3d: input must have rank 5 [batch, depth, height, width, channels], got shape [1,16,4,2]");
    expect(() => conv3d(x, tensor(values([5, 1, 1, 2, 1], 1), { shape: [5, 1, 1, 2, 1] }))).toThrow(
      /conv3d: the output would be empty: the filter spans 5 cells along depth .* use padding 'same'/,
    );
    expect(() => conv3d(x, tensor(values([1, 1, 1, 2, 1], 1), { shape: [1, 1, 1, 2, 1] }), { strides: [1, 0, 1] as unknown as [number, number, number] })).toThrow(
      "conv3d: strides must be a positive integer or a triple [depth, height, width] of them, got [1,0,1]",
    );
    expect(() => conv3dBackpropInput(tensor(values([1, 3, 3, 3, 1], 1), { shape: [1, 3, 3, 3, 1] }), tensor(values([2, 2, 2, 2, 1], 1), { shape: [2, 2, 2, 2, 1] }), [1, 4, 4, 4, 2], { padding: "same" })).toThrow(
      "conv3dBackpropInput: dy has shape [1,3,3,3,1] but a 3-D convolution of [1,4,4,4,2] with filter [2,2,2,2,1] and these options gives [1,4,4,4,1]",
    );
  });
});

describe("1-D, 3-D and dilated pooling", () => {
  const cases3: [number[], Pool3DOptions][] = [
    [[1, 4, 4, 4, 2], { size: 2 }],
    [[2, 3, 5, 4, 1], { size: [2, 3, 2], strides: 1, padding: "same" }],
    [[1, 5, 5, 5, 1], { size: 2, strides: [1, 2, 2], dilations: [2, 1, 2] }],
    [[1, 3, 6, 5, 2], { size: [1, 2, 2], strides: [1, 1, 2], dilations: [1, 3, 2], padding: "same" }],
    [[1, 3, 4, 4, 1], { size: 3, strides: 2, padding: [[1, 1], [1, 0], [0, 1]] }],
  ];
  for (const kind of ["max", "avg"] as const) {
    for (const [xs, o] of cases3) {
      it(`${kind}Pool3d ${JSON.stringify(xs)} ${JSON.stringify(o)} matches the reference`, () => {
        const xv = values(xs, 10, true);
        const x = tensor(xv, { shape: xs, dtype: "float64" });
        expectNear(kind === "max" ? maxPool3d(x, o) : avgPool3d(x, o), refPool3d(xv, xs, o, kind), 1e-14);
      });
    }
    it(`${kind}Pool1d is the 3-D pooling of a volume of depth and height 1 (dilations, strides, padding)`, () => {
      for (const o of [{ size: 2 }, { size: 3, stride: 1, padding: "same" as const }, { size: 2, stride: 1, dilation: 3 }, { size: 3, stride: 2, dilation: 2, padding: [2, 1] as [number, number] }]) {
        const xv = values([2, 9, 3], 11, true);
        const x = tensor(xv, { shape: [2, 9, 3], dtype: "float64" });
        const ref = refPool3d(xv, [2, 1, 1, 9, 3], {
          size: [1, 1, o.size],
          strides: [1, 1, o.stride ?? o.size],
          dilations: [1, 1, o.dilation ?? 1],
          padding: o.padding === undefined || typeof o.padding === "string" ? o.padding : [[0, 0], [0, 0], o.padding],
        }, kind);
        const y = kind === "max" ? maxPool1d(x, o) : avgPool1d(x, o);
        expectNear(y, { data: ref.data, shape: [2, ref.shape[3]!, 3] }, 1e-14);
      }
    });
    it(`dilated ${kind}Pool2d matches the reference, and dilation 1 matches the 2-D kernels`, () => {
      const xv = values([2, 7, 6, 2], 12, true);
      const x = tensor(xv, { shape: [2, 7, 6, 2], dtype: "float64" });
      const pool = kind === "max" ? maxPool2d : avgPool2d;
      const o: Pool2DOptions = { size: [2, 3], strides: [1, 2], dilations: [3, 2], padding: "same" };
      const ref = refPool3d(xv, [2, 1, 7, 6, 2], { size: [1, 2, 3], strides: [1, 1, 2], dilations: [1, 3, 2], padding: "same" }, kind);
      expectNear(pool(x, o), { data: ref.data, shape: [2, ref.shape[2]!, ref.shape[3]!, 2] }, 1e-14);
      const plain: Pool2DOptions = { size: 3, strides: 2, padding: "same" };
      expect(pool(x, { ...plain, dilations: 1 }).toArray()).toEqual(pool(x, plain).toArray());
    });
  }

  it("float32 in, float32 out; int32 max pooling stays int32; average of int32 is an error", () => {
    const x = tensor(values([1, 4, 4, 4, 1], 13), { shape: [1, 4, 4, 4, 1] });
    expect(avgPool3d(x, { size: 2 }).dtype).toBe("float32");
    const xi = x.cast("int32");
    expect(maxPool3d(xi, { size: 2 }).dtype).toBe("int32");
    expect(() => avgPool3d(xi, { size: 2 })).toThrow("avgPool3d: averages need a float tensor, got int32; cast it first");
    expect(() => avgPool1d(xi.reshape([1, 64, 1]), { size: 2 })).toThrow("avgPool1d: averages need a float tensor");
  });

  it("max pooling ties go to the first cell, and NaN wins", () => {
    const g = gradient(tensor([2, 2, 1, 1], { shape: [1, 4, 1], dtype: "float64" }), (x: Tensor) => maxPool1d(x, { size: 4 }).sum());
    expect(g.toArray()).toEqual([[[1], [0], [0], [0]]]);
    // The same convention in 3-D and in dilated 2-D windows, in reverse and forward mode.
    const flat = [3, 1, 3, 3, 0, 3, 2, 3];
    const g3 = gradient(tensor(flat, { shape: [1, 2, 2, 2, 1], dtype: "float64" }), (x: Tensor) => maxPool3d(x, { size: 2 }).sum());
    expect(Array.from(g3.dataSync())).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    const img = tensor([5, 0, 5, 0, 0, 0, 5, 0, 5], { shape: [1, 3, 3, 1], dtype: "float64" });
    const g2 = gradient(img, (x: Tensor) => maxPool2d(x, { size: 2, dilations: 2 }).sum());
    expect(Array.from(g2.dataSync())).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const d2 = derivative(0, (t: Tensor) => maxPool2d(img.add(t.mul(tensor([0, 0, 1, 0, 0, 0, 0, 0, 0], { shape: [1, 3, 3, 1], dtype: "float64" }))), { size: 2, dilations: 2 }).sum());
    expect(d2.item()).toBe(0); // the tied later cell does not win, so moving it alone moves nothing
    expect(maxPool1d(tensor([1, NaN, 3, 2], { shape: [1, 4, 1] }), { size: 4 }).item()).toBeNaN();
  });

  it("errors name the op, the axis and the fix", () => {
    const x1 = tensor(values([1, 5, 2], 14), { shape: [1, 5, 2] });
    expect(() => maxPool1d(x1, { size: 3, dilation: 3 })).toThrow(
      "maxPool1d: the output would be empty: the window spans 7 cells along width (size 3, dilation 3) but the input [1,5,2] has 5 there",
    );
    expect(() => maxPool1d(x1.reshape([1, 10]), { size: 2 })).toThrow("maxPool1d: input must have rank 3 [batch, width, channels], got shape [1,10]");
    expect(() => avgPool1d(x1, { size: 0 })).toThrow("avgPool1d: size must be a positive integer, got 0");
    expect(() => avgPool1d(x1, undefined as unknown as { size: number })).toThrow("avgPool1d: options with a window size are required");
    expect(() => maxPool1d(x1, { size: 2, padding: [3, 0] })).toThrow(/maxPool1d: window 0 along width holds padding only/);
    expect(() => maxPool3d(tensor(values([1, 4, 4, 4, 1], 1), { shape: [1, 4, 4, 4, 1] }), { size: 2, dilations: [1, 0, 1] as unknown as [number, number, number] })).toThrow(
      "maxPool3d: dilations must be a positive integer or a triple [depth, height, width] of them, got [1,0,1]",
    );
    expect(() => avgPool2d(tensor(values([1, 4, 4, 1], 1), { shape: [1, 4, 4, 1] }), { size: 2, dilations: 4 })).toThrow(
      /avgPool2d: the output would be empty: the window spans 5 cells along height/,
    );
  });
});
