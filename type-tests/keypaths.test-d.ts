import { expectType, expectError } from "tsd";
import {
  Tensor,
  zeros,
  differentiable,
  noDerivative,
  NoDerivative,
  keyPath,
  allKeyPaths,
  allWritableKeyPaths,
  recursivelyAllKeyPaths,
  recursivelyAllWritableKeyPaths,
  differentiableKeyPaths,
  gradient,
  KeyPath,
  WritableKeyPath,
  type KeyPathString,
  type ValueAtPath,
  type TangentVector,
} from "../dist/index.js";

class Dense {
  @differentiable weight = zeros([2, 2]);
  @differentiable bias = zeros([2]);
  @noDerivative steps = 0;
  call(x: Tensor): Tensor {
    return x.matmul(this.weight).add(this.bias);
  }
}
class Model {
  @differentiable blocks = [new Dense(), new Dense()];
  @differentiable head = new Dense();
  @noDerivative name = "m";
}
const model = new Model();

// --- decorators' own types reject mismatched fields (TC39 decorators) ---
class Good<L extends Dense> {
  @differentiable w = zeros([1]);
  @differentiable maybe: Tensor | undefined;
  @differentiable layer: L;
  @differentiable layers: L[] = [];
  @differentiable record = { a: zeros([1]) };
  @noDerivative n = 1;
  @noDerivative s = "s";
  @noDerivative f = (x: number) => x;
  @noDerivative box = new NoDerivative(zeros([1]));
  @noDerivative sizes = [1, 2];
  constructor(l: L) {
    this.layer = l;
  }
}
void Good;
expectError(class {
  @differentiable n = 3;
});
expectError(class {
  @differentiable s = "x";
});
expectError(class {
  @differentiable xs = [1, 2];
});
expectError(class {
  @differentiable box = new NoDerivative(zeros([1]));
});
expectError(class {
  @noDerivative t = zeros([1]);
});
expectError(class {
  @noDerivative ts = [zeros([1])];
});
expectError(class {
  @differentiable method(): void {}
});

// --- string key paths checked at compile time ---
expectType<WritableKeyPath<Model, Tensor>>(keyPath(model, "blocks.0.weight"));
expectType<WritableKeyPath<Model, Dense>>(keyPath(model, "head"));
expectType<WritableKeyPath<Model, number, false>>(keyPath(model, "head.steps"));
expectType<WritableKeyPath<Model, Dense[]>>(keyPath(model, "blocks"));
expectError(keyPath(model, "blocks.0.wieght"));
expectError(keyPath(model, "hed.weight"));
expectError(keyPath(model, "head.call"));
expectError(keyPath(model, "head.weight.shape"));
expectType<Tensor>({} as ValueAtPath<Model, "blocks.1.bias">);
const masks: KeyPathString<Model>[] = ["head.weight", "blocks.0.bias", "blocks"];
void masks;
expectError<KeyPathString<Model>[]>(["head.wieght"]);
expectType<"a" | "a.0" | "a.1" | "b">({} as KeyPathString<{ a: [Tensor, Tensor]; b: number }>);

// --- key path values ---
const kp = keyPath(model, "head.bias");
expectType<Tensor>(kp.get(model));
expectType<readonly (string | number)[]>(kp.segments);
expectType<string>(kp.toString());
kp.set(model, zeros([2]));
expectError(kp.set(model, 3));
// The same path reads the gradient in the tangent.
const g = gradient(model, (m) => m.head.call(zeros([1, 2])).sum());
expectType<Tensor>(kp.get(g));
expectType<WritableKeyPath<Model, Tensor>>(keyPath(model, "head").appending(keyPath(new Dense(), "weight")));
expectType<KeyPath<Model, Tensor>>(keyPath(model, "head").appending(new KeyPath<Dense, Tensor>(["bias"])));
expectError(keyPath(model, "head").appending(keyPath(model, "head")));

// --- iteration, typed by the filter ---
expectType<KeyPath<Model, unknown>[]>(allKeyPaths(model));
expectType<KeyPath<Model, Tensor>[]>(allKeyPaths(model, Tensor));
expectType<KeyPath<Model, number>[]>(recursivelyAllKeyPaths(model, Number));
expectType<KeyPath<Model, string>[]>(recursivelyAllKeyPaths(model, String));
expectType<KeyPath<Model, Dense>[]>(recursivelyAllKeyPaths(model, Dense));
expectType<WritableKeyPath<Model, Tensor>[]>(recursivelyAllWritableKeyPaths(model, Tensor));
expectType<WritableKeyPath<Model, boolean>[]>(allWritableKeyPaths(model, Boolean));
expectType<WritableKeyPath<Model, Tensor | number>[]>(differentiableKeyPaths(model));
expectType<WritableKeyPath<TangentVector<Model>, Tensor>[]>(recursivelyAllWritableKeyPaths(g, Tensor));

// --- a @noDerivative field has no tangent: reading it from a gradient does not compile ---
const steps = keyPath(model, "head.steps");
expectType<WritableKeyPath<Model, number, false>>(steps);
expectType<number>(steps.get(model));
expectError(steps.get(g));
expectError(steps.set(g, 1));
expectError(keyPath(model, "name").get(g));
// Paths into the tangent keep working, for reads and writes.
expectType<Tensor>(keyPath(model, "blocks.0.weight").get(g));
keyPath(model, "blocks.0.weight").set(g, zeros([2, 2]));

// --- forbidden segments do not compile, even where the type allows any key ---
const record: Record<string, { w: Tensor }> = { a: { w: zeros([1]) } };
expectType<WritableKeyPath<Record<string, { w: Tensor }>, Tensor>>(keyPath(record, "a.w"));
expectError(keyPath(record, "__proto__"));
expectError(keyPath(record, "constructor.w"));
expectError(keyPath(record, "a.prototype"));

// --- TypeScript private and protected fields: @noDerivative yes, @differentiable no ---
class WithPrivate {
  @differentiable w = zeros([1]);
  @noDerivative private factor = 3;
  @noDerivative protected label = "x";
  scaled(): Tensor {
    return this.w.mul(this.factor);
  }
}
expectType<{ w: Tensor }>({} as TangentVector<WithPrivate>);
expectError(class {
  @differentiable private hidden = zeros([1]);
});
expectError(class {
  @differentiable protected hidden = zeros([1]);
});
