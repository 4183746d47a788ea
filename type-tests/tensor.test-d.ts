import { expectType, expectError } from "tsd";
import { Tensor, tensor, zeros, ones, full, randomNormal, randomUniform, type DType, type NestedArray, type TypedArray } from "../dist/index.js";

const t = tensor([[1, 2], [3, 4]]);
expectType<Tensor>(t);
expectType<readonly number[]>(t.shape);
expectType<DType>(t.dtype);
expectType<number>(t.rank);
expectType<number>(t.size);
expectType<number>(t.item());
expectType<NestedArray>(t.toArray());
expectType<TypedArray>(t.dataSync());
expectType<Tensor>(t.add(1).mul(t).sum(0, true).softmax(-1));
expectType<Tensor>(zeros([2]).add(ones([2])).sub(full([2], 3)));
expectType<Tensor>(randomNormal([2], { seed: 1 }).matmul(randomUniform([2, 2], { seed: 2 })));
expectType<Tensor[]>(t.split(2));

// Shapes are readonly; tensors are immutable values.
expectError(t.shape.push(3));
expectError((t.shape = [1]));
// Only known dtypes.
expectError(tensor([1], { dtype: "float16" }));
// Operands are tensors or numbers.
expectError(t.add("1"));
// No dispose / tidy anywhere.
expectError(t.dispose());
expectType<Tensor>(t.scaled(2));
expectType<number>(t.dot(t));
expectError(t.dot(2));
