/**
 * Key paths and structural walking: what a model of 1,000 parameter tensors costs to list, to read and
 * write leaf by leaf through key paths (against hand-written property access), and what lifting a class
 * model into a differentiated function and collecting its tangent adds to a small MLP's `gradient`
 * (against the same computation differentiated with respect to a bare array of its tensors).
 * Targets from issue 4: a key-path `get` within 2x of direct access; lifting/collecting ≤ 10%.
 *
 * Run alone: `npx tsx bench/keypaths.bench.ts [--quick]`; or `npm run bench -- keypaths`.
 */
import {
  Tensor,
  differentiable,
  gradient,
  randomNormal,
  zeros,
  recursivelyAllKeyPaths,
  recursivelyAllWritableKeyPaths,
  differentiableKeyPaths,
  zeroTangentVector,
  type WritableKeyPath,
} from "../src/index.js";
import { Suite, runIfMain, fmt3, type Comparison } from "./harness.js";

/** Ten small parameters per block; a hundred blocks make 1,000 tensors. */
class Block {
  @differentiable p0 = zeros([4]);
  @differentiable p1 = zeros([4]);
  @differentiable p2 = zeros([4]);
  @differentiable p3 = zeros([4]);
  @differentiable p4 = zeros([4]);
  @differentiable p5 = zeros([4]);
  @differentiable p6 = zeros([4]);
  @differentiable p7 = zeros([4]);
  @differentiable p8 = zeros([4]);
  @differentiable p9 = zeros([4]);
}
class Big {
  @differentiable blocks = Array.from({ length: 100 }, () => new Block());
}

/** Copies every parameter of `src` into `m` with property accesses written out by hand. */
function directGetSet(m: Big, src: Big): number {
  const blocks = m.blocks;
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i]!;
    const s = src.blocks[i]!;
    b.p0 = s.p0; b.p1 = s.p1; b.p2 = s.p2; b.p3 = s.p3; b.p4 = s.p4;
    b.p5 = s.p5; b.p6 = s.p6; b.p7 = s.p7; b.p8 = s.p8; b.p9 = s.p9;
  }
  return blocks.length;
}

/** The same through precomputed key paths (`blocks.i.pK` is a three-segment path). */
function keyPathGetSet(m: Big, src: Big, kps: readonly WritableKeyPath<Big, Tensor>[]): number {
  for (let i = 0; i < kps.length; i++) {
    const kp = kps[i]!;
    kp.set(m, kp.get(src));
  }
  return kps.length;
}

/**
 * Reads only, three ways; each read feeds a sum, so that no engine can drop or hoist it. "Direct" is
 * code written for this one model (static names, monomorphic); "dynamic" is what generic code without
 * key paths does (`obj[name]`); key paths are generic code too.
 */
function directGet(m: Big): number {
  let n = 0;
  for (const b of m.blocks) {
    n += b.p0.rank + b.p1.rank + b.p2.rank + b.p3.rank + b.p4.rank;
    n += b.p5.rank + b.p6.rank + b.p7.rank + b.p8.rank + b.p9.rank;
  }
  return n;
}
const NAMES = ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"] as const;
function dynamicGet(m: Big): number {
  let n = 0;
  for (const b of m.blocks) for (const k of NAMES) n += b[k].rank;
  return n;
}
function keyPathGet(m: Big, kps: readonly WritableKeyPath<Big, Tensor>[]): number {
  let n = 0;
  for (let i = 0; i < kps.length; i++) n += kps[i]!.get(m).rank;
  return n;
}

/**
 * Prints, under a case's table, how many times the reference's time each contender takes (the inverse of
 * the table's per-round speed ratio: `2x` = twice as slow as direct access), and whether it meets `target`.
 * @param c the case (`undefined` when `--case` filtered it out). @param target the wanted ratio, if any.
 */
function printTimeRatios(c: Comparison | undefined, targets: Readonly<Record<string, number>> = {}): void {
  if (c === undefined) return;
  for (const r of c.results) {
    if (r.name === c.reference || r.speedup === undefined) continue;
    const t = targets[r.name];
    const verdict = t === undefined ? "" : `; target ≤ ${t}x: ${1 / r.speedup.median <= t ? "met" : "NOT met"}`;
    console.log(
      `time ratio: ${r.name} takes ${fmt3(1 / r.speedup.median)}x the time of ${c.reference} ` +
        `[${fmt3(1 / r.speedup.max)}–${fmt3(1 / r.speedup.min)}] (per-round median [min–max]${verdict})`,
    );
  }
}

/** A small MLP as a class, and the same parameters as a bare array. */
class Dense {
  @differentiable weight: Tensor;
  @differentiable bias: Tensor;
  constructor(i: number, o: number, seed: number) {
    this.weight = randomNormal([i, o], { seed, stddev: 0.3 });
    this.bias = zeros([o]);
  }
}
class MLP {
  @differentiable l1 = new Dense(16, 32, 1);
  @differentiable l2 = new Dense(32, 4, 2);
}
const forward = (x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor): Tensor =>
  x.matmul(w1).add(b1).relu().matmul(w2).add(b2).square().mean();

export async function main(): Promise<void> {
  const suite = new Suite("keypaths");
  const big = new Big();
  const other = new Big();
  const kps = recursivelyAllWritableKeyPaths(big, Tensor);
  if (kps.length !== 1000) throw new Error(`expected 1000 key paths, got ${kps.length}`);

  await suite.compare("list the key paths of a 1,000-tensor model", {
    reference: "recursivelyAllWritableKeyPaths(m, Tensor)",
    unit: "ms",
    work: 1,
    contenders: [
      { name: "recursivelyAllWritableKeyPaths(m, Tensor)", run: () => recursivelyAllWritableKeyPaths(big, Tensor) },
      { name: "recursivelyAllKeyPaths(m)", run: () => recursivelyAllKeyPaths(big) },
      { name: "differentiableKeyPaths(m)", run: () => differentiableKeyPaths(big) },
      { name: "zeroTangentVector(m)", run: () => zeroTangentVector(big) },
    ],
  });

  const reads = await suite.compare("get every leaf (1,000 tensors)", {
    reference: "direct property access",
    unit: "ns/element",
    work: 1000,
    contenders: [
      { name: "direct property access", run: () => directGet(big) },
      { name: "dynamic property access obj[name]", run: () => dynamicGet(big) },
      { name: "KeyPath.get", run: () => keyPathGet(big, kps) },
    ],
    note: "target: KeyPath.get within 2x of direct access",
  });
  printTimeRatios(reads, { "KeyPath.get": 2 });

  const copies = await suite.compare("get + set every leaf (1,000 tensors, copied from a second model)", {
    reference: "direct property access",
    unit: "ns/element",
    work: 1000,
    contenders: [
      { name: "direct property access", run: () => directGetSet(big, other) },
      { name: "KeyPath.get + KeyPath.set", run: () => keyPathGetSet(big, other, kps) },
    ],
  });
  printTimeRatios(copies);

  const mlp = new MLP();
  const x = randomNormal([8, 16], { seed: 3 });
  const bare = [mlp.l1.weight, mlp.l1.bias, mlp.l2.weight, mlp.l2.bias];
  const a = gradient(mlp, (m) => forward(x, m.l1.weight, m.l1.bias, m.l2.weight, m.l2.bias));
  const b = gradient(bare, ([w1, b1, w2, b2]) => forward(x, w1!, b1!, w2!, b2!));
  suite.check("MLP gradient: class model vs bare array", a.l1.weight.dataSync(), b[0]!.dataSync());
  await suite.compare("gradient of a small MLP (16-32-4, batch 8): class model vs bare tensors", {
    reference: "gradient(bare array of tensors)",
    unit: "µs/op",
    work: 1,
    contenders: [
      { name: "gradient(bare array of tensors)", run: () => gradient(bare, ([w1, b1, w2, b2]) => forward(x, w1!, b1!, w2!, b2!)) },
      { name: "gradient(class model)", run: () => gradient(mlp, (m) => forward(x, m.l1.weight, m.l1.bias, m.l2.weight, m.l2.bias)) },
    ],
    note: "target: lifting the class and collecting its tangent add ≤ 10% (speed ratio ≥ 0.91)",
  });
  suite.save();
}

runIfMain(import.meta.url, main);
