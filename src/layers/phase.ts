/// <reference types="node" />
/**
 * The learning phase: whether layers run for training (dropout active, batch statistics used and running
 * statistics updated) or for inference. Swift for TensorFlow kept it in a thread-local `Context`; here it
 * lives in an `AsyncLocalStorage`, so a phase set around an `async` function holds across its `await`s and
 * two concurrent calls with different phases never see each other's.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** `'training'` or `'inference'`. */
export type LearningPhase = "training" | "inference";

const storage = new AsyncLocalStorage<LearningPhase>();

/**
 * The learning phase in effect here: the one set by the innermost enclosing {@link withLearningPhase},
 * or `'inference'` outside every one.
 * @returns the current phase.
 * @example
 * ```ts
 * learningPhase(); // "inference"
 * withLearningPhase("training", () => learningPhase()); // "training"
 * ```
 */
export function learningPhase(): LearningPhase {
  return storage.getStore() ?? "inference";
}

/**
 * Runs `body` with the learning phase set to `phase`, and returns what it returns. The phase is scoped to
 * the call and to everything it starts: it survives `await` inside an async `body` (the returned promise
 * keeps it), nests (the innermost call wins), and never leaks into code running concurrently.
 *
 * @param phase `'training'` or `'inference'`.
 * @param body the code to run.
 * @returns `body()`'s result (a promise if `body` is async).
 * @example
 * ```ts
 * const loss = withLearningPhase("training", () => {
 *   const { value, gradient: g } = valueWithGradient(model, (m) => softmaxCrossEntropy(m.callAsFunction(x), y));
 *   optimizer.update(model, g);
 *   return value;
 * });
 * ```
 */
export function withLearningPhase<R>(phase: LearningPhase, body: () => R): R {
  if (phase !== "training" && phase !== "inference") {
    throw new TypeError(`withLearningPhase: the phase must be 'training' or 'inference', got ${String(phase)}`);
  }
  if (typeof body !== "function") throw new TypeError(`withLearningPhase: the second argument must be a function, got ${typeof body}`);
  return storage.run(phase, body);
}
