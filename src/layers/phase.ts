/**
 * The learning phase: whether layers run for training (dropout active, batch statistics used and running
 * statistics updated) or for inference. Swift for TensorFlow kept it in a thread-local `Context`. Here it
 * lives in an `AsyncLocalStorage` where the platform has one (Node), so a phase set around an
 * `async` function holds across its `await`s and concurrent calls never see each other's; browsers have no
 * such storage yet, so there the phase is scoped to the synchronous extent of the call.
 *
 * The storage is reached through `process.getBuiltinModule`, never a static `import "node:async_hooks"`,
 * so the module bundles for browsers unchanged.
 */

/**
 * `'training'` or `'inference'`.
 * @category Layers
 */
export type LearningPhase = "training" | "inference";

/** @internal What the phase needs from a context store: `AsyncLocalStorage`'s `getStore` and `run`. */
export interface PhaseStorage {
  readonly asyncSafe: boolean;
  getStore(): LearningPhase | undefined;
  run<R>(phase: LearningPhase, body: () => R): R;
}

/** @internal Scoping to the synchronous extent of a call: a stack, restored on return and on a throw. */
export function synchronousPhaseStorage(): PhaseStorage {
  let current: LearningPhase | undefined;
  return {
    asyncSafe: false,
    getStore: () => current,
    run<R>(phase: LearningPhase, body: () => R): R {
      const saved = current;
      current = phase;
      try {
        return body();
      } finally {
        current = saved;
      }
    },
  };
}

interface AsyncLocalStorageClass {
  new (): { getStore(): LearningPhase | undefined; run<R>(store: LearningPhase, body: () => R): R };
}

/** @internal An `AsyncLocalStorage` if the platform has one (reached without a static Node import), else none. */
export function asyncPhaseStorage(): PhaseStorage | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  let hooks: { AsyncLocalStorage?: AsyncLocalStorageClass } | undefined;
  try {
    hooks = proc?.getBuiltinModule?.("node:async_hooks") as typeof hooks;
  } catch {
    hooks = undefined; // a runtime that names getBuiltinModule but has no async_hooks
  }
  if (typeof hooks?.AsyncLocalStorage !== "function") return undefined;
  const als = new hooks.AsyncLocalStorage();
  return { asyncSafe: true, getStore: () => als.getStore(), run: (phase, body) => als.run(phase, body) };
}

const storage: PhaseStorage = asyncPhaseStorage() ?? synchronousPhaseStorage();

/**
 * The learning phase in effect here: the one set by the innermost enclosing {@link withLearningPhase},
 * or `'inference'` outside every one.
 * @returns the current phase.
 * @example
 * ```ts
 * learningPhase(); // "inference"
 * withLearningPhase("training", () => learningPhase()); // "training"
 * ```
 * @category Layers
 */
export function learningPhase(): LearningPhase {
  return storage.getStore() ?? "inference";
}

/**
 * Whether a phase set by {@link withLearningPhase} survives `await` on this platform: `true` where
 * Node's `AsyncLocalStorage` can be reached through `process.getBuiltinModule` (Node 20.16 and later),
 * `false` in browsers, where the phase covers only the synchronous part of the call.
 * @returns `true` if async bodies keep their phase.
 * @example
 * ```ts
 * // In Node (20.16 and later) a phase survives `await`; in browsers it covers the synchronous part only.
 * learningPhaseIsAsyncSafe(); // true
 * const phase = await withLearningPhase("training", async () => {
 *   await new Promise((resolve) => setTimeout(resolve, 1));
 *   return learningPhase();
 * });
 * phase; // "training"
 * ```
 * @category Layers
 */
export function learningPhaseIsAsyncSafe(): boolean {
  return storage.asyncSafe;
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (typeof x === "object" || typeof x === "function") && x !== null && typeof (x as { then?: unknown }).then === "function";
}

/**
 * Runs `body` with the learning phase set to `phase`, and returns what it returns. The phase is scoped to
 * the call: it nests (the innermost call wins) and is restored afterwards, also on a throw.
 *
 * Where the platform has an `AsyncLocalStorage` (Node) the phase also covers everything the
 * call starts: it survives `await` inside an async `body` and never leaks into code running concurrently.
 * In browsers it covers the synchronous part of the call only, so an async `body` is refused there (a
 * `TypeError` after its synchronous part ran) rather than silently finishing in the wrong phase: set the
 * phase around each synchronous step instead, and `await` outside it.
 *
 * @param phase `'training'` or `'inference'`.
 * @param body the code to run.
 * @returns `body()`'s result (a promise if `body` is async, where async bodies are supported).
 * @throws TypeError for an unknown phase, a `body` that is not a function, or an async `body` where the
 * platform cannot scope it (see {@link learningPhaseIsAsyncSafe}).
 * @example
 * ```ts
 * const model = new Sequential(
 *   new Dense({ inputSize: 3, outputSize: 8, activation: relu, seed: 0 }),
 *   new Dropout({ probability: 0.2, seed: 1 }),
 *   new Dense({ inputSize: 8, outputSize: 2, seed: 2 }),
 * );
 * const optimizer = new Adam(model, { learningRate: 0.01 });
 * const labels = tensor([0, 1], { dtype: "int32" });
 * // A training step: dropout is active inside the body, and only there.
 * const loss = withLearningPhase("training", () => {
 *   const { value, gradient: g } = valueWithGradient(model, (m) => softmaxCrossEntropy(m.callAsFunction(x), labels));
 *   optimizer.update(model, g);
 *   return value;
 * });
 * loss.shape;      // []
 * learningPhase(); // "inference"
 * ```
 * @category Layers
 */
export function withLearningPhase<R>(phase: LearningPhase, body: () => R): R {
  return runWithPhase(storage, phase, body);
}

/** @internal {@link withLearningPhase} over a given storage (the tests run both kinds). */
export function runWithPhase<R>(store: PhaseStorage, phase: LearningPhase, body: () => R): R {
  if (phase !== "training" && phase !== "inference") {
    throw new TypeError(`withLearningPhase: the phase must be 'training' or 'inference', got ${String(phase)}`);
  }
  if (typeof body !== "function") throw new TypeError(`withLearningPhase: the second argument must be a function, got ${typeof body}`);
  const result = store.run(phase, body);
  if (!store.asyncSafe && isThenable(result)) {
    // The body's own rejection is reported through this error, not as an unhandled rejection.
    result.then(undefined, () => undefined);
    throw new TypeError(
      "withLearningPhase: the body returned a promise, but this platform (a browser) cannot keep the phase across await " +
        "(no AsyncLocalStorage); only its synchronous part ran in the phase. Set the phase around each synchronous step " +
        "instead: `for (...) { await nextBatch(); withLearningPhase('training', () => step()); }`",
    );
  }
  return result;
}
