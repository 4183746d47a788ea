/**
 * Program-to-program passes, each small and usable on its own: dead-code elimination, common-subexpression
 * elimination, constant folding. Fusion (which changes what an equation is) lives in `fuse.ts`.
 */
import { Tensor } from "../tensor/tensor.js";
import type { Constant, Equation, Program, Var } from "./ir.js";

/** @internal Dead-code elimination: drops equations and constants no output depends on. */
export function dce(p: Program): Program {
  const live = new Uint8Array(p.size);
  for (const v of p.outputs) live[v.id] = 1;
  const kept: Equation[] = [];
  for (let i = p.equations.length - 1; i >= 0; i--) {
    const e = p.equations[i]!;
    if (!live[e.out.id]) continue;
    kept.push(e);
    for (const v of e.inputs) live[v.id] = 1;
  }
  kept.reverse();
  const constants = p.constants.filter((c) => live[c.v.id]);
  if (kept.length === p.equations.length && constants.length === p.constants.length) return p;
  return { ...p, equations: kept, constants };
}

const pruned = new WeakMap<Program, Map<string, Program>>();

/**
 * @internal The program restricted to some of its outputs (then dead code removed). Cached per program and
 * selection, so the derived programs keyed on it (JVPs, VJPs, executables) are built once.
 */
export function prune(p: Program, outputs: readonly number[]): Program {
  if (outputs.length === p.outputs.length && outputs.every((o, i) => o === i)) return p;
  let m = pruned.get(p);
  if (m === undefined) pruned.set(p, (m = new Map<string, Program>()));
  const key = outputs.join(",");
  let q = m.get(key);
  if (q === undefined) m.set(key, (q = dce({ ...p, outputs: outputs.map((i) => p.outputs[i]!) })));
  return q;
}

// Objects in params (programs, functions) are compared by identity through a numbered registry.
const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;
function paramKey(params: unknown): string {
  if (params === undefined) return "";
  return JSON.stringify(params, (_k, v: unknown) => {
    if (typeof v === "function" || (typeof v === "object" && v !== null && "equations" in v)) {
      let id = objectIds.get(v);
      if (id === undefined) objectIds.set(v, (id = nextObjectId++));
      return `#${id}`;
    }
    return v;
  });
}

/**
 * @internal Common-subexpression elimination: an equation with the same primitive, inputs and params as an
 * earlier one is replaced by the earlier result; equal one-element constants are merged.
 */
export function cse(p: Program): Program {
  const subst = new Map<number, Var>();
  const sub = (v: Var): Var => subst.get(v.id) ?? v;
  const constants: Constant[] = [];
  const seenConst = new Map<string, Var>();
  for (const c of p.constants) {
    if (c.value.size === 1) {
      const key = `${c.value.dtype}:${Object.is(c.value._values[0], -0) ? "-0" : String(c.value._values[0])}:${c.value.shape.length}`;
      const prev = seenConst.get(key);
      if (prev !== undefined) {
        subst.set(c.v.id, prev);
        continue;
      }
      seenConst.set(key, c.v);
    }
    constants.push(c);
  }
  const seen = new Map<string, Var>();
  const equations: Equation[] = [];
  for (const e of p.equations) {
    const inputs = e.inputs.map(sub);
    const key = `${e.prim.name}|${primId(e.prim)}|${inputs.map((v) => v.id).join(",")}|${paramKey(e.params)}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      subst.set(e.out.id, prev);
      continue;
    }
    seen.set(key, e.out);
    equations.push(inputs.every((v, i) => v === e.inputs[i]) ? e : { ...e, inputs });
  }
  return { ...p, constants, equations, outputs: p.outputs.map(sub) };
}

const primIds = new WeakMap<object, number>();
let nextPrimId = 0;
function primId(prim: object): number {
  let id = primIds.get(prim);
  if (id === undefined) primIds.set(prim, (id = nextPrimId++));
  return id;
}

/**
 * @internal Constant folding: an equation whose inputs are all constants is evaluated once, now, and becomes
 * a constant. (Ops on concrete tensors already run eagerly while tracing; this catches what other passes
 * and transformations expose.)
 */
export function foldConstants(p: Program): Program {
  const known = new Map<number, Tensor>();
  for (const c of p.constants) known.set(c.v.id, c.value);
  const constants: Constant[] = [...p.constants];
  const equations: Equation[] = [];
  for (const e of p.equations) {
    if (e.inputs.length > 0 && e.inputs.every((v) => known.has(v.id))) {
      const value = e.prim.impl(e.inputs.map((v) => known.get(v.id)!), e.params);
      known.set(e.out.id, value);
      constants.push({ v: e.out, value });
      continue;
    }
    equations.push(e);
  }
  if (equations.length === p.equations.length) return p;
  return dce({ ...p, constants, equations });
}
