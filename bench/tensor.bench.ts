/**
 * Tensor kernels side by side with TensorFlow.js (cpu backend, and wasm where it runs): matmul, conv2d
 * (forward and forward+backward), elementwise ops and reductions. Same inputs for every library.
 *
 * Run alone: `npx tsx bench/tensor.bench.ts [--quick] [--case=matmul]`; or `npm run bench -- tensor`.
 */
import { conv2d, gradient, matmul, randomNormal, sum, type Tensor } from "../src/index.js";
import type { Tensor as TfTensor, Tensor4D } from "@tensorflow/tfjs";
import { Suite, loadTf, onTfBackend, runIfMain, selected, tfContender, tfRead, type Contender, type Tf, type TfBackend } from "./harness.js";

/** The tfjs copy of a difftypes tensor (same values, same shape), created on the active backend. */
function toTf(tf: Tf, t: Tensor): TfTensor {
  return tf.tensor(t.dataSync(), [...t.shape], "float32");
}

export async function main(): Promise<void> {
  const { tf, backends } = await loadTf();
  const suite = new Suite("tensor");
  if (!backends.includes("wasm")) console.log("note: the tfjs wasm backend does not run here; only tfjs-cpu is compared");

  /** One tfjs contender per working backend; `make` creates the inputs (on that backend) and returns the call. */
  const tfContenders = async (make: () => () => unknown, extra: (b: TfBackend) => Partial<Contender> = () => ({})): Promise<Contender[]> => {
    const out: Contender[] = [];
    for (const b of backends) out.push(tfContender(tf, b, await onTfBackend(tf, b, make), extra(b)));
    return out;
  };
  /** Runs `f` on tfjs-cpu and returns its result (for the correctness checks). */
  const onCpu = <T>(f: () => T): Promise<T> => onTfBackend(tf, "cpu", f);

  // ---- matmul ----
  for (const n of [64, 256, 512, 1024]) {
    const title = `matmul ${n}x${n} f32`;
    if (!selected(title)) continue;
    const a = randomNormal([n, n], { seed: 1 });
    const b = randomNormal([n, n], { seed: 2 });
    if (n <= 256) {
      const [expected] = await onCpu(() => tfRead(tf, () => tf.matMul(toTf(tf, a), toTf(tf, b))));
      suite.check(`matmul ${n}: difftypes = tfjs-cpu`, matmul(a, b).dataSync(), expected!, 1e-3);
    }
    await suite.compare(title, {
      reference: "tfjs-cpu",
      unit: "GFLOP/s",
      work: 2 * n ** 3,
      contenders: [
        { name: "difftypes", run: () => matmul(a, b) },
        ...(await tfContenders(() => {
          const ta = toTf(tf, a);
          const tb = toTf(tf, b);
          return () => tfRead(tf, () => tf.matMul(ta, tb));
        })),
      ],
    });
  }

  // ---- conv2d, NHWC, 3x3, stride 1, 'same' ----
  const layers = [
    { name: "b32 28x28x1->32", x: [32, 28, 28, 1], w: [3, 3, 1, 32] },
    { name: "b32 14x14x32->64", x: [32, 14, 14, 32], w: [3, 3, 32, 64] },
  ] as const;
  for (const layer of layers) {
    const x = randomNormal(layer.x, { seed: 3 });
    const w = randomNormal(layer.w, { seed: 4, stddev: 0.1 });
    const [nb, h, wd] = layer.x;
    const [fh, fw, cin, cout] = layer.w;
    const flops = 2 * nb * h * wd * cout * fh * fw * cin; // 'same', stride 1: output is h x wd
    const big = cin > 1;
    const fwdTitle = `conv2d ${layer.name} 3x3 same, forward`;
    const bwdTitle = `conv2d ${layer.name} 3x3 same, forward+backward (dx, dw)`;
    if (!selected(fwdTitle) && !selected(bwdTitle)) continue;

    if (selected(fwdTitle)) {
      const [expected] = await onCpu(() => tfRead(tf, () => tf.conv2d(toTf(tf, x) as Tensor4D, toTf(tf, w) as Tensor4D, 1, "same")));
      suite.check(`conv2d ${layer.name} forward: difftypes = tfjs-cpu`, conv2d(x, w, { padding: "same" }).dataSync(), expected!, 1e-3);
    }
    await suite.compare(fwdTitle, {
      reference: "tfjs-cpu",
      unit: "GFLOP/s",
      work: flops,
      contenders: [
        { name: "difftypes", run: () => conv2d(x, w, { padding: "same" }) },
        ...(await tfContenders(() => {
          const tx = toTf(tf, x) as Tensor4D;
          const tw = toTf(tf, w) as Tensor4D;
          return () => tfRead(tf, () => tf.conv2d(tx, tw, 1, "same"));
        })),
      ],
    });

    // Forward + backward: the gradient of sum(conv2d(x, w)) with respect to x and w (3 convolutions' work).
    const dtGrad = (): [Tensor, Tensor] => gradient(x, w, (xx, ww) => conv2d(xx, ww, { padding: "same" }).sum());
    const tfGrad = (tx: Tensor4D, tw: Tensor4D) =>
      tf.grads((a: TfTensor, b: TfTensor) => tf.sum(tf.conv2d(a as Tensor4D, b as Tensor4D, 1, "same")))([tx, tw]);
    if (!big && selected(bwdTitle)) {
      const [edx, edw] = await onCpu(() => tfRead(tf, () => tfGrad(toTf(tf, x) as Tensor4D, toTf(tf, w) as Tensor4D)));
      const [dx, dw] = dtGrad();
      suite.check(`conv2d ${layer.name} dx: difftypes = tfjs-cpu`, dx.dataSync(), edx!, 1e-3);
      suite.check(`conv2d ${layer.name} dw: difftypes = tfjs-cpu`, dw.dataSync(), edw!, 1e-3);
    }
    await suite.compare(bwdTitle, {
      reference: "tfjs-cpu",
      unit: "GFLOP/s",
      work: 3 * flops,
      note: "GFLOP/s counts 3 convolutions per call (forward, dx, dw); tfjs-wasm 4.22 has no Conv2DBackpropFilter kernel",
      contenders: [
        { name: "difftypes", run: dtGrad },
        ...(await tfContenders(
          () => {
            const tx = toTf(tf, x) as Tensor4D;
            const tw = toTf(tf, w) as Tensor4D;
            return () => tfRead(tf, () => tfGrad(tx, tw));
          },
          // tfjs-cpu's filter gradient of the 32-channel layer takes ~17 s per call.
          (b) => (big && b === "cpu" ? { maxRounds: 3, slow: true } : {}),
        )),
      ],
    });
  }

  // ---- elementwise on 1e6 float32 ----
  const N = 1_000_000;
  const u = randomNormal([N], { seed: 5 });
  const v = randomNormal([N], { seed: 6 });
  // The floor: a plain loop over Float32Array into a fresh output, what any TS kernel pays at least.
  const ua = u.dataSync() as Float32Array;
  const va = v.dataSync() as Float32Array;
  const unaryOrBinary = [
    {
      op: "add",
      dt: () => u.add(v),
      tfop: (a: TfTensor, b: TfTensor) => tf.add(a, b),
      js: () => {
        const o = new Float32Array(N);
        for (let i = 0; i < N; i++) o[i] = ua[i]! + va[i]!;
        return o;
      },
    },
    {
      op: "mul",
      dt: () => u.mul(v),
      tfop: (a: TfTensor, b: TfTensor) => tf.mul(a, b),
      js: () => {
        const o = new Float32Array(N);
        for (let i = 0; i < N; i++) o[i] = ua[i]! * va[i]!;
        return o;
      },
    },
    {
      op: "exp",
      dt: () => u.exp(),
      tfop: (a: TfTensor) => tf.exp(a),
      js: () => {
        const o = new Float32Array(N);
        for (let i = 0; i < N; i++) o[i] = Math.exp(ua[i]!);
        return o;
      },
    },
  ];
  /**
   * One case over 1e6 float32 elements: difftypes checked against tfjs-cpu (within `tol`), then timed beside
   * tfjs on every backend and, when given, the plain JS loop `js` (the floor).
   */
  const perElement = async (name: string, tol: number, inputs: readonly Tensor[], dt: () => Tensor, tfop: (...ts: TfTensor[]) => TfTensor, js?: () => unknown): Promise<void> => {
    const title = `${name} f32`;
    if (!selected(title)) return;
    const [expected] = await onCpu(() => tfRead(tf, () => tfop(...inputs.map((x) => toTf(tf, x)))));
    suite.check(`${name}: difftypes = tfjs-cpu`, dt().dataSync(), expected!, tol);
    await suite.compare(title, {
      reference: "tfjs-cpu",
      unit: "ns/element",
      work: N,
      contenders: [
        { name: "difftypes", run: dt },
        ...(js ? [{ name: "plain JS loop (floor)", run: js }] : []),
        ...(await tfContenders(() => {
          const ts = inputs.map((x) => toTf(tf, x));
          return () => tfRead(tf, () => tfop(...ts));
        })),
      ],
    });
  };
  for (const { op, dt, tfop, js } of unaryOrBinary) await perElement(`${op} 1e6`, 1e-6, [u, v], dt, tfop, js);

  // ---- reductions over 1e6 float32 ----
  const m = u.reshape([1000, 1000]);
  const reductions = [
    { name: "sum over all of 1e6", dt: () => sum(u), tfop: (t: TfTensor) => tf.sum(t), input: u },
    { name: "sum over last axis of [1000,1000]", dt: () => sum(m, -1), tfop: (t: TfTensor) => tf.sum(t, -1), input: m },
  ];
  for (const { name, dt, tfop, input } of reductions) await perElement(name, 1e-4, [input], dt, tfop);

  suite.save();
}

runIfMain(import.meta.url, main);
