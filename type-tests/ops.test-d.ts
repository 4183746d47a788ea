import { expectType, expectError } from "tsd";
import {
  Tensor, tensor, arange, linspace, eye, oneHot, zerosLike, onesLike, truncatedNormal, RandomKey, splitSeed, setGlobalSeed,
  add, sub, mul, div, pow, maximum, minimum, clip, equal, where, neg, exp, log, sqrt, relu, softplus, cast,
  sum, mean, max, logSumExp, softmax, logSoftmax, argmax, reshape, transpose, expandDims, squeeze, broadcastTo,
  slice, split, concat, stack, gather, pad, tile, matmul, conv2d, conv1d, conv2dBackpropInput, conv2dBackpropFilter,
  conv2dTranspose, depthwiseConv2d, maxPool2d, avgPool2d, type Conv2DOptions, type Pool2DOptions,
} from "../dist/index.js";

const x = tensor([[1, 2], [3, 4]]);

// Creation
expectType<Tensor>(arange(5));
expectType<Tensor>(linspace(0, 1, 5, { dtype: "float64" }));
expectType<Tensor>(eye(3));
expectType<Tensor>(oneHot([0, 2], 3));
expectType<Tensor>(zerosLike(x));
expectType<Tensor>(onesLike(x));
expectType<Tensor>(truncatedNormal([2], { seed: RandomKey.of(1) }));
expectType<number[]>(splitSeed(1, 3));
expectType<void>(setGlobalSeed(7));
expectError(arange("5"));
expectError(eye(3, 3, { dtype: "bool" }));

// Elementwise, with numbers accepted on either side
expectType<Tensor>(add(1, x));
expectType<Tensor>(sub(x, 1));
expectType<Tensor>(mul(x, x));
expectType<Tensor>(div(x, 2));
expectType<Tensor>(pow(x, 2));
expectType<Tensor>(maximum(x, 0));
expectType<Tensor>(minimum(0, x));
expectType<Tensor>(clip(x, -1, 1));
expectType<Tensor>(where(equal(x, 1), x, 0));
expectType<Tensor>(neg(exp(log(sqrt(relu(softplus(x)))))));
expectType<Tensor>(cast(x, "int32"));
expectError(add("1", x));
expectError(cast(x, "float16"));

// Reductions
expectType<Tensor>(sum(x, [0, 1], true));
expectType<Tensor>(mean(x, 0));
expectType<Tensor>(max(x));
expectType<Tensor>(logSumExp(x, -1));
expectType<Tensor>(softmax(x, 0));
expectType<Tensor>(logSoftmax(x));
expectType<Tensor>(argmax(x, 1));
expectError(sum(x, "0"));

// Movement
expectType<Tensor>(reshape(x, [4]));
expectType<Tensor>(transpose(x, [1, 0]));
expectType<Tensor>(squeeze(expandDims(x, 0)));
expectType<Tensor>(broadcastTo(x, [3, 2, 2]));
expectType<Tensor>(slice(x, [0, 0], [1, -1]));
expectType<Tensor[]>(split(x, [1, 1], 1));
expectType<Tensor>(concat([x, x], 0));
expectType<Tensor>(stack([x, x]));
expectType<Tensor>(gather(x, [1, 0]));
expectType<Tensor>(pad(x, [[1, 1], [0, 0]]));
expectType<Tensor>(tile(x, [2, 1]));
expectError(concat(x, 0));
expectError(pad(x, [1, 1]));

// Linear algebra and convolution
const img = tensor([0], { shape: [1, 1, 1, 1] });
const options: Conv2DOptions = { strides: 1, padding: "same", dilations: [1, 1] };
const pool: Pool2DOptions = { size: 2, strides: 2 };
expectType<Tensor>(matmul(x, x));
expectType<Tensor>(conv2d(img, img, options));
expectType<Tensor>(conv1d(tensor([0], { shape: [1, 1, 1] }), tensor([0], { shape: [1, 1, 1] }), { stride: 1 }));
expectType<Tensor>(conv2dBackpropInput(img, img, [1, 1, 1, 1], options));
expectType<Tensor>(conv2dBackpropFilter(img, img, [1, 1, 1, 1], options));
expectType<Tensor>(conv2dTranspose(img, img, [1, 1, 1, 1]));
expectType<Tensor>(depthwiseConv2d(img, img));
expectType<Tensor>(maxPool2d(img, pool));
expectType<Tensor>(avgPool2d(img, { size: [1, 1] }));
expectError(conv2d(img, img, { padding: "full" }));
expectError(maxPool2d(img, {}));
