/**
 * What the browser page trains, without the page: three interleaved spirals in the plane, a small
 * network that separates them, and a training loop that hands control back to its caller between chunks
 * of steps (so a page can draw and stay responsive). It runs unchanged in Node, which is how the test
 * suite checks it learns before a browser ever loads it.
 */
import {
  Tensor,
  Dense,
  Sequential,
  Adam,
  randomNormal,
  tanh,
  tensor,
  valueWithGradient,
  softmaxCrossEntropy,
  withLearningPhase,
} from "../../src/index.js";

/** A labelled 2-D dataset: `points` is `[n, 2]` float32, `labels` is `[n]` int32 in `0 ..< classes`. */
export interface PlaneData {
  readonly points: Tensor;
  readonly labels: Tensor;
  readonly classes: number;
}

/**
 * `classes` spiral arms of `perClass` points each, in roughly `[-1, 1]²`, with Gaussian jitter; the same
 * seed gives the same points.
 */
export function spirals(perClass = 100, classes = 3, seed = 0, noise = 0.25): PlaneData {
  const jitter = randomNormal([perClass * classes], { seed }).dataSync();
  const xy: number[][] = [];
  const labels: number[] = [];
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < perClass; i++) {
      const r = i / perClass;
      const angle = (c * 2 * Math.PI) / classes + 4 * r + noise * jitter[c * perClass + i]!;
      xy.push([r * Math.sin(angle), r * Math.cos(angle)]);
      labels.push(c);
    }
  }
  return { points: tensor(xy), labels: tensor(labels, { dtype: "int32" }), classes };
}

/** The classifier: 2 → 32 → 32 → classes, tanh hidden layers (smooth decision regions). */
export function makeModel(classes = 3, seed = 0): Sequential<[Dense, Dense, Dense]> {
  return new Sequential(
    new Dense({ inputSize: 2, outputSize: 32, activation: tanh, seed: seed + 1 }),
    new Dense({ inputSize: 32, outputSize: 32, activation: tanh, seed: seed + 2 }),
    new Dense({ inputSize: 32, outputSize: classes, seed: seed + 3 }),
  );
}

/** The fraction of points whose most likely class is their label. */
export function accuracy(model: Sequential<[Dense, Dense, Dense]>, data: PlaneData): number {
  return model.callAsFunction(data.points).argmax(-1).equal(data.labels).mean().item();
}

/** One report per chunk of steps. */
export interface TrainingProgress {
  /** Steps done so far. */
  readonly step: number;
  /** The loss after every step so far (full batch, so each is the loss over the whole dataset). */
  readonly losses: readonly number[];
  /** Training accuracy at the end of this chunk. */
  readonly accuracy: number;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** Total full-batch Adam steps (default 400). */
  steps?: number;
  /** Adam's learning rate (default 0.01). */
  learningRate?: number;
  /** Steps between two reports (default 10). */
  chunk?: number;
  /** Called after every chunk; awaited, so a page can draw and yield to the event loop here. */
  onProgress?: (model: Sequential<[Dense, Dense, Dense]>, progress: TrainingProgress) => void | Promise<void>;
}

/**
 * Trains `model` on `data` with full-batch Adam. Each step is synchronous (and in the training phase);
 * between chunks the loop awaits `onProgress`, which is where a page draws and yields.
 */
export async function train(model: Sequential<[Dense, Dense, Dense]>, data: PlaneData, options: TrainOptions = {}): Promise<TrainingProgress> {
  const { steps = 400, learningRate = 0.01, chunk = 10, onProgress } = options;
  const optimizer = new Adam(model, { learningRate });
  const losses: number[] = [];
  let progress: TrainingProgress = { step: 0, losses, accuracy: accuracy(model, data) };
  for (let step = 0; step < steps; ) {
    const end = Math.min(steps, step + chunk);
    for (; step < end; step++) {
      const loss = withLearningPhase("training", () => {
        const { value, gradient } = valueWithGradient(model, (m) => softmaxCrossEntropy(m.callAsFunction(data.points), data.labels));
        optimizer.update(model, gradient);
        return value.item();
      });
      losses.push(loss);
    }
    progress = { step, losses, accuracy: accuracy(model, data) };
    await onProgress?.(model, progress);
  }
  return progress;
}

/**
 * The centres of a `size × size` grid over `[-extent, extent]²`, row by row from the top (y = extent) down:
 * `[size², 2]` float32, the points a page paints as decision regions.
 */
export function gridPoints(size = 64, extent = 1.2): Tensor {
  const xy: number[][] = [];
  for (let row = 0; row < size; row++) {
    const y = extent - ((row + 0.5) / size) * 2 * extent;
    for (let col = 0; col < size; col++) xy.push([-extent + ((col + 0.5) / size) * 2 * extent, y]);
  }
  return tensor(xy);
}

/** The predicted class at each cell of {@link gridPoints}: what a page paints as decision regions. */
export function decisionGrid(model: Sequential<[Dense, Dense, Dense]>, size = 64, extent = 1.2): Int32Array {
  return Int32Array.from(model.callAsFunction(gridPoints(size, extent)).argmax(-1).dataSync());
}
