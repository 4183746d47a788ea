/**
 * The shared benchmark harness: timed, interleaved, side-by-side comparisons.
 *
 * Method (the one used for the measurements in `../shared/reference/perf-anchors.md`):
 * 1. **Calibrate** each contender: call it 1, 2, 4, ... times until a batch lasts a quarter of the
 *    target, then size its batch so that one batch lasts about `targetMs` (200 ms; at least one call).
 *    Calibration doubles as the JIT warm-up; a contender whose calibration was short runs one extra
 *    untimed batch.
 * 2. **Interleave**: for each of `rounds` rounds (7), run one timed batch of every contender in turn, in
 *    the same process, yielding to the event loop between batches. Clock drift and background load then
 *    hit every contender alike, and the per-round ratio to the reference cancels most of it.
 * 3. **Report** per contender the median [min–max] over rounds in the chosen unit, and the per-round
 *    speed ratio against the reference contender (`x3.2` = 3.2 times faster than the reference in the
 *    same round), as a table on stdout and as JSON (see {@link Suite.save}). A case that names its
 *    `peers` also reports each contender's per-round speed against the fastest peer of that round.
 *
 * A contender may be async (its `run` returns a promise: it is then awaited call by call) and may have an
 * untimed `setup`, called before each of its batches: switching the TensorFlow.js backend goes there.
 * A contender that throws is reported as `failed` with the message; the others carry on.
 *
 * Conventions for `bench/*.bench.ts` files (see `run.ts` and `README.md`):
 * ```ts
 * import { Suite, runIfMain } from "./harness.js";
 * export async function main(): Promise<void> {
 *   const suite = new Suite("example");                 // results go to bench/results/example.json
 *   await suite.compare("add 1e6", { reference: "tfjs-cpu", unit: "ns/element", work: 1e6, contenders: [...] });
 *   suite.save();
 * }
 * runIfMain(import.meta.url, main);                     // `npx tsx bench/example.bench.ts` runs it alone
 * ```
 *
 * Command-line flags, read by {@link options} (from `process.argv`, so they work for `run.ts` and for a
 * bench file run alone): `--quick` (2 rounds of ~50 ms, contenders marked `slow` skipped: a smoke test),
 * `--rounds=N`, `--target-ms=N`, `--case=TEXT` (only cases whose title contains TEXT, case-insensitive).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type * as TfModule from "@tensorflow/tfjs";

// ---------------------------------------------------------------------------------------------------------
// Options

/** Run-wide settings, from the command line. */
export interface BenchOptions {
  /** Smoke-test mode: few short rounds, `slow` contenders skipped. */
  readonly quick: boolean;
  /** Timed rounds per case. */
  readonly rounds: number;
  /** Wanted duration of one timed batch, in ms. */
  readonly targetMs: number;
  /** Only cases whose title contains this (lower case); `undefined` runs all. */
  readonly caseFilter: string | undefined;
  /** Positional (non-flag) arguments: `run.ts` uses the first as its file-name filter. */
  readonly positional: readonly string[];
}

let cachedOptions: BenchOptions | undefined;

/** The settings of this run, parsed once from `process.argv`. @returns the options. */
export function options(): BenchOptions {
  if (cachedOptions) return cachedOptions;
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const a = args.find((s) => s === `--${name}` || s.startsWith(`--${name}=`));
    return a === undefined ? undefined : (a.split("=")[1] ?? "");
  };
  const positiveNumber = (name: string, fallback: number): number => {
    const v = flag(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!(n > 0)) throw new RangeError(`bench: --${name} must be a positive number, got '${v}'`);
    return n;
  };
  const quick = flag("quick") !== undefined;
  cachedOptions = {
    quick,
    rounds: Math.round(positiveNumber("rounds", quick ? 2 : 7)),
    targetMs: positiveNumber("target-ms", quick ? 50 : 200),
    caseFilter: flag("case")?.toLowerCase(),
    positional: args.filter((a) => !a.startsWith("--")),
  };
  return cachedOptions;
}

// ---------------------------------------------------------------------------------------------------------
// Units

/**
 * How a per-call time is shown. `work` (given per case) is the amount of work in one call: floating-point
 * operations for `GFLOP/s`, elements for `ns/element`, scalar ops for `µs/op`, steps for `steps/s`; `ms`
 * ignores it.
 */
export type Unit = "GFLOP/s" | "ns/element" | "µs/op" | "ms" | "steps/s";

const UNITS: Record<Unit, { higherIsBetter: boolean; fromMs: (msPerCall: number, work: number) => number }> = {
  "GFLOP/s": { higherIsBetter: true, fromMs: (ms, w) => w / (ms * 1e6) },
  "ns/element": { higherIsBetter: false, fromMs: (ms, w) => (ms * 1e6) / w },
  "µs/op": { higherIsBetter: false, fromMs: (ms, w) => (ms * 1e3) / w },
  ms: { higherIsBetter: false, fromMs: (ms) => ms },
  "steps/s": { higherIsBetter: true, fromMs: (ms, w) => (w * 1e3) / ms },
};

// ---------------------------------------------------------------------------------------------------------
// Contenders and results

/** One implementation of a case. */
export interface Contender {
  /** Shown in the table and used as `reference`. */
  readonly name: string;
  /** One call of the measured work (may return a promise, then awaited). Its result is kept, never dropped. */
  readonly run: () => unknown;
  /** Untimed, before each batch of this contender (e.g. `await tf.setBackend("cpu")`). */
  readonly setup?: () => void | Promise<void>;
  /** Takes part in the first `maxRounds` rounds only (for a contender that needs seconds per call). */
  readonly maxRounds?: number;
  /** Skipped with `--quick`. */
  readonly slow?: boolean;
}

/** The settings of one case. */
export interface CompareSpec {
  /** The name of the contender the ratios are taken against. */
  readonly reference: string;
  readonly contenders: readonly Contender[];
  readonly unit: Unit;
  /** Work per call, in the unit's terms (see {@link Unit}). */
  readonly work: number;
  /** Overrides the run-wide number of rounds. */
  readonly rounds?: number;
  /** A line printed under the table (and kept in the JSON). */
  readonly note?: string;
  /**
   * Other libraries' contenders: when given, each contender also gets its per-round speed relative to the
   * fastest of these in the same round (`vsBestPeer`, > 1: faster than every peer).
   */
  readonly peers?: readonly string[];
}

/** A median with its spread. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** The measurement of one contender in one case. */
export interface ContenderResult {
  readonly name: string;
  readonly status: "ok" | "failed" | "skipped";
  /** Why it failed or was skipped. */
  readonly reason?: string;
  /** Calls per timed batch. */
  readonly callsPerBatch: number;
  /** Milliseconds per call, one entry per round it took part in. */
  readonly msPerCall: readonly number[];
  /** In the case's unit. */
  readonly value?: Spread;
  /** Speed relative to the reference, per round (> 1: faster than the reference). */
  readonly speedup?: Spread;
  /** Speed relative to the fastest peer of the same round (see {@link CompareSpec.peers}). */
  readonly vsBestPeer?: Spread;
}

/** The outcome of {@link compare}. */
export interface Comparison {
  readonly title: string;
  readonly unit: Unit;
  readonly work: number;
  readonly reference: string;
  readonly rounds: number;
  readonly note?: string;
  /** The contenders the best-peer ratio is taken against, when any. */
  readonly peers?: readonly string[];
  readonly results: readonly ContenderResult[];
}

/** Keeps results alive, so no engine can drop a call as dead code. */
let sink: unknown;
/** @internal The last kept result (read it to defeat dead-code elimination in custom loops). */
export function lastSink(): unknown {
  return sink;
}

const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === "object" && x !== null && typeof (x as { then?: unknown }).then === "function";
}

interface Live {
  readonly c: Contender;
  async: boolean;
  calls: number;
  readonly ms: number[];
  failed?: string;
}

async function timeBatch(l: Live, calls: number): Promise<number> {
  if (l.c.setup) await l.c.setup();
  const run = l.c.run;
  let r: unknown;
  const t0 = performance.now();
  if (l.async) {
    for (let i = 0; i < calls; i++) r = await run();
  } else {
    for (let i = 0; i < calls; i++) r = run();
  }
  const t = performance.now() - t0;
  sink = r;
  await yieldToEventLoop();
  return t;
}

async function calibrate(l: Live, targetMs: number): Promise<void> {
  // The first call also tells sync from async.
  if (l.c.setup) await l.c.setup();
  const t0 = performance.now();
  const first = l.c.run();
  if (isThenable(first)) {
    l.async = true;
    sink = await first;
  } else sink = first;
  let elapsed = performance.now() - t0;
  let calls = 1;
  let spent = elapsed;
  await yieldToEventLoop();
  while (elapsed < targetMs / 4) {
    calls *= 2;
    elapsed = await timeBatch(l, calls);
    spent += elapsed;
  }
  l.calls = Math.max(1, Math.round((calls * targetMs) / elapsed));
  if (spent < targetMs) await timeBatch(l, l.calls); // warm-up batch at the final size
}

function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  return { median, min: s[0]!, max: s[n - 1]! };
}

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split("\n")[0]!.slice(0, 160);
}

/**
 * Whether `--case` lets a case with this title run (use it to skip a case's setup and checks too).
 * @param title the case's title. @returns true when the case is selected.
 */
export function selected(title: string): boolean {
  const f = options().caseFilter;
  return f === undefined || title.toLowerCase().includes(f);
}

/**
 * Measures the contenders of one case, interleaved round by round, prints the table and returns the
 * numbers. Returns `undefined` (and prints nothing) when `--case` filters the title out.
 *
 * @param title the case, e.g. `"matmul 256x256 f32"`.
 * @param spec the reference's name, the contenders, the unit and the work per call.
 * @returns the comparison, ready for {@link printTable} or JSON.
 */
export async function compare(title: string, spec: CompareSpec): Promise<Comparison | undefined> {
  const opts = options();
  if (!selected(title)) return undefined;
  if (!spec.contenders.some((c) => c.name === spec.reference)) {
    throw new Error(`compare(${title}): the reference '${spec.reference}' is not among the contenders`);
  }
  const rounds = spec.rounds ?? opts.rounds;
  const lives: Live[] = spec.contenders.map((c) => ({ c, async: false, calls: 0, ms: [] }));
  const skipped = new Set<Live>();
  for (const l of lives) {
    if (opts.quick && l.c.slow) {
      skipped.add(l);
      continue;
    }
    try {
      await calibrate(l, opts.targetMs);
    } catch (e) {
      l.failed = message(e);
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const l of lives) {
      if (skipped.has(l) || l.failed !== undefined || r >= (l.c.maxRounds ?? Infinity)) continue;
      try {
        l.ms.push((await timeBatch(l, l.calls)) / l.calls);
      } catch (e) {
        l.failed = message(e);
      }
    }
  }
  const unit = UNITS[spec.unit];
  const ref = lives.find((l) => l.c.name === spec.reference)!;
  const peerLives = lives.filter((l) => spec.peers?.includes(l.c.name) === true && l.failed === undefined && !skipped.has(l));
  const results = lives.map((l): ContenderResult => {
    const base = { name: l.c.name, callsPerBatch: l.calls, msPerCall: l.ms };
    if (skipped.has(l)) return { ...base, status: "skipped", reason: "slow; skipped with --quick" };
    if (l.failed !== undefined) return { ...base, status: "failed", reason: l.failed };
    const value = spread(l.ms.map((ms) => unit.fromMs(ms, spec.work)));
    const n = Math.min(l.ms.length, ref.ms.length);
    const ratios: number[] = [];
    for (let i = 0; i < n; i++) ratios.push(ref.ms[i]! / l.ms[i]!);
    // the fastest peer of each round this contender ran in (peers that ran fewer rounds count where they ran)
    const vsBest: number[] = [];
    for (let i = 0; i < l.ms.length; i++) {
      const best = Math.min(...peerLives.filter((p) => p.ms.length > i).map((p) => p.ms[i]!));
      if (Number.isFinite(best)) vsBest.push(best / l.ms[i]!);
    }
    return {
      ...base,
      status: "ok",
      value,
      ...(ratios.length > 0 ? { speedup: spread(ratios) } : {}),
      ...(vsBest.length > 0 ? { vsBestPeer: spread(vsBest) } : {}),
    };
  });
  const comparison: Comparison = {
    title,
    unit: spec.unit,
    work: spec.work,
    reference: spec.reference,
    rounds,
    ...(spec.note !== undefined ? { note: spec.note } : {}),
    ...(spec.peers !== undefined ? { peers: spec.peers } : {}),
    results,
  };
  printTable(comparison);
  return comparison;
}

// ---------------------------------------------------------------------------------------------------------
// Printing

/** Formats a number with 3 significant digits (no exponent for everyday magnitudes). @param x the number. @returns the text. */
export function fmt3(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toString();
  if (a === 0) return "0";
  if (a < 0.001) return x.toExponential(2);
  return Number(x.toPrecision(3)).toString();
}

function fmtSpread(s: Spread, prefix = ""): string {
  return `${prefix}${fmt3(s.median)} [${fmt3(s.min)}–${fmt3(s.max)}]`;
}

/**
 * Prints a comparison as an aligned table: one row per contender with the value median [min–max], the
 * time per call and the speed ratio to the reference.
 * @param c the comparison.
 */
export function printTable(c: Comparison): void {
  const better = UNITS[c.unit].higherIsBetter ? "higher is better" : "lower is better";
  const head = ["contender", `${c.unit} median [min–max]`, "ms/call", `speed vs ${c.reference}`, "calls×rounds"];
  if (c.peers !== undefined) head.push("vs best peer");
  const rows = c.results.map((r) => {
    if (r.status !== "ok") return [r.name, `${r.status}: ${r.reason ?? ""}`, "", "", "", ...(c.peers !== undefined ? [""] : [])];
    const ms = spread(r.msPerCall);
    const speed = r.name === c.reference ? "x1 (reference)" : r.speedup ? fmtSpread(r.speedup, "x") : "–";
    const row = [r.name, fmtSpread(r.value!), fmt3(ms.median), speed, `${r.callsPerBatch}×${r.msPerCall.length}`];
    if (c.peers !== undefined) row.push(c.peers.includes(r.name) ? "(peer)" : r.vsBestPeer ? fmtSpread(r.vsBestPeer, "x") : "–");
    return row;
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i]!.length > 60 ? 0 : row[i]!.length))));
  const line = (cells: readonly string[]): string => cells.map((s, i) => s.padEnd(widths[i]!)).join("  ").trimEnd();
  console.log(`\n## ${c.title}  (${c.unit}, ${better})`);
  console.log(line(head));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of rows) console.log(line(row));
  if (c.note !== undefined) console.log(`note: ${c.note}`);
}

// ---------------------------------------------------------------------------------------------------------
// Correctness checks

/** The outcome of {@link checkClose}. */
export interface Check {
  readonly label: string;
  readonly ok: boolean;
  readonly maxAbsDiff: number;
  readonly maxRelDiff: number;
  readonly size: number;
}

/**
 * Compares two arrays of numbers elementwise (e.g. the same gradient from two libraries) and prints one
 * line: `check ok` or `check FAILED`, with the largest differences.
 * @param label what is compared. @param actual the values under test. @param expected the reference values.
 * @param rtol allowed difference relative to `max(|expected|, 1e-3 · max|expected|)`.
 * @returns the check record (also marks the process as failed when it fails).
 */
export function checkClose(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-4): Check {
  let maxAbs = 0;
  let maxRel = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  const sameLength = actual.length === expected.length;
  for (let i = 0; sameLength && i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    maxAbs = Math.max(maxAbs, Number.isNaN(d) ? Infinity : d);
    maxRel = Math.max(maxRel, d / Math.max(Math.abs(expected[i]!), 1e-3 * scale, 1e-30));
  }
  const ok = sameLength && maxRel <= rtol;
  const detail = sameLength
    ? `max |diff| ${fmt3(maxAbs)}, max rel ${fmt3(maxRel)} over ${expected.length} values (rtol ${rtol})`
    : `length ${actual.length} vs ${expected.length}`;
  console.log(`check ${ok ? "ok" : "FAILED"}: ${label}: ${detail}`);
  if (!ok) process.exitCode = 1;
  return { label, ok, maxAbsDiff: maxAbs, maxRelDiff: maxRel, size: expected.length };
}

// ---------------------------------------------------------------------------------------------------------
// TensorFlow.js, the peer

/** The `@tensorflow/tfjs` module. */
export type Tf = typeof TfModule;
/** The tfjs backends the benches compare against. */
export type TfBackend = "cpu" | "wasm";

let tfLoading: Promise<{ tf: Tf; backends: TfBackend[] }> | undefined;

/**
 * Loads `@tensorflow/tfjs` (the union package: tfjs-core alone registers no gradients under Node) and the
 * WebAssembly backend once, and reports which backends run here (wasm: SIMD, 1 thread under Node).
 * Leaves the `cpu` backend active. tfjs's "install tfjs-node" banner is silenced.
 * @returns the module and the working backends.
 */
export function loadTf(): Promise<{ tf: Tf; backends: TfBackend[] }> {
  tfLoading ??= (async () => {
    const warn = console.warn;
    const log = console.log;
    console.warn = console.log = () => {};
    try {
      const tf = await import("@tensorflow/tfjs");
      await import("@tensorflow/tfjs-backend-wasm");
      const backends: TfBackend[] = ["cpu"];
      let wasm = false;
      try {
        wasm = await tf.setBackend("wasm");
      } catch {
        wasm = false;
      }
      if (wasm) backends.push("wasm");
      await tf.setBackend("cpu");
      tf.tensor([0]).dispose(); // the cpu backend prints its banner on its first write: let it happen here
      return { tf, backends };
    } finally {
      console.warn = warn;
      console.log = log;
    }
  })();
  return tfLoading;
}

/**
 * A tfjs contender named `tfjs-<backend>`: its setup activates the backend, so cases may mix backends.
 * Create its inputs with {@link onTfBackend} so that they live on that backend (a tensor used under another
 * backend is moved there, which would be timed).
 * @param tf the module. @param backend the backend. @param run one call; force the result with {@link tfRead}. @param extra `maxRounds`, `slow`.
 * @returns the contender.
 */
export function tfContender(tf: Tf, backend: TfBackend, run: () => unknown, extra: Partial<Contender> = {}): Contender {
  return {
    name: `tfjs-${backend}`,
    setup: async () => {
      if (tf.getBackend() !== backend) await tf.setBackend(backend);
    },
    run,
    ...extra,
  };
}

/**
 * Runs `f` inside `tf.tidy` and forces its result(s) with `dataSync()`, returning the typed arrays. Use it
 * for every timed tfjs call: nothing leaks, and the work is really done (on any backend). The arrays are
 * returned *outside* the tidy on purpose: `tf.tidy` walks what its callback returns looking for tensors,
 * key by key, which costs ~0.7 µs per element of a returned typed array (0.7 s for 1e6 elements).
 * @param tf the module. @param f the computation. @returns the values of each result tensor.
 */
export function tfRead(tf: Tf, f: () => TfModule.Tensor | TfModule.Tensor[]): TfModule.TypedArray[] {
  let out: TfModule.TypedArray[] = [];
  tf.tidy(() => {
    const r = f();
    out = Array.isArray(r) ? r.map((t) => t.dataSync()) : [r.dataSync()];
  });
  return out;
}

/**
 * Runs `make` with `backend` active (e.g. to create a contender's input tensors on it).
 * @param tf the module. @param backend the backend. @param make creates the values.
 * @returns what `make` returned.
 */
export async function onTfBackend<T>(tf: Tf, backend: TfBackend, make: () => T): Promise<T> {
  if (tf.getBackend() !== backend) await tf.setBackend(backend);
  return make();
}

// ---------------------------------------------------------------------------------------------------------
// Suites and files

/** The machine and settings, stored with every result file. */
function environment(): Record<string, unknown> {
  const cpu = cpus();
  const o = options();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpu[0]?.model ?? "unknown",
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    quick: o.quick,
    rounds: o.rounds,
    targetMs: o.targetMs,
    caseFilter: o.caseFilter ?? null,
  };
}

/**
 * The cases and checks of one bench file, saved together as `bench/results/<name>.json`.
 * @example
 * ```ts
 * const suite = new Suite("tensor");
 * await suite.compare("add 1e6", { reference: "tfjs-cpu", unit: "ns/element", work: 1e6, contenders });
 * suite.save();
 * ```
 */
export class Suite {
  readonly comparisons: Comparison[] = [];
  readonly checks: Check[] = [];
  private readonly started = new Date();

  /** @param name the file name of the results (`bench/results/<name>.json`). */
  constructor(readonly name: string) {
    console.log(`\n# ${name} (${options().quick ? "--quick, " : ""}${options().rounds} rounds × ~${options().targetMs} ms per contender)`);
  }

  /** {@link compare}, keeping the result. @param title the case. @param spec the contenders. @returns the comparison. */
  async compare(title: string, spec: CompareSpec): Promise<Comparison | undefined> {
    const c = await compare(title, spec);
    if (c) this.comparisons.push(c);
    return c;
  }

  /** {@link checkClose}, keeping the result. @returns the check. */
  check(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rtol?: number): Check {
    const c = checkClose(label, actual, expected, rtol);
    this.checks.push(c);
    return c;
  }

  /**
   * Writes `bench/results/<name>.json` (the folder is git-ignored), unless nothing ran (every case
   * filtered out by `--case`): an earlier file is then left as it was.
   * @returns the file's path, or `undefined` when nothing was written.
   */
  save(): string | undefined {
    if (this.comparisons.length === 0 && this.checks.length === 0) return undefined;
    const dir = fileURLToPath(new URL("./results/", import.meta.url));
    mkdirSync(dir, { recursive: true });
    const file = resolve(dir, `${this.name}.json`);
    const doc = {
      suite: this.name,
      date: this.started.toISOString(),
      seconds: Math.round((Date.now() - this.started.getTime()) / 100) / 10,
      environment: environment(),
      comparisons: this.comparisons,
      checks: this.checks,
    };
    writeFileSync(file, JSON.stringify(doc, null, 2) + "\n");
    console.log(`\nresults written to ${file}`);
    return file;
  }
}

/**
 * Runs `main` when the calling module is the script Node was started with (`npx tsx bench/x.bench.ts`),
 * and does nothing when the module is imported (by `run.ts`). A rejection is printed and sets exit code 1.
 * @param moduleUrl the caller's `import.meta.url`. @param main the bench's entry point.
 */
export function runIfMain(moduleUrl: string, main: () => Promise<void>): void {
  const script = process.argv[1];
  if (script === undefined || resolve(script) !== fileURLToPath(moduleUrl)) return;
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
