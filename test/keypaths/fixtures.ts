/**
 * Fixture classes for the key-path, tangent and structure tests, in the spirit of swift-apis'
 * KeyPathIterableTests: small classes, each exercising one shape (simple, with non-differentiable fields,
 * nested, inherited, with arrays, with dynamic children).
 */
import {
  Tensor,
  tensor,
  differentiable,
  noDerivative,
  NoDerivative,
  keyPathChildren,
  type CustomKeyPathIterable,
  type TangentVector,
  TangentVectorType,
} from "../../src/index.js";

/** Two parameters. */
export class Simple {
  @differentiable w: Tensor;
  @differentiable b: Tensor;
  constructor(w = tensor([1, 2], { dtype: "float64" }), b = tensor(0.5, { dtype: "float64" })) {
    this.w = w;
    this.b = b;
  }
  call(x: Tensor): Tensor {
    return x.mul(this.w).sum().add(this.b);
  }
}

/** Parameters mixed with configuration, a counter and boxed running statistics. */
export class Mixed {
  @differentiable w = tensor([[0.5, -1], [2, 0.25]], { dtype: "float64" });
  @noDerivative count = 3;
  @noDerivative name = "mixed";
  @noDerivative running = new NoDerivative(tensor([0, 0], { dtype: "float64" }));
  @differentiable b = tensor([0.1, -0.2], { dtype: "float64" });
  call(x: Tensor): Tensor {
    return x.matmul(this.w).add(this.b).tanh();
  }
}

/** Classes inside a class. */
export class Nested {
  @differentiable simple = new Simple();
  @noDerivative flag = true;
  @differentiable mixed = new Mixed();
}

/** A base class and a subclass adding fields: base fields come first. */
export class Base {
  @differentiable w = tensor([1, -1], { dtype: "float64" });
  @noDerivative n = 1;
}
export class Derived extends Base {
  @differentiable extra = tensor([2], { dtype: "float64" });
  @noDerivative label = "derived";
}

/** Arrays of layers and nested arrays of tensors. */
export class Stack {
  @differentiable layers = [new Simple(), new Simple(tensor([3, -1], { dtype: "float64" }), tensor(0, { dtype: "float64" }))];
  @differentiable grid = [[tensor([1], { dtype: "float64" }), tensor([2], { dtype: "float64" })], [tensor([3], { dtype: "float64" })]];
  @noDerivative sizes = [2, 2];
}

/** A container whose children are decided at run time. */
export class LayerDict implements CustomKeyPathIterable {
  declare readonly [TangentVectorType]?: Record<string, TangentVector<Simple>>;
  [keyPathChildren](): readonly string[] {
    return Object.keys(this);
  }
  put(name: string, layer: Simple): this {
    (this as unknown as Record<string, Simple>)[name] = layer;
    return this;
  }
}
