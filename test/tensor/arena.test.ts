/**
 * Tensor storage inside the kernels' WebAssembly memory (`src/tensor/wasm/arena.ts`): a block is handed out
 * again only once its tensor is collected, never while a tensor, a reshape of it or a kernel can reach it;
 * every kernel gives the same bits on resident storage, on JS arrays and on a mix, at 1, 2 and 3 threads;
 * views stay valid while the memory grows; zero-filled allocations read as zeros even over recycled blocks
 * and former operand regions; a loop that never yields and the cap both bound the region; GEMM reads
 * resident operands with their own offsets and strides and writes a resident C in place.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  Adam, abs, add, argmax, argmin, conv2d, div, exp, getThreadCount, gradient, greater, lessEqual, log, matmul, max, maximum, maxPool2d, min,
  minimum, mul, neg, randomNormal, relu, setThreadCount, sigmoid, softmax, sqrt, sub, sum, tanh, tensor, valueWithGradient, where, zeros,
  type Tensor,
} from "../../src/index.js";
import {
  ARENA_TURN_BYTES, liveBlocks, residentArray, residentStorageStats, setResidentStorageEnabled, setResidentStorageLimits,
} from "../../src/tensor/wasm/arena.js";
import { wasmGemm } from "../../src/tensor/wasm/gemm.js";
import { addressOf, wasmKernels } from "../../src/tensor/wasm/module.js";
import { threadsSupported, workersReady } from "../../src/tensor/wasm/threads.js";
import { collect } from "../helpers/gc.js";


let initialThreads = 1;
beforeAll(() => {
  initialThreads = getThreadCount();
});
afterAll(() => {
  setResidentStorageEnabled(true);
  setThreadCount(initialThreads);
});

const N = (1 << 16) / 4 * 2; // float32 elements of a resident array (128 KiB)
const bits = (t: Tensor): number[] => Array.from(new Uint32Array(t.dataSync().buffer));
/** The byte range of a tensor's storage in the kernels' memory, or null for a JS array. */
function range(t: Tensor): [number, number] | null {
  const at = addressOf(t._values);
  return at < 0 ? null : [at, at + t._values.byteLength];
}
const overlap = (x: [number, number], y: [number, number]): boolean => x[0] < y[1] && y[0] < x[1];

describe("tensor storage inside the kernels' memory", () => {
  it("is on under Node, where the memory is shared", () => {
    expect(threadsSupported()).toBe(true);
    setResidentStorageEnabled(true);
    expect(range(add(randomNormal([N], { seed: 1 }), 1))).not.toBeNull();
    expect(range(add(randomNormal([100], { seed: 1 }), 1))).toBeNull(); // below the minimum: a JS array
    expect(range(add(randomNormal([N], { seed: 1, dtype: "float64" }), 1))).toBeNull(); // float64 stays in JS
  });

  it("hands out only the blocks of collected tensors: never a live tensor's or a reshape's, and dataSync copies", async () => {
    setResidentStorageEnabled(true);
    await collect();
    const live: Tensor[] = [];
    const held: Float32Array[] = [];
    const x = randomNormal([N], { seed: 1 });
    (() => {
      for (let i = 0; i < 40; i++) {
        const t = add(x, i);
        if (i % 4 === 0) live.push(t);
        else if (i % 4 === 1) live.push(t.reshape([N / 2, 2])); // only the reshape survives
        else if (i % 4 === 2) held.push(t.dataSync() as Float32Array); // only a copy survives
        // i % 4 === 3: dropped
      }
    })();
    for (const t of live) expect(range(t)).not.toBeNull();
    for (const h of held) expect(addressOf(h)).toBe(-1); // a copy is an ordinary array
    const liveBits = live.map(bits), heldBits = held.map((h) => Array.from(new Uint32Array(h.buffer)));
    const before = residentStorageStats().recycled;
    await collect();
    const fresh: Tensor[] = [];
    for (let i = 0; i < 40; i++) fresh.push(add(x, 1000 + i));
    expect(residentStorageStats().recycled - before).toBeGreaterThan(0); // blocks did come back
    const liveRanges = live.map((t) => range(t)!);
    for (const t of fresh) {
      const r = range(t);
      expect(r).not.toBeNull();
      for (const l of liveRanges) expect(overlap(r!, l)).toBe(false);
    }
    // The table of blocks handed out never holds two that overlap.
    const blocks = liveBlocks().sort((p, q) => p[0] - q[0]);
    for (let i = 1; i < blocks.length; i++) expect(blocks[i - 1]![0] + blocks[i - 1]![1]).toBeLessThanOrEqual(blocks[i]![0]);
    expect(live.map(bits)).toEqual(liveBits);
    expect(held.map((h) => Array.from(new Uint32Array(h.buffer)))).toEqual(heldBits);
    for (let i = 0; i < 40; i++) expect(fresh[i]!.dataSync()[7]).toBe(Math.fround(x.dataSync()[7]! + 1000 + i));
  });

  it("zero-filled arrays read as zeros over recycled blocks and over the operand regions of earlier calls", async () => {
    setResidentStorageEnabled(true);
    (() => {
      for (let i = 0; i < 8; i++) add(randomNormal([N], { seed: i }), 1);
    })();
    await collect();
    const before = residentStorageStats().recycled;
    const z = [zeros([N]), zeros([N / 4, 4])];
    expect(residentStorageStats().recycled).toBeGreaterThan(before);
    for (const t of z) expect(t.dataSync().every((v) => v === 0)).toBe(true);

    // A product of JS arrays fills the operand region after the storage region with its operands...
    setResidentStorageEnabled(false);
    const a = randomNormal([300, 301], { seed: 3 }), b = randomNormal([301, 299], { seed: 4 });
    const c = matmul(a, b);
    expect(range(c)).toBeNull();
    setResidentStorageEnabled(true);
    // ...and a block of a new size class is cut from the end of the storage region, over that operand region.
    const regionBefore = residentStorageStats().regionBytes;
    const memoryBefore = wasmKernels()!.memory.buffer.byteLength;
    const fresh = zeros([5 * N + 3]);
    expect(residentStorageStats().regionBytes).toBeGreaterThan(regionBefore);
    expect(range(fresh)![0]).toBeLessThan(memoryBefore);
    expect(fresh.dataSync().every((v) => v === 0)).toBe(true);
  });

  it("views stay valid while the memory grows, and kernels still find them in the memory", async () => {
    setResidentStorageEnabled(true);
    const held = add(randomNormal([N], { seed: 5 }), 0.5);
    const heldBits = bits(held);
    const memory = wasmKernels()!.memory;
    const sizeBefore = memory.buffer.byteLength;
    // New storage of 4 MiB at a time, kept alive (each in a new turn of the event loop, so that only the
    // cap could refuse it), until the region has grown the memory.
    const big: Tensor[] = [];
    for (let i = 0; i < 12 && memory.buffer.byteLength === sizeBefore; i++) {
      await new Promise((r) => setTimeout(r, 0));
      big.push(add(randomNormal([1 << 20], { seed: 6 + i }), i));
    }
    expect(memory.buffer.byteLength).toBeGreaterThan(sizeBefore);
    for (const t of big) expect(range(t)).not.toBeNull();
    expect(held._values.buffer).not.toBe(memory.buffer); // a view of an older, shorter SharedArrayBuffer...
    expect(bits(held)).toEqual(heldBits); // ...that still reads the same memory
    expect(range(held)).not.toBeNull(); // and is still known to be in it
    const x = held.dataSync();
    const y = add(held, 1).dataSync();
    for (let i = 0; i < N; i += 997) expect(y[i]).toBe(Math.fround(x[i]! + 1));
  });

  it("a loop that never yields grows the region by at most one turn's budget", async () => {
    setResidentStorageEnabled(true);
    await collect();
    const x = tensor(new Float32Array(1 << 18)); // 1 MiB
    const before = residentStorageStats();
    let last = 0;
    let resident = 0;
    for (let i = 0; i < 300; i++) {
      const t = add(x, i); // 300 MiB asked for, never yielding
      if (range(t) !== null) resident++;
      last = t._values[1000]!;
    }
    const after = residentStorageStats();
    expect(last).toBe(299);
    expect(resident).toBeGreaterThan(0);
    // New blocks (handed out, not recycled) are of 1 MiB each.
    expect((after.handedOut - after.recycled) - (before.handedOut - before.recycled)).toBeLessThanOrEqual(ARENA_TURN_BYTES / (1 << 20));
    expect(after.regionBytes - before.regionBytes).toBeLessThanOrEqual(ARENA_TURN_BYTES);
    await new Promise((r) => setTimeout(r, 0));
    expect(range(add(x, 1))).not.toBeNull(); // the next turn has a budget again
  });

  it("the region never grows past its cap: past it, arrays are JS arrays with the same values", async () => {
    setResidentStorageEnabled(true);
    await collect();
    const region = residentStorageStats().regionBytes;
    // Arrays of a size class no other case uses (5 MiB blocks), so no free block can serve them.
    const size = (1 << 20) + 12345;
    const previous = setResidentStorageLimits({ cap: region + (6 << 20), turn: ARENA_TURN_BYTES });
    try {
      const x = tensor(Float32Array.from({ length: size }, (_, i) => Math.sin(i))); // one array: takes the last room
      const kept: Tensor[] = [];
      for (let i = 0; i < 6; i++) {
        kept.push(add(x, i));
        await new Promise((r) => setTimeout(r, 0)); // a new turn each time: only the cap can refuse
      }
      expect(residentStorageStats().regionBytes).toBeLessThanOrEqual(region + (6 << 20));
      expect(range(x)).not.toBeNull();
      expect(kept.every((t) => range(t) === null)).toBe(true); // the cap refused them all
      const xs = x.dataSync();
      kept.forEach((t, i) => expect(t.dataSync()[12345]).toBe(Math.fround(xs[12345]! + i)));
    } finally {
      setResidentStorageLimits(previous);
    }
  });
});

describe("kernels give the same bits on resident storage, on JS arrays and on a mix", () => {
  /** Inputs of every case: created with resident storage on or off. */
  const inputs = (resident: boolean) => {
    setResidentStorageEnabled(resident);
    const a = randomNormal([600, 1000], { seed: 1 }), b = randomNormal([600, 1000], { seed: 2 });
    const inputs = {
      a, b,
      bias: randomNormal([1000], { seed: 3 }),
      row: randomNormal([600, 1], { seed: 4 }),
      mask: greater(a, b),
      long: randomNormal([2, 300_000], { seed: 5 }),
      m1: randomNormal([256, 300], { seed: 6 }),
      m2: randomNormal([300, 200], { seed: 7 }),
      image: randomNormal([8, 14, 14, 32], { seed: 8 }),
      filter: randomNormal([3, 3, 32, 64], { seed: 9 }),
      pooled: randomNormal([16, 28, 28, 32], { seed: 10 }),
    };
    return inputs;
  };
  type Inputs = ReturnType<typeof inputs>;
  const run = (x: Inputs): Tensor[] => [
    add(x.a, x.b), sub(x.a, x.bias), mul(x.a, x.row), div(x.a, 3), maximum(x.a, x.b), minimum(x.a, x.bias),
    greater(x.a, x.b), lessEqual(x.a, x.bias), where(x.mask, x.a, x.b),
    exp(x.a), log(abs(x.a)), tanh(x.a), sigmoid(x.a), neg(x.a), sqrt(abs(x.a)), relu(x.a),
    sum(x.a), sum(x.a, 1), sum(x.a, 0), max(x.a, 1), min(x.a, 0), sum(x.long, 1), max(x.long, 1), sum(x.a.reshape([600_000])),
    argmax(x.a, 1), argmin(x.a, 0), maxPool2d(x.pooled, { size: 2 }), softmax(x.a),
    matmul(x.m1, x.m2), matmul(x.m1.transpose(), x.m1), matmul(x.m2, x.m2.transpose()),
    gradient(x.m1, (m) => matmul(m, x.m2).tanh().sum()),
    conv2d(x.image, x.filter, { padding: "same" }),
    gradient(x.filter, (f) => conv2d(x.image, f, { padding: "same" }).square().sum()),
  ];
  const rawBits = (ts: Tensor[]): Uint32Array[] => ts.map((t) => new Uint32Array(t.dataSync().buffer));
  /** Where two lists of bit arrays first differ ("none" when they are identical). */
  const firstDifference = (x: Uint32Array[], y: Uint32Array[]): string => {
    if (x.length !== y.length) return `${x.length} results against ${y.length}`;
    for (let r = 0; r < x.length; r++) {
      const p = x[r]!, q = y[r]!;
      if (p.length !== q.length) return `result ${r}: length ${p.length} against ${q.length}`;
      for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return `result ${r}, element ${i}: bits ${p[i]} against ${q[i]}`;
    }
    return "none";
  };

  for (const threads of [1, 2, 3]) {
    it(`at ${threads} thread${threads > 1 ? "s" : ""}`, async () => {
      // Room for every input and output of the cases at once, so that all of them are resident.
      const limits = setResidentStorageLimits({ cap: 1 << 29, turn: 1 << 29 });
      onTestFinished(() => {
        setResidentStorageLimits(limits);
        setResidentStorageEnabled(true);
      });
      setThreadCount(threads);
      await workersReady();
      // Each phase in its own turn of the event loop, so that the per-turn budget of storage never runs out.
      const js = inputs(false);
      await collect();
      const res = inputs(true);
      await collect();
      setResidentStorageEnabled(false);
      const reference = rawBits(run(js));
      setResidentStorageEnabled(true);
      const residentOutputsOfJs = rawBits(run(js));
      await collect();
      const allResident = run(res);
      // The case is exercised: inputs and large outputs live in the kernels' memory.
      for (const t of Object.values(res)) if (t.size >= 1 << 14) expect(range(t)).not.toBeNull();
      for (const t of allResident) if (t.size >= 1 << 14) expect(range(t)).not.toBeNull();
      const allResidentBits = rawBits(allResident);
      setResidentStorageEnabled(false);
      const jsOutputsOfResident = rawBits(run(res));
      expect(firstDifference(allResidentBits, reference)).toBe("none");
      expect(firstDifference(residentOutputsOfJs, reference)).toBe("none");
      expect(firstDifference(jsOutputsOfResident, reference)).toBe("none");
    });
  }

  it("training steps that yield give the same bits with resident storage on and off", async () => {
    const train = async (on: boolean): Promise<number[][]> => {
      setResidentStorageEnabled(on);
      const model = { w1: randomNormal([64, 256], { seed: 1, stddev: 0.1 }), w2: randomNormal([256, 64], { seed: 2, stddev: 0.1 }) };
      const opt = new Adam(model, { learningRate: 1e-2 });
      const data = randomNormal([128, 64], { seed: 3 });
      const out: number[][] = [];
      for (let s = 0; s < 6; s++) {
        const { value, gradient: g } = valueWithGradient(model, (m) => relu(matmul(data, m.w1)).matmul(m.w2).sub(data).square().mean());
        opt.update(model, g);
        out.push([value.item()]);
        add(randomNormal([N], { seed: 10 + s }), 1); // dirty storage for the next step to recycle
        await collect();
      }
      out.push(bits(model.w1), bits(model.w2));
      return out;
    };
    const off = await train(false);
    const before = residentStorageStats().recycled;
    const on = await train(true);
    expect(residentStorageStats().recycled).toBeGreaterThan(before);
    expect(on).toEqual(off);
  });
});

describe("GEMM on resident operands", () => {
  it("reads them with offsets, loose and zero strides, writes C in place, accumulating or not: the copying path's bits", async () => {
    setResidentStorageEnabled(true);
    // Room for every array of the cases, whatever earlier cases left in the region.
    const limits = setResidentStorageLimits({ cap: 1 << 29, turn: 1 << 29 });
    onTestFinished(() => {
      setResidentStorageLimits(limits);
    });
    await collect();
    const values = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(seed * 7919 + i * 0.37)));
    /** `x`'s values in a JS array or in a resident one (at least 64 KiB, so the region takes it). */
    const place = (x: Float32Array, resident: boolean): Float32Array => {
      if (!resident) return x.slice();
      const v = residentArray("float32", Math.max(x.length, 1 << 14), false);
      if (!(v instanceof Float32Array)) throw new Error("the storage region refused an array");
      v.set(x);
      return v;
    };
    type Layout = [rs: number, cs: number];
    const pad = 3;
    const cases: [m: number, k: number, n: number, a: Layout, b: Layout][] = [
      [19, 70, 23, [70, 1], [23, 1]],
      [19, 70, 23, [1, 19], [1, 70]],
      [19, 70, 23, [75, 1], [1, 73]],
      [19, 70, 23, [141, 2], [47, 2]],
      [19, 70, 23, [0, 1], [23, 1]], // A's rows all the same (a broadcast row)
      [128, 96, 128, [96, 1], [128, 1]], // split across threads by rows
      [64, 128, 200, [1, 64], [200, 1]], // split by columns
    ];
    let checked = 0;
    for (const threads of [1, 2]) {
      setThreadCount(threads);
      await workersReady();
      for (const [m, k, n, [ars, acs], [brs, bcs]] of cases) {
        const aLen = pad + (m - 1) * ars + (k - 1) * acs + 1 + pad, bLen = pad + (k - 1) * brs + (n - 1) * bcs + 1 + pad;
        const a = values(aLen, m), b = values(bLen, n), c0 = values(pad + m * n + pad, k);
        for (const accumulate of [false, true]) {
          const run = (ra: boolean, rb: boolean, rc: boolean): Uint32Array => {
            const A = place(a, ra), B = place(b, rb), C = place(c0, rc);
            expect(addressOf(A) >= 0).toBe(ra);
            expect(addressOf(C) >= 0).toBe(rc);
            expect(wasmGemm(A, pad, ars, acs, B, pad, brs, bcs, C, pad, m, k, n, accumulate)).toBe(true);
            return new Uint32Array(C.slice(0, c0.length).buffer);
          };
          const reference = run(false, false, false);
          for (const [ra, rb, rc] of [[true, true, true], [true, false, false], [false, true, false], [false, false, true], [true, true, false]] as const) {
            expect(Array.from(run(ra, rb, rc))).toEqual(Array.from(reference));
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(2 * 7 * 2 * 5);
  });
});
