import { expectType, expectError, expectAssignable, expectNotAssignable } from "tsd";
import {
  Tensor,
  tensor,
  zeros,
  differentiable,
  noDerivative,
  NoDerivative,
  gradient,
  move,
  zeroTangentVector,
  tangentAdd,
  tangentScale,
  tangentDot,
  TangentVectorType,
  keyPathChildren,
  type TangentVector,
  type Differentiable,
  type CustomKeyPathIterable,
  type VectorSpace,
} from "../dist/index.js";

class Dense {
  @differentiable weight = zeros([2, 3]);
  @differentiable bias = zeros([3]);
  @noDerivative steps = 0;
  @noDerivative label = "dense";
  @noDerivative useBias = true;
  @noDerivative activation = (x: Tensor) => x;
  call(x: Tensor): Tensor {
    return x.matmul(this.weight).add(this.bias);
  }
}

class BatchNormLike {
  @differentiable scale = zeros([3]);
  @differentiable offset = zeros([3]);
  @noDerivative runningMean = new NoDerivative(zeros([3]));
  @noDerivative momentum = 0.9;
  @noDerivative strides: readonly number[] = [1, 1];
  @noDerivative config = { epsilon: 1e-5, axes: [0] };
}

class Model {
  @differentiable dense1 = new Dense();
  @differentiable norm = new BatchNormLike();
  @differentiable layers: Dense[] = [new Dense()];
  @differentiable pair: [Dense, Tensor] = [new Dense(), zeros([1])];
  @differentiable bias: Tensor | undefined = undefined;
  @differentiable extras = { gate: zeros([1]), name: "x", count: 1 };
  @noDerivative epoch = 0;
}

class Base {
  @differentiable w = zeros([1]);
  @noDerivative n = 1;
}
class Derived extends Base {
  @differentiable extra = zeros([2]);
}

// Leaves and structures.
expectType<number>({} as TangentVector<number>);
expectType<Tensor>({} as TangentVector<Tensor>);
expectType<[number, Tensor]>({} as TangentVector<[number, Tensor]>);
expectType<number[][]>({} as TangentVector<number[][]>);
expectType<{ w: Tensor; nested: { t: Tensor } }>({} as TangentVector<{ w: Tensor; lr: number; nested: { t: Tensor; name: string }; xs: number[] }>);

// Classes: exactly the differentiable fields; @noDerivative numbers, strings, booleans, functions, boxes,
// arrays of numbers and configuration objects are absent; methods are absent.
type DenseTV = { weight: Tensor; bias: Tensor };
expectType<DenseTV>({} as TangentVector<Dense>);
expectType<{ scale: Tensor; offset: Tensor }>({} as TangentVector<BatchNormLike>);
expectType<{ w: Tensor; extra: Tensor }>({} as TangentVector<Derived>);
expectType<{
  dense1: DenseTV;
  norm: { scale: Tensor; offset: Tensor };
  layers: DenseTV[];
  pair: [DenseTV, Tensor];
  bias: Tensor | undefined;
  extras: { gate: Tensor };
}>({} as TangentVector<Model>);

// gradient(model, f) is typed TangentVector<typeof model>; fields are real types.
const model = new Model();
const g = gradient(model, (m) => m.dense1.call(zeros([1, 2])).sum());
expectType<TangentVector<Model>>(g);
expectType<Tensor>(g.dense1.weight);
expectType<Tensor>(g.layers[0]!.bias);
expectError(g.epoch);
expectError(g.dense1.steps);
expectError(g.norm.runningMean);

// A literal is a valid tangent; a gradient of another model is not.
expectAssignable<TangentVector<Dense>>({ weight: zeros([2, 3]), bias: zeros([3]) });
expectNotAssignable<TangentVector<Dense>>({ weight: zeros([2, 3]) });
expectNotAssignable<TangentVector<Model>>({} as TangentVector<Dense>);

// move and zeroTangentVector.
expectType<Model>(move(model, g));
expectType<number>(move(2, 0.5));
expectType<Tensor>(move(tensor([1]), tensor([1])));
expectError(move(new Dense(), { steps: 1 }));
expectError(move(new Dense(), g));
expectType<TangentVector<Dense>>(zeroTangentVector(new Dense()));

// Vector-space free functions keep the tangent's type.
expectType<TangentVector<Model>>(tangentAdd(g, g));
expectType<TangentVector<Model>>(tangentScale(g, 0.5));
expectType<number>(tangentDot(g, g));
expectError(tangentAdd(g, zeroTangentVector(new Dense())));
expectType<TangentVector<Dense>>(({} as VectorSpace<TangentVector<Dense>>).scaled(2));
expectType<number>(({} as VectorSpace<TangentVector<Dense>>).dot({ weight: zeros([1]), bias: zeros([1]) }));

// Differentiable<TV> and a declared tangent type for a CustomKeyPathIterable container.
class Line implements Differentiable<TangentVector<Line>> {
  @differentiable slope = tensor(0);
  move(by: TangentVector<Line>): void {
    move(this as Line, by);
  }
}
expectType<{ slope: Tensor }>({} as TangentVector<Line>);
class LayerDict implements CustomKeyPathIterable {
  declare readonly [TangentVectorType]?: Record<string, TangentVector<Dense>>;
  [keyPathChildren](): readonly string[] {
    return Object.keys(this);
  }
}
expectType<Record<string, DenseTV>>({} as TangentVector<LayerDict>);
expectType<{ dict: Record<string, DenseTV> }>({} as TangentVector<{ dict: LayerDict }>);

// The box is nominal: a look-alike is not a box, and a box is not a Tensor.
expectNotAssignable<NoDerivative<Tensor>>({ value: zeros([1]) });
