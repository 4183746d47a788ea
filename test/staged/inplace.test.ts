/**
 * In-place updates inside compile: tensors assigned into the arguments are written back after every run at
 * the same key paths, as eager would have left them; nothing is written when a run throws; changes that
 * cannot be replayed are errors naming the path.
 */
import { describe, expect, test } from "vitest";
import { compile, tensor, zeros, Tensor, NoDerivative } from "../../src/index.js";

const arr = (t: Tensor): number[] => Array.from(t.dataSync());

describe("assignments to arguments are written back", () => {
  test("a field of a plain object, an element of an array, a boxed value; eager and compiled agree over calls", () => {
    type S = { w: Tensor; hist: Tensor[]; box: NoDerivative<Tensor>; k: number };
    const body = (s: S, x: Tensor): Tensor => {
      s.w = s.w.add(x.mul(s.k));
      s.hist[1] = s.hist[0]!.add(s.w);
      s.box.value = s.box.value.add(1);
      return s.w.sum();
    };
    const f = compile(body);
    const mk = (): S => ({ w: zeros([2]), hist: [tensor([1, 1]), zeros([2])], box: new NoDerivative(zeros([])), k: 2 });
    const a = mk(), b = mk();
    for (let i = 0; i < 3; i++) {
      const x = tensor([i, i + 1]);
      const ra = body(a, x);
      const rb = f(b, x);
      expect(rb.item()).toBe(ra.item());
      expect(arr(b.w)).toEqual(arr(a.w));
      expect(arr(b.hist[1]!)).toEqual(arr(a.hist[1]!));
      expect(arr(b.box.value)).toEqual(arr(a.box.value));
    }
    expect(arr(b.w)).toEqual([6, 12]);
    expect(b.box.value.item()).toBe(3);
    expect(f.stats.traces).toBe(1);
  });

  test("a tied tensor replaced through one path is written at every path that shares its container", () => {
    const inner = { w: zeros([2]) };
    const model = { a: inner, b: inner };
    const f = compile((m: typeof model) => {
      m.a.w = m.a.w.add(1);
      return m.b.w;
    });
    const r = f(model);
    expect(arr(r)).toEqual([1, 1]);
    expect(model.a).toBe(model.b);
    expect(arr(model.b.w)).toEqual([1, 1]);
    f(model);
    expect(arr(model.a.w)).toEqual([2, 2]);
    expect(f.stats.traces).toBe(1);
  });

  test("a run that throws writes nothing", () => {
    const s = { w: tensor([1, 2]) };
    const f = compile((p: { w: Tensor }, i: Tensor) => {
      p.w = p.w.add(1);
      return p.w.gather(i.cast("int32"), 0);
    });
    expect(() => f(s, 5)).toThrow();
    expect(arr(s.w)).toEqual([1, 2]);
  });

  test("changes that cannot be replayed are errors naming the path, and nothing changes", () => {
    const s: { w: Tensor; lr: number; extra?: Tensor } = { w: tensor([1, 2]), lr: 0.5 };
    const addsField = compile((p: typeof s) => {
      p.extra = p.w.add(1);
      return p.w;
    });
    expect(() => addsField(s)).toThrow(/compile: the compiled function changed its structure .*at arguments\[0\]/);
    const changesNumber = compile((p: typeof s) => {
      p.lr = p.lr * 2;
      p.w = p.w.mul(p.lr);
      return p.w;
    });
    expect(() => changesNumber(s)).toThrow(/changed the number there from 0.5 to 1: a number in a field is configuration.*at arguments\[0\]\.lr/);
    const toNull = compile((p: { w: Tensor | null }) => {
      p.w = null;
      return 0;
    });
    expect(() => toNull({ w: zeros([1]) })).toThrow(/replaced a tensor by a null; only a tensor can be written back \(at arguments\[0\]\.w\)/);
    expect(arr(s.w)).toEqual([1, 2]);
    expect(s.extra).toBeUndefined();
  });
});
