/** The learning phase: default, nesting, scoping across await, isolation between concurrent calls. */
import { expect, test } from "vitest";
import { learningPhase, withLearningPhase } from "../../src/index.js";

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
