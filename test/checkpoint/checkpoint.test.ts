/**
 * Checkpoints: bit-identical round trips of nested models, the safetensors layout, atomic writes under a
 * failing file system, and every malformed-file and does-not-fit case.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import {
  Adam,
  BatchNorm,
  CheckpointError,
  Conv2D,
  Dense,
  Embedding,
  Flatten,
  GRUCell,
  LSTMCell,
  Layer,
  MAX_HEADER_BYTES,
  RNN,
  Sequential,
  Tensor,
  decodeSafetensors,
  deserializeCheckpoint,
  differentiable,
  encodeSafetensors,
  gradient,
  noDerivative,
  relu,
  serializeCheckpoint,
  tensor,
  withLearningPhase,
} from "../../src/index.js";
import { loadCheckpoint, saveCheckpoint, type CheckpointFileSystem } from "../../src/node.js";
import { randomNormal } from "../../src/index.js";

class Encoder extends Layer<Tensor, Tensor> {
  @differentiable conv: Conv2D;
  @differentiable norm = new BatchNorm({ featureCount: 2 });
  constructor(seed: number) {
    super();
    this.conv = new Conv2D({ filterShape: [3, 3, 1, 2], padding: "same", activation: relu, seed });
  }
  callAsFunction(x: Tensor): Tensor {
    return this.norm.callAsFunction(this.conv.callAsFunction(x));
  }
}

/** A nested model: a custom class holding a Sequential, an array of layers, an RNN and plain config. */
class Net extends Layer<Tensor, Tensor> {
  @differentiable encoder: Encoder;
  @differentiable head: Sequential<[Flatten, Dense]>;
  @differentiable extras: Dense[];
  @differentiable rnn: RNN<LSTMCell>;
  @differentiable gru: GRUCell;
  @differentiable embedding: Embedding;
  @noDerivative label = "net";
  @noDerivative steps = 0;
  @noDerivative config = { widths: [4, 4], tag: "x" };
  constructor(seed: number) {
    super();
    this.encoder = new Encoder(seed);
    this.head = new Sequential(new Flatten(), new Dense({ inputSize: 32, outputSize: 3, seed: seed + 1 }));
    this.extras = [new Dense({ inputSize: 3, outputSize: 3, seed: seed + 2, dtype: "float64" }), new Dense({ inputSize: 3, outputSize: 2, useBias: false, seed: seed + 3 })];
    this.rnn = new RNN(new LSTMCell({ inputSize: 2, hiddenSize: 2, seed: seed + 4 }));
    this.gru = new GRUCell({ inputSize: 2, hiddenSize: 2, seed: seed + 5 });
    this.embedding = new Embedding({ vocabularySize: 4, embeddingSize: 2, seed: seed + 6 });
  }
  callAsFunction(x: Tensor): Tensor {
    return this.extras[1]!.callAsFunction(this.extras[0]!.callAsFunction(this.head.callAsFunction(this.encoder.callAsFunction(x))));
  }
}

const EXPECTED_KEYS = [
  "encoder.conv.filter", "encoder.conv.bias", "encoder.norm.scale", "encoder.norm.offset", "encoder.norm.runningMean", "encoder.norm.runningVariance",
  "head.layers.1.weight", "head.layers.1.bias",
  "extras.0.weight", "extras.0.bias", "extras.1.weight", "extras.1.bias",
  "rnn.cell.fusedWeight", "rnn.cell.fusedBias",
  "gru.inputWeight", "gru.recurrentWeight", "gru.inputBias", "gru.recurrentBias",
  "embedding.embeddings",
];

function allTensors(model: object): Map<string, number[]> {
  const { tensors } = decodeSafetensors(serializeCheckpoint(model));
  return new Map([...tensors].map(([k, t]) => [k, Array.from(new Uint8Array(t.dataSync().buffer))]));
}

let dir = "";
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "difftypes-ckpt-"));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("round trip", () => {
  test("a nested model is restored bit-identically, running statistics and stored values included", async () => {
    const a = new Net(0);
    const x = randomNormal([2, 4, 4, 1], { seed: 9 });
    withLearningPhase("training", () => a.callAsFunction(x)); // move the running statistics off their initial values
    a.steps = 17;
    a.label = "trained";
    a.config = { widths: [8, 2], tag: "y" };
    const file = path.join(dir, "net.safetensors");
    await saveCheckpoint(file, a, { metadata: { epoch: "3" } });
    const b = new Net(100);
    expect(allTensors(b)).not.toEqual(allTensors(a));
    const loaded = await loadCheckpoint(file, b);
    expect(loaded.metadata).toEqual({ epoch: "3" });
    expect(loaded.optimizerState).toBeUndefined();
    expect(allTensors(b)).toEqual(allTensors(a));
    expect([...allTensors(a).keys()]).toEqual(EXPECTED_KEYS);
    expect(b.steps).toBe(17);
    expect(b.label).toBe("trained");
    expect(b.config).toEqual({ widths: [8, 2], tag: "y" });
    expect(b.extras[0]!.weight.dtype).toBe("float64");
    expect(Array.from(b.callAsFunction(x).dataSync())).toEqual(Array.from(a.callAsFunction(x).dataSync()));
    // The restored model still differentiates and trains.
    const g = gradient(b, (m) => m.callAsFunction(x).sum());
    expect(g.encoder.conv.filter.shape).toEqual([3, 3, 1, 2]);
  });

  test("the file is plain safetensors: little-endian length, JSON header, raw little-endian data", () => {
    const d = new Dense({ inputSize: 2, outputSize: 1, seed: 0 });
    d.move({ weight: tensor([[0.5], [-2]]).sub(d.weight), bias: tensor([0.25]) });
    const bytes = serializeCheckpoint(d);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const n = Number(view.getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
    expect(header.weight).toEqual({ dtype: "F32", shape: [2, 1], data_offsets: [0, 8] });
    expect(header.bias).toEqual({ dtype: "F32", shape: [1], data_offsets: [8, 12] });
    expect(JSON.parse((header.__metadata__ as Record<string, string>)["difftypes.values"]!)).toEqual({ useBias: true });
    const data = new DataView(bytes.buffer, bytes.byteOffset + 8 + n);
    expect([data.getFloat32(0, true), data.getFloat32(4, true), data.getFloat32(8, true)]).toEqual([0.5, -2, 0.25]);
    expect(bytes.byteLength).toBe(8 + n + 12);
  });

  test("reads safetensors written by other tools (names as key paths, no library metadata), F64 and I32 too", () => {
    const header = JSON.stringify({ bias: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, weight: { dtype: "F32", shape: [1, 2], data_offsets: [8, 16] } });
    const h = new TextEncoder().encode(header);
    const bytes = new Uint8Array(8 + h.length + 16);
    const v = new DataView(bytes.buffer);
    v.setBigUint64(0, BigInt(h.length), true);
    bytes.set(h, 8);
    [7, 8, 1, 2].forEach((x, i) => v.setFloat32(8 + h.length + 4 * i, x, true));
    const d = new Dense({ inputSize: 1, outputSize: 2, seed: 0 });
    deserializeCheckpoint(bytes, d);
    expect(d.weight.toArray()).toEqual([[1, 2]]);
    expect(d.bias.toArray()).toEqual([7, 8]);
    const mixed = decodeSafetensors(encodeSafetensors(new Map([["a", tensor([1.5], { dtype: "float64" })], ["b", tensor([-3, 4], { dtype: "int32" })]])));
    expect(mixed.tensors.get("a")!.dtype).toBe("float64");
    expect(mixed.tensors.get("b")!.toArray()).toEqual([-3, 4]);
  });

  test("an optimizer's state is saved alongside and handed back", async () => {
    const model = new Sequential(new Dense({ inputSize: 2, outputSize: 2, seed: 0 }), new Dense({ inputSize: 2, outputSize: 1, seed: 1 }));
    const opt = new Adam(model, { learningRate: 0.01 });
    for (let i = 0; i < 3; i++) opt.update(model, gradient(model, (m) => m.callAsFunction(tensor([[1, 2]])).sum()));
    const state = opt.state();
    const file = path.join(dir, "with-opt.safetensors");
    await saveCheckpoint(file, model, { optimizerState: state });
    const fresh = new Sequential(new Dense({ inputSize: 2, outputSize: 2, seed: 5 }), new Dense({ inputSize: 2, outputSize: 1, seed: 6 }));
    const { optimizerState } = await loadCheckpoint(file, fresh);
    const restored = optimizerState as typeof state;
    expect(restored.step).toBe(state.step);
    const keys = Object.keys(state.slots);
    expect(Object.keys(restored.slots)).toEqual(keys);
    const k0 = keys[0]!;
    const original = (state.slots[k0] as unknown as { layers: { weight: Tensor }[] }).layers[0]!.weight;
    const back = (restored.slots[k0] as unknown as { layers: { weight: Tensor }[] }).layers[0]!.weight;
    expect(Array.from(back.dataSync())).toEqual(Array.from(original.dataSync()));
    const opt2 = new Adam(fresh, { learningRate: 0.01 });
    opt2.loadState(restored);
    expect(opt2.state().step).toBe(state.step);
  });
});

describe("atomic writes", () => {
  /** node:fs/promises, except that writes fail after `limit` bytes. */
  function failingFs(limit: number): CheckpointFileSystem & { tmpFiles: string[] } {
    const tmpFiles: string[] = [];
    return {
      tmpFiles,
      async open(p, flags) {
        const h = await fs.open(p, flags);
        if (flags === "wx") tmpFiles.push(p);
        let written = 0;
        return {
          async write(data, offset, length, position) {
            if (written + length > limit) {
              const part = limit - written;
              if (part > 0) await h.write(data, offset, part, position);
              throw new Error("disk full (simulated)");
            }
            written += length;
            return h.write(data, offset, length, position);
          },
          sync: () => h.sync(),
          close: () => h.close(),
        };
      },
      rename: (a, b) => fs.rename(a, b),
      unlink: (p) => fs.unlink(p),
      readFile: (p) => fs.readFile(p),
    };
  }

  test("a write that fails midway leaves the previous checkpoint intact and no temporary file", async () => {
    const file = path.join(dir, "atomic.safetensors");
    const first = new Net(1);
    await saveCheckpoint(file, first);
    const before = await fs.readFile(file);
    const second = new Net(2);
    const bad = failingFs(100);
    await expect(saveCheckpoint(file, second, { fs: bad })).rejects.toThrow(/disk full/);
    expect(Buffer.compare(await fs.readFile(file), before)).toBe(0);
    expect(bad.tmpFiles).toHaveLength(1);
    await expect(fs.access(bad.tmpFiles[0]!)).rejects.toThrow();
    expect((await fs.readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    // The file still loads into a fresh model.
    const check = new Net(3);
    await loadCheckpoint(file, check);
    expect(allTensors(check)).toEqual(allTensors(first));
  });

  test("the temporary file lives in the target's folder and is fsynced before the rename", async () => {
    const calls: string[] = [];
    const spy: CheckpointFileSystem = {
      async open(p, flags) {
        calls.push(`open ${path.dirname(p) === dir ? "dir/" : ""}${flags}`);
        const h = await fs.open(p, flags);
        return {
          write: (d, o, l, pos) => h.write(d, o, l, pos),
          sync: async () => {
            calls.push("sync");
            await h.sync();
          },
          close: () => h.close(),
        };
      },
      rename: async (a, b) => {
        calls.push(`rename ${path.dirname(a) === path.dirname(b) ? "same-folder" : "cross"}`);
        await fs.rename(a, b);
      },
      unlink: (p) => fs.unlink(p),
      readFile: (p) => fs.readFile(p),
    };
    await saveCheckpoint(path.join(dir, "spy.safetensors"), new Dense({ inputSize: 1, outputSize: 1, seed: 0 }), { fs: spy });
    expect(calls.slice(0, 3)).toEqual(["open dir/wx", "sync", "rename same-folder"]);
  });
});

describe("validation before any change", () => {
  function fingerprint(model: object): string {
    return JSON.stringify([...allTensors(model)]);
  }

  test("every missing, unexpected, misshapen and mistyped entry is listed in one error; the model is untouched", () => {
    const source = new Sequential(new Dense({ inputSize: 3, outputSize: 2, seed: 0 }), new Dense({ inputSize: 2, outputSize: 2, seed: 1, dtype: "float64" }));
    const entries = decodeSafetensors(serializeCheckpoint(source)).tensors;
    entries.delete("layers.0.bias"); // missing
    entries.set("layers.7.weight", tensor([1])); // unexpected
    entries.set("layers.0.weight", tensor([[1, 2, 3]])); // misshapen
    entries.set("layers.1.bias", tensor([1, 2])); // mistyped (float32 for float64)
    const bytes = encodeSafetensors(entries, { "difftypes.values": JSON.stringify({ "layers.0.useBias": "yes" }) });
    const target = new Sequential(new Dense({ inputSize: 3, outputSize: 2, seed: 5 }), new Dense({ inputSize: 2, outputSize: 2, seed: 6, dtype: "float64" }));
    const before = fingerprint(target);
    let error: unknown;
    try {
      deserializeCheckpoint(bytes, target);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CheckpointError);
    const problems = (error as CheckpointError).problems;
    expect(problems).toHaveLength(5);
    expect(problems.join("\n")).toMatch(/missing: 'layers\.0\.bias'/);
    expect(problems.join("\n")).toMatch(/unexpected: 'layers\.7\.weight'/);
    expect(problems.join("\n")).toMatch(/misshapen: 'layers\.0\.weight' has shape \[1,3\] in the checkpoint but \[3,2\]/);
    expect(problems.join("\n")).toMatch(/mistyped: 'layers\.1\.bias' is float32 in the checkpoint but float64/);
    expect(problems.join("\n")).toMatch(/mistyped: the stored value 'layers\.0\.useBias' is a string/);
    expect((error as Error).message).toMatch(/nothing was changed/);
    expect(fingerprint(target)).toBe(before);
    expect(target.layers[0].useBias).toBe(true);
  });

  /** A safetensors file from a raw header object or string and a data length. */
  function raw(header: unknown, dataBytes: number, declaredLength?: bigint): Uint8Array {
    const h = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
    const out = new Uint8Array(8 + h.length + dataBytes);
    new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(h.length), true);
    out.set(h, 8);
    return out;
  }
  const w = (begin: number, end: number, shape = [2]): object => ({ dtype: "F32", shape, data_offsets: [begin, end] });

  const malformed: [string, Uint8Array, RegExp][] = [
    ["shorter than 8 bytes", new Uint8Array(5), /fewer than the 8-byte header length/],
    ["header length past the end of the file", raw({ a: w(0, 8) }, 8, 10_000n), /runs past the end/],
    ["huge header length", raw({}, 0, 2n ** 60n), /exceeds the limit/],
    ["header length just above the limit", raw({}, 0, BigInt(MAX_HEADER_BYTES + 1)), /exceeds the limit/],
    ["invalid JSON", raw("{not json}", 0), /not valid JSON/],
    ["a JSON array header", raw("[1, 2]", 0), /not a JSON object/],
    ["invalid UTF-8", (() => { const b = raw("{}  ", 0); b[9] = 0xff; return b; })(), /not valid UTF-8/],
    ["an unsupported dtype", raw({ a: { dtype: "BF16", shape: [2], data_offsets: [0, 4] } }, 4), /unsupported dtype "BF16"/],
    ["a bad shape", raw({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, 4), /shape \[-1\] is not an array of non-negative integers/],
    ["offsets that are not a pair", raw({ a: { dtype: "F32", shape: [2], data_offsets: [0] } }, 8), /must be \[begin, end\]/],
    ["fractional offsets", raw({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8.5] } }, 8), /must be \[begin, end\]/],
    ["begin after end", raw({ a: w(8, 0) }, 8), /begin after end/],
    ["offsets past the end of the data", raw({ a: w(0, 8) }, 4), /run past the end of the data/],
    ["offsets that disagree with the shape", raw({ a: w(0, 4) }, 4), /needs 8 bytes but data_offsets \[0, 4\] hold 4/],
    ["overlapping ranges", raw({ a: w(0, 8), b: w(4, 12) }, 12), /overlap/],
    ["a hole between ranges", raw({ a: w(0, 8), b: w(12, 20) }, 20), /hole of 4 bytes/],
    ["trailing bytes that belong to no entry", raw({ a: w(0, 8) }, 12), /4 bytes after the last tensor/],
    ["a __proto__ name", raw('{"__proto__": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}', 8), /forbidden segment '__proto__'/],
    ["a constructor segment", raw({ "layers.constructor.weight": w(0, 8) }, 8), /forbidden segment 'constructor'/],
    ["a prototype segment", raw({ "prototype": w(0, 8) }, 8), /forbidden segment 'prototype'/],
    ["non-string metadata", raw({ __metadata__: { a: 1 } }, 0), /__metadata__ 'a' must be a string/],
    ["an entry that is not an object", raw({ a: 5 }, 0), /the entry is not an object/],
    ["unknown fields in an entry", raw({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8], code: "x" } }, 8), /unknown fields 'code'/],
  ];

  test.each(malformed)("rejects %s, and the model is untouched", (_name, bytes, message) => {
    expect(() => decodeSafetensors(bytes)).toThrow(message);
    const d = new Dense({ inputSize: 1, outputSize: 2, seed: 0 });
    const before = fingerprint(d);
    expect(() => deserializeCheckpoint(bytes, d)).toThrow(CheckpointError);
    expect(fingerprint(d)).toBe(before);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype); // no prototype was polluted
  });

  test("the error names the function called: deserializeCheckpoint for bytes, loadCheckpoint for files", async () => {
    const bytes = serializeCheckpoint(new Dense({ inputSize: 2, outputSize: 2, seed: 0 }));
    const other = new Dense({ inputSize: 3, outputSize: 2, seed: 0 });
    expect(() => deserializeCheckpoint(bytes, other)).toThrow(/^deserializeCheckpoint: the checkpoint does not fit the model/);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "difftypes-name-"));
    try {
      const file = path.join(dir, "d.safetensors");
      await fs.writeFile(file, bytes);
      await expect(loadCheckpoint(file, other)).rejects.toThrow(/^loadCheckpoint: the checkpoint does not fit the model/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test("lists several header problems at once", () => {
    const bytes = raw({ a: { dtype: "BF16", shape: [2], data_offsets: [0, 4] }, b: w(0, 2), "x.__proto__": w(0, 8) }, 8);
    try {
      decodeSafetensors(bytes);
      expect.unreachable();
    } catch (e) {
      expect((e as CheckpointError).problems.length).toBeGreaterThanOrEqual(3);
    }
  });

  test("nothing in a file is evaluated: metadata that looks like code stays a string", () => {
    const d = new Dense({ inputSize: 1, outputSize: 1, seed: 0 });
    (globalThis as Record<string, unknown>).__pwned = false;
    const bytes = encodeSafetensors(decodeSafetensors(serializeCheckpoint(d)).tensors, {
      note: "globalThis.__pwned = true",
      "difftypes.values": JSON.stringify({ useBias: true }),
    });
    const { metadata } = deserializeCheckpoint(bytes, d);
    expect(metadata.note).toBe("globalThis.__pwned = true");
    expect((globalThis as Record<string, unknown>).__pwned).toBe(false);
  });

  test("refuses to save reserved metadata keys, and to load into a bare value", () => {
    const d = new Dense({ inputSize: 1, outputSize: 1, seed: 0 });
    expect(() => serializeCheckpoint(d, { metadata: { "difftypes.values": "{}" } })).toThrow(/reserved/);
    expect(() => serializeCheckpoint(tensor([1]) as unknown as object)).toThrow(/root must be an object/);
  });
});
