/**
 * State a compiled function updates besides the tensors it returns: the leaves it replaces in its
 * arguments, and state held elsewhere (an optimizer's slots and step counts) that it reads before each run
 * and writes after it. While `f` is traced, such state is registered with the {@link EffectScope} of the
 * compile call being traced; the program gets an extra input per value read and an extra output per value
 * written, and each run commits the writes only after every check has passed, so a run that throws
 * changes nothing.
 */
import type { Tensor } from "../tensor/tensor.js";
import { walk, type Segment } from "../keypaths/walk.js";
import { currentBuilder, type ProgramBuilder, type StagedTensor } from "./tracing.js";

/** @internal A value written back after a run: the staged value, and what to do with its concrete result. */
export interface EffectWrite {
  readonly value: Tensor;
  readonly commit: (result: Tensor) => void;
}

/** @internal A check run on a program output before any write; it throws to cancel the run's writes. */
export interface EffectCheck {
  readonly value: Tensor;
  readonly verify: (result: Tensor) => void;
}

/** @internal What a traced function registered: reads (extra inputs), writes and checks (extra outputs). */
export class EffectScope {
  /** Called before every run, one per extra input, in the order of the program's inputs. */
  readonly reads: (() => Tensor)[] = [];
  readonly writes: EffectWrite[] = [];
  readonly checks: EffectCheck[] = [];
  /** Called after every write of a run was committed. */
  readonly after: (() => void)[] = [];
  /** Whether the program no longer describes the state it touches (then the signature is traced again). */
  readonly stale: (() => boolean)[] = [];
  /** Owners already registered (an optimizer updated twice in one step is refused). */
  readonly owners = new Set<object>();

  constructor(readonly builder: ProgramBuilder) {}

  /**
   * A program input whose value `read` gives before every run (never a constant baked in at trace time).
   * @returns the staged value standing for it.
   */
  input(read: () => Tensor, shape: readonly number[], dtype: Tensor["dtype"]): StagedTensor {
    this.reads.push(read);
    return this.builder.input(shape, dtype);
  }

  /** Whether anything besides argument leaves was registered. */
  get empty(): boolean {
    return this.reads.length === 0 && this.writes.length === 0 && this.checks.length === 0 && this.after.length === 0;
  }
}

const scopes: EffectScope[] = [];

/** @internal Runs `body` with `scope` as the scope of the compile call being traced. */
export function withEffectScope<R>(scope: EffectScope, body: () => R): R {
  scopes.push(scope);
  try {
    return body();
  } finally {
    scopes.pop();
  }
}

/** @internal Whether a compiled function is being traced now (then stateful updates stage themselves). */
export function tracingCompile(): boolean {
  return scopes.length > 0;
}

/**
 * @internal The scope stateful updates register with. Inside a `cond` branch or a `fori` body (another
 * builder is recording) the update cannot be staged: an error naming `op`.
 */
export function effectScope(op: string): EffectScope {
  const scope = scopes[scopes.length - 1];
  if (scope === undefined) throw new TypeError(`${op}: not inside a compiled function`);
  if (currentBuilder() !== scope.builder) {
    throw new TypeError(
      `${op}: an in-place update inside a cond branch or a fori body cannot be staged (the branch or body is a program of its own); ` +
        `call it in the compiled function itself, or return the new values from the branch`,
    );
  }
  return scope;
}

// ---------------------------------------------------------------------------------------------------------
// Argument leaves replaced by the traced function.

/** One place the staged walk reaches in the arguments: a leaf, a constant, or a container and its keys. */
interface Place {
  readonly path: readonly Segment[];
  readonly kind: "leaf" | "constant" | "array" | "object" | "class";
  readonly value: unknown;
  readonly keys: readonly Segment[] | null;
}

/** @internal Every place of `args` under the staged view, one per path (ties visited at each path). */
export function placesOf(args: readonly unknown[]): Place[] {
  const out: Place[] = [];
  walk<void>("compile", "staged", args, {
    leaf: (v, path) => void out.push({ path: path.slice(), kind: "leaf", value: v, keys: null }),
    constant: (v, path) => void out.push({ path: path.slice(), kind: "constant", value: v, keys: null }),
    enter: (kind, v, keys, path) => void out.push({ path: path.slice(), kind, value: v, keys: keys.slice() }),
  });
  return out;
}

/** @internal A leaf replaced by the traced function: its path in the arguments and its new (staged) value. */
export interface ArgumentWrite {
  readonly path: readonly Segment[];
  readonly value: Tensor;
}

/** `[0, "layers", 1, "weight"]` as `arguments[0].layers[1].weight`. */
function describePlace(path: readonly Segment[]): string {
  let s = "arguments";
  for (const p of path) s += typeof p === "number" ? `[${p}]` : `.${p}`;
  return s;
}

/**
 * @internal Compares the arguments' places before and after the traced function ran: a leaf holding another
 * tensor is a write (replayed after every run); any other change (a field added or removed, a number or
 * another constant changed, a tensor replaced by a non-tensor) cannot be replayed and is an error naming
 * the path.
 */
export function argumentWrites(before: readonly Place[], after: readonly Place[]): ArgumentWrite[] {
  const writes: ArgumentWrite[] = [];
  const n = Math.min(before.length, after.length);
  for (let i = 0; i < n; i++) {
    const a = before[i]!;
    const b = after[i]!;
    const samePath = a.path.length === b.path.length && a.path.every((s, j) => s === b.path[j]);
    if (!samePath || a.kind !== b.kind) throw structureChanged(samePath ? a.path : commonPrefix(a.path, b.path), a, b);
    if (a.kind === "leaf") {
      if (a.value !== b.value) writes.push({ path: a.path, value: b.value as Tensor });
    } else if (a.kind === "constant") {
      if (!Object.is(a.value, b.value)) throw structureChanged(a.path, a, b);
    } else if (a.keys!.length !== b.keys!.length || a.keys!.some((k, j) => k !== b.keys![j])) {
      throw structureChanged(a.path, a, b);
    }
  }
  if (before.length !== after.length) {
    const p = (before.length > n ? before[n] : after[n])!;
    throw structureChanged(p.path, before[n] ?? p, after[n] ?? p);
  }
  return writes;
}

function commonPrefix(a: readonly Segment[], b: readonly Segment[]): Segment[] {
  const out: Segment[] = [];
  for (let i = 0; i < Math.min(a.length, b.length) && a[i] === b[i]; i++) out.push(a[i]!);
  return out;
}

function structureChanged(path: readonly Segment[], a: Place, b: Place): TypeError {
  let what: string;
  if (a.kind === "constant" && b.kind === "constant") {
    what = typeof a.value === "number"
      ? `changed the number there from ${String(a.value)} to ${String(b.value)}: a number in a field is configuration, part of the signature, ` +
        `so a new value cannot be replayed by the same program; hold it in a tensor (it is then an input and its new value is written back), ` +
        `or change it outside the compiled function (a new value traces again)`
      : `replaced the constant there (${typeof a.value}): constants are part of the signature; change it outside the compiled function`;
  } else if (a.kind === "leaf" && b.kind !== "leaf") {
    what = `replaced a tensor by ${b.kind === "constant" ? `a ${b.value === null ? "null" : typeof b.value}` : `an ${b.kind}`}; only a tensor can be written back`;
  } else {
    what = `changed its structure (a field or an element added, removed or replaced by a container); only the tensors of an argument may be replaced, ` +
      `since a new structure is a new signature: return the new value instead`;
  }
  return new TypeError(`compile: the compiled function ${what} (at ${describePlace(path)}); nothing was changed`);
}

/**
 * @internal Writes the results of a run into the real arguments at the paths of `writes` (which cannot fail
 * part way: every target is resolved and checked writable first).
 */
export function writeArguments(args: readonly unknown[], writes: readonly ArgumentWrite[], results: readonly Tensor[], offset: number): void {
  if (writes.length === 0) return;
  const targets: Record<Segment, unknown>[] = new Array<Record<Segment, unknown>>(writes.length);
  for (let w = 0; w < writes.length; w++) {
    const path = writes[w]!.path;
    let o: unknown = args;
    for (let j = 0; j + 1 < path.length; j++) o = (o as Record<Segment, unknown>)[path[j]!];
    if (typeof o !== "object" || o === null || Object.isFrozen(o)) {
      throw new TypeError(`compile: the compiled function replaced the tensor at ${describePlace(path)}, but that object is frozen now; nothing was changed`);
    }
    targets[w] = o as Record<Segment, unknown>;
  }
  for (let w = 0; w < writes.length; w++) {
    const path = writes[w]!.path;
    targets[w]![path[path.length - 1]!] = results[offset + w];
  }
}
