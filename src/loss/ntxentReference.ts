/**
 * Independent float64 reference for NT-Xent (SimCLR, Chen et al. 2020,
 * Algorithm 1), written with plain loops over Float64Arrays and no tfjs, so
 * that the tfjs implementation in ./ntxent.ts can be checked against it.
 *
 * Conventions match ./ntxent.ts: z = concat(z1, z2) has 2N rows, the
 * positive of anchor i is p(i) = (i + N) mod 2N, s_ij is the cosine (rows
 * divided by max(‖z_i‖, 1e-12)) when `normalize`, else the dot product, and
 *
 *     L = 1/(2N) Σ_i −log( exp(s_{i,p(i)}/τ) / Σ_{j≠i} exp(s_ij/τ) ).
 */

/** Same shape as NtXentOptions in ./ntxent.ts (kept separate: no shared code). */
export interface ReferenceOptions {
  temperature: number;
  normalize: boolean;
}

/** Same zero-norm guard as the tfjs implementation. */
const MIN_NORM = 1e-12;

/** The 2N rows of z (optionally normalized) and the 2N×2N matrix s, in float64. */
interface ReferenceForward {
  /** 2N */
  numAnchors: number;
  dim: number;
  /** ‖u_i‖ clamped to ≥ 1e-12 (1 for every row when not normalizing), length 2N. */
  rowScale: Float64Array;
  /** ẑ_i = u_i / rowScale_i, row-major [2N, d]. */
  zHat: Float64Array;
  /** s_ij = ẑ_i·ẑ_j, row-major [2N, 2N]. */
  affinity: Float64Array;
}

function positiveOf(i: number, numAnchors: number): number {
  return (i + numAnchors / 2) % numAnchors;
}

function forward(z1: number[][], z2: number[][], normalize: boolean): ReferenceForward {
  const rows = [...z1, ...z2];
  const numAnchors = rows.length;
  const dim = rows[0].length;
  const rowScale = new Float64Array(numAnchors);
  const zHat = new Float64Array(numAnchors * dim);
  for (let i = 0; i < numAnchors; i++) {
    let squaredNorm = 0;
    for (let c = 0; c < dim; c++) squaredNorm += rows[i][c] * rows[i][c];
    rowScale[i] = normalize ? Math.max(Math.sqrt(squaredNorm), MIN_NORM) : 1;
    for (let c = 0; c < dim; c++) zHat[i * dim + c] = rows[i][c] / rowScale[i];
  }
  const affinity = new Float64Array(numAnchors * numAnchors);
  for (let i = 0; i < numAnchors; i++) {
    for (let j = 0; j < numAnchors; j++) {
      let dot = 0;
      for (let c = 0; c < dim; c++) dot += zHat[i * dim + c] * zHat[j * dim + c];
      affinity[i * numAnchors + j] = dot;
    }
  }
  return { numAnchors, dim, rowScale, zHat, affinity };
}

/**
 * Row i of the softmax over j ≠ i of s_ij/τ (P_ii = 0) and its log-sum-exp,
 * computed with the max over j ≠ i subtracted first.
 */
function softmaxRow(
  affinity: ArrayLike<number>,
  numAnchors: number,
  i: number,
  temperature: number,
): { probabilities: Float64Array; logSumExp: number } {
  let max = -Infinity;
  for (let j = 0; j < numAnchors; j++) {
    if (j !== i) max = Math.max(max, affinity[i * numAnchors + j] / temperature);
  }
  const probabilities = new Float64Array(numAnchors);
  let sum = 0;
  for (let j = 0; j < numAnchors; j++) {
    if (j === i) continue;
    probabilities[j] = Math.exp(affinity[i * numAnchors + j] / temperature - max);
    sum += probabilities[j];
  }
  for (let j = 0; j < numAnchors; j++) probabilities[j] /= sum;
  return { probabilities, logSumExp: max + Math.log(sum) };
}

/**
 * ℓ(i, p(i)) = log Σ_{k≠i} exp(s_ik/τ) − s_{i,p(i)}/τ for each of the 2N
 * anchors of a given s (row-major [2N, 2N]), in float64, with the log
 * denominators; their mean is L. The lecture-mode walkthrough shows them.
 */
export function anchorLosses(
  affinity: ArrayLike<number>,
  numAnchors: number,
  temperature: number,
): { loss: Float64Array; logDenominator: Float64Array } {
  const loss = new Float64Array(numAnchors);
  const logDenominator = new Float64Array(numAnchors);
  for (let i = 0; i < numAnchors; i++) {
    logDenominator[i] = softmaxRow(affinity, numAnchors, i, temperature).logSumExp;
    loss[i] = logDenominator[i] - affinity[i * numAnchors + positiveOf(i, numAnchors)] / temperature; // −log softmax_{p(i)}
  }
  return { loss, logDenominator };
}

/** NT-Xent loss L in float64. */
export function ntXentReference(z1: number[][], z2: number[][], opts: ReferenceOptions): number {
  const { numAnchors, affinity } = forward(z1, z2, opts.normalize);
  return anchorLosses(affinity, numAnchors, opts.temperature).loss.reduce((sum, l) => sum + l, 0) / numAnchors;
}

/**
 * ∂L/∂z1 and ∂L/∂z2, derived analytically and evaluated in float64.
 *
 * Derivation. Let u_k be row k of z = concat(z1, z2), r_k = max(‖u_k‖, 1e-12)
 * (r_k = 1 when not normalizing), ẑ_k = u_k / r_k, s_ij = ẑ_i·ẑ_j, and
 * a_ij = s_ij/τ for j ≠ i. Then
 *
 *     L = 1/(2N) Σ_i [ log Σ_{j≠i} exp(a_ij) − a_{i,p(i)} ].
 *
 * 1. Softmax minus one-hot. With P_ij = exp(a_ij) / Σ_{k≠i} exp(a_ik) for
 *    j ≠ i and P_ii = 0,
 *        ∂L/∂a_ij = (P_ij − δ_{j,p(i)}) / (2N),
 *    so, treating every entry of s as its own variable,
 *        G_ij := ∂L/∂s_ij = (P_ij − δ_{j,p(i)}) / (2Nτ),   G_ii = 0
 *    (the diagonal is excluded and p(i) ≠ i).
 * 2. Through the bilinear s_ij = ẑ_i·ẑ_j. ẑ_k appears in row k (as ẑ_i) and
 *    in column k (as ẑ_j):
 *        g_k := ∂L/∂ẑ_k = Σ_j G_kj ẑ_j + Σ_i G_ik ẑ_i = ((G + Gᵀ) ẑ)_k.
 * 3. Through the normalization. For ‖u_k‖ > 1e-12, ẑ_k = u_k/‖u_k‖ has
 *    Jacobian ∂ẑ_k/∂u_k = (I − ẑ_k ẑ_kᵀ) / ‖u_k‖ (symmetric), hence
 *        ∂L/∂u_k = (g_k − ẑ_k (ẑ_k·g_k)) / ‖u_k‖,
 *    i.e. the component of g_k along ẑ_k is removed (L is scale invariant).
 *    Below the clamp r_k = 1e-12 is a constant, so ∂L/∂u_k = g_k / 1e-12.
 *    Without normalization ẑ_k = u_k and ∂L/∂u_k = g_k.
 * dz1 is rows 0..N−1 of ∂L/∂u, dz2 rows N..2N−1.
 */
export function ntXentReferenceGradient(
  z1: number[][],
  z2: number[][],
  opts: ReferenceOptions,
): { dz1: number[][]; dz2: number[][] } {
  const { temperature, normalize } = opts;
  const { numAnchors, dim, rowScale, zHat, affinity } = forward(z1, z2, normalize);

  // Step 1: G = (P − onehot(p)) / (2Nτ)
  const g = new Float64Array(numAnchors * numAnchors);
  for (let i = 0; i < numAnchors; i++) {
    const { probabilities } = softmaxRow(affinity, numAnchors, i, temperature);
    for (let j = 0; j < numAnchors; j++) {
      const target = j === positiveOf(i, numAnchors) ? 1 : 0;
      g[i * numAnchors + j] = (probabilities[j] - target) / (numAnchors * temperature);
    }
  }

  // Step 2: ∂L/∂ẑ = (G + Gᵀ) ẑ
  const gradZHat = new Float64Array(numAnchors * dim);
  for (let k = 0; k < numAnchors; k++) {
    for (let j = 0; j < numAnchors; j++) {
      const weight = g[k * numAnchors + j] + g[j * numAnchors + k];
      if (weight === 0) continue;
      for (let c = 0; c < dim; c++) gradZHat[k * dim + c] += weight * zHat[j * dim + c];
    }
  }

  // Step 3: ∂L/∂u_k = (I − ẑ_k ẑ_kᵀ) g_k / ‖u_k‖  (or g_k / r_k below the clamp / unnormalized)
  const rows: number[][] = [];
  for (let k = 0; k < numAnchors; k++) {
    const row = new Array<number>(dim);
    let radial = 0; // ẑ_k·g_k
    const projectOut = normalize && rowScale[k] > MIN_NORM;
    if (projectOut) {
      for (let c = 0; c < dim; c++) radial += zHat[k * dim + c] * gradZHat[k * dim + c];
    }
    for (let c = 0; c < dim; c++) {
      row[c] = (gradZHat[k * dim + c] - radial * zHat[k * dim + c]) / rowScale[k];
    }
    rows.push(row);
  }
  const n = numAnchors / 2;
  return { dz1: rows.slice(0, n), dz2: rows.slice(n) };
}

/**
 * float64 versions of ntXentWithMetrics' metrics:
 * [meanPositiveCosine, meanNegativeCosine, contrastiveAccuracy].
 * Cosines are always cosines (independent of `normalize`); the accuracy
 * takes the argmax over j ≠ i of s_ij as the loss defines s (first index wins
 * ties); meanNegativeCosine is 0 when N = 1 (no negatives).
 */
export function referenceMetrics(
  z1: number[][],
  z2: number[][],
  opts: ReferenceOptions,
): [number, number, number] {
  const cosine = forward(z1, z2, true);
  const similarity = opts.normalize ? cosine : forward(z1, z2, false);
  const numAnchors = cosine.numAnchors;

  let positiveSum = 0;
  let negativeSum = 0;
  let negativeCount = 0;
  let correct = 0;
  for (let i = 0; i < numAnchors; i++) {
    const p = positiveOf(i, numAnchors);
    let best = -1;
    let bestValue = -Infinity;
    for (let j = 0; j < numAnchors; j++) {
      if (j === i) continue;
      const c = cosine.affinity[i * numAnchors + j];
      if (j === p) {
        positiveSum += c;
      } else {
        negativeSum += c;
        negativeCount++;
      }
      const s = similarity.affinity[i * numAnchors + j];
      if (best < 0 || s > bestValue) {
        best = j;
        bestValue = s;
      }
    }
    if (best === p) correct++;
  }
  return [
    positiveSum / numAnchors,
    negativeCount > 0 ? negativeSum / negativeCount : 0,
    correct / numAnchors,
  ];
}
