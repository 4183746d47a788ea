/**
 * The learning phase: default, nesting, scoping across await, isolation between concurrent calls; and the
 * synchronous scoping used where there is no AsyncLocalStorage (browsers).
 */
import { expect, test } from "vitest";
import { learningPhase, learningPhaseIsAsyncSafe, withLearningPhase } from "../../src/index.js";
import { asyncPhaseStorage, runWithPhase, synchronousPhaseStorage } from "../../src/layers/phase.js";

const tick = (ms = 1): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("defaults to inference, nests, and is restored after the call (also on a throw)", () => {
  expect(learningPhase()).toBe("inference");
  withLearningPhase("training", () => {
    expect(learningPhase()).toBe("training");
    withLearningPhase("inference", () => expect(learningPhase()).toBe("inference"));
    expect(learningPhase()).toBe("training");
  });
  expect(() => withLearningPhase("training", () => {
    throw new Error("boom");
  })).toThrow("boom");
  expect(learningPhase()).toBe("inference");
  expect(withLearningPhase("training", () => 42)).toBe(42);
});

test("survives await inside the scope", async () => {
  const seen = await withLearningPhase("training", async () => {
    const before = learningPhase();
    await tick();
    await Promise.resolve();
    return [before, learningPhase()];
  });
  expect(seen).toEqual(["training", "training"]);
  expect(learningPhase()).toBe("inference");
});

test("does not leak between concurrent calls", async () => {
  const run = (phase: "training" | "inference", delays: number[]): Promise<string[]> =>
    withLearningPhase(phase, async () => {
      const out: string[] = [];
      for (const d of delays) {
        await tick(d);
        out.push(learningPhase());
      }
      return out;
    });
  const [a, b, c] = await Promise.all([run("training", [3, 1, 2]), run("inference", [1, 3, 1]), run("training", [2, 2, 2])]);
  expect(a).toEqual(["training", "training", "training"]);
  expect(b).toEqual(["inference", "inference", "inference"]);
  expect(c).toEqual(["training", "training", "training"]);
  expect(learningPhase()).toBe("inference");
});

test("rejects unknown phases", () => {
  expect(() => withLearningPhase("train" as "training", () => 0)).toThrow(/'training' or 'inference'/);
});

test("Node scopes the phase with AsyncLocalStorage, reached without a static import", () => {
  expect(learningPhaseIsAsyncSafe()).toBe(true);
  expect(asyncPhaseStorage()?.asyncSafe).toBe(true);
});

test("without AsyncLocalStorage (browsers) the phase covers the synchronous part: nests, restores on a throw", () => {
  const store = synchronousPhaseStorage();
  const current = (): string => store.getStore() ?? "inference";
  expect(current()).toBe("inference");
  const seen = runWithPhase(store, "training", () => {
    const outer = current();
    const inner = runWithPhase(store, "inference", () => current());
    return [outer, inner, current()];
  });
  expect(seen).toEqual(["training", "inference", "training"]);
  expect(() => runWithPhase(store, "training", () => {
    throw new Error("boom");
  })).toThrow("boom");
  expect(current()).toBe("inference");
  expect(() => runWithPhase(store, "train" as "training", () => 0)).toThrow(/'training' or 'inference'/);
});

test("without AsyncLocalStorage an async body is refused, not silently run in the wrong phase", async () => {
  const store = synchronousPhaseStorage();
  let afterAwait: string | undefined;
  let syncPart: string | undefined;
  expect(() =>
    runWithPhase(store, "training", async () => {
      syncPart = store.getStore();
      await tick();
      afterAwait = store.getStore() ?? "inference";
    }),
  ).toThrow(/returned a promise.*cannot keep the phase across await/);
  expect(syncPart).toBe("training");
  await tick(5);
  expect(afterAwait).toBe("inference"); // exactly what the error prevents from passing unnoticed
  // A rejected body is reported by the TypeError, not as an unhandled rejection.
  expect(() => runWithPhase(store, "training", () => Promise.reject(new Error("late")))).toThrow(TypeError);
  await tick(5);
});
