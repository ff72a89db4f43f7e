/**
 * 2-D PCA of the representations for the scatter plot, in plain float64
 * JavaScript (it runs in the worker on up to ~10,000 × 512 features; no tfjs).
 *
 * With X the n × d feature matrix and μ its column means,
 *
 *     X_c = X − 1μᵀ,      C = X_cᵀ X_c / (n − 1)      (sample covariance, d × d; n = 1 divides by 1)
 *     C v_k = λ_k v_k,    λ_1 ≥ λ_2 ≥ … ≥ λ_d ≥ 0,    ‖v_k‖ = 1
 *     points = X_c [v_1 v_2]                         (n × 2 projections)
 *
 * explainedVariance = [λ_1, λ_2] (the variance of each projected coordinate)
 * and totalVariance = trace C = Σ_k λ_k, so λ_k / totalVariance is the
 * explained-variance ratio.
 *
 * The eigenvectors come from a full symmetric eigendecomposition of C:
 * Householder tridiagonalization followed by the implicit-shift QL algorithm
 * (EISPACK's tred2, Martin, Reinsch & Wilkinson 1968, and tql2, Bowdler,
 * Martin, Reinsch & Wilkinson 1968, as ported in JAMA). Unlike power iteration with deflation it converges for any
 * eigengap, in O(d³) ≈ 10⁸–10⁹ flops for d = 512; forming C costs n·d²/2
 * multiply-adds (1.3·10⁹ for 10,000 × 512: a few seconds of worker time).
 *
 * Signs: an eigenvector is only defined up to ±; each component is flipped so
 * that its largest-|loading| entry (the lowest index among equals) is
 * positive, which makes the plot deterministic.
 */

export interface Pca2d {
  /** n × 2 row-major: (X_c v_1, X_c v_2) per row. */
  points: Float32Array;
  /** [λ_1, λ_2]: the variance along each component. */
  explainedVariance: [number, number];
  /** trace of the covariance: the total variance Σ_k λ_k. */
  totalVariance: number;
  /** 2 × d row-major: the unit principal axes v_1, v_2 (sign-fixed). For d = 1, v_2 = 0. */
  components: Float64Array;
}

/** Rows per block when forming the covariance. */
const ROW_BLOCK = 64;

/** Safety cap on implicit-QL iterations for one eigenvalue (it typically needs 1–3). */
const MAX_QL_ITERATIONS = 200;

/**
 * Eigendecomposition of a symmetric d × d matrix A = V diag(λ) Vᵀ by
 * Householder tridiagonalization + implicit QL (EISPACK tred2/tql2, JAMA port).
 *
 * @param matrix d × d row-major, symmetric (only this is assumed; it is not modified).
 * @returns values in descending order and vectors as a d × d row-major matrix
 *   whose COLUMN j is the unit eigenvector of values[j].
 */
export function symmetricEigen(matrix: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  if (!Number.isInteger(d) || d < 1) throw new Error(`the matrix size must be an integer ≥ 1, got ${d}`);
  if (matrix.length !== d * d) throw new Error(`expected a ${d}×${d} matrix (${d * d} entries), got ${matrix.length}`);
  const n = d;
  // Column-major: V[c*n + r] holds V[r][c] (A is symmetric, so the copy needs no
  // transpose). JAMA walks columns of V in every inner loop; stored this way
  // they are contiguous, which makes the O(d³) loops several times faster.
  const V = Float64Array.from(matrix);
  const diag = new Float64Array(n);
  const e = new Float64Array(n);

  // tred2: Householder reduction to tridiagonal form (diagonal `diag`, subdiagonal `e`).
  for (let j = 0; j < n; j++) diag[j] = V[j * n + (n - 1)];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(diag[k]);
    if (scale === 0) {
      e[i] = diag[i - 1];
      for (let j = 0; j < i; j++) {
        diag[j] = V[j * n + (i - 1)];
        V[j * n + i] = 0;
        V[i * n + j] = 0;
      }
    } else {
      // Householder vector, scaled to avoid under/overflow.
      for (let k = 0; k < i; k++) {
        diag[k] /= scale;
        h += diag[k] * diag[k];
      }
      let f = diag[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      diag[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // Similarity transformation of the remaining columns.
      for (let j = 0; j < i; j++) {
        f = diag[j];
        V[i * n + j] = f;
        g = e[j] + V[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[j * n + k] * diag[k];
          e[k] += V[j * n + k] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * diag[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * diag[j];
      for (let j = 0; j < i; j++) {
        f = diag[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[j * n + k] -= f * e[k] + g * diag[k];
        diag[j] = V[j * n + (i - 1)];
        V[j * n + i] = 0;
      }
    }
    diag[i] = h;
  }
  // Accumulate the transformations into V.
  for (let i = 0; i < n - 1; i++) {
    V[i * n + (n - 1)] = V[i * n + i];
    V[i * n + i] = 1;
    const h = diag[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) diag[k] = V[(i + 1) * n + k] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[(i + 1) * n + k] * V[j * n + k];
        for (let k = 0; k <= i; k++) V[j * n + k] -= g * diag[k];
      }
    }
    for (let k = 0; k <= i; k++) V[(i + 1) * n + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    diag[j] = V[j * n + (n - 1)];
    V[j * n + (n - 1)] = 0;
  }
  V[(n - 1) * n + (n - 1)] = 1;
  e[0] = 0;

  // tql2: implicit-shift QL on the tridiagonal matrix, accumulating the
  // rotations of columns i, i+1 of V (contiguous in column-major storage).
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    // Find a negligible subdiagonal element; e[n−1] = 0 stops the search at n − 1.
    tst1 = Math.max(tst1, Math.abs(diag[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && !(Math.abs(e[m]) <= eps * tst1)) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > MAX_QL_ITERATIONS) throw new Error('the eigendecomposition did not converge (are the features finite?)');
        // Implicit shift.
        let g = diag[l];
        let p = (diag[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        diag[l] = e[l] / (p + r);
        diag[l + 1] = e[l] * (p + r);
        const dl1 = diag[l + 1];
        let h = g - diag[l];
        for (let i = l + 2; i < n; i++) diag[i] -= h;
        f += h;
        // Implicit QL transformation.
        p = diag[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * diag[i] - s * g;
          diag[i + 1] = h + s * (c * g + s * diag[i]);
          const colI = i * n;
          const colNext = colI + n;
          for (let k = 0; k < n; k++) {
            h = V[colNext + k];
            V[colNext + k] = s * V[colI + k] + c * h;
            V[colI + k] = c * V[colI + k] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        diag[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    diag[l] += f;
    e[l] = 0;
  }

  // Descending eigenvalues (stable: equal values keep their order).
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => diag[b] - diag[a] || a - b);
  const values = Float64Array.from(order, (i) => diag[i]);
  const vectors = new Float64Array(n * n);
  for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) vectors[k * n + j] = V[order[j] * n + k];
  return { values, vectors };
}

/**
 * Projection of the rows of a feature matrix onto its top-2 principal
 * components (see the module comment).
 *
 * @param features n × d row-major.
 * @param n number of rows (≥ 1).
 * @param d number of columns (≥ 1; for d = 1 the second coordinate is 0).
 * @throws Error when the sizes do not match or a feature is NaN or infinite.
 */
export function pca2d(features: Float32Array, n: number, d: number): Pca2d {
  if (!Number.isInteger(n) || n < 1) throw new Error(`PCA needs at least one row, got n = ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new Error(`PCA needs at least one feature dimension, got d = ${d}`);
  if (features.length !== n * d) throw new Error(`expected ${n}×${d} = ${n * d} features, got ${features.length}`);
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i])) throw new Error(`feature ${i % d} of row ${Math.floor(i / d)} is ${features[i]}; PCA needs finite values`);
  }

  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += features[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;

  // Upper triangle of X_cᵀ X_c, accumulated over blocks of ROW_BLOCK centred rows
  // stored column-major: C_ab += Σ_{r in block} x_ra x_rb is then a contiguous
  // dot product (n·d²/2 multiply-adds, but d²/2 stores per block, not per row).
  const cov = new Float64Array(d * d);
  const block = new Float64Array(ROW_BLOCK * d); // block[a*ROW_BLOCK + r] = x_c[start + r][a]
  for (let start = 0; start < n; start += ROW_BLOCK) {
    const rows = Math.min(ROW_BLOCK, n - start);
    for (let r = 0; r < rows; r++) {
      const offset = (start + r) * d;
      for (let a = 0; a < d; a++) block[a * ROW_BLOCK + r] = features[offset + a] - mean[a];
    }
    for (let a = 0; a < d; a++) {
      const colA = a * ROW_BLOCK;
      const base = a * d;
      for (let b = a; b < d; b++) {
        const colB = b * ROW_BLOCK;
        // Four accumulators: independent adds pipeline better in V8 (~2× faster).
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let r = 0;
        for (; r + 3 < rows; r += 4) {
          s0 += block[colA + r] * block[colB + r];
          s1 += block[colA + r + 1] * block[colB + r + 1];
          s2 += block[colA + r + 2] * block[colB + r + 2];
          s3 += block[colA + r + 3] * block[colB + r + 3];
        }
        for (; r < rows; r++) s0 += block[colA + r] * block[colB + r];
        cov[base + b] += s0 + s1 + (s2 + s3);
      }
    }
  }
  const scale = 1 / Math.max(n - 1, 1);
  let totalVariance = 0;
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b] * scale;
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
    totalVariance += cov[a * d + a];
  }

  const { values, vectors } = symmetricEigen(cov, d);
  const components = new Float64Array(2 * d);
  const numComponents = Math.min(2, d);
  for (let k = 0; k < numComponents; k++) {
    // Sign fix: the largest-|loading| entry (lowest index among equals) becomes positive.
    let argMaxAbs = 0;
    for (let j = 1; j < d; j++) if (Math.abs(vectors[j * d + k]) > Math.abs(vectors[argMaxAbs * d + k])) argMaxAbs = j;
    const sign = vectors[argMaxAbs * d + k] < 0 ? -1 : 1;
    for (let j = 0; j < d; j++) components[k * d + j] = sign * vectors[j * d + k];
  }

  const points = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    let p1 = 0;
    let p2 = 0;
    for (let j = 0; j < d; j++) {
      const x = features[i * d + j] - mean[j];
      p1 += x * components[j];
      p2 += x * components[d + j];
    }
    points[2 * i] = p1;
    points[2 * i + 1] = p2;
  }
  // Covariance eigenvalues are ≥ 0; clamp the −1e−16-sized rounding.
  const lambda = (k: number) => (k < d ? Math.max(values[k], 0) : 0);
  return { points, explainedVariance: [lambda(0), lambda(1)], totalVariance, components };
}
