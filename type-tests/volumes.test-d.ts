import { expectType, expectError } from "tsd";
import {
  Tensor, zeros, conv3d, conv3dBackpropInput, conv3dBackpropFilter, maxPool1d, avgPool1d, maxPool3d, avgPool3d,
  maxPool2d, Conv3D, MaxPool1D, AvgPool1D, MaxPool3D, AvgPool3D, MaxPool2D, GlobalAvgPool1D, GlobalMaxPool1D,
  GlobalMaxPool2D, GlobalAvgPool3D, GlobalMaxPool3D, Sequential, Flatten, Dense,
  type TangentVector, type Conv3DOptions, type Pool1DOptions, type Pool3DOptions,
} from "../dist/index.js";

// 3-D convolution and 1-D / 3-D / dilated pooling ops.
const vol = zeros([1, 4, 4, 4, 1]);
const seq = zeros([1, 8, 2]);
const img = zeros([1, 4, 4, 1]);
const conv: Conv3DOptions = { strides: [1, 2, 2], padding: [[1, 1], [0, 0], [1, 0]], dilations: 1 };
const p3: Pool3DOptions = { size: [1, 2, 2], strides: 2, dilations: [1, 1, 2], padding: "same" };
const p1: Pool1DOptions = { size: 2, stride: 1, dilation: 2, padding: [1, 0] };
expectType<Tensor>(conv3d(vol, zeros([2, 2, 2, 1, 3]), conv));
expectType<Tensor>(vol.conv3d(zeros([2, 2, 2, 1, 3])));
expectType<Tensor>(conv3dBackpropInput(zeros([1, 3, 3, 3, 3]), zeros([2, 2, 2, 1, 3]), [1, 4, 4, 4, 1]));
expectType<Tensor>(conv3dBackpropFilter(vol, zeros([1, 3, 3, 3, 3]), [2, 2, 2, 1, 3]));
expectType<Tensor>(maxPool3d(vol, p3));
expectType<Tensor>(avgPool3d(vol, { size: 2 }));
expectType<Tensor>(vol.maxPool3d({ size: 2 }));
expectType<Tensor>(maxPool1d(seq, p1));
expectType<Tensor>(avgPool1d(seq, { size: 2 }));
expectType<Tensor>(seq.avgPool1d({ size: 2 }));
expectType<Tensor>(maxPool2d(img, { size: 2, dilations: [2, 1] }));
expectError(conv3d(vol, vol, { strides: [1, 2] }));
expectError(maxPool3d(vol, { strides: 2 }));
expectError(maxPool1d(seq, { size: [2, 2] }));
expectError(maxPool2d(img, { size: 2, dilations: [1, 1, 1] }));

// Layers: Conv3D holds exactly its parameters; pooling layers have an empty tangent.
expectType<{ filter: Tensor; bias: Tensor }>({} as TangentVector<Conv3D>);
expectType<{}>({} as TangentVector<MaxPool1D>);
expectType<{}>({} as TangentVector<AvgPool1D>);
expectType<{}>({} as TangentVector<MaxPool3D>);
expectType<{}>({} as TangentVector<AvgPool3D>);
expectType<{}>({} as TangentVector<GlobalAvgPool1D>);
expectType<{}>({} as TangentVector<GlobalMaxPool1D>);
expectType<{}>({} as TangentVector<GlobalMaxPool2D>);
expectType<{}>({} as TangentVector<GlobalAvgPool3D>);
expectType<{}>({} as TangentVector<GlobalMaxPool3D>);
expectType<Tensor>(new MaxPool2D({ poolSize: 2, dilations: 2 }).callAsFunction(img));
const model = new Sequential(
  new Conv3D({ filterShape: [3, 3, 3, 1, 4], padding: "same" }),
  new MaxPool3D({ poolSize: 2 }),
  new Flatten(),
  new Dense({ inputSize: 32, outputSize: 2 }),
);
expectType<Tensor>(model.callAsFunction(vol));
expectError(new Conv3D({ filterShape: [3, 3, 1, 4] }));
expectError(new MaxPool1D({ poolSize: 2, strides: 2 }));
expectError(new MaxPool3D({ poolSize: [2, 2] }));
expectError(new AvgPool1D({}));
