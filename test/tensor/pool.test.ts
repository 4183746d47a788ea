/**
 * Storage recycling: a recycled buffer is never one that a live tensor (or a view sharing its storage, such
 * as a reshape) or a user-held `dataSync()` copy uses; a recycled array reads as zeros; results are the same
 * bits with the pool on and off; and a loop that never yields keeps at most one turn's budget of dead
 * buffers alive. Float32 storage inside the kernels' memory (`arena.test.ts`) is turned off here, so that
 * float32 arrays go through the pool as they do where the memory is not shared.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Adam, add, conv2d, gradient, matmul, randomNormal, relu, tensor, valueWithGradient, zeros, type Tensor,
} from "../../src/index.js";
import { POOL_MIN_BYTES, TURN_MAX_BYTES, setStoragePoolEnabled, storagePoolStats } from "../../src/tensor/pool.js";
import { setResidentStorageEnabled } from "../../src/tensor/wasm/arena.js";
import { collect, gc } from "../helpers/gc.js";


beforeAll(() => {
  setResidentStorageEnabled(false);
});
afterAll(() => {
  setStoragePoolEnabled(true);
  setResidentStorageEnabled(true);
});

const N = POOL_MIN_BYTES / 4 * 2; // float32 elements of a pooled array
const bits = (t: Tensor | Float32Array): number[] => Array.from(new Uint32Array((t instanceof Float32Array ? t : (t.dataSync() as Float32Array)).slice().buffer));

describe("storage recycling", () => {
  it("hands out only the storage of collected tensors: never a live tensor's, a reshape's or a dataSync copy", async () => {
    setStoragePoolEnabled(true);
    await collect();
    const live: Tensor[] = [];
    const held: Float32Array[] = [];
    const x = randomNormal([N], { seed: 1 });
    (() => {
      for (let i = 0; i < 40; i++) {
        const t = add(x, i); // pooled storage
        if (i % 4 === 0) live.push(t);
        else if (i % 4 === 1) live.push(t.reshape([N / 2, 2])); // only the reshape survives
        else if (i % 4 === 2) held.push(t.dataSync() as Float32Array); // only a copy survives
        // i % 4 === 3: dropped
      }
    })();
    const liveBits = live.map(bits), heldBits = held.map(bits);
    const before = storagePoolStats().recycled;
    await collect();
    // New tensors over recycled storage, written with other values.
    const fresh: Tensor[] = [];
    for (let i = 0; i < 40; i++) fresh.push(add(x, 1000 + i));
    const recycled = storagePoolStats().recycled - before;
    expect(recycled).toBeGreaterThan(0); // the pool was exercised
    const liveBuffers = new Set(live.map((t) => t._values.buffer));
    for (const t of fresh) expect(liveBuffers.has(t._values.buffer)).toBe(false);
    for (const h of held) for (const t of fresh) expect(t._values.buffer).not.toBe(h.buffer);
    expect(live.map(bits)).toEqual(liveBits);
    expect(held.map(bits)).toEqual(heldBits);
    for (let i = 0; i < 40; i++) expect(fresh[i]!.dataSync()[7]).toBe(Math.fround(x.dataSync()[7]! + 1000 + i));
  });

  it("a recycled array reads as zeros", async () => {
    setStoragePoolEnabled(true);
    (() => {
      for (let i = 0; i < 8; i++) add(randomNormal([N], { seed: i }), 1);
    })();
    await collect();
    const before = storagePoolStats().recycled;
    const z = [zeros([N]), zeros([N / 4, 4])];
    expect(storagePoolStats().recycled).toBeGreaterThan(before);
    for (const t of z) expect(t.dataSync().every((v) => v === 0)).toBe(true);
  });

  it("gives the same bits with the pool on and off (training steps that yield, convolution gradients)", async () => {
    const train = async (on: boolean): Promise<number[][]> => {
      setStoragePoolEnabled(on);
      const model = { w1: randomNormal([64, 256], { seed: 1, stddev: 0.1 }), w2: randomNormal([256, 64], { seed: 2, stddev: 0.1 }) };
      const opt = new Adam(model, { learningRate: 1e-2 });
      const data = randomNormal([128, 64], { seed: 3 });
      const filter = randomNormal([3, 3, 8, 16], { seed: 4 });
      const image = randomNormal([8, 16, 16, 8], { seed: 5 });
      const out: number[][] = [];
      for (let s = 0; s < 6; s++) {
        const { value, gradient: g } = valueWithGradient(model, (m) => relu(matmul(data, m.w1)).matmul(m.w2).sub(data).square().mean());
        opt.update(model, g);
        out.push([value.item()]);
        out.push(bits(gradient(image, (t) => conv2d(t, filter, { padding: "same" }).square().sum())));
        // dirty recycled storage for the next step
        add(randomNormal([N], { seed: 10 + s }), 1);
        await collect();
      }
      out.push(bits(model.w1), bits(model.w2));
      return out;
    };
    const off = await train(false);
    const before = storagePoolStats().recycled;
    const on = await train(true);
    expect(storagePoolStats().recycled).toBeGreaterThan(before);
    expect(on).toEqual(off);
  });

  it("a loop that never yields keeps at most one turn's budget of dead arrays alive", async () => {
    setStoragePoolEnabled(true);
    await collect();
    gc();
    gc();
    const base = process.memoryUsage().arrayBuffers;
    const registeredBefore = storagePoolStats().registeredBytes;
    const x = tensor(new Float32Array(1 << 18)); // 1 MiB
    let last = 0;
    for (let i = 0; i < 300; i++) last = add(x, i)._values[0]!; // 300 MiB allocated, never yielding
    // Two full collections: V8 frees dead array buffers' memory on a background thread, and the second
    // collection waits for the first one's sweep (under load the count lagged behind by 10 MB or more).
    gc();
    gc();
    const retained = process.memoryUsage().arrayBuffers - base;
    expect(last).toBe(299);
    // What the registry can keep alive until the loop yields: at most one turn's budget...
    expect(storagePoolStats().registeredBytes - registeredBefore).toBeLessThanOrEqual(TURN_MAX_BYTES);
    // ...and so the process's array buffers grow by about that much, not by the ~300 MiB the registry would keep
    // without the budget. (The bound leaves room for the kernels' own memory, which may grow in a full run.)
    expect(retained).toBeLessThan(2 * TURN_MAX_BYTES + (8 << 20));
  });

  it("after a turn that asked for more than the budget, the next turn registers nothing; a lighter turn after that does", async () => {
    setStoragePoolEnabled(true);
    await collect();
    const x = tensor(new Float32Array(1 << 18)); // 1 MiB
    const heavy = (count: number): void => {
      for (let i = 0; i < count; i++) add(x, i);
    };
    heavy(40); // past the budget
    await new Promise((r) => setTimeout(r, 0));
    const before = storagePoolStats().registeredBytes;
    heavy(4);
    expect(storagePoolStats().registeredBytes).toBe(before); // this turn does not register
    await new Promise((r) => setTimeout(r, 0));
    heavy(4);
    expect(storagePoolStats().registeredBytes).toBe(before + 4 * (1 << 20)); // 4 MiB last turn: registering again
  });
});
