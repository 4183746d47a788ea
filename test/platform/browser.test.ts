/**
 * The training page in a real browser: headless Chromium (Debian's `chromium`, driven by playwright-core;
 * nothing downloads a browser) loads examples/browser, which must train to a falling loss and a passing
 * accuracy while it keeps drawing, with no error logged; a screenshot goes to test-output/. A second page
 * runs the root's formerly Node-bound pieces (learning phase, checkpoints as bytes) in the browser.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { serveBrowserDemo, type DemoServer } from "../../scripts/serve-browser-demo.js";

const outputDir = fileURLToPath(new URL("../../test-output/", import.meta.url));

/** The Chromium to drive: $CHROMIUM_PATH, else the first of Debian's and other usual names on the PATH. */
function findChromium(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH is set to ${fromEnv}, which does not exist`);
    return fromEnv;
  }
  for (const name of ["chromium", "chromium-browser", "google-chrome-stable", "google-chrome"]) {
    try {
      return execFileSync("which", [name], { encoding: "utf8" }).trim();
    } catch {
      /* try the next name */
    }
  }
  throw new Error(
    "The browser test needs Chromium and found none. Install Debian's package: " +
      "`apt-get update && apt-get install -y chromium` (.ci/run does this), or set CHROMIUM_PATH to a Chromium or Chrome executable.",
  );
}

interface DemoState {
  seed: number;
  steps: number;
  step: number;
  losses: number[];
  accuracy: number;
  renders: number;
  done: boolean;
  error: string | undefined;
}
/** The page's own globals, as far as these tests read them (the test compiles without the DOM library). */
interface PageGlobals {
  demo: DemoState;
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
  const executablePath = findChromium();
  server = await serveBrowserDemo(0);
  browser = await chromium.launch({
    executablePath,
    // The flags keep Chromium off the network (this machine has none) and work as root.
    args: [
      ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Everything the page reports as going wrong: console errors, uncaught exceptions, failed requests. */
function watchForErrors(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console.error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return problems;
}

test("the page trains in Chromium: the loss falls, accuracy passes 90%, it draws while training, retrains on request, no errors", async () => {
  const page = await browser.newPage({ viewport: { width: 960, height: 640 } });
  const problems = watchForErrors(page);
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
  expect(problems).toEqual([]);
  await page.close();
}, 300_000);

test("in the browser: the learning phase scopes synchronously, checkpoints round-trip as bytes, tensors print, the wasm kernel runs", async () => {
  const built = await esbuild.build({
    entryPoints: [fileURLToPath(new URL("./browser-probe.ts", import.meta.url))],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const page = await browser.newPage();
  const problems = watchForErrors(page);
  await page.setContent("<!doctype html><title>probe</title>");
  await page.addScriptTag({ content: built.outputFiles[0]!.text });
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
  } finally {
    if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
  }
}, 60_000);

