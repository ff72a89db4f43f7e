/**
 * Independent float64 references for the self-supervised losses in this
 * folder, written naively with plain loops over number[][] and no tfjs, so
 * that the tfjs implementations can be checked against them (the tests
 * differentiate them by central finite differences):
 *
 * - {@link infoNceReference}      ↔ ./infoNce.ts      (MoCo, He et al. 2020)
 * - {@link memoryBankReference}   ↔ ./memoryBank.ts   (Wu et al. 2018)
 * - {@link byolReference}         ↔ ./byol.ts         (Grill et al. 2020)
 * - {@link negativeCosineReference} ↔ ./simsiam.ts    (Chen & He 2021)
 * - {@link barlowTwinsReference}  ↔ ./barlowTwins.ts  (Zbontar et al. 2021)
 * - {@link softmaxCrossEntropyReference} ↔ ./classification.ts (the pretext tasks' heads)
 *
 * Conventions match the tfjs versions: rows are samples; ℓ2 normalization
 * divides by max(‖x‖, 1e-12); Barlow Twins standardizes columns with the
 * biased variance plus 1e-5. Log-sum-exps subtract the row maximum. No code
 * is shared with the tfjs files.
 */

type Matrix = number[][];

/** Same zero-norm guard as the tfjs implementations (torch's F.normalize eps). */
const MIN_NORM = 1e-12;
/** Same as BatchNorm1d's eps in the Barlow Twins implementation. */
const VARIANCE_EPSILON = 1e-5;

function dot(a: number[], b: number[]): number {
  let sum = 0;
  for (let c = 0; c < a.length; c++) sum += a[c] * b[c];
  return sum;
}

function normalize(x: number[]): number[] {
  const norm = Math.max(Math.sqrt(dot(x, x)), MIN_NORM);
  return x.map((v) => v / norm);
}

function cosine(a: number[], b: number[]): number {
  return dot(normalize(a), normalize(b));
}

/** log Σ_j exp(x_j), with the max subtracted first. */
function logSumExp(x: number[]): number {
  const max = Math.max(...x);
  let sum = 0;
  for (const v of x) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

function mean(x: number[]): number {
  return x.reduce((s, v) => s + v, 0) / x.length;
}

// ---------------------------------------------------------------- InfoNCE (MoCo)

/** Per-row logits l_pos(b) = q̂_b·k̂_b/τ and l_neg(b, j) = q̂_b·queue_j/τ (queue used as given). */
function infoNceLogits(
  q: Matrix,
  k: Matrix,
  queue: Matrix,
  temperature: number,
): { positive: number[]; negative: number[][] } {
  const positive: number[] = [];
  const negative: number[][] = [];
  for (let b = 0; b < q.length; b++) {
    const qHat = normalize(q[b]);
    positive.push(dot(qHat, normalize(k[b])) / temperature);
    negative.push(queue.map((key) => dot(qHat, key) / temperature));
  }
  return { positive, negative };
}

/** L = 1/B Σ_b −log( e^{l_pos} / (e^{l_pos} + Σ_j e^{l_neg,j}) ), in float64. */
export function infoNceReference(q: Matrix, k: Matrix, queue: Matrix, opts: { temperature: number }): number {
  const { positive, negative } = infoNceLogits(q, k, queue, opts.temperature);
  return mean(positive.map((lPos, b) => logSumExp([lPos, ...negative[b]]) - lPos));
}

/**
 * float64 versions of infoNceWithMetrics' metrics: mean l_pos; mean l_neg
 * over all (b, j), 0 for an empty queue; share of rows with l_pos strictly
 * above every l_neg (1 for an empty queue).
 */
export function infoNceReferenceMetrics(
  q: Matrix,
  k: Matrix,
  queue: Matrix,
  opts: { temperature: number },
): { positiveLogit: number; negativeLogit: number; accuracy: number } {
  const { positive, negative } = infoNceLogits(q, k, queue, opts.temperature);
  const allNegatives = negative.flat();
  const correct = positive.filter((lPos, b) => negative[b].every((lNeg) => lPos > lNeg)).length;
  return {
    positiveLogit: mean(positive),
    negativeLogit: allNegatives.length > 0 ? mean(allNegatives) : 0,
    accuracy: correct / q.length,
  };
}

// ---------------------------------------------------------------- memory bank (instance discrimination)

/** L = 1/B Σ_b −log softmax_j(v̂_b·bank_j/τ) at j = indices[b], in float64. */
export function memoryBankReference(
  v: Matrix,
  indices: ArrayLike<number>,
  bank: Matrix,
  opts: { temperature: number },
): number {
  const perRow = v.map((row, b) => {
    const vHat = normalize(row);
    const logits = bank.map((entry) => dot(vHat, entry) / opts.temperature);
    return logSumExp(logits) - logits[indices[b]];
  });
  return mean(perRow);
}

/**
 * float64 versions of memoryBankWithMetrics' metrics: mean over b of
 * #{j ≠ indices[b] : s_bj ≥ s_b,indices[b]} (ties count against the
 * positive) and mean s_b,indices[b], where s_bj = v̂_b·bank_j.
 */
export function memoryBankReferenceMetrics(
  v: Matrix,
  indices: ArrayLike<number>,
  bank: Matrix,
): { positiveRank: number; positiveSimilarity: number } {
  const ranks: number[] = [];
  const similarities: number[] = [];
  v.forEach((row, b) => {
    const vHat = normalize(row);
    const s = bank.map((entry) => dot(vHat, entry));
    const positive = s[indices[b]];
    ranks.push(s.filter((value, j) => j !== indices[b] && value >= positive).length);
    similarities.push(positive);
  });
  return { positiveRank: mean(ranks), positiveSimilarity: mean(similarities) };
}

// ---------------------------------------------------------------- BYOL and SimSiam

/** L = 1/B Σ_b (2 − 2·cos(p_b, z_b)), in float64. */
export function byolReference(p: Matrix, z: Matrix): number {
  return mean(p.map((row, b) => 2 - 2 * cosine(row, z[b])));
}

/** D = −1/B Σ_b cos(p_b, z_b), in float64. */
export function negativeCosineReference(p: Matrix, z: Matrix): number {
  return -mean(p.map((row, b) => cosine(row, z[b])));
}

// ---------------------------------------------------------------- Barlow Twins

/** Columns standardized over the rows: (z − μ)/sqrt(σ² + 1e-5) with the biased σ². */
function standardizeColumns(z: Matrix): Matrix {
  const batchSize = z.length;
  const dim = z[0].length;
  const out = z.map((row) => row.slice());
  for (let c = 0; c < dim; c++) {
    let mu = 0;
    for (let b = 0; b < batchSize; b++) mu += z[b][c];
    mu /= batchSize;
    let variance = 0;
    for (let b = 0; b < batchSize; b++) variance += (z[b][c] - mu) ** 2;
    variance /= batchSize;
    const scale = Math.sqrt(variance + VARIANCE_EPSILON);
    for (let b = 0; b < batchSize; b++) out[b][c] = (z[b][c] - mu) / scale;
  }
  return out;
}

/**
 * C = ẑ1ᵀẑ2/B and the two unweighted terms Σ_i (1 − C_ii)² and
 * Σ_{i≠j} C_ij², with loss = onDiagonal + λ·offDiagonal, in float64.
 */
export function barlowTwinsReferenceParts(
  z1: Matrix,
  z2: Matrix,
  opts: { lambda: number },
): { loss: number; crossCorrelation: Matrix; onDiagonal: number; offDiagonal: number } {
  const batchSize = z1.length;
  const dim = z1[0].length;
  const a = standardizeColumns(z1);
  const b = standardizeColumns(z2);
  const crossCorrelation: Matrix = [];
  let onDiagonal = 0;
  let offDiagonal = 0;
  for (let i = 0; i < dim; i++) {
    const row: number[] = [];
    for (let j = 0; j < dim; j++) {
      let sum = 0;
      for (let r = 0; r < batchSize; r++) sum += a[r][i] * b[r][j];
      const c = sum / batchSize;
      row.push(c);
      if (i === j) onDiagonal += (1 - c) ** 2;
      else offDiagonal += c ** 2;
    }
    crossCorrelation.push(row);
  }
  return { loss: onDiagonal + opts.lambda * offDiagonal, crossCorrelation, onDiagonal, offDiagonal };
}

/** L = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij², in float64. */
export function barlowTwinsReference(z1: Matrix, z2: Matrix, opts: { lambda: number }): number {
  return barlowTwinsReferenceParts(z1, z2, opts).loss;
}

/**
 * Mean softmax cross-entropy of rows of logits against class indices:
 * 1/M Σ_m (log Σ_k exp(l_mk) − l_m,y_m), the log-sum-exp taken after
 * subtracting the row maximum.
 */
export function softmaxCrossEntropyReference(logits: Matrix, labels: number[]): number {
  let total = 0;
  logits.forEach((row, m) => {
    const max = Math.max(...row);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    total += max + Math.log(sum) - row[labels[m]];
  });
  return total / logits.length;
}
