/**
 * The demo: a small convolutional network learns the MNIST digits shipped by the `mnist` package.
 * It trains with Adam, reports loss and accuracy as it goes, measures test accuracy, saves a safetensors
 * checkpoint, loads it into a freshly initialised model and shows the same accuracy.
 *
 *   npm run demo             # full run (4 epochs)
 *   npm run demo -- --quick  # a few hundred steps, as CI runs it
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import cliProgress from "cli-progress";
import {
  Tensor, Layer, Conv2D, MaxPool2D, Flatten, Dense, relu, differentiable, noDerivative, Adam, cosineDecay,
  valueWithGradient, softmaxCrossEntropy, randomUniform,
} from "../src/index.js";
import { saveCheckpoint, loadCheckpoint } from "../src/node.js";
import { loadMnist, type Split } from "./data/mnist.js";

/** conv 3×3×16 → pool → conv 3×3×32 → pool → dense 10 (about 21k parameters). */
class ConvNet extends Layer<Tensor, Tensor> {
  @differentiable conv1: Conv2D;
  @differentiable conv2: Conv2D;
  @differentiable classifier: Dense;
  @noDerivative pool = new MaxPool2D({ poolSize: 2 });
  @noDerivative flatten = new Flatten();

  constructor(seed: number) {
    super();
    this.conv1 = new Conv2D({ filterShape: [3, 3, 1, 16], padding: "same", activation: relu, seed: seed + 1 });
    this.conv2 = new Conv2D({ filterShape: [3, 3, 16, 32], padding: "same", activation: relu, seed: seed + 2 });
    this.classifier = new Dense({ inputSize: 7 * 7 * 32, outputSize: 10, seed: seed + 3 });
  }

  callAsFunction(images: Tensor): Tensor {
    const h1 = this.pool.callAsFunction(this.conv1.callAsFunction(images));
    const h2 = this.pool.callAsFunction(this.conv2.callAsFunction(h1));
    return this.classifier.callAsFunction(this.flatten.callAsFunction(h2));
  }
}

function accuracy(model: ConvNet, data: Split, batch = 500): number {
  let correct = 0;
  const n = data.labels.size;
  for (let i = 0; i < n; i += batch) {
    const size = Math.min(batch, n - i);
    const logits = model.callAsFunction(data.images.slice([i], [size]));
    const hits = logits.argmax(-1).equal(data.labels.slice([i], [size]));
    correct += hits.sum().item();
  }
  return correct / n;
}

/** Options of {@link main}. */
export interface DemoOptions {
  /** Epochs over the training set (default 4). */
  epochs?: number;
  /** Steps per epoch (default: the whole training set). */
  stepsPerEpoch?: number;
  /** Show the progress bar (default true). */
  progress?: boolean;
}

/** Trains, evaluates, saves, reloads; returns both test accuracies. */
export async function main(options: DemoOptions = {}): Promise<{ testAccuracy: number; restoredAccuracy: number; seconds: number }> {
  const progress = options.progress ?? true;
  const started = performance.now();
  const { train, test } = loadMnist();
  if (progress) console.log(`MNIST: ${train.labels.size} training and ${test.labels.size} test images`);

  const model = new ConvNet(0);
  const batchSize = 32;
  const epochs = options.epochs ?? 4;
  const stepsPerEpoch = options.stepsPerEpoch ?? Math.floor(train.labels.size / batchSize);
  // The learning rate follows a cosine from 3e-3 down to 3e-5 over the whole run.
  const learningRate = cosineDecay({ initialValue: 3e-3, decaySteps: epochs * stepsPerEpoch, alpha: 0.01 });
  const optimizer = new Adam(model, { learningRate });
  const bar = new cliProgress.SingleBar(
    { format: "epoch {epoch} [{bar}] {value}/{total} | loss {loss} | accuracy {acc} | {speed} img/s", hideCursor: true },
    cliProgress.Presets.shades_classic,
  );

  for (let epoch = 1; epoch <= epochs; epoch++) {
    // A fresh, seeded order of the training set every epoch.
    const keys = randomUniform([train.labels.size], { seed: epoch }).dataSync();
    const order = Array.from(keys.keys()).sort((a, b) => keys[a]! - keys[b]!);
    const epochStart = performance.now();
    let lossAvg = 0, accAvg = 0;
    if (progress) bar.start(stepsPerEpoch, 0, { epoch, loss: "-", acc: "-", speed: "-" });
    for (let step = 0; step < stepsPerEpoch; step++) {
      const idx = order.slice(step * batchSize, (step + 1) * batchSize);
      const images = train.images.gather(idx);
      const labels = train.labels.gather(idx);
      let logits: Tensor | undefined;
      const { value, gradient } = valueWithGradient(model, (m) => {
        logits = m.callAsFunction(images);
        return softmaxCrossEntropy(logits, labels);
      });
      optimizer.update(model, gradient);
      const batchAcc = logits!.argmax(-1).equal(labels).sum().item() / batchSize;
      lossAvg = step === 0 ? value.item() : 0.98 * lossAvg + 0.02 * value.item();
      accAvg = step === 0 ? batchAcc : 0.98 * accAvg + 0.02 * batchAcc;
      const seconds = (performance.now() - epochStart) / 1000;
      if (progress) bar.update(step + 1, { loss: lossAvg.toFixed(4), acc: (100 * accAvg).toFixed(1) + "%", speed: Math.round(((step + 1) * batchSize) / seconds) });
    }
    if (progress) bar.stop();
  }

  const testAccuracy = accuracy(model, test);
  const trainSeconds = (performance.now() - started) / 1000;
  if (progress) console.log(`test accuracy ${(100 * testAccuracy).toFixed(2)}% after ${trainSeconds.toFixed(1)} s`);

  const file = join(mkdtempSync(join(tmpdir(), "difftypes-demo-")), "convnet.safetensors");
  await saveCheckpoint(file, model, { optimizerState: optimizer.state(), metadata: { epochs: String(epochs) } });
  const restored = new ConvNet(123);
  await loadCheckpoint(file, restored);
  const restoredAccuracy = accuracy(restored, test);
  if (progress) console.log(`checkpoint ${file}: reloaded into a fresh model, test accuracy ${(100 * restoredAccuracy).toFixed(2)}%`);
  if (restoredAccuracy !== testAccuracy) throw new Error("the reloaded model disagrees with the trained one");
  return { testAccuracy, restoredAccuracy, seconds: trainSeconds };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes("--quick");
  await main(quick ? { epochs: 1, stepsPerEpoch: 120 } : {});
}
