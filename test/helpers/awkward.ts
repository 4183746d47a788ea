/**
 * Deterministic float32 values of every kind, for kernels that must give another kernel's bits: normal, tiny,
 * denormal, huge, zeros of both signs; and, with `specials`, about 1% NaN and ±Infinity.
 */
export function awkwardFloat32(n: number, seed: number, specials: boolean): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const kinds = [
    () => (next() - 0.5) * 2,
    () => (next() - 0.5) * 1e-20,
    () => (next() - 0.5) * 1e-40, // denormal
    () => (next() - 0.5) * 1e18,
    () => 0,
    () => -0,
    () => (next() - 0.5) * 1e-3,
  ];
  const special = [Number.NaN, Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    out[i] = specials && next() < 0.01 ? special[Math.floor(next() * 3)]! : kinds[Math.floor(next() * kinds.length)]!();
  }
  return out;
}
