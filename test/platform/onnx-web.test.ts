/**
 * The ONNX model table in the browser: every model and layer of test/onnx/model-table.ts is exported in
 * Node with a dynamic batch, and the file and the seeded inputs go to a page in headless Chromium that runs
 * them in ONNX Runtime Web (WebAssembly, one thread, its binary served from node_modules). Its outputs must be
 * difftypes' own at every batch size the Node table runs, within the same float32 tolerance, with nothing
 * logged as an error.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ORT_PREFIX, serveOrt } from "../../scripts/serve-browser-demo.js";
import { exportOnnx, type Layer, type Tensor } from "../../src/index.js";
import { LAYER_BATCHES, MODEL_EXAMPLE, MODEL_RUNS, layerExample, layerInput, layerTable, modelTable } from "../onnx/model-table.js";
import { expectMatches } from "../onnx/ort.js";
import { bundleForBrowser, launchChromium, watchForErrors } from "./chromium.js";
import type { OnnxWebRunner, PlainTensor } from "./onnx-web-page.js";

const PAGE = "<!doctype html><meta charset=utf-8><title>ONNX Runtime Web</title><link rel=icon href=data:,><script type=module src=/page.js></script>";

/** Serves the page, its bundle, and ONNX Runtime Web's files under /ort/ (as the training page's server does). */
async function servePage(script: string): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer((req, res) => {
    serveOrt(req, res).then(
      (done) => {
        if (done) return;
        const body = req.url === "/" ? PAGE : req.url === "/page.js" ? script : undefined;
        if (body === undefined) res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${req.url}`);
        else res.writeHead(200, { "content-type": req.url === "/" ? "text/html; charset=utf-8" : "text/javascript; charset=utf-8" }).end(body);
      },
      (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(String(e)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

function plain(t: Tensor): PlainTensor {
  if (t.dtype !== "float32" && t.dtype !== "int32") throw new Error(`the table's inputs are float32 or int32, not ${t.dtype}`);
  return { type: t.dtype, dims: t.shape.slice(), data: Array.from(t.dataSync()) };
}

let browser: Browser;
let server: http.Server;
let page: Page;
let problems: string[];
/** Console warnings (ONNX Runtime Web warns, without failing, when it cannot have what it was asked for). */
const warnings: string[] = [];
/** Every URL the page asked for. */
const requested: string[] = [];

beforeAll(async () => {
  const pageScript = await bundleForBrowser(new URL("./onnx-web-page.ts", import.meta.url), "esm");
  let url: string;
  ({ url, server } = await servePage(pageScript));
  browser = await launchChromium();
  page = await browser.newPage();
  problems = watchForErrors(page);
  page.on("request", (r) => requested.push(r.url()));
  page.on("console", (m) => {
    if (m.type() === "warning") warnings.push(m.text());
  });
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as { onnxWeb?: unknown }).onnxWeb !== undefined, undefined, { timeout: 30_000 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** Exports `model` from `example` with a dynamic batch, runs it in the page on `inputs` and compares with difftypes. */
async function expectSameInBrowser(model: Layer<Tensor, Tensor>, example: Tensor, inputs: Tensor[]): Promise<void> {
  const bytes = exportOnnx(model, example, { dynamicBatch: true });
  const outputs = await page.evaluate(
    ([b, xs]) => (globalThis as unknown as { onnxWeb: OnnxWebRunner }).onnxWeb.run(b, xs),
    [Array.from(bytes), inputs.map(plain)] as const,
  );
  expect(outputs).toHaveLength(inputs.length);
  inputs.forEach((x, i) => expectMatches({ dims: outputs[i]!.dims, data: Float32Array.from(outputs[i]!.data) }, model.callAsFunction(x)));
  expect(problems).toEqual([]);
}

describe.each(modelTable)("$name", ({ make, input }) => {
  test(`runs in ONNX Runtime Web with difftypes' outputs at batch sizes ${MODEL_RUNS.map(([b]) => b).join(", ")}`, async () => {
    await expectSameInBrowser(make(), input(MODEL_EXAMPLE.batch, MODEL_EXAMPLE.seed), MODEL_RUNS.map(([b, seed]) => input(b, seed)));
  });
});

describe.each(layerTable)("$name", ({ layer, shape }) => {
  test(`runs in ONNX Runtime Web with difftypes' outputs at batch sizes ${LAYER_BATCHES.join(", ")}`, async () => {
    await expectSameInBrowser(layer, layerExample(shape), LAYER_BATCHES.map((b) => layerInput(shape, b)));
  });
});

test("ONNX Runtime Web ran its WebAssembly build, fetched from the test's server, on one thread, with no error or warning logged", async () => {
  // After the table's runs above (the tests of a file run in order): one binary, once, from here.
  const wasm = requested.filter((u) => u.endsWith(".wasm"));
  expect(wasm.map((u) => new URL(u).pathname)).toEqual([`${ORT_PREFIX}ort-wasm-simd-threaded.wasm`]);
  expect(requested.every((u) => u.startsWith(page.url()))).toBe(true);
  await expect(page.evaluate(() => typeof (globalThis as unknown as { SharedArrayBuffer?: unknown }).SharedArrayBuffer)).resolves.toBe("undefined");
  expect(problems).toEqual([]);
  expect(warnings).toEqual([]);
});
