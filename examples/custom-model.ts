/**
 * A custom model class composed from layers, with `@noDerivative` configuration. Its gradient is a
 * `TangentVector<Classifier>`: the compiler knows `g.encoder.weight` is a Tensor and that `g.temperature`
 * and `g.name` do not exist.
 */
import {
  Tensor, Layer, Dense, LayerNorm, relu, differentiable, noDerivative, valueWithGradient, softmaxCrossEntropy,
  randomNormal, tensor, tangentScale, type TangentVector,
} from "../src/index.js";

export class Classifier extends Layer<Tensor, Tensor> {
  @differentiable encoder: Dense;
  @differentiable norm: LayerNorm;
  @differentiable head: Dense;
  /** Divides the logits: a setting, not a parameter. */
  @noDerivative temperature: number;
  @noDerivative name: string;

  constructor(options: { inputs: number; hidden: number; classes: number; temperature?: number; seed?: number }) {
    super();
    const seed = options.seed ?? 0;
    this.encoder = new Dense({ inputSize: options.inputs, outputSize: options.hidden, activation: relu, seed });
    this.norm = new LayerNorm({ featureCount: options.hidden });
    this.head = new Dense({ inputSize: options.hidden, outputSize: options.classes, seed: seed + 1 });
    this.temperature = options.temperature ?? 1;
    this.name = "classifier";
  }

  callAsFunction(x: Tensor): Tensor {
    return this.head.callAsFunction(this.norm.callAsFunction(this.encoder.callAsFunction(x))).div(this.temperature);
  }
}

/** Trains on two Gaussian blobs and returns the final loss. */
export function main(steps = 100, log = true): number {
  const n = 64;
  const x = randomNormal([n, 2], { seed: 1 }).add(tensor(Array.from({ length: n }, (_, i) => (i % 2 ? [2, 2] : [-2, -2]))));
  const labels = tensor(Array.from({ length: n }, (_, i) => i % 2), { dtype: "int32" });
  const model = new Classifier({ inputs: 2, hidden: 8, classes: 2, temperature: 2 });
  let loss = NaN;
  for (let step = 0; step < steps; step++) {
    const { value, gradient } = valueWithGradient(model, (m) => softmaxCrossEntropy(m.callAsFunction(x), labels));
    const g: TangentVector<Classifier> = gradient;
    model.move(tangentScale(g, -0.5));
    loss = value.item();
    if (log && step % 25 === 0) console.log(`step ${step}: loss ${loss.toFixed(4)}; |d loss / d encoder.weight| = ${g.encoder.weight.square().sum().sqrt().item().toFixed(4)}`);
  }
  if (log) console.log(`${model.name}: final loss ${loss.toFixed(4)} (temperature ${model.temperature} stayed fixed)`);
  return loss;
}

if (import.meta.url === `file://${process.argv[1]}`) main();
