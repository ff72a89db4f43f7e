/**
 * An independent float64 reference for ./cpc.ts (contrastive predictive
 * coding, van den Oord et al. 2018), written naively with plain loops over
 * number[][] and no tfjs, so that the tfjs loss can be checked against it and
 * its gradient against central finite differences of it. Same conventions:
 * scores are plain dot products ẑ_p·z_m, every code is a candidate, the mean
 * runs over all predictions, a hit needs the true code strictly above every
 * other. No code is shared with the tfjs file.
 */

type Matrix = number[][];

function dot(a: number[], b: number[]): number {
  let sum = 0;
  for (let c = 0; c < a.length; c++) sum += a[c] * b[c];
  return sum;
}

/** log Σ_j exp(x_j), with the max subtracted first. */
function logSumExp(x: number[]): number {
  const max = Math.max(...x);
  let sum = 0;
  for (const v of x) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/** L = 1/P Σ_p [ logsumexp_m(ẑ_p·z_m) − ẑ_p·z_targets[p] ], in float64. */
export function cpcInfoNceReference(predictions: Matrix, codes: Matrix, targets: ArrayLike<number>): number {
  let total = 0;
  predictions.forEach((prediction, p) => {
    const scores = codes.map((code) => dot(prediction, code));
    total += logSumExp(scores) - scores[targets[p]];
  });
  return total / predictions.length;
}

/**
 * Per offset k = 1 … K: the share of the predictions with that offset whose
 * true code scores strictly above every other code, in float64.
 */
export function cpcOffsetAccuracyReference(
  predictions: Matrix,
  codes: Matrix,
  targets: ArrayLike<number>,
  offsets: ArrayLike<number>,
  offsetCount: number,
): number[] {
  const hits = new Array<number>(offsetCount).fill(0);
  const counts = new Array<number>(offsetCount).fill(0);
  predictions.forEach((prediction, p) => {
    const scores = codes.map((code) => dot(prediction, code));
    const positive = scores[targets[p]];
    const beaten = scores.every((s, m) => m === targets[p] || positive > s);
    counts[offsets[p] - 1] += 1;
    if (beaten) hits[offsets[p] - 1] += 1;
  });
  return hits.map((h, k) => h / counts[k]);
}
