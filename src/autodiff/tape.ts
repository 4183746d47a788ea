/**
 * Reverse-mode levels: each op on a tracer of the level appends one entry to the level's tape.
 * Sweeping the tape backwards with the VJP rules gives pullbacks; sweeping it forwards with the JVP rules
 * gives differentials (linearization), so a `differential` closure can be applied to many tangents without
 * running the function again.
 *
 * The tape belongs to the operator, not to the tracers: the level hands it to the operator while open and
 * lets go of it when it closes, so a tracer kept after its operator returned does not keep the recording.
 */
import type { Tensor } from "../tensor/tensor.js";
import type { Primitive } from "./primitive.js";
import { Trace, bind, innermostLevel, settled, traceOf, withLevel } from "./trace.js";
import { PrimalTracer } from "./tracer.js";

/** @internal One recorded op (or, with `prim` null, one input of the level). */
export interface TapeEntry {
  readonly prim: Primitive<unknown> | null;
  /** Tape indices of the inputs traced at this level; -1 for inputs that are constants here. */
  readonly inputs: readonly number[];
  readonly primals: readonly Tensor[];
  readonly out: Tensor;
  readonly params: unknown;
}

/** @internal The recording of one reverse-mode level: entry i produced the tracer whose `_node` is i. */
export class Tape {
  readonly entries: TapeEntry[] = [];
}

/** @internal A reverse-mode level. */
export class TapeTrace extends Trace {
  /** The recording while the level is open; `null` once it has closed (the operator keeps its own reference). */
  tape: Tape | null = new Tape();

  /** The recording (only while the level is open). */
  get recording(): Tape {
    if (this.tape === null) throw new Error(`internal: a closed reverse-mode level was asked for its tape`);
    return this.tape;
  }

  process<P>(prim: Primitive<P>, inputs: readonly Tensor[], params: P): Tensor {
    const n = inputs.length;
    const primals = new Array<Tensor>(n);
    const ids = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const x = inputs[i]!;
      if (traceOf(x) === this) {
        const t = x as TapeTracer;
        primals[i] = t._primal;
        ids[i] = t._node;
      } else {
        primals[i] = x;
        ids[i] = -1;
      }
    }
    const out = bind(prim, primals, params);
    if (prim.nondifferentiable) return out;
    return this.record(prim, ids, primals, out, params);
  }

  /** Appends an entry and returns the tracer of its output. */
  record(prim: Primitive<unknown> | null, ids: readonly number[], primals: readonly Tensor[], out: Tensor, params: unknown): TapeTracer {
    const entries = this.recording.entries;
    const r = new TapeTracer(this, out, entries.length);
    entries.push({ prim, inputs: ids, primals, out, params });
    return r;
  }

  override close(): void {
    super.close();
    this.tape = null;
  }
}

/** @internal A tracer of a reverse-mode level: a value and the index of the tape entry that produced it. */
export class TapeTracer extends PrimalTracer {
  constructor(
    trace: TapeTrace,
    primal: Tensor,
    readonly _node: number,
  ) {
    super(trace, primal);
  }
}

/** @internal Runs `body` with a new reverse-mode level open. */
export function withTapeLevel<R>(body: (main: TapeTrace) => R): R {
  return withLevel((level) => new TapeTrace(level), body);
}

/** @internal Wraps `primal` as an input of `main`: a new tracer with a zero history. */
export function liftTapeInput(main: TapeTrace, primal: Tensor): TapeTracer {
  const p = settled(primal);
  return main.record(null, [], [], p, undefined);
}

/** @internal The part of `x` visible below `main`: its primal if traced at `main`, else itself. */
export function primalAt(main: Trace, x: Tensor): Tensor {
  return traceOf(x) === main ? (x as PrimalTracer)._primal : x;
}

/** @internal The tape node of `x` at `main`, or -1 when `x` is a constant there. */
export function nodeAt(main: TapeTrace, x: Tensor): number {
  return traceOf(x) === main ? (x as TapeTracer)._node : -1;
}

/** @internal Records an op with a precomputed output on a tape level (used by custom derivatives). */
export function recordOnTape(main: TapeTrace, prim: Primitive<unknown>, inputs: readonly Tensor[], out: Tensor): Tensor {
  const primals = inputs.map((x) => primalAt(main, x));
  const ids = inputs.map((x) => nodeAt(main, x));
  return main.record(prim, ids, primals, out, undefined);
}

// One reusable flag array per arity: rules read `needs` during the call and never keep it.
const needsBuffers: boolean[][] = [];
function needsBuffer(n: number): boolean[] {
  return (needsBuffers[n] ??= new Array<boolean>(n).fill(false));
}

/**
 * @internal The reverse sweep of a tape: seeds output cotangents, runs every entry's VJP rule from last to
 * first, and returns the cotangents accumulated at the requested nodes (null for a zero). `add` accumulates
 * fan-in; it is passed in so that this module stays free of op imports.
 */
export function sweepBackward(
  tape: Tape,
  seeds: readonly { node: number; cotangent: Tensor }[],
  wanted: readonly number[],
  add: (a: Tensor, b: Tensor) => Tensor,
): (Tensor | null)[] {
  const entries = tape.entries;
  const cts = new Array<Tensor | null>(entries.length).fill(null);
  let last = -1;
  for (const s of seeds) {
    const prev = cts[s.node];
    cts[s.node] = prev ? add(prev, s.cotangent) : s.cotangent;
    if (s.node > last) last = s.node;
  }
  for (let i = last; i >= 0; i--) {
    const ct = cts[i];
    if (ct === null || ct === undefined) continue;
    const e = entries[i]!;
    if (e.prim === null) continue;
    const ins = e.inputs;
    const needs = needsBuffer(ins.length);
    for (let j = 0; j < ins.length; j++) needs[j] = ins[j]! >= 0;
    const gs = e.prim.vjp(ct, e.primals, e.out, e.params, needs);
    for (let j = 0; j < ins.length; j++) {
      const id = ins[j]!;
      const g = gs[j];
      if (id < 0 || g === null || g === undefined) continue;
      const prev = cts[id];
      cts[id] = prev ? add(prev, g) : g;
    }
    // Free what this entry's cotangent held once it is consumed, so a long sweep does not retain it.
    cts[i] = null;
  }
  return wanted.map((id) => cts[id] ?? null);
}

/**
 * @internal The forward sweep of a tape (linearization): given tangents of the input nodes, runs every
 * entry's JVP rule in order and returns the tangents of the requested nodes.
 */
export function sweepForward(
  tape: Tape,
  inputTangents: readonly { node: number; tangent: Tensor | null }[],
  wanted: readonly number[],
): (Tensor | null)[] {
  const entries = tape.entries;
  const ts = new Array<Tensor | null>(entries.length).fill(null);
  for (const s of inputTangents) ts[s.node] = s.tangent;
  let last = -1;
  for (const w of wanted) if (w > last) last = w;
  for (let i = 0; i <= last; i++) {
    const e = entries[i]!;
    if (e.prim === null) continue;
    const ins = e.inputs;
    const tIn = new Array<Tensor | null>(ins.length);
    let hasTangent = false;
    for (let j = 0; j < ins.length; j++) {
      const id = ins[j]!;
      const t = id >= 0 ? ts[id]! : null;
      tIn[j] = t;
      if (t !== null) hasTangent = true;
    }
    if (hasTangent) ts[i] = e.prim.jvp(e.primals, tIn, e.out, e.params);
  }
  return wanted.map((id) => ts[id] ?? null);
}

/** @internal The number of entries on the innermost open reverse-mode level (for tests of what a pullback keeps). */
export function innermostTapeLength(): number {
  const t = innermostLevel((x): x is TapeTrace => x instanceof TapeTrace);
  return t === undefined ? 0 : t.recording.entries.length;
}
