import { Tensor } from "../tensor/tensor.js";
import type { Primitive } from "./primitive.js";

/**
 * @internal One level of differentiation.
 *
 * Each differential operator opens a level above every active one. A traced tensor belongs to exactly one
 * level and wraps a primal that may itself be traced at a lower level; an op on tensors of several levels
 * is handled by the highest one, which strips its own wrapping, re-applies the op to the primals (handled
 * in turn by the lower levels) and adds its derivative information. Because every level tags its own
 * tracers, perturbations of nested operators are never confused (Siskind & Pearlmutter, 2005; the same
 * scheme as JAX's tracer levels).
 *
 * - `jvp` levels (forward mode) carry a tangent on every tracer and record nothing.
 * - `tape` levels record one entry per op in creation order. Sweeping the tape backwards with the VJP rules
 *   gives pullbacks; sweeping it forwards with the JVP rules gives differentials (linearization), so a
 *   `differential` closure can be applied to many tangents without re-running the function.
 */
export class MainTrace {
  /** False once the operator that opened this level has returned. */
  active = true;
  /** Tape levels: the recorded entries; entry i produced the tracer whose `_node` is i. */
  readonly tape: TapeEntry[] = [];
  constructor(
    readonly level: number,
    readonly kind: "jvp" | "tape",
  ) {}
}

/** @internal One recorded op (or, with `prim` null, one input of the level). */
export interface TapeEntry {
  readonly prim: Primitive<unknown> | null;
  /** Tape indices of the inputs traced at this level; -1 for inputs that are constants here. */
  readonly inputs: readonly number[];
  readonly primals: readonly Tensor[];
  readonly out: Tensor;
  readonly params: unknown;
}

const stack: MainTrace[] = [];

/**
 * @internal The staging level's hook (installed by `src/staged` when it first traces): records an op whose
 * inputs include staged values (shape and dtype, no elements) as an equation of the program being built.
 */
export const staging: {
  record: ((prim: Primitive<unknown>, inputs: readonly Tensor[], params: unknown) => Tensor) | null;
  /** Levels at or below this one were opened outside the program being traced: their tracers are its inputs. */
  floor: number;
} = { record: null, floor: 0 };

/** @internal The number of levels currently open. */
export function currentLevel(): number {
  return stack.length;
}

/** @internal Runs `body` with a new level open above every active one, and closes it afterwards. */
export function withNewLevel<R>(kind: "jvp" | "tape", body: (main: MainTrace) => R): R {
  const main = new MainTrace(stack.length + 1, kind);
  stack.push(main);
  try {
    return body(main);
  } finally {
    stack.pop();
    main.active = false;
  }
}

/** @internal Wraps `primal` as an input of `main`: a new tracer with a zero history. */
export function liftInput(main: MainTrace, primal: Tensor, tangent: Tensor | null = null): Tensor {
  const t = new Tensor(primal.shape, primal.dtype, undefined, main, primal);
  if (main.kind === "tape") {
    t._node = main.tape.length;
    main.tape.push({ prim: null, inputs: [], primals: [], out: primal, params: undefined });
  } else {
    t._tangent = tangent;
  }
  return t;
}

/**
 * @internal A tensor kept from inside a differential operator that has since returned (e.g. logits saved to
 * compute an accuracy) is a plain value: its closed levels carry no derivative any more, so they are peeled
 * off down to the first level still open.
 */
export function settled(x: Tensor): Tensor {
  let t = x;
  while (t._trace !== undefined && !t._trace.active) t = t._primal!;
  return t;
}

/**
 * @internal Applies a primitive to tensors of any levels. Concrete inputs take the fast path straight to
 * the kernel; otherwise the highest level among the inputs handles the op.
 */
export function bind<P>(prim: Primitive<P>, inputs: readonly Tensor[], params: P): Tensor {
  let top: MainTrace | undefined;
  let staged = false;
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i]!;
    const tr = x._trace;
    if (tr === undefined || tr.level <= staging.floor) {
      // Below every level, a tensor without elements is a staged value: the op is recorded, not run.
      if (x._data === undefined) staged = true;
      continue;
    }
    if (!tr.active) return bind(prim, inputs.map(settled), params);
    if (top === undefined || tr.level > top.level) top = tr;
  }
  if (top === undefined) return staged ? staging.record!(prim, inputs, params) : prim.impl(inputs, params);
  if (prim.nondifferentiable) return bind(prim, inputs.map((x) => x._concrete), params);

  const n = inputs.length;
  const primals = new Array<Tensor>(n);
  for (let i = 0; i < n; i++) {
    const x = inputs[i]!;
    primals[i] = x._trace === top ? x._primal! : x;
  }
  const out = bind(prim, primals, params);

  if (top.kind === "jvp") {
    const tangents = new Array<Tensor | null>(n);
    let any = false;
    for (let i = 0; i < n; i++) {
      const x = inputs[i]!;
      const t = x._trace === top ? x._tangent : null;
      tangents[i] = t;
      if (t !== null) any = true;
    }
    if (!any) return out;
    const tangent = prim.jvp(primals, tangents, out, params);
    if (tangent === null) return out;
    const r = new Tensor(out.shape, out.dtype, undefined, top, out);
    r._tangent = tangent;
    return r;
  }

  const ids = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const x = inputs[i]!;
    ids[i] = x._trace === top ? x._node : -1;
  }
  const r = new Tensor(out.shape, out.dtype, undefined, top, out);
  r._node = top.tape.length;
  top.tape.push({ prim: prim, inputs: ids, primals, out, params });
  return r;
}

/** @internal The part of `x` visible below `main`: its primal if traced at `main`, else itself. */
export function primalAt(main: MainTrace, x: Tensor): Tensor {
  return x._trace === main ? x._primal! : x;
}

// One reusable flag array per arity: rules read `needs` during the call and never keep it.
const needsBuffers: boolean[][] = [];
function needsBuffer(n: number): boolean[] {
  return (needsBuffers[n] ??= new Array<boolean>(n).fill(false));
}

/**
 * @internal The reverse sweep of a tape level: seeds output cotangents, runs every entry's VJP rule from
 * last to first, and returns the cotangents accumulated at the requested nodes (null for a zero).
 * `add` accumulates fan-in; it is passed in so that this module stays free of op imports.
 */
export function sweepBackward(
  main: MainTrace,
  seeds: readonly { node: number; cotangent: Tensor }[],
  wanted: readonly number[],
  add: (a: Tensor, b: Tensor) => Tensor,
): (Tensor | null)[] {
  const tape = main.tape;
  const cts = new Array<Tensor | null>(tape.length).fill(null);
  let last = -1;
  for (const s of seeds) {
    const prev = cts[s.node];
    cts[s.node] = prev ? add(prev, s.cotangent) : s.cotangent;
    if (s.node > last) last = s.node;
  }
  for (let i = last; i >= 0; i--) {
    const ct = cts[i];
    if (ct === null || ct === undefined) continue;
    const e = tape[i]!;
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
    if (e.prim !== null) cts[i] = null;
  }
  return wanted.map((id) => cts[id] ?? null);
}

/**
 * @internal The forward sweep of a tape level (linearization): given tangents of the input nodes, runs
 * every entry's JVP rule in order and returns the tangents of the requested nodes.
 */
export function sweepForward(
  main: MainTrace,
  inputTangents: readonly { node: number; tangent: Tensor | null }[],
  wanted: readonly number[],
): (Tensor | null)[] {
  const tape = main.tape;
  const ts = new Array<Tensor | null>(tape.length).fill(null);
  for (const s of inputTangents) ts[s.node] = s.tangent;
  let last = -1;
  for (const w of wanted) if (w > last) last = w;
  for (let i = 0; i <= last; i++) {
    const e = tape[i]!;
    if (e.prim === null) continue;
    const ins = e.inputs;
    const tIn = new Array<Tensor | null>(ins.length);
    let any = false;
    for (let j = 0; j < ins.length; j++) {
      const id = ins[j]!;
      const t = id >= 0 ? ts[id]! : null;
      tIn[j] = t;
      if (t !== null) any = true;
    }
    if (any) ts[i] = e.prim.jvp(e.primals, tIn, e.out, e.params);
  }
  return wanted.map((id) => ts[id] ?? null);
}

/** @internal The highest level among the tensors' traces (undefined if all are concrete). */
export function topTrace(inputs: readonly Tensor[]): MainTrace | undefined {
  let top: MainTrace | undefined;
  for (const x of inputs) {
    const tr = settled(x)._trace;
    if (tr !== undefined && (top === undefined || tr.level > top.level)) top = tr;
  }
  return top;
}

/** @internal Records an op with precomputed output on a tape level (used by custom derivatives). */
export function recordOnTape(main: MainTrace, prim: Primitive<unknown>, inputs: readonly Tensor[], out: Tensor): Tensor {
  const primals = inputs.map((x) => primalAt(main, x));
  const ids = inputs.map((x) => (x._trace === main ? x._node : -1));
  const r = new Tensor(out.shape, out.dtype, undefined, main, out);
  r._node = main.tape.length;
  main.tape.push({ prim, inputs: ids, primals, out, params: undefined });
  return r;
}

/** @internal A forward-mode tracer of `main` with the given primal and tangent. */
export function jvpTracer(main: MainTrace, primal: Tensor, tangent: Tensor | null): Tensor {
  if (tangent === null) return primal;
  const r = new Tensor(primal.shape, primal.dtype, undefined, main, primal);
  r._tangent = tangent;
  return r;
}

/** @internal The number of entries on the innermost tape level (for tests of what a pullback keeps). */
export function innermostTapeLength(): number {
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.kind === "tape") return stack[i]!.tape.length;
  return 0;
}
