/**
 * The model table (model-table.ts): each model is exported with a dynamic batch, loaded and run by ONNX
 * Runtime at the example's batch size and at others, and compared with difftypes' own output (the same runs
 * happen in ONNX Runtime Web, in Chromium, in test/platform/onnx-web.test.ts). The file's inputs,
 * outputs and initializers are checked against what the exporter documents.
 */
import { describe, expect, test } from "vitest";
import {
  Dense,
  LSTMCell,
  RNN,
  Sequential,
  Tensor,
  exportOnnx,
  ones,
  randomNormal,
  relu,
  sort,
  tensor,
  withLearningPhase,
} from "../../src/index.js";
import { collectSlots } from "../../src/checkpoint/checkpoint.js";
import { MODEL_EXAMPLE, MODEL_RUNS, cnn, modelTable } from "./model-table.js";
import { decodeModel, expectMatches, runOnnx } from "./ort.js";

describe.each(modelTable)("$name", ({ make, input }) => {
  test("runs in ONNX Runtime with the same outputs, at the example's batch size and another", async () => {
    const model = make();
    const example = input(MODEL_EXAMPLE.batch, MODEL_EXAMPLE.seed);
    const bytes = exportOnnx(model, example, { dynamicBatch: true });
    for (const [batch, seed] of MODEL_RUNS) {
      const x = input(batch, seed);
      const result = await runOnnx(bytes, { input: x });
      expectMatches(result.output, model.callAsFunction(x));
    }
  });

  test("names and types its inputs, outputs and initializers as documented", () => {
    const model = make();
    const example = input(3, 100);
    const file = decodeModel(exportOnnx(model, example, { dynamicBatch: true }));
    expect(file.opset).toBe(17);
    expect(file.irVersion).toBe(8);
    const elem = example.dtype === "int32" ? 6 : 1;
    expect(file.inputs).toEqual([{ name: "input", elemType: elem, dims: ["batch", ...example.shape.slice(1)] }]);
    const out = model.callAsFunction(example);
    expect(file.outputs).toEqual([{ name: "output", elemType: 1, dims: ["batch", ...out.shape.slice(1)] }]);
    const seen = new Set<Tensor>();
    for (const slot of collectSlots(model).tensors) {
      if (seen.has(slot.value)) continue;
      seen.add(slot.value);
      // Every tensor the forward pass reads is an initializer under its key path; an unread one (an
      // empty bias, say) has nothing to do in the program.
      const init = file.initializers.get(slot.key);
      if (init === undefined) continue;
      expect(init).toEqual({ dims: slot.value.shape, dataType: slot.value.dtype === "float32" ? 1 : 11 });
    }
    const params = [...file.initializers.keys()].filter((k) => !/^(constant|ints|scalar)_\d+$/.test(k));
    expect(params.length).toBeGreaterThan(0);
    for (const k of params) expect(collectSlots(model).tensors.some((s) => s.key === k)).toBe(true);
  });
});

test("the parameters of the model table are initializers under their key paths", () => {
  const file = decodeModel(exportOnnx(cnn(), randomNormal([2, 8, 8, 2], { seed: 1 })));
  expect([...file.initializers.keys()].filter((k) => !/^(constant|ints|scalar)_\d+$/.test(k)).sort()).toEqual(
    [
      "layers.0.filter",
      "layers.0.bias",
      "layers.1.scale",
      "layers.1.offset",
      "layers.1.runningMean",
      "layers.1.runningVariance",
      "layers.3.filter",
      "layers.3.bias",
      "layers.7.weight",
      "layers.7.bias",
    ].sort(),
  );
});

test("max pooling is written as one MaxPool (no index arithmetic, no gather)", () => {
  const ops = decodeModel(exportOnnx(cnn(), randomNormal([2, 8, 8, 2], { seed: 1 }))).opTypes;
  expect(ops.filter((o) => o === "MaxPool")).toHaveLength(1);
  expect(ops).not.toContain("Gather");
  expect(ops).not.toContain("Mod");
});

test("export runs in the inference phase, even inside a training scope", async () => {
  const model = cnn();
  const x = randomNormal([2, 8, 8, 2], { seed: 5 });
  const bytes = withLearningPhase("training", () => exportOnnx(model, x));
  const result = await runOnnx(bytes, { input: x });
  expectMatches(result.output, model.callAsFunction(x));
});

test("an output size that follows the batch without equalling it gets its own symbol", () => {
  const file = decodeModel(exportOnnx((x: Tensor) => x.reshape([-1, 2]), [randomNormal([3, 4], { seed: 1 })], { dynamicBatch: "N" }));
  expect(file.inputs[0]!.dims).toEqual(["N", 4]);
  expect(file.outputs[0]!.dims).toEqual(["2*N", 2]);
});

test("a constant that follows the batch is made at run time: one value (ConstantOfShape) or a count (Range)", async () => {
  // Row numbers times ten plus three, and a column of ones, built inside the function for whatever batch it sees.
  const f = (a: Tensor) => {
    const rows = a.shape[0]!;
    const numbers = tensor(Array.from({ length: rows }, (_, i) => 10 * i + 3), { shape: [rows, 1], dtype: "float32" });
    return a.add(numbers).mul(ones([rows, 1]).mul(2));
  };
  for (const example of [1, 2]) {
    const bytes = exportOnnx(f, [randomNormal([example, 4], { seed: 30 })], { dynamicBatch: true });
    const ops = decodeModel(bytes).opTypes;
    expect(ops).toContain("Range");
    expect(ops).toContain("ConstantOfShape");
    for (const b of [1, 4, 9]) {
      const input = randomNormal([b, 4], { seed: 31 + b });
      expectMatches((await runOnnx(bytes, { input })).output, f(input));
    }
  }
});

test("numbers that follow the batch are computed from it: a mean over the batch, sort along the batch axis, n − 1", async () => {
  const cases: ((a: Tensor) => Tensor)[] = [
    (a) => a.sub(a.mean(0)), // divides by the batch size
    (a) => a.mean().reshape([1]), // by 3 · batch
    (a) => sort(a, 0), // gathers at offsets that are multiples of the batch size
    (a) => a.sub(a.mean(0)).square().sum(0).div(a.shape[0]! - 1),
  ];
  for (const f of cases) {
    const bytes = exportOnnx(f, [randomNormal([2, 3], { seed: 40 })], { dynamicBatch: true });
    for (const b of [1, 4, 9]) {
      const input = randomNormal([b, 3], { seed: 41 + b });
      expectMatches((await runOnnx(bytes, { input })).output, f(input));
    }
  }
});

test("float indices computed from the inputs follow the inputs (their conversion to int32 is part of the program)", async () => {
  const table = randomNormal([10, 2], { seed: 6 });
  const f = (ids: Tensor) => table.gather(ids.sum(0));
  const bytes = exportOnnx(f, [tensor([[0, 1], [3, 2]])], { dynamicBatch: true });
  for (const ids of [tensor([[1, 2], [0, 0], [4, 4]]), tensor([[7, 3]])]) expectMatches((await runOnnx(bytes, { input: ids })).output, f(ids));
});

test("a fixed batch (the default) declares every dimension", () => {
  const file = decodeModel(exportOnnx(new Dense({ inputSize: 4, outputSize: 2, seed: 1 }), randomNormal([3, 4], { seed: 2 })));
  expect(file.inputs[0]!.dims).toEqual([3, 4]);
  expect(file.outputs[0]!.dims).toEqual([3, 2]);
});

test("a function of several structured inputs with several outputs, named by the options", async () => {
  const dense = new Dense({ inputSize: 3, outputSize: 2, seed: 1 });
  const f = (a: { x: Tensor; y: Tensor }, scale: Tensor) => {
    const h = dense.callAsFunction(a.x.add(a.y)).mul(scale);
    return { logits: h, probabilities: h.softmax() };
  };
  const args: [{ x: Tensor; y: Tensor }, Tensor] = [{ x: randomNormal([2, 3], { seed: 2 }), y: randomNormal([2, 3], { seed: 3 }) }, tensor([2])];
  const bytes = exportOnnx(f, args, { model: dense, inputNames: ["x", "y", "scale"], outputNames: ["logits", "probabilities"], opset: 18 });
  const file = decodeModel(bytes);
  expect(file.opset).toBe(18);
  expect(file.inputs.map((i) => i.name)).toEqual(["x", "y", "scale"]);
  expect(file.outputs.map((i) => i.name)).toEqual(["logits", "probabilities"]);
  expect(file.initializers.has("weight") && file.initializers.has("bias")).toBe(true);
  const result = await runOnnx(bytes, { x: args[0].x, y: args[0].y, scale: args[1] });
  const expected = f(...args);
  expectMatches(result.logits, expected.logits);
  expectMatches(result.probabilities, expected.probabilities);
});

test("float64 models export as DOUBLE and keep their precision", async () => {
  const model = new Sequential(
    new RNN(new LSTMCell({ inputSize: 2, hiddenSize: 3, seed: 1, dtype: "float64" }), { returnSequences: false }),
    new Dense({ inputSize: 3, outputSize: 2, activation: relu, seed: 2, dtype: "float64" }),
  );
  const x = randomNormal([2, 3, 2], { seed: 3, dtype: "float64" });
  const bytes = exportOnnx(model, x);
  expect(decodeModel(bytes).outputs[0]!.elemType).toBe(11);
  expectMatches((await runOnnx(bytes, { input: x })).output, model.callAsFunction(x), 1e-12);
});
