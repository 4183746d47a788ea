/**
 * The training page in a real browser: headless Chromium (Debian's `chromium`, driven by playwright-core;
 * nothing downloads a browser) loads examples/browser, which must train to a falling loss and a passing
 * accuracy while it keeps drawing, with no error logged; a screenshot goes to test-output/. A second page
 * runs the root's formerly Node-bound pieces (learning phase, checkpoints as bytes) in the browser.
 * The trained model is exported to ONNX in the page and run by ONNX Runtime Web (WebAssembly, served from
 * node_modules): its predictions must be difftypes', and the file the page offers for download must hold the
 * trained weights and run in onnxruntime-node too.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { serveBrowserDemo, type DemoServer } from "../../scripts/serve-browser-demo.js";
import { importOnnxInitializers, tensor } from "../../src/index.js";
import { makeModel } from "../../examples/browser/spirals.js";
import type { OnnxComparison } from "../../examples/browser/onnx.js";
import type { DemoState } from "../../examples/browser/state.js";
import { runOnnx } from "../onnx/ort.js";
import { bundleForBrowser, launchChromium, watchForErrors } from "./chromium.js";

const outputDir = fileURLToPath(new URL("../../test-output/", import.meta.url));

/** The page's own globals, as far as these tests read them (the test compiles without the DOM library). */
interface PageGlobals {
  demo: DemoState;
  crossOriginIsolated: boolean;
  SharedArrayBuffer: unknown;
  document: {
    getElementById(id: string): {
      width: number;
      height: number;
      getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
    };
  };
}

let browser: Browser;
let server: DemoServer;

beforeAll(async () => {
  server = await serveBrowserDemo(0);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Float32 agreement of two engines' logits: within 1e-5 of the larger of 1 and the value's size. */
function expectSameLogits(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
    if (!(err <= worst)) worst = err; // a NaN ends up here too, and fails below
  }
  expect(worst).toBeLessThanOrEqual(1e-5);
}

/** The class of each row of `[n, classes]` logits whose best logit leads the next by more than `margin` (else -1). */
function clearClasses(logits: readonly number[], classes: number, margin: number): number[] {
  const out: number[] = [];
  for (let row = 0; row < logits.length / classes; row++) {
    const line = logits.slice(row * classes, (row + 1) * classes);
    const sorted = [...line].sort((a, b) => b - a);
    out.push(sorted[0]! - sorted[1]! > margin ? line.indexOf(sorted[0]!) : -1);
  }
  return out;
}

/**
 * The page's ONNX check after a run: the export ran in ONNX Runtime Web on every grid cell and training
 * point, its logits are difftypes' (float32 tolerance), and it picks the same class wherever the class is
 * not a near tie.
 */
function expectOnnxAgrees(state: DemoState): OnnxComparison {
  expect(state.onnxError).toBeUndefined();
  const onnx = state.onnx!;
  expect(onnx).toBeDefined();
  const n = 72 * 72 + 300; // the decision grid and the training points
  expect(onnx.points).toHaveLength(2 * n);
  expect(onnx.difftypes).toHaveLength(3 * n);
  expect(onnx.fileBytes).toBeGreaterThan(4 * (2 * 32 + 32 * 32 + 32 * 3)); // at least the weights, as float32
  expectSameLogits(onnx.onnxRuntime, onnx.difftypes);
  const ours = clearClasses(onnx.difftypes, 3, 1e-4);
  const theirs = clearClasses(onnx.onnxRuntime, 3, 0);
  const clear = ours.flatMap((c, i) => (c >= 0 ? [i] : []));
  expect(clear.length).toBeGreaterThan(0.99 * n);
  expect(clear.map((i) => theirs[i])).toEqual(clear.map((i) => ours[i]));
  expect(onnx.maxDifference).toBeLessThan(1e-3);
  return onnx;
}

test("the page trains in Chromium: the loss falls, accuracy passes 90%, it draws while training, exports to ONNX Runtime Web with the same predictions, retrains on request, no errors", async () => {
  const page = await browser.newPage({ viewport: { width: 960, height: 640 } });
  const problems = watchForErrors(page);
  // ONNX Runtime Web warns (it does not fail) when asked for threads it cannot have, among others: none here.
  const warnings: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "warning") warnings.push(m.text());
  });
  await page.goto(server.url);

  // Seen mid-training from outside: the page answers between steps instead of freezing until the end.
  await page.waitForFunction(() => {
    const d = (globalThis as unknown as PageGlobals).demo;
    return d !== undefined && d.step > 0 && !d.done;
  }, undefined, { timeout: 60_000, polling: 50 });
  await page.waitForFunction(() => {
    const d = (globalThis as unknown as PageGlobals).demo;
    return d.done || d.error !== undefined;
  }, undefined, { timeout: 150_000, polling: 200 });

  const state = await page.evaluate(() => (globalThis as unknown as PageGlobals).demo);
  expect(state.error).toBeUndefined();
  expect(state.step).toBe(state.steps);
  expect(state.losses).toHaveLength(state.steps);
  const first = state.losses[0]!;
  const lastTen = state.losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
  expect(first).toBeGreaterThan(0.9); // about ln 3 = 1.1 for three classes, before learning
  expect(lastTen).toBeLessThan(0.1 * first);
  expect(state.accuracy).toBeGreaterThanOrEqual(0.9);
  // One drawing (and one yield to the event loop) per chunk of steps.
  expect(state.renders).toBeGreaterThanOrEqual(20);

  // The picture: every class owns a region of the plane.
  const shares = await page.evaluate(() => {
    const canvas = (globalThis as unknown as PageGlobals).document.getElementById("regions");
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    const counts = [0, 0, 0];
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
      if (r > g + 40 && r > b + 30) counts[0]!++;
      else if (b > r + 40 && b > g + 10) counts[1]!++;
      else if (g > r + 40 && g > b + 10) counts[2]!++;
    }
    return counts.map((c) => c / (data.length / 4));
  });
  for (const share of shares) expect(share).toBeGreaterThan(0.1);
  await expect(page.textContent("#status")).resolves.toMatch(/^Done: step 400 of 400 · loss 0\.\d+ · accuracy (9\d|100)\.\d%$/);

  // Exported in the page and run by ONNX Runtime Web: the same predictions as difftypes.
  await page.waitForFunction(() => {
    const d = (globalThis as unknown as PageGlobals).demo;
    return d.onnx !== undefined || d.onnxError !== undefined;
  }, undefined, { timeout: 60_000, polling: 200 });
  const exported = await page.evaluate(() => (globalThis as unknown as PageGlobals).demo);
  const onnx = expectOnnxAgrees(exported);
  expect(exported.onnx!.sameClass).toBeGreaterThan(0.99 * (72 * 72 + 300));
  await expect(page.textContent("#onnx")).resolves.toMatch(
    /^ONNX Runtime Web \(WebAssembly\) ran the exported model \(\d+\.\d kB\): the same class as difftypes at (all 5,484|\d+ of 5484) points, largest difference in the logits \d\.\de-\d+\.$/,
  );
  // One thread, because the page is not cross-origin isolated: the threaded build would need SharedArrayBuffer.
  await expect(page.evaluate(() => [(globalThis as unknown as PageGlobals).crossOriginIsolated, typeof (globalThis as unknown as PageGlobals).SharedArrayBuffer])).resolves.toEqual([false, "undefined"]);

  // The download button hands over the same file: it holds the trained weights (read back into a fresh model,
  // they give the page's difftypes logits) and runs in onnxruntime-node with ONNX Runtime Web's results.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  expect(download.suggestedFilename()).toBe("spirals.onnx");
  const bytes = new Uint8Array(readFileSync(await download.path()));
  expect(bytes.byteLength).toBe(onnx.fileBytes);
  const restored = makeModel(3, 99); // other initial weights, all replaced by the file's
  const { loaded } = importOnnxInitializers(bytes, restored);
  expect(loaded).toHaveLength(6);
  const points = tensor(onnx.points, { shape: [onnx.points.length / 2, 2] });
  expectSameLogits(restored.callAsFunction(points).dataSync(), onnx.difftypes);
  const inNode = await runOnnx(bytes, { points });
  expect(inNode.logits!.dims).toEqual([onnx.points.length / 2, 3]);
  expectSameLogits(inNode.logits!.data as Float32Array, onnx.onnxRuntime);

  mkdirSync(outputDir, { recursive: true });
  await page.screenshot({ path: `${outputDir}browser-demo.png`, fullPage: true });
  expect(existsSync(`${outputDir}browser-demo.png`)).toBe(true);

  // The button trains a new model from the next seed, from scratch.
  await page.click("#restart");
  await page.waitForFunction(() => {
    const d = (globalThis as unknown as PageGlobals).demo;
    return d.seed === 1 && (d.done || d.error !== undefined);
  }, undefined, { timeout: 150_000, polling: 200 });
  const again = await page.evaluate(() => (globalThis as unknown as PageGlobals).demo);
  expect(again.error).toBeUndefined();
  expect(again.losses).toHaveLength(again.steps);
  expect(again.losses[0]).not.toBe(state.losses[0]); // other data, other initial weights
  expect(again.accuracy).toBeGreaterThanOrEqual(0.9);
  await page.waitForFunction(() => {
    const d = (globalThis as unknown as PageGlobals).demo;
    return d.onnx !== undefined || d.onnxError !== undefined;
  }, undefined, { timeout: 60_000, polling: 200 });
  const reexported = await page.evaluate(() => (globalThis as unknown as PageGlobals).demo);
  expect(expectOnnxAgrees(reexported).difftypes).not.toEqual(onnx.difftypes); // the new model's, not the old one's
  expect(problems).toEqual([]);
  expect(warnings).toEqual([]);
  await page.close();
}, 300_000);

test("in the browser: the learning phase scopes synchronously, checkpoints round-trip as bytes, tensors print, the wasm kernel runs", async () => {
  const probeScript = await bundleForBrowser(new URL("./browser-probe.ts", import.meta.url));
  const page = await browser.newPage();
  const problems = watchForErrors(page);
  await page.setContent("<!doctype html><title>probe</title>");
  await page.addScriptTag({ content: probeScript });
  const probe = (await page.evaluate(() => (globalThis as unknown as { probe: unknown }).probe)) as Record<string, unknown>;
  expect(probe.asyncSafe).toBe(false);
  expect([probe.phaseOutside, probe.phaseInside, probe.phaseNested, probe.phaseAfter]).toEqual(["inference", "training", "inference", "inference"]);
  expect(probe.asyncBody).toMatch(/returned a promise.*cannot keep the phase across await/);
  expect(probe.droppedInTraining).toBeGreaterThan(400);
  expect(probe.droppedInTraining).toBeLessThan(600);
  expect(probe.droppedInInference).toBe(0);
  expect(probe.checkpointBytes).toBeGreaterThan(8 * 4);
  expect(probe.checkpointMetadata).toEqual({ where: "browser" });
  expect(probe.restoredOutput).toEqual(probe.trainedOutput);
  expect(probe.printed).toBe("Tensor([2,2] int32)\n[[1, 2],\n [3, 4]]");
  expect(probe.wasmKernel).toBe(true);
  expect(probe.product).toBe(64 * 64 * 64 * 0.5);
  expect(problems).toEqual([]);
  await page.close();
}, 60_000);

test("`npm run demo:browser` serves the page and its bundle", async () => {
  const child = spawn("npm", ["run", "--silent", "demo:browser", "--", "--port", "0"], {
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    detached: true, // its own process group, so the server under npm stops with it
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /http:\/\/[\w.:]+\//.exec(out);
        if (m) resolve(m[0]);
      });
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      child.on("exit", (code) => reject(new Error(`demo:browser exited (${code}) before serving: ${out}`)));
    });
    const html = await fetch(url);
    expect(html.status).toBe(200);
    expect(await html.text()).toContain('<script type="module" src="./build/main.js">');
    const js = await fetch(new URL("build/main.js", url));
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect((await js.text()).length).toBeGreaterThan(50_000);
    // ONNX Runtime Web's binary, from node_modules, as WebAssembly (browsers compile it while it streams in).
    const wasm = await fetch(new URL("ort/ort-wasm-simd-threaded.wasm", url));
    expect(wasm.status).toBe(200);
    expect(wasm.headers.get("content-type")).toBe("application/wasm");
    const head = new Uint8Array(await wasm.arrayBuffer()).subarray(0, 4);
    expect([...head]).toEqual([0x00, 0x61, 0x73, 0x6d]); // "\0asm"
    // Only onnxruntime-web's own files are served there.
    expect((await fetch(new URL("ort/..%2Fpackage.json", url))).status).toBe(404);
    expect((await fetch(new URL("ort/missing.wasm", url))).status).toBe(404);
  } finally {
    if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
  }
}, 60_000);

