/**
 * Every layer family exports: each layer alone, with a dynamic batch, run in ONNX Runtime at another batch
 * size and compared with difftypes (the whole networks of the model table are in models.test.ts; both tables
 * are in model-table.ts, and run in ONNX Runtime Web too, in test/platform/onnx-web.test.ts).
 */
import { describe, test } from "vitest";
import { exportOnnx } from "../../src/index.js";
import { LAYER_BATCHES, layerExample, layerInput, layerTable } from "./model-table.js";
import { expectMatches, runOnnx } from "./ort.js";

describe.each(layerTable)("$name", ({ layer, shape }) => {
  test("exports with a dynamic batch and matches at batch sizes 2 and 3", async () => {
    const bytes = exportOnnx(layer, layerExample(shape), { dynamicBatch: true });
    for (const b of LAYER_BATCHES) {
      const x = layerInput(shape, b);
      expectMatches((await runOnnx(bytes, { input: x })).output, layer.callAsFunction(x));
    }
  });
});
