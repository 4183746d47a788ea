import { expectType, expectError, expectAssignable } from "tsd";
import {
  Dense, Embedding, Tensor, tensor, zeros, exportOnnx, importOnnxInitializers,
  type ImportedInitializers, type OnnxExportOptions, type OnnxOpset, type CallableModel,
} from "../dist/index.js";
import { saveOnnx, loadOnnxInitializers } from "../dist/node.js";

const dense = new Dense({ inputSize: 4, outputSize: 2 });
const x = zeros([1, 4]);

// A layer with its input; a function with its argument list; a one-tensor function with the tensor.
expectType<Uint8Array>(exportOnnx(dense, x));
expectType<Uint8Array>(exportOnnx(dense, x, { dynamicBatch: true, inputNames: ["features"], outputNames: ["logits"], opset: 18 }));
expectType<Uint8Array>(exportOnnx((a: Tensor, b: Tensor) => a.add(b), [x, x]));
expectType<Uint8Array>(exportOnnx((a: { ids: Tensor }) => ({ y: a.ids.mul(2) }), [{ ids: x }]));
expectType<Uint8Array>(exportOnnx((a: Tensor) => dense.callAsFunction(a), x, { model: dense, dynamicBatch: "N" }));
expectType<Uint8Array>(exportOnnx(new Embedding({ vocabularySize: 3, embeddingSize: 2 }), tensor([[1, 2]], { dtype: "int32" })));

// The example must fit the function: wrong arity, wrong input kind, a layer given an argument list.
expectError(exportOnnx((a: Tensor, b: Tensor) => a.add(b), [x]));
expectError(exportOnnx((a: Tensor) => a, ["x"]));
expectError(exportOnnx(dense, [x, x]));
expectError(exportOnnx(dense, 3));

// Options are checked: opsets 17 and 18 only; names are strings.
const opset: OnnxOpset = 18;
expectType<Uint8Array>(exportOnnx(dense, x, { opset }));
expectError(exportOnnx(dense, x, { opset: 13 }));
expectError(exportOnnx(dense, x, { inputNames: [1] }));
expectError(exportOnnx(dense, x, { dynamicBatch: 1 }));
const options: OnnxExportOptions = { dynamicBatch: "batch", graphName: "classifier" };
expectType<Uint8Array>(exportOnnx(dense, x, options));

// The way back: bytes and a model; a report of what was loaded.
const report = importOnnxInitializers(exportOnnx(dense, x), dense);
expectType<ImportedInitializers>(report);
expectType<readonly string[]>(report.loaded);
expectType<readonly string[]>(report.unused);
expectError(importOnnxInitializers("model.onnx", dense));

// Every layer is a CallableModel of its input type.
expectAssignable<CallableModel<Tensor>>(dense);

// The Node file helpers mirror the byte functions.
expectType<Promise<void>>(saveOnnx("model.onnx", dense, x, { dynamicBatch: true }));
expectType<Promise<void>>(saveOnnx("model.onnx", (a: Tensor, b: Tensor) => a.add(b), [x, x]));
expectError(saveOnnx("model.onnx", dense, [x, x]));
expectType<Promise<ImportedInitializers>>(loadOnnxInitializers("model.onnx", dense));
