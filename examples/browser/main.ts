/**
 * The browser page: trains the spiral classifier of `spirals.ts` in the page, drawing the decision
 * regions and the loss curve after every few steps and yielding to the event loop in between, so the page
 * never freezes. Then it exports the trained model to ONNX, runs the file in ONNX Runtime Web and shows
 * whether both agree, and offers the file for download. Served by `npm run demo:browser`; driven in
 * headless Chromium by the test suite, which reads `globalThis.demo`.
 */
import { concat, type Dense, type Sequential } from "../../src/index.js";
import { spirals, makeModel, train, decisionGrid, gridPoints, type PlaneData, type TrainingProgress } from "./spirals.js";
import { compareWithOnnxRuntime } from "./onnx.js";
import type { DemoState } from "./state.js";

type Model = Sequential<[Dense, Dense, Dense]>;


const STEPS = 400;
const STEPS_PER_FRAME = 5;
const GRID = 72;
const EXTENT = 1.2;
const COLORS = [
  [214, 69, 65],
  [46, 134, 193],
  [39, 174, 96],
] as const;

const ONNX_FILE = "spirals.onnx";
/** ONNX Runtime Web's binary, which the page's server serves from node_modules. */
const ORT_WASM = new URL("ort/ort-wasm-simd-threaded.wasm", document.baseURI).href;

const state: DemoState = {
  seed: 0,
  steps: STEPS,
  step: 0,
  losses: [],
  accuracy: 0,
  renders: 0,
  done: false,
  error: undefined,
  onnx: undefined,
  onnxError: undefined,
};
(globalThis as unknown as { demo: DemoState }).demo = state;

let model: Model | undefined;
let finished: Promise<Model> | undefined;
/** The last exported `.onnx` file, for the download button. */
let exported: Uint8Array | undefined;

/** The model as training left it so far (undefined before the first run starts). */
export function currentModel(): Model | undefined {
  return model;
}

/** The trained model, once the current run has finished (for exporting it, or running it elsewhere). */
export function trainedModel(): Promise<Model> {
  if (finished === undefined) throw new Error("trainedModel: training has not started yet");
  return finished;
}

function canvas(id: string): { el: HTMLCanvasElement; ctx: CanvasRenderingContext2D } {
  const el = document.getElementById(id);
  if (!(el instanceof HTMLCanvasElement)) throw new Error(`the page has no <canvas id="${id}">`);
  const ctx = el.getContext("2d");
  if (ctx === null) throw new Error("this browser has no 2-D canvas");
  return { el, ctx };
}

function drawRegions(m: Model, data: PlaneData): void {
  const { el, ctx } = canvas("regions");
  const grid = decisionGrid(m, GRID, EXTENT);
  const image = ctx.createImageData(GRID, GRID);
  for (let i = 0; i < grid.length; i++) {
    const [r, g, b] = COLORS[grid[i]!]!;
    // A light tint of the class colour: the points stay readable on top.
    image.data.set([255 - (255 - r) * 0.35, 255 - (255 - g) * 0.35, 255 - (255 - b) * 0.35, 255], i * 4);
  }
  const off = document.createElement("canvas");
  off.width = off.height = GRID;
  off.getContext("2d")!.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, el.width, el.height);
  const xy = data.points.dataSync();
  const labels = data.labels.dataSync();
  const toPixel = (v: number, size: number): number => ((v + EXTENT) / (2 * EXTENT)) * size;
  for (let i = 0; i < labels.length; i++) {
    const [r, g, b] = COLORS[labels[i]!]!;
    ctx.beginPath();
    ctx.arc(toPixel(xy[2 * i]!, el.width), el.height - toPixel(xy[2 * i + 1]!, el.height), 3.5, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fill();
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 1;
    ctx.stroke();
  }
}

function drawLoss(losses: readonly number[], steps: number): void {
  const { el, ctx } = canvas("loss");
  const pad = { left: 48, right: 12, top: 12, bottom: 28 };
  const w = el.width - pad.left - pad.right;
  const h = el.height - pad.top - pad.bottom;
  const top = Math.max(1e-6, ...losses.slice(0, 5), losses.length ? Math.max(...losses) : 1);
  ctx.clearRect(0, 0, el.width, el.height);
  ctx.font = "12px system-ui, sans-serif";
  ctx.fillStyle = "#4a5560";
  ctx.strokeStyle = "#e4e8ec";
  ctx.lineWidth = 1;
  for (let k = 0; k <= 4; k++) {
    const y = pad.top + (h * k) / 4;
    ctx.beginPath();
    ctx.moveTo(pad.left, y);
    ctx.lineTo(pad.left + w, y);
    ctx.stroke();
    ctx.fillText((top * (1 - k / 4)).toFixed(2), 6, y + 4);
  }
  ctx.fillText("0", pad.left, el.height - 8);
  ctx.fillText(`step ${steps}`, pad.left + w - 56, el.height - 8);
  ctx.strokeStyle = "#2e86c1";
  ctx.lineWidth = 2;
  ctx.beginPath();
  losses.forEach((loss, i) => {
    const x = pad.left + (w * (i + 1)) / steps;
    const y = pad.top + h * (1 - loss / top);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
}

function showStatus(p: TrainingProgress, done: boolean): void {
  const last = p.losses.at(-1);
  const text = `${done ? "Done" : "Training"}: step ${p.step} of ${STEPS} · loss ${last === undefined ? "–" : last.toFixed(4)} · accuracy ${(100 * p.accuracy).toFixed(1)}%`;
  document.getElementById("status")!.textContent = text;
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Exports the trained model, runs it in ONNX Runtime Web on every grid cell and training point, and says
 * whether ONNX Runtime agrees with difftypes. A failure here is shown, but leaves the trained model usable.
 */
async function checkOnnx(m: Model, data: PlaneData): Promise<void> {
  const line = document.getElementById("onnx")!;
  line.textContent = "Exporting to ONNX and running the file in ONNX Runtime Web…";
  try {
    const { bytes, comparison } = await compareWithOnnxRuntime(m, concat([gridPoints(GRID, EXTENT), data.points], 0), ORT_WASM);
    exported = bytes;
    state.onnx = comparison;
    const n = comparison.points.length / 2;
    const agree = comparison.sameClass === n ? `the same class as difftypes at all ${n.toLocaleString("en-US")} points` : `the same class at ${comparison.sameClass} of ${n} points`;
    line.textContent =
      `ONNX Runtime Web (WebAssembly) ran the exported model (${(comparison.fileBytes / 1024).toFixed(1)} kB): ${agree}, ` +
      `largest difference in the logits ${comparison.maxDifference.toExponential(1)}.`;
    (document.getElementById("download") as HTMLButtonElement).disabled = false;
  } catch (e) {
    state.onnxError = describeError(e);
    line.textContent = `ONNX export failed: ${state.onnxError}`;
    console.error(e);
  }
}

/** Offers `bytes` to the user as a file download. */
function download(bytes: Uint8Array, fileName: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Hands control back to the browser: input, painting and other tasks run before the next chunk. */
const yieldToBrowser = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function run(seed: number): Promise<Model> {
  const data = spirals(100, 3, seed);
  const m = makeModel(3, seed);
  model = m;
  Object.assign(state, { seed, step: 0, losses: [], accuracy: 0, renders: 0, done: false, error: undefined, onnx: undefined, onnxError: undefined });
  exported = undefined;
  (document.getElementById("download") as HTMLButtonElement).disabled = true;
  document.getElementById("onnx")!.textContent = "";
  drawRegions(m, data);
  drawLoss([], STEPS);
  const last = await train(m, data, {
    steps: STEPS,
    chunk: STEPS_PER_FRAME,
    onProgress: async (current, p) => {
      Object.assign(state, { step: p.step, losses: [...p.losses], accuracy: p.accuracy });
      drawRegions(current, data);
      drawLoss(p.losses, STEPS);
      showStatus(p, false);
      if (p.step < STEPS) state.renders++;
      await yieldToBrowser();
    },
  });
  showStatus(last, true);
  state.done = true;
  await checkOnnx(m, data);
  return m;
}

function start(seed: number): void {
  const button = document.getElementById("restart") as HTMLButtonElement;
  button.disabled = true;
  finished = run(seed);
  finished.then(
    () => {
      button.disabled = false;
    },
    (e: unknown) => {
      state.error = describeError(e);
      document.getElementById("status")!.textContent = `Training failed: ${state.error}`;
      console.error(e);
    },
  );
}

document.getElementById("restart")!.addEventListener("click", () => start(state.seed + 1));
document.getElementById("download")!.addEventListener("click", () => {
  if (exported !== undefined) download(exported, ONNX_FILE);
});
start(0);
