/**
 * The way back for weights, and the Node file helpers: initializers load into a model by key path,
 * validated like a checkpoint (every problem listed, nothing changed).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, test } from "vitest";
import {
  BatchNorm,
  CheckpointError,
  Dense,
  Layer,
  Sequential,
  Tensor,
  differentiable,
  exportOnnx,
  importOnnxInitializers,
  randomNormal,
  relu,
  zeros,
} from "../../src/index.js";
import { loadOnnxInitializers, saveOnnx } from "../../src/onnx/file.js";
import { decodeModel, expectMatches, toOrt } from "./ort.js";

const mlp = (seed: number) =>
  new Sequential(new Dense({ inputSize: 4, outputSize: 6, activation: relu, seed }), new BatchNorm({ featureCount: 6 }), new Dense({ inputSize: 6, outputSize: 2, seed: seed + 1 }));

function trained(): ReturnType<typeof mlp> {
  const m = mlp(1);
  m.layers[1].runningMean.value = randomNormal([6], { seed: 3 });
  return m;
}

const values = (t: Tensor) => Array.from(t.dataSync());

describe("importOnnxInitializers", () => {
  test("loads every parameter and running statistic by key path; the model then computes what the file does", () => {
    const source = trained();
    const bytes = exportOnnx(source, randomNormal([2, 4], { seed: 9 }));
    const target = mlp(50);
    const x = randomNormal([3, 4], { seed: 10 });
    expect(values(target.callAsFunction(x))).not.toEqual(values(source.callAsFunction(x)));
    const result = importOnnxInitializers(bytes, target);
    expect(result.loaded).toEqual([
      "layers.0.weight",
      "layers.0.bias",
      "layers.1.scale",
      "layers.1.offset",
      "layers.1.runningMean",
      "layers.1.runningVariance",
      "layers.2.weight",
      "layers.2.bias",
    ]);
    expect(result.unused.every((n) => /^(constant|ints|scalar)_\d+$/.test(n))).toBe(true);
    expect(values(target.callAsFunction(x))).toEqual(values(source.callAsFunction(x)));
  });

  test("a file that does not fit lists every problem and changes nothing", () => {
    const bytes = exportOnnx(new Dense({ inputSize: 4, outputSize: 6, seed: 1 }), randomNormal([1, 4], { seed: 2 }));
    const target = new Sequential(new Dense({ inputSize: 4, outputSize: 5, seed: 3 }));
    const before = values(target.layers[0].weight);
    let error: unknown;
    try {
      importOnnxInitializers(bytes, target);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CheckpointError);
    const problems = (error as CheckpointError).problems;
    expect(problems).toContain("missing: 'layers.0.weight' (float32 [4,5]) is not an initializer of the file");
    expect(problems).toContain("missing: 'layers.0.bias' (float32 [5]) is not an initializer of the file");
    expect((error as Error).message).toMatch(/^importOnnxInitializers: the file does not fit the model \(2 problems\); nothing was changed/);
    expect(values(target.layers[0].weight)).toEqual(before);

    const narrower = new Dense({ inputSize: 4, outputSize: 5, seed: 3 });
    expect(() => importOnnxInitializers(bytes, narrower)).toThrow(/misshapen: 'weight' has shape \[4,6\] in the file but \[4,5\] in the model/);
    const wider = new Dense({ inputSize: 4, outputSize: 6, seed: 3, dtype: "float64" });
    expect(() => importOnnxInitializers(bytes, wider)).toThrow(/mistyped: 'weight' is float32 in the file but float64 in the model/);
  });

  test("bytes that are not an ONNX model", () => {
    expect(() => importOnnxInitializers(new Uint8Array([1, 2, 3, 4, 5]), new Dense({ inputSize: 1, outputSize: 1 }))).toThrow(
      /importOnnxInitializers: the bytes are not an ONNX model/,
    );
    expect(() => importOnnxInitializers("model.onnx" as unknown as Uint8Array, new Dense({ inputSize: 1, outputSize: 1 }))).toThrow(/bytes must be a Uint8Array/);
  });

  test("a tensor shared by two fields is one initializer and stays shared after loading", () => {
    class Tied extends Layer<Tensor, Tensor> {
      @differentiable encoder: Dense;
      @differentiable decoder: Dense;
      constructor(seed: number) {
        super();
        this.encoder = new Dense({ inputSize: 3, outputSize: 3, seed });
        this.decoder = new Dense({ inputSize: 3, outputSize: 3, seed: seed + 1 });
        this.decoder.weight = this.encoder.weight;
      }
      callAsFunction(x: Tensor): Tensor {
        return this.decoder.callAsFunction(this.encoder.callAsFunction(x).tanh());
      }
    }
    const bytes = exportOnnx(new Tied(1), randomNormal([2, 3], { seed: 2 }));
    const target = new Tied(7);
    const { loaded } = importOnnxInitializers(bytes, target);
    expect(loaded).toEqual(["encoder.weight", "encoder.bias", "decoder.bias"]);
    expect(target.decoder.weight).toBe(target.encoder.weight);
  });
});

describe("Node file helpers", () => {
  test("saveOnnx writes a file ONNX Runtime opens by path; loadOnnxInitializers reads it back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "difftypes-onnx-"));
    try {
      const model = trained();
      const path = join(dir, "model.onnx");
      await saveOnnx(path, model, randomNormal([2, 4], { seed: 4 }), { dynamicBatch: true });
      const session = await ort.InferenceSession.create(path);
      const x = randomNormal([7, 4], { seed: 5 });
      const out = await session.run({ input: toOrt(x) });
      expectMatches(out.output, model.callAsFunction(x));
      expect(new Uint8Array(await readFile(path))).toEqual(exportOnnx(model, randomNormal([2, 4], { seed: 4 }), { dynamicBatch: true }));
      const fresh = mlp(30);
      await loadOnnxInitializers(path, fresh);
      expect(values(fresh.callAsFunction(x))).toEqual(values(model.callAsFunction(x)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("saveOnnx's errors name saveOnnx, and no file is written", async () => {
    const dir = await mkdtemp(join(tmpdir(), "difftypes-onnx-"));
    try {
      const path = join(dir, "bad.onnx");
      await expect(saveOnnx(path, (a: Tensor) => a.item(), randomNormal([2, 4], { seed: 4 }))).rejects.toThrow(/^saveOnnx: /);
      // @ts-expect-error: an opset the type does not allow, as JavaScript callers can pass
      await expect(saveOnnx(path, trained(), randomNormal([2, 4], { seed: 4 }), { opset: 9 })).rejects.toThrow(/^saveOnnx: opset 9 is not supported/);
      await expect(readFile(path)).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

test("the doc comments' examples do what they say", () => {
  const model = new Sequential(new Dense({ inputSize: 4, outputSize: 8, activation: relu }), new Dense({ inputSize: 8, outputSize: 3 }));
  const bytes = exportOnnx(model, zeros([2, 4]), { dynamicBatch: true });
  const file = decodeModel(bytes);
  expect(file.inputs).toEqual([{ name: "input", elemType: 1, dims: ["batch", 4] }]);
  expect(file.outputs).toEqual([{ name: "output", elemType: 1, dims: ["batch", 3] }]);
  expect([...file.initializers.keys()].filter((k) => k.startsWith("layers"))).toEqual(["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]);

  const trained = new Dense({ inputSize: 4, outputSize: 2, seed: 1 });
  const fresh = new Dense({ inputSize: 4, outputSize: 2 });
  expect(importOnnxInitializers(exportOnnx(trained, zeros([1, 4])), fresh).loaded).toEqual(["weight", "bias"]);
  const x = randomNormal([3, 4], { seed: 2 });
  expect(values(fresh.callAsFunction(x))).toEqual(values(trained.callAsFunction(x)));
});
