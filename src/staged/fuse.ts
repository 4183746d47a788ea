/**
 * Fusion of elementwise chains into single loops, and buffer reuse from liveness.
 *
 * A fused equation computes a group of elementwise equations of one output shape element by element, in one
 * pass: the intermediates never reach memory. Groups are grown backwards (the usual greedy scheme): an
 * elementwise equation joins the group of its consumers when all of them are in one group of its shape.
 * Operands from outside a group are read whole (same shape), as a scalar (one element), or as a repeating
 * suffix (a bias `[n]` added to `[m, n]`): so `matmul + bias + activation` is one matmul and one loop.
 */
import { Tensor } from "../tensor/tensor.js";
import { allocate, type DType } from "../tensor/dtype.js";
import { definePrimitive } from "../autodiff/primitive.js";
import type { Equation, Program, Var } from "./ir.js";
import { knownPrimitives, storeAs, type ElementwiseOp } from "./elementwise.js";
import { WASM_MIN_HEAVY } from "../tensor/wasm/elementwise.js";

const HEAVY_FLOAT32: ReadonlySet<string> = new Set(["exp", "log", "tanh", "sigmoid"]);

/** @internal How a fused loop reads an operand: whole, as one element, or repeating with a period. */
export type ReadMode = "full" | "scalar" | "suffix";

/** @internal One operation of a fused loop; `args` index slots (operands first, then nodes). */
export interface FusedNode {
  /** An elementwise op, or null for a cast (then only the rounding to `dtype` happens). */
  readonly op: ElementwiseOp | null;
  readonly args: readonly number[];
  readonly dtype: DType;
}

/** @internal The params of a fused equation. */
export interface FusedParams {
  readonly shape: readonly number[];
  readonly size: number;
  /** One per equation input. */
  readonly modes: readonly ReadMode[];
  readonly periods: readonly number[];
  readonly nodes: readonly FusedNode[];
  /** Nodes whose values leave the loop, the equation's `out` first; `outVars[k]` receives `stores[k]`. */
  readonly stores: readonly number[];
  readonly outVars: readonly Var[];
  /** The input whose buffer the first output overwrites (it dies here), or -1. Set by {@link reuseBuffers}. */
  readonly inPlace: number;
  /** For printouts: the op names in order. */
  readonly ops: readonly string[];
  /** For printouts: ops, read modes and reuse in one line. */
  readonly summary: string;
}

function summarize(p: Omit<FusedParams, "summary">): string {
  const modes = p.modes.map((m, j) => (m === "suffix" ? `suffix${p.periods[j]}` : m)).join(",");
  const extra = p.outVars.length > 1 ? ` outputs=${p.outVars.length}` : "";
  return `${p.ops.join("→")} reads=${modes}${extra}${p.inPlace >= 0 ? ` inPlace=${p.inPlace}` : ""}`;
}

/**
 * @internal Runs a fused equation element by element (the interpreter's way; generated code emits the same
 * computation as a loop). Returns one tensor per entry of `stores`.
 */
export function runFused(p: FusedParams, inputs: readonly Tensor[]): Tensor[] {
  const nIn = inputs.length;
  const data = inputs.map((t) => t._values);
  const slots = new Float64Array(nIn + p.nodes.length);
  const outs = p.stores.map((s, k) =>
    k === 0 && p.inPlace >= 0 ? data[p.inPlace]! : allocate(p.nodes[s - nIn]!.dtype, p.size),
  );
  for (let i = 0; i < p.size; i++) {
    for (let j = 0; j < nIn; j++) {
      const m = p.modes[j];
      slots[j] = data[j]![m === "full" ? i : m === "scalar" ? 0 : i % p.periods[j]!]!;
    }
    for (let k = 0; k < p.nodes.length; k++) {
      const nd = p.nodes[k]!;
      const a = slots[nd.args[0]!]!, b = slots[nd.args[1] ?? 0]!, c = slots[nd.args[2] ?? 0]!;
      slots[nIn + k] = storeAs(nd.dtype, nd.op === null ? a : nd.op.eval(a, b, c, nd.dtype));
    }
    for (let k = 0; k < outs.length; k++) outs[k]![i] = slots[p.stores[k]!]!;
  }
  return outs.map((o, k) => new Tensor(p.shape, p.outVars[k]!.dtype, o));
}

/** @internal The fused-loop primitive; it only ever runs concretely (fusion happens after differentiation). */
export const fusedP = definePrimitive<FusedParams>({
  name: "fused",
  impl: (inputs, p) => runFused(p, inputs)[0]!,
  jvp: () => {
    throw new Error("fused loops are not differentiated: differentiate the program before fusing");
  },
  vjp: () => {
    throw new Error("fused loops are not differentiated: differentiate the program before fusing");
  },
});

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** How an operand of shape `s` is read in a loop over `shape`, or null if only general broadcasting fits. */
function modeOf(s: readonly number[], shape: readonly number[], size: number): { mode: ReadMode; period: number } | null {
  let n = 1;
  for (const d of s) n *= d;
  if (n === size) return { mode: "full", period: size };
  if (n === 1) return { mode: "scalar", period: 1 };
  let lead = 0;
  while (lead < s.length && s[lead] === 1) lead++;
  const tail = s.slice(lead);
  if (tail.length <= shape.length && sameShape(tail, shape.slice(shape.length - tail.length))) return { mode: "suffix", period: n };
  return null;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * The elementwise op of an equation that a loop over its output can compute, or undefined. `heavy` says
 * whether a float32 exp, log, tanh or sigmoid of WASM_MIN_HEAVY elements or more may join a loop.
 */
function fusible(e: Equation, heavy: boolean): { op: ElementwiseOp | null } | undefined {
  const k = knownPrimitives();
  if (k === null) return undefined;
  const op = k.ops.get(e.prim);
  let r: { op: ElementwiseOp | null } | undefined;
  if (op !== undefined) r = { op };
  else if (e.prim === k.cast) r = { op: null };
  else return undefined;
  // Left to their kernels, so results and errors stay the eager ones: an int32 product wraps modulo 2^32
  // exactly (a double product loses the low bits past 2^53), and a cast to int32 rejects NaN and values out
  // of range (a loop's `| 0` would wrap them silently).
  if (e.out.dtype === "int32" && (op?.name === "mul" || (op === undefined && e.inputs[0]!.dtype !== "int32"))) return undefined;
  const size = sizeOf(e.out.shape);
  // Float32 exp, log, tanh and sigmoid from WASM_MIN_HEAVY elements: the SIMD kernel computes the same bits
  // as the loop's scalar function several times faster, which outweighs the pass over memory saved; unless
  // the loop itself is SIMD (see `fuse`).
  if (!heavy && isHeavy(e, size, op)) return undefined;
  for (const v of e.inputs) if (modeOf(v.shape, e.out.shape, size) === null) return undefined;
  return r;
}

function isHeavy(e: Equation, size: number, op: ElementwiseOp | undefined): boolean {
  return e.out.dtype === "float32" && size >= WASM_MIN_HEAVY && op !== undefined && HEAVY_FLOAT32.has(op.name);
}

/**
 * @internal Fuses elementwise equations into loops. Every elementwise equation ends up in a fused equation
 * (a lone one too: the loop reads through the same modes as the eager kernel, and can write in place).
 *
 * With `simd` (whether a loop has a SIMD wasm form, when generated code can compile one), float32 exp,
 * tanh and sigmoid of WASM_MIN_HEAVY elements or more join loops too, so a chain around them is one pass
 * over memory; a loop they join that has no SIMD form is fused again without them.
 */
export function fuse(p: Program, simd?: (nodes: readonly FusedNode[], inputTypes: readonly DType[], modes: readonly ReadMode[], size: number) => boolean): Program {
  const excluded = new Set<number>();
  for (;;) {
    const { program, retry } = fuseOnce(p, simd, excluded);
    if (retry.length === 0) return program;
    for (const i of retry) excluded.add(i);
  }
}

function fuseOnce(
  p: Program,
  simd: ((nodes: readonly FusedNode[], inputTypes: readonly DType[], modes: readonly ReadMode[], size: number) => boolean) | undefined,
  excluded: ReadonlySet<number>,
): { program: Program; retry: number[] } {
  const eqs = p.equations;
  const producer = new Int32Array(p.size).fill(-1);
  eqs.forEach((e, i) => (producer[e.out.id] = i));
  const consumers: number[][] = Array.from({ length: p.size }, () => []);
  eqs.forEach((e, i) => {
    for (const v of e.inputs) {
      const c = consumers[v.id]!;
      if (c[c.length - 1] !== i) c.push(i);
    }
  });
  const isOutput = new Uint8Array(p.size);
  for (const v of p.outputs) isOutput[v.id] = 1;

  const groupOf = new Int32Array(eqs.length).fill(-1);
  const groups: { root: number; members: number[]; shape: readonly number[] }[] = [];
  const ops = new Array<{ op: ElementwiseOp | null } | undefined>(eqs.length);
  for (let i = eqs.length - 1; i >= 0; i--) {
    const e = eqs[i]!;
    const f = fusible(e, simd !== undefined && !excluded.has(i));
    if (f === undefined) continue;
    ops[i] = f;
    const cons = consumers[e.out.id]!;
    let g = cons.length > 0 ? groupOf[cons[0]!]! : -1;
    for (const c of cons) if (groupOf[c] !== g) g = -1;
    if (g < 0 && cons.length > 1) g = mergeConsumers(cons, e.out.shape, groups, groupOf, consumers, eqs);
    if (g >= 0 && sameShape(groups[g]!.shape, e.out.shape)) {
      groups[g]!.members.push(i);
      groupOf[i] = g;
    } else {
      groupOf[i] = groups.length;
      groups.push({ root: i, members: [i], shape: e.out.shape });
    }
  }
  if (groups.length === 0) return { program: p, retry: [] };
  const retry: number[] = [];

  const fusedAt = new Map<number, Equation>();
  for (const g of groups) {
    if (g.members.length === 0) continue; // merged into another
    const members = g.members.slice().sort((a, b) => a - b);
    const slotOf = new Map<number, number>();
    const inputs: Var[] = [];
    const modes: ReadMode[] = [];
    const periods: number[] = [];
    const size = sizeOf(g.shape);
    for (const m of members) {
      for (const v of eqs[m]!.inputs) {
        const pe = producer[v.id]!;
        if ((pe >= 0 && groupOf[pe] === groups.indexOf(g)) || slotOf.has(v.id)) continue;
        const md = modeOf(v.shape, g.shape, size)!;
        slotOf.set(v.id, inputs.length);
        inputs.push(v);
        modes.push(md.mode);
        periods.push(md.period);
      }
    }
    const nodes: FusedNode[] = [];
    const stores: number[] = [];
    const outVars: Var[] = [];
    const names: string[] = [];
    for (const m of members) {
      const e = eqs[m]!;
      const slot = inputs.length + nodes.length;
      nodes.push({ op: ops[m]!.op, args: e.inputs.map((v) => slotOf.get(v.id)!), dtype: e.out.dtype });
      names.push(ops[m]!.op?.name ?? "cast");
      slotOf.set(e.out.id, slot);
      if (m !== g.root && isOutput[e.out.id]) {
        stores.push(slot);
        outVars.push(e.out);
      }
    }
    // A heavy op in a loop without a SIMD form: fuse again, leaving it to its kernel.
    const heavy = members.filter((m) => isHeavy(eqs[m]!, size, ops[m]!.op ?? undefined));
    if (heavy.length > 0 && !simd!(nodes, inputs.map((v) => v.dtype), modes, size)) retry.push(...heavy);
    const root = eqs[g.root]!;
    stores.unshift(slotOf.get(root.out.id)!);
    outVars.unshift(root.out);
    const base = { shape: g.shape, size, modes, periods, nodes, stores, outVars, inPlace: -1, ops: names };
    const params: FusedParams = { ...base, summary: summarize(base) };
    fusedAt.set(g.root, { prim: fusedP, inputs, params, out: root.out });
  }
  const equations: Equation[] = [];
  eqs.forEach((e, i) => {
    if (groupOf[i]! < 0) equations.push(e);
    else {
      const f = fusedAt.get(i);
      if (f !== undefined) equations.push(f);
    }
  });
  return { program: { ...p, equations }, retry };
}

/**
 * When an equation's consumers are in several groups of its shape (the new moments of an optimizer are
 * stored, and read again by the update), the groups become one, so the equation can join it: the group with
 * the latest root keeps computing there, and the others move to it. A group can move only if nothing reads
 * its root but the program's outputs (moving it later would leave an earlier reader without its value).
 * Returns the merged group, or -1.
 */
function mergeConsumers(
  cons: readonly number[],
  shape: readonly number[],
  groups: { root: number; members: number[]; shape: readonly number[] }[],
  groupOf: Int32Array,
  consumers: readonly (readonly number[])[],
  eqs: readonly Equation[],
): number {
  const ids: number[] = [];
  for (const c of cons) {
    const g = groupOf[c]!;
    if (g < 0 || !sameShape(groups[g]!.shape, shape)) return -1;
    if (!ids.includes(g)) ids.push(g);
  }
  let keep = ids[0]!;
  for (const g of ids) if (groups[g]!.root > groups[keep]!.root) keep = g;
  for (const g of ids) if (g !== keep && consumers[eqs[groups[g]!.root]!.out.id]!.length > 0) return -1;
  for (const g of ids) {
    if (g === keep) continue;
    for (const m of groups[g]!.members) {
      groupOf[m] = keep;
      groups[keep]!.members.push(m);
    }
    groups[g]!.members = [];
  }
  return keep;
}

/** @internal Kernels that always write a new array and keep no reference to their inputs. */
export const allocating: ReadonlySet<string> = new Set(["matmul", "sum", "max", "min", "prod", "conv2d", "transpose", "broadcastTo", "slice", "pad", "concat", "gather", "scatterAdd"]);

/**
 * @internal Buffer reuse from liveness: a fused loop writes its result into the buffer of an operand read
 * whole that dies at this equation (same dtype and size), when nothing else can see that buffer: the operand
 * was freshly allocated by an equation of this program (not an input, constant or output) and no reshape
 * shares its elements. `matmul + bias + relu` then updates the matmul's output in place.
 */
export function reuseBuffers(p: Program): Program {
  const k = knownPrimitives();
  const lastUse = new Int32Array(p.size).fill(-1);
  p.equations.forEach((e, i) => {
    for (const v of e.inputs) lastUse[v.id] = i;
  });
  for (const v of p.outputs) lastUse[v.id] = p.equations.length;
  const fresh = new Uint8Array(p.size);
  const elementwise = (e: Equation): boolean => e.prim === (fusedP as never) || (k !== null && (k.ops.has(e.prim) || e.prim === k.cast));
  for (const e of p.equations) {
    // Outputs of these are new arrays; a consumer that may return or keep its input (a reshape shares its
    // elements) makes the buffer visible elsewhere, so it is never overwritten.
    if (elementwise(e) || allocating.has(e.prim.name)) fresh[e.out.id] = 1;
    if (!elementwise(e) && !allocating.has(e.prim.name)) for (const v of e.inputs) fresh[v.id] = 0;
  }
  let changed = false;
  const equations = p.equations.map((e, i) => {
    if (e.prim !== (fusedP as never)) return e;
    const fp = e.params as FusedParams;
    const dtype = fp.outVars[0]!.dtype;
    for (let j = 0; j < e.inputs.length; j++) {
      const v = e.inputs[j]!;
      if (fp.modes[j] !== "full" || !fresh[v.id] || lastUse[v.id] !== i || v.dtype !== dtype || sizeOf(v.shape) !== fp.size) continue;
      changed = true;
      const params = { ...fp, inPlace: j };
      return { ...e, params: { ...params, summary: summarize(params) } };
    }
    return e;
  });
  return changed ? { ...p, equations } : p;
}
