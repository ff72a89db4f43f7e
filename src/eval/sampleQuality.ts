/**
 * How close a generative model's samples come to the real images, measured
 * on features of a fixed encoder. The caller runs the encoder and passes the
 * two feature matrices (row-major n × d); this module is plain float64
 * JavaScript, no tfjs.
 *
 * (a) The Fréchet distance between Gaussians fitted to the two sets (Dowson &
 *     Landau 1982; the 2-Wasserstein distance between Gaussians):
 *
 *         d² = ‖μ₁ − μ₂‖² + tr(C₁ + C₂ − 2 (C₁^{1/2} C₂ C₁^{1/2})^{1/2})
 *
 *     with μ the column means and C the sample covariances (divisor n − 1).
 *     FID (Heusel et al., "GANs Trained by a Two Time-Scale Update Rule
 *     Converge to a Local Nash Equilibrium", NeurIPS 2017,
 *     https://arxiv.org/abs/1706.08500) is this distance on Inception-v3's
 *     pool features of 299 px images. The browser has no Inception network,
 *     so here it is a proxy on the features of whatever fixed encoder the
 *     caller passes (a random-init encoder, say): comparable between runs on
 *     the same encoder and dataset, never with published FIDs. Hence the name
 *     FRECHET_PROXY_NAME, not "FID".
 *     C₁^{1/2} C₂ C₁^{1/2} is symmetric positive semi-definite and similar to
 *     C₁C₂, so the trace of its square root is Σ √λᵢ over its eigenvalues:
 *     two symmetric eigendecompositions (symmetricEigen of ./pca.ts:
 *     Householder + implicit QL, exact to ~1e-12 at d ≤ 512), where FID's
 *     reference code takes scipy's sqrtm of the non-symmetric C₁C₂.
 *
 * (b) k-NN precision and recall (Kynkäänniemi et al., "Improved Precision and
 *     Recall Metric for Assessing Generative Models", NeurIPS 2019,
 *     https://arxiv.org/abs/1904.06991, k = 3): each sample's ball reaches
 *     its k-th nearest neighbour in its own set (Euclidean, itself excluded);
 *
 *         precision = share of generated samples inside some real sample's ball
 *         recall    = share of real samples inside some generated sample's ball
 *
 *     Precision falls when samples are unlike any real image (quality), recall
 *     when parts of the real set have no sample near them (coverage, e.g. a
 *     mode dropped). Distances are computed between all pairs, O(n² d).
 */
import type { FeatureMatrix } from './linearProbeArrays';
import { symmetricEigen } from './pca';

/** What the UI calls (a): a proxy of FID, not FID. */
export const FRECHET_PROXY_NAME = 'Fréchet distance on random-init encoder features';
/** k of the k-NN balls, as Kynkäänniemi et al. recommend. */
export const DEFAULT_PRECISION_RECALL_K = 3;

export interface GaussianFit {
  /** μ, d entries */
  mean: Float64Array;
  /** C, d × d row-major, divisor n − 1 (1 when n = 1) */
  covariance: Float64Array;
  d: number;
}

function checkFeatures(x: FeatureMatrix, which: string, caller: string): void {
  const { values, n, d } = x;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${caller}: the ${which} features need at least one row, got n = ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new Error(`${caller}: the ${which} features need at least one dimension, got d = ${d}`);
  if (values.length !== n * d) throw new Error(`${caller}: the ${which} features hold ${values.length} values; ${n} rows of ${d} need ${n * d}`);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new Error(`${caller}: feature ${i % d} of ${which} row ${Math.floor(i / d)} is ${values[i]}; the encoder's features must be finite`);
  }
}

function checkSameDimension(a: FeatureMatrix, b: FeatureMatrix, caller: string): void {
  if (a.d !== b.d) throw new Error(`${caller}: the real features have d = ${a.d} and the generated d = ${b.d}; compute both with the same encoder`);
}

/** μ and the sample covariance C = X_cᵀ X_c / (n − 1) of a feature matrix, in float64. */
export function fitGaussian(x: FeatureMatrix): GaussianFit {
  checkFeatures(x, 'given', 'fitGaussian');
  const { values, n, d } = x;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += values[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const covariance = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) centred[j] = values[i * d + j] - mean[j];
    // the upper triangle; the lower is mirrored below
    for (let p = 0; p < d; p++) {
      const cp = centred[p];
      for (let q = p; q < d; q++) covariance[p * d + q] += cp * centred[q];
    }
  }
  const divisor = Math.max(n - 1, 1);
  for (let p = 0; p < d; p++) {
    for (let q = p; q < d; q++) {
      covariance[p * d + q] /= divisor;
      covariance[q * d + p] = covariance[p * d + q];
    }
  }
  return { mean, covariance, d };
}

/** A·B for d × d row-major matrices. */
function multiply(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let m = 0; m < d; m++) {
      const aim = a[i * d + m];
      if (aim === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] += aim * b[m * d + j];
    }
  }
  return out;
}

/**
 * A^{1/2} = V diag(√max(λ, 0)) Vᵀ of a symmetric positive semi-definite d × d
 * matrix (row-major): the unique PSD S with S·S = A. Eigenvalues that
 * rounding left slightly below 0 count as 0.
 */
export function psdSquareRoot(a: Float64Array, d: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, d);
  const root = values.map((l) => Math.sqrt(Math.max(l, 0)));
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += vectors[i * d + k] * root[k] * vectors[j * d + k];
      out[i * d + j] = s;
      out[j * d + i] = s;
    }
  }
  return out;
}

/**
 * d² = ‖μ₁ − μ₂‖² + tr C₁ + tr C₂ − 2 tr (C₁^{1/2} C₂ C₁^{1/2})^{1/2} between
 * two Gaussians; ≥ 0 (rounding can leave −1e−12, which is returned as 0).
 */
export function frechetDistanceOfGaussians(a: GaussianFit, b: GaussianFit): number {
  if (a.d !== b.d) throw new Error(`frechetDistanceOfGaussians: the Gaussians have d = ${a.d} and d = ${b.d}; they must match`);
  const d = a.d;
  let meanTerm = 0;
  let traces = 0;
  for (let j = 0; j < d; j++) {
    meanTerm += (a.mean[j] - b.mean[j]) ** 2;
    traces += a.covariance[j * d + j] + b.covariance[j * d + j];
  }
  const root = psdSquareRoot(a.covariance, d);
  const inner = multiply(multiply(root, b.covariance, d), root, d);
  // symmetric in exact arithmetic; average away the rounding before the eigendecomposition
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const s = (inner[i * d + j] + inner[j * d + i]) / 2;
      inner[i * d + j] = s;
      inner[j * d + i] = s;
    }
  }
  let traceOfRoot = 0;
  for (const l of symmetricEigen(inner, d).values) traceOfRoot += Math.sqrt(Math.max(l, 0));
  return Math.max(meanTerm + traces - 2 * traceOfRoot, 0);
}

/**
 * The Fréchet distance between Gaussians fitted to real and generated
 * features of one fixed encoder (see FRECHET_PROXY_NAME: not FID).
 * @throws Error when a set is empty, holds a non-finite value, or the dimensions differ
 */
export function featureFrechetDistance(real: FeatureMatrix, generated: FeatureMatrix): number {
  checkFeatures(real, 'real', 'featureFrechetDistance');
  checkFeatures(generated, 'generated', 'featureFrechetDistance');
  checkSameDimension(real, generated, 'featureFrechetDistance');
  return frechetDistanceOfGaussians(fitGaussian(real), fitGaussian(generated));
}

/** ‖a_i − b_j‖² in float64. */
function squaredDistance(a: FeatureMatrix, i: number, b: FeatureMatrix, j: number): number {
  const d = a.d;
  let s = 0;
  for (let c = 0; c < d; c++) {
    const diff = a.values[i * d + c] - b.values[j * d + c];
    s += diff * diff;
  }
  return s;
}

/** Each row's squared distance to its k-th nearest other row of the same set. */
function kthNeighbourRadii(x: FeatureMatrix, k: number): Float64Array {
  const radii = new Float64Array(x.n);
  // the k smallest so far, ascending
  const nearest = new Float64Array(k);
  for (let i = 0; i < x.n; i++) {
    nearest.fill(Infinity);
    for (let j = 0; j < x.n; j++) {
      if (j === i) continue;
      const s = squaredDistance(x, i, x, j);
      if (s >= nearest[k - 1]) continue;
      let slot = k - 1;
      while (slot > 0 && nearest[slot - 1] > s) {
        nearest[slot] = nearest[slot - 1];
        slot--;
      }
      nearest[slot] = s;
    }
    radii[i] = nearest[k - 1];
  }
  return radii;
}

/** Share of the rows of `queries` within the ball (squared radius) of some row of `manifold`. */
function shareInside(queries: FeatureMatrix, manifold: FeatureMatrix, radii: Float64Array): number {
  let inside = 0;
  for (let q = 0; q < queries.n; q++) {
    for (let m = 0; m < manifold.n; m++) {
      if (squaredDistance(queries, q, manifold, m) <= radii[m]) {
        inside++;
        break;
      }
    }
  }
  return inside / queries.n;
}

/**
 * k-NN precision and recall (Kynkäänniemi et al. 2019), both in [0, 1].
 * @param real real images' features, n ≥ k + 1 rows
 * @param generated generated samples' features from the same encoder, n ≥ k + 1 rows
 * @param k the neighbour that sets each ball's radius (default 3)
 * @throws Error when a set has k rows or fewer, holds a non-finite value, or the dimensions differ
 */
export function knnPrecisionRecall(real: FeatureMatrix, generated: FeatureMatrix, k = DEFAULT_PRECISION_RECALL_K): { precision: number; recall: number } {
  checkFeatures(real, 'real', 'knnPrecisionRecall');
  checkFeatures(generated, 'generated', 'knnPrecisionRecall');
  checkSameDimension(real, generated, 'knnPrecisionRecall');
  if (!Number.isInteger(k) || k < 1) throw new Error(`knnPrecisionRecall: k must be a whole number ≥ 1, got ${k}`);
  for (const [which, x] of [['real', real], ['generated', generated]] as const) {
    if (x.n <= k) throw new Error(`knnPrecisionRecall: k = ${k} needs at least ${k + 1} ${which} samples, got ${x.n}`);
  }
  return {
    precision: shareInside(generated, real, kthNeighbourRadii(real, k)),
    recall: shareInside(real, generated, kthNeighbourRadii(generated, k)),
  };
}
