/** Gradient-check rows for the convolution and pooling primitives (`src/ops/conv.ts`). */
import {
  avgPool2d,
  conv1d,
  conv2d,
  conv2dBackpropFilter,
  conv2dBackpropInput,
  conv2dTranspose,
  depthwiseConv2d,
  depthwiseConv2dBackpropFilter,
  depthwiseConv2dBackpropInput,
  maxPool2d,
  conv3d,
  conv3dBackpropInput,
  conv3dBackpropFilter,
  maxPool1d,
  avgPool1d,
  maxPool3d,
  avgPool3d,
} from "../../../src/ops/conv.js";
import { distinct, uniform, type GradRow } from "../../helpers/rows.js";

export const rows: GradRow[] = [
  {
    name: "conv2d valid [1,4,4,2]*[2,2,2,3]",
    f: (x, w) => conv2d(x, w),
    inputs: () => [uniform([1, 4, 4, 2], 101), uniform([2, 2, 2, 3], 102)],
  },
  {
    name: "conv2d same stride 2 [2,5,5,1]*[3,3,1,2]",
    f: (x, w) => conv2d(x, w, { strides: 2, padding: "same" }),
    inputs: () => [uniform([2, 5, 5, 1], 103), uniform([3, 3, 1, 2], 104)],
  },
  {
    name: "conv2d dilated, explicit padding [1,5,4,2]*[2,2,2,1]",
    f: (x, w) => conv2d(x, w, { dilations: [2, 1], padding: [[1, 0], [0, 2]], strides: [1, 2] }),
    inputs: () => [uniform([1, 5, 4, 2], 105), uniform([2, 2, 2, 1], 106)],
  },
  {
    name: "conv2d 1x1 (pointwise) [1,3,3,2]*[1,1,2,3]",
    f: (x, w) => conv2d(x, w),
    inputs: () => [uniform([1, 3, 3, 2], 107), uniform([1, 1, 2, 3], 108)],
  },
  {
    name: "conv2dBackpropInput stride 2 same",
    f: (dy, w) => conv2dBackpropInput(dy, w, [1, 5, 5, 2], { strides: 2, padding: "same" }),
    inputs: () => [uniform([1, 3, 3, 2], 109), uniform([3, 3, 2, 2], 110)],
  },
  {
    name: "conv2dBackpropInput 1x1 (pointwise)",
    f: (dy, w) => conv2dBackpropInput(dy, w, [1, 2, 3, 2]),
    inputs: () => [uniform([1, 2, 3, 3], 111), uniform([1, 1, 2, 3], 112)],
  },
  {
    name: "conv2dBackpropFilter valid",
    f: (x, dy) => conv2dBackpropFilter(x, dy, [2, 2, 2, 2]),
    inputs: () => [uniform([1, 4, 3, 2], 113), uniform([1, 3, 2, 2], 114)],
  },
  {
    name: "conv2dBackpropFilter stride 2 same",
    f: (x, dy) => conv2dBackpropFilter(x, dy, [3, 3, 1, 2], { strides: 2, padding: "same" }),
    inputs: () => [uniform([2, 4, 4, 1], 115), uniform([2, 2, 2, 2], 116)],
  },
  {
    name: "conv2dTranspose stride 2 same [1,2,2,2]->[1,4,4,1]",
    f: (x, w) => conv2dTranspose(x, w, [1, 4, 4, 1], { strides: 2, padding: "same" }),
    inputs: () => [uniform([1, 2, 2, 2], 117), uniform([3, 3, 1, 2], 118)],
  },
  {
    name: "conv1d same [2,5,2]*[3,2,2]",
    f: (x, w) => conv1d(x, w, { padding: "same" }),
    inputs: () => [uniform([2, 5, 2], 119), uniform([3, 2, 2], 120)],
  },
  {
    name: "depthwiseConv2d same, multiplier 2 [1,4,4,2]*[3,3,2,2]",
    f: (x, w) => depthwiseConv2d(x, w, { padding: "same" }),
    inputs: () => [uniform([1, 4, 4, 2], 121), uniform([3, 3, 2, 2], 122)],
  },
  {
    name: "depthwiseConv2dBackpropInput stride 2",
    f: (dy, w) => depthwiseConv2dBackpropInput(dy, w, [1, 5, 5, 2], { strides: 2 }),
    inputs: () => [uniform([1, 2, 2, 2], 123), uniform([2, 2, 2, 1], 124)],
  },
  {
    name: "depthwiseConv2dBackpropFilter",
    f: (x, dy) => depthwiseConv2dBackpropFilter(x, dy, [2, 2, 1, 3]),
    inputs: () => [uniform([1, 3, 3, 1], 125), uniform([1, 2, 2, 3], 126)],
  },
  {
    name: "conv2d then conv2d (second order through both rules)",
    f: (x, w) => conv2d(conv2d(x, w, { padding: "same" }), w, { padding: "same" }),
    inputs: () => [uniform([1, 3, 3, 2], 127), uniform([2, 2, 2, 2], 128)],
  },
  {
    name: "maxPool2d 2x2 [1,4,4,2]",
    f: (x) => maxPool2d(x, { size: 2 }),
    inputs: () => [distinct([1, 4, 4, 2], 129)],
  },
  {
    name: "maxPool2d 3x3 stride 2 same [2,5,5,1]",
    f: (x) => maxPool2d(x, { size: 3, strides: 2, padding: "same" }),
    inputs: () => [distinct([2, 5, 5, 1], 130)],
  },
  {
    name: "maxPool2d squared (second order) [1,4,4,1]",
    f: (x) => maxPool2d(x.mul(x), { size: 2, strides: 1 }),
    inputs: () => [distinct([1, 4, 4, 1], 131).add(3)],
  },
  {
    name: "avgPool2d 2x2 [1,4,4,2]",
    f: (x) => avgPool2d(x, { size: 2 }),
    inputs: () => [uniform([1, 4, 4, 2], 132)],
  },
  {
    name: "avgPool2d 3x3 stride 1 same (uneven counts) [1,4,3,1]",
    f: (x) => avgPool2d(x, { size: 3, strides: 1, padding: "same" }),
    inputs: () => [uniform([1, 4, 3, 1], 133)],
  },
  {
    name: "avgPool2d of a square (second order through the transpose) [1,4,4,1]",
    f: (x) => avgPool2d(x.mul(x), { size: [2, 3], strides: [2, 1] }),
    inputs: () => [uniform([1, 4, 4, 1], 134)],
  },
  {
    name: "conv3d valid [1,3,4,3,2]*[2,2,2,2,2]",
    f: (x, w) => conv3d(x, w),
    inputs: () => [uniform([1, 3, 4, 3, 2], 135), uniform([2, 2, 2, 2, 2], 136)],
  },
  {
    name: "conv3d same, strides [1,2,2], dilations [2,1,1] [2,4,3,3,1]*[2,2,2,1,2]",
    f: (x, w) => conv3d(x, w, { padding: "same", strides: [1, 2, 2], dilations: [2, 1, 1] }),
    inputs: () => [uniform([2, 4, 3, 3, 1], 137), uniform([2, 2, 2, 1, 2], 138)],
  },
  {
    name: "conv3d explicit padding [1,2,3,2,1]*[1,2,2,1,1]",
    f: (x, w) => conv3d(x, w, { padding: [[1, 0], [0, 1], [1, 1]] }),
    inputs: () => [uniform([1, 2, 3, 2, 1], 139), uniform([1, 2, 2, 1, 1], 140)],
  },
  {
    name: "conv3dBackpropInput stride 2 same",
    f: (dy, w) => conv3dBackpropInput(dy, w, [1, 3, 4, 4, 1], { strides: 2, padding: "same" }),
    inputs: () => [uniform([1, 2, 2, 2, 2], 141), uniform([2, 3, 3, 1, 2], 142)],
  },
  {
    name: "conv3dBackpropFilter valid",
    f: (x, dy) => conv3dBackpropFilter(x, dy, [2, 2, 1, 2, 2]),
    inputs: () => [uniform([1, 3, 3, 2, 2], 143), uniform([1, 2, 2, 2, 2], 144)],
  },
  {
    name: "conv3d then conv3d (second order through both rules)",
    f: (x, w) => conv3d(conv3d(x, w, { padding: "same" }), w, { padding: "same" }),
    inputs: () => [uniform([1, 2, 3, 2, 2], 145), uniform([2, 2, 1, 2, 2], 146)],
  },
  {
    name: "maxPool1d size 2 [2,6,2]",
    f: (x) => maxPool1d(x, { size: 2 }),
    inputs: () => [distinct([2, 6, 2], 147)],
  },
  {
    name: "maxPool1d dilated, stride 1, same [1,7,1] squared",
    f: (x) => maxPool1d(x.mul(x), { size: 2, stride: 1, dilation: 2, padding: "same" }),
    inputs: () => [distinct([1, 7, 1], 148).add(3)],
  },
  {
    name: "avgPool1d size 3 stride 2 same [2,5,2]",
    f: (x) => avgPool1d(x, { size: 3, stride: 2, padding: "same" }),
    inputs: () => [uniform([2, 5, 2], 149)],
  },
  {
    name: "avgPool1d dilated of a square [1,8,1]",
    f: (x) => avgPool1d(x.mul(x), { size: 3, stride: 1, dilation: 3 }),
    inputs: () => [uniform([1, 8, 1], 150)],
  },
  {
    name: "maxPool3d 2x2x2 [1,4,4,2,2]",
    f: (x) => maxPool3d(x, { size: 2 }),
    inputs: () => [distinct([1, 4, 4, 2, 2], 151)],
  },
  {
    name: "maxPool3d same, strides [1,2,2], dilations [1,2,1] of a square [1,3,5,4,1]",
    f: (x) => maxPool3d(x.mul(x), { size: 2, strides: [1, 2, 2], dilations: [1, 2, 1], padding: "same" }),
    inputs: () => [distinct([1, 3, 5, 4, 1], 152).add(3)],
  },
  {
    name: "avgPool3d size [2,2,3] stride 1 same [1,3,3,4,1]",
    f: (x) => avgPool3d(x, { size: [2, 2, 3], strides: 1, padding: "same" }),
    inputs: () => [uniform([1, 3, 3, 4, 1], 153)],
  },
  {
    name: "avgPool3d dilated of a square [1,3,4,4,2]",
    f: (x) => avgPool3d(x.mul(x), { size: 2, strides: 1, dilations: [2, 1, 2] }),
    inputs: () => [uniform([1, 3, 4, 4, 2], 154)],
  },
  {
    name: "maxPool2d dilated 2x2, dilations 2, stride 1 [1,5,5,2] squared",
    f: (x) => maxPool2d(x.mul(x), { size: 2, strides: 1, dilations: 2 }),
    inputs: () => [distinct([1, 5, 5, 2], 155).add(3)],
  },
  {
    name: "avgPool2d dilated, same padding [1,5,4,1]",
    f: (x) => avgPool2d(x, { size: [2, 2], strides: 1, dilations: [2, 1], padding: "same" }),
    inputs: () => [uniform([1, 5, 4, 1], 156)],
  },
];
