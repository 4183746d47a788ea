/**
 * @internal Matrix decompositions and solves of the pure TypeScript backend: Cholesky, triangular
 * solves, LU with partial pivoting (general solves and determinants) and Householder QR.
 *
 * Every kernel works on a batch of contiguous row-major matrices and accumulates in double precision
 * whatever the storage dtype (JavaScript numbers are doubles), writing float32 results only at the end.
 * Kernels never throw: a failure (a non-positive Cholesky pivot, a zero pivot) is returned as the batch
 * element and the pivot where it happened, and the op that called the kernel turns it into an error
 * that names itself. The algorithms are the textbook ones (Golub & Van Loan, "Matrix Computations",
 * 4th ed.: Algorithm 4.2.1 for Cholesky, 3.4.1 for LU with partial pivoting, 5.2.1 for Householder QR).
 */
import type { TypedArray } from "../dtype.js";

/** @internal Where a decomposition broke down: the batch element (flat) and the pivot index. */
export interface Breakdown {
  readonly batch: number;
  readonly pivot: number;
  readonly value: number;
}

/** @internal Kernels of the decomposition family (see {@link Backend}). */
export interface DecompositionKernels {
  /**
   * Lower Cholesky factors `L·Lᵀ = A` of `batch` symmetric `n × n` matrices (only the lower triangle of
   * `a` is read); `out`'s upper triangle is zero. Returns the first non-positive (or non-finite) pivot.
   */
  cholesky(a: TypedArray, out: TypedArray, batch: number, n: number): Breakdown | undefined;
  /**
   * Solves `op(A)·X = B` for `batch` triangular `n × n` matrices `A` (the `lower` or upper triangle of
   * `a` is read, the other ignored; `op` transposes when `transpose`) and `n × k` right-hand sides `b`.
   * Returns the first zero diagonal entry.
   */
  triangularSolve(
    a: TypedArray,
    b: TypedArray,
    out: TypedArray,
    batch: number,
    n: number,
    k: number,
    lower: boolean,
    transpose: boolean,
  ): Breakdown | undefined;
  /**
   * Solves `A·X = B` for `batch` general `n × n` matrices and `n × k` right-hand sides, by LU with partial
   * pivoting. A pivot below `tolerance · max|A|` counts as zero (the matrix is numerically singular).
   */
  luSolve(
    a: TypedArray,
    b: TypedArray,
    out: TypedArray,
    batch: number,
    n: number,
    k: number,
    tolerance: number,
  ): Breakdown | undefined;
  /**
   * Determinants of `batch` `n × n` matrices by LU with partial pivoting: `det` when `logAbs` is false,
   * `log|det|` (−Infinity for a singular matrix) when it is true; NaN for a matrix holding NaN or ±Infinity.
   */
  determinant(a: TypedArray, out: TypedArray, batch: number, n: number, logAbs: boolean): void;
  /**
   * Reduced QR of `batch` `m × n` matrices by Householder reflections: `q` is `m × k` with orthonormal
   * columns, `r` is `k × n` upper triangular, `k = min(m, n)`, and the diagonal of `r` is non-negative.
   */
  qr(a: TypedArray, q: TypedArray, r: TypedArray, batch: number, m: number, n: number): void;
}

function cholesky(a: TypedArray, out: TypedArray, batch: number, n: number): Breakdown | undefined {
  const L = new Float64Array(n * n);
  for (let b = 0; b < batch; b++) {
    const off = b * n * n;
    L.fill(0);
    for (let j = 0; j < n; j++) {
      let d = a[off + j * n + j]!;
      for (let p = 0; p < j; p++) d -= L[j * n + p]! * L[j * n + p]!;
      if (!(d > 0) || !Number.isFinite(d)) return { batch: b, pivot: j, value: d };
      const ljj = Math.sqrt(d);
      L[j * n + j] = ljj;
      for (let i = j + 1; i < n; i++) {
        let s = a[off + i * n + j]!;
        for (let p = 0; p < j; p++) s -= L[i * n + p]! * L[j * n + p]!;
        L[i * n + j] = s / ljj;
      }
    }
    for (let i = 0; i < n * n; i++) out[off + i] = L[i]!;
  }
  return undefined;
}

function triangularSolve(
  a: TypedArray,
  rhs: TypedArray,
  out: TypedArray,
  batch: number,
  n: number,
  k: number,
  lower: boolean,
  transpose: boolean,
): Breakdown | undefined {
  const X = new Float64Array(n * k);
  // op(A) is lower triangular when exactly one of (lower, transpose) holds: then solve forwards.
  const forward = lower !== transpose;
  for (let b = 0; b < batch; b++) {
    const aOff = b * n * n;
    const bOff = b * n * k;
    for (let i = 0; i < n * k; i++) X[i] = rhs[bOff + i]!;
    for (let s = 0; s < n; s++) {
      const i = forward ? s : n - 1 - s;
      const d = a[aOff + i * n + i]!;
      if (d === 0 || !Number.isFinite(d)) return { batch: b, pivot: i, value: d };
      // Row i of op(A): op(A)[i][p] = transpose ? A[p][i] : A[i][p], for the already solved p.
      const from = forward ? 0 : i + 1;
      const to = forward ? i : n;
      for (let p = from; p < to; p++) {
        const aip = transpose ? a[aOff + p * n + i]! : a[aOff + i * n + p]!;
        if (aip === 0) continue;
        for (let c = 0; c < k; c++) X[i * k + c] = X[i * k + c]! - aip * X[p * k + c]!;
      }
      for (let c = 0; c < k; c++) X[i * k + c] = X[i * k + c]! / d;
    }
    for (let i = 0; i < n * k; i++) out[bOff + i] = X[i]!;
  }
  return undefined;
}

/**
 * LU factorization with partial pivoting of one `n × n` matrix in place (`lu`, row-major doubles):
 * `P·A = L·U` with unit lower `L` and upper `U` stored together; `perm[i]` is the source row of row `i`.
 * Returns the permutation's sign, or 0 with `zeroPivot` set when a pivot is at most `tol`.
 */
function luFactor(lu: Float64Array, perm: Int32Array, n: number, tol: number): { sign: number; zeroPivot: number } {
  let sign = 1;
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let j = 0; j < n; j++) {
    let best = j;
    let big = Math.abs(lu[j * n + j]!);
    for (let i = j + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + j]!);
      if (v > big) {
        big = v;
        best = i;
      }
    }
    if (!(big > tol)) return { sign: 0, zeroPivot: j };
    if (best !== j) {
      for (let c = 0; c < n; c++) {
        const t = lu[j * n + c]!;
        lu[j * n + c] = lu[best * n + c]!;
        lu[best * n + c] = t;
      }
      const t = perm[j]!;
      perm[j] = perm[best]!;
      perm[best] = t;
      sign = -sign;
    }
    const pivot = lu[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      const f = (lu[i * n + j] = lu[i * n + j]! / pivot);
      if (f === 0) continue;
      for (let c = j + 1; c < n; c++) lu[i * n + c] = lu[i * n + c]! - f * lu[j * n + c]!;
    }
  }
  return { sign, zeroPivot: -1 };
}

function luSolve(
  a: TypedArray,
  rhs: TypedArray,
  out: TypedArray,
  batch: number,
  n: number,
  k: number,
  tolerance: number,
): Breakdown | undefined {
  const lu = new Float64Array(n * n);
  const perm = new Int32Array(n);
  const X = new Float64Array(n * k);
  for (let b = 0; b < batch; b++) {
    const aOff = b * n * n;
    const bOff = b * n * k;
    let scale = 0;
    for (let i = 0; i < n * n; i++) {
      const v = a[aOff + i]!;
      lu[i] = v;
      if (!Number.isFinite(v)) return { batch: b, pivot: -1, value: v };
      scale = Math.max(scale, Math.abs(v));
    }
    const { zeroPivot } = luFactor(lu, perm, n, tolerance * scale);
    if (zeroPivot >= 0) return { batch: b, pivot: zeroPivot, value: lu[zeroPivot * n + zeroPivot]! };
    for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) X[i * k + c] = rhs[bOff + perm[i]! * k + c]!;
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < i; p++) {
        const l = lu[i * n + p]!;
        if (l !== 0) for (let c = 0; c < k; c++) X[i * k + c] = X[i * k + c]! - l * X[p * k + c]!;
      }
    }
    for (let i = n - 1; i >= 0; i--) {
      for (let p = i + 1; p < n; p++) {
        const u = lu[i * n + p]!;
        if (u !== 0) for (let c = 0; c < k; c++) X[i * k + c] = X[i * k + c]! - u * X[p * k + c]!;
      }
      const d = lu[i * n + i]!;
      for (let c = 0; c < k; c++) X[i * k + c] = X[i * k + c]! / d;
    }
    for (let i = 0; i < n * k; i++) out[bOff + i] = X[i]!;
  }
  return undefined;
}

function determinant(a: TypedArray, out: TypedArray, batch: number, n: number, logAbs: boolean): void {
  const lu = new Float64Array(n * n);
  const perm = new Int32Array(n);
  for (let b = 0; b < batch; b++) {
    let finite = true;
    for (let i = 0; i < n * n; i++) {
      const v = a[b * n * n + i]!;
      lu[i] = v;
      if (!Number.isFinite(v)) finite = false;
    }
    if (!finite) {
      out[b] = NaN; // NaN or an infinity in, NaN out: never a confident 0 from a failed pivot search
      continue;
    }
    const { sign } = luFactor(lu, perm, n, 0);
    if (sign === 0) {
      out[b] = logAbs ? -Infinity : 0;
      continue;
    }
    if (logAbs) {
      let s = 0;
      for (let i = 0; i < n; i++) s += Math.log(Math.abs(lu[i * n + i]!));
      out[b] = s;
    } else {
      let d = sign;
      for (let i = 0; i < n; i++) d *= lu[i * n + i]!;
      out[b] = d;
    }
  }
}

function qr(a: TypedArray, q: TypedArray, r: TypedArray, batch: number, m: number, n: number): void {
  const k = Math.min(m, n);
  const R = new Float64Array(m * n);
  const Q = new Float64Array(m * m);
  const v = new Float64Array(m);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < m * n; i++) R[i] = a[b * m * n + i]!;
    Q.fill(0);
    for (let i = 0; i < m; i++) Q[i * m + i] = 1;
    for (let j = 0; j < k; j++) {
      // Householder vector v for column j below the diagonal: (I − 2vvᵀ/vᵀv)·x = −sign(x₀)‖x‖e₀,
      // the sign chosen against cancellation.
      let norm = 0;
      for (let i = j; i < m; i++) norm += R[i * n + j]! * R[i * n + j]!;
      norm = Math.sqrt(norm);
      if (norm === 0) continue;
      const x0 = R[j * n + j]!;
      const alpha = x0 >= 0 ? -norm : norm;
      for (let i = j; i < m; i++) v[i] = R[i * n + j]!;
      v[j] = x0 - alpha;
      let vv = 0;
      for (let i = j; i < m; i++) vv += v[i]! * v[i]!;
      if (vv === 0) continue;
      // R ← H·R and Q ← Q·H, with H = I − 2vvᵀ/vᵀv.
      for (let c = j; c < n; c++) {
        let s = 0;
        for (let i = j; i < m; i++) s += v[i]! * R[i * n + c]!;
        s = (2 * s) / vv;
        for (let i = j; i < m; i++) R[i * n + c] = R[i * n + c]! - s * v[i]!;
      }
      for (let row = 0; row < m; row++) {
        let s = 0;
        for (let i = j; i < m; i++) s += Q[row * m + i]! * v[i]!;
        s = (2 * s) / vv;
        for (let i = j; i < m; i++) Q[row * m + i] = Q[row * m + i]! - s * v[i]!;
      }
    }
    // Sign convention: flip row j of R and column j of Q where R[j][j] < 0, so diag(R) ≥ 0 (the QR of a
    // full-rank matrix is then unique, and its derivative well defined).
    for (let j = 0; j < k; j++) {
      const flip = R[j * n + j]! < 0 ? -1 : 1;
      for (let c = 0; c < n; c++) r[b * k * n + j * n + c] = c < j ? 0 : flip * R[j * n + c]!;
      for (let row = 0; row < m; row++) q[b * m * k + row * k + j] = flip * Q[row * m + j]!;
    }
  }
}

/** @internal The decomposition kernels of the CPU backend. */
export const cpuDecompositions: DecompositionKernels = { cholesky, triangularSolve, luSolve, determinant, qr };
