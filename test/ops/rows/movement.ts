/**
 * Gradient-check rows for the movement primitives (`src/ops/movement.ts`): reshape, transpose,
 * broadcastTo, slice, pad, concat, gather, scatterAdd, and the ops derived from them.
 *
 * Every movement op is linear, so its second derivative is zero; each op therefore also appears composed
 * with a square (`sq`), which makes the second-order check exercise the op's rules applied to traced
 * tangents and cotangents with non-zero values.
 */
import { tensor, type Tensor } from "../../../src/index.js";
import {
  broadcastTo,
  concat,
  expandDims,
  gather,
  pad,
  reshape,
  scatterAdd,
  slice,
  split,
  squeeze,
  stack,
  tile,
  transpose,
} from "../../../src/ops/movement.js";
import { uniform as u, type GradRow } from "../../helpers/rows.js";

const sq = (t: Tensor): Tensor => t.mul(t);
const idx = (values: number[], shape: number[]): Tensor => tensor(values, { shape, dtype: "int32" });

export const rows: GradRow[] = [
  // reshape (and expandDims / squeeze, derived from it)
  { name: "reshape [2,3]->[3,2]", f: (x) => reshape(x, [3, 2]), inputs: () => [u([2, 3], 701)] },
  { name: "reshape sq [2,3,2]->[-1,4]", f: (x) => sq(reshape(x, [-1, 4])), inputs: () => [u([2, 3, 2], 702)] },
  { name: "expandDims∘squeeze [2,1,3]", f: (x) => sq(expandDims(squeeze(x), -1)), inputs: () => [u([2, 1, 3], 703)] },

  // transpose
  { name: "transpose [2,3]", f: (x) => transpose(x), inputs: () => [u([2, 3], 711)] },
  { name: "transpose sq [2,3,4] by [2,0,1]", f: (x) => sq(transpose(x, [2, 0, 1])), inputs: () => [u([2, 3, 4], 712)] },
  {
    name: "transpose of a product [3,2]x[3,2]",
    f: (x, y) => transpose(x.mul(y), [1, 0]),
    inputs: () => [u([3, 2], 713), u([3, 2], 714)],
  },

  // broadcastTo (its VJP sums over the broadcast axes)
  { name: "broadcastTo [3]->[2,3]", f: (x) => broadcastTo(x, [2, 3]), inputs: () => [u([3], 721)] },
  { name: "broadcastTo sq [3,1]->[2,3,4]", f: (x) => sq(broadcastTo(x, [2, 3, 4])), inputs: () => [u([3, 1], 722)] },
  {
    name: "broadcastTo times a full tensor [1,3]->[2,3]",
    f: (x, y) => broadcastTo(x, [2, 3]).mul(y),
    inputs: () => [u([1, 3], 723), u([2, 3], 724)],
  },

  // slice and pad (each other's transpose)
  { name: "slice [3,4] begin [1,-3] size [2,2]", f: (x) => slice(x, [1, -3], [2, 2]), inputs: () => [u([3, 4], 731)] },
  { name: "slice sq [2,3,4] rows from 1", f: (x) => sq(slice(x, [0, 1], [-1, 2])), inputs: () => [u([2, 3, 4], 732)] },
  { name: "pad [2,3] [[1,0],[2,1]] value 0.5", f: (x) => pad(x, [[1, 0], [2, 1]], 0.5), inputs: () => [u([2, 3], 733)] },
  { name: "pad sq [3] [[2,1]]", f: (x) => sq(pad(x, [[2, 1]])), inputs: () => [u([3], 734)] },
  { name: "split [4,3] into [1,-1] along 0", f: (x) => sq(split(x, [1, -1])[1]!), inputs: () => [u([4, 3], 735)] },

  // concat (and stack, derived from it)
  {
    name: "concat three along axis 1",
    f: (a, b, c) => concat([a, b, c], 1),
    inputs: () => [u([2, 1], 741), u([2, 3], 742), u([2, 2], 743)],
  },
  {
    name: "concat sq with a repeated input",
    f: (a, b) => sq(concat([a, b, a], 0)),
    inputs: () => [u([1, 3], 744), u([2, 3], 745)],
  },
  { name: "stack along axis 1", f: (a, b) => sq(stack([a, b], 1)), inputs: () => [u([2, 3], 746), u([2, 3], 747)] },

  // tile (derived: reshape, broadcastTo, reshape)
  { name: "tile [2,3] by [2,2]", f: (x) => tile(x, [2, 2]), inputs: () => [u([2, 3], 751)] },
  { name: "tile sq [1,2] by [3,1]", f: (x) => sq(tile(x, [3, 1])), inputs: () => [u([1, 2], 752)] },
  { name: "tile [3] by [2,2] (new leading axis)", f: (x) => sq(tile(x, [2, 2])), inputs: () => [u([3], 753)] },

  // gather and scatterAdd (each other's transpose); repeated indices accumulate
  { name: "gather [4,3] rows [3,0,3,1]", f: (x) => gather(x, [3, 0, 3, 1]), inputs: () => [u([4, 3], 761)] },
  {
    name: "gather sq [2,4] axis 1 with [2,2] indices",
    f: (x) => sq(gather(x, idx([0, 3, 3, 3], [2, 2]), 1)),
    inputs: () => [u([2, 4], 762)],
  },
  { name: "scatterAdd [3,2] into [4,2] at [0,2,0]", f: (x) => scatterAdd(x, [0, 2, 0], 0, [4, 2]), inputs: () => [u([3, 2], 763)] },
  {
    name: "scatterAdd sq [2,3] into [2,2] along axis 1",
    f: (x) => sq(scatterAdd(x, [1, 1, 0], 1, [2, 2])),
    inputs: () => [u([2, 3], 764)],
  },
];
