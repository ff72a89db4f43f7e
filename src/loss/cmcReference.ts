/**
 * An independent float64 reference for ./cmc.ts (Tian et al. 2019's
 * cross-view loss, in-batch), written naively with plain loops over number[][]
 * and no tfjs; the tests differentiate it by central finite differences.
 * Conventions match the tfjs version: rows are images; ℓ2 normalization
 * divides by max(‖x‖, 1e-12); log-sum-exps subtract the maximum; accuracies
 * count strict wins (ties are misses). No code is shared with ./cmc.ts.
 */

type Matrix = number[][];

const MIN_NORM = 1e-12;

function unit(x: number[]): number[] {
  let squared = 0;
  for (const v of x) squared += v * v;
  const norm = Math.max(Math.sqrt(squared), MIN_NORM);
  return x.map((v) => v / norm);
}

function logSumExp(x: number[]): number {
  const max = Math.max(...x);
  let sum = 0;
  for (const v of x) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/** s_ij = ẑ1_i · ẑ2_j, N × N. */
export function cmcSimilaritiesReference(z1: Matrix, z2: Matrix): Matrix {
  const a = z1.map(unit);
  const b = z2.map(unit);
  return a.map((row) => b.map((other) => row.reduce((sum, v, c) => sum + v * other[c], 0)));
}

/** Both directions and their mean: L^{V1,V2} over rows, L^{V2,V1} over columns, of s / τ. */
export function cmcTermsReference(z1: Matrix, z2: Matrix, opts: { temperature: number }): { loss: number; oneToTwo: number; twoToOne: number } {
  const s = cmcSimilaritiesReference(z1, z2);
  const n = s.length;
  const logits = s.map((row) => row.map((v) => v / opts.temperature));
  let oneToTwo = 0;
  let twoToOne = 0;
  for (let i = 0; i < n; i++) {
    oneToTwo += logSumExp(logits[i]) - logits[i][i];
    twoToOne += logSumExp(logits.map((row) => row[i])) - logits[i][i];
  }
  oneToTwo /= n;
  twoToOne /= n;
  return { loss: (oneToTwo + twoToOne) / 2, oneToTwo, twoToOne };
}

/** L = ½ (L^{V1,V2} + L^{V2,V1}), in float64. */
export function cmcReference(z1: Matrix, z2: Matrix, opts: { temperature: number }): number {
  return cmcTermsReference(z1, z2, opts).loss;
}

/** Shares of rows (view 1 → view 2) and columns (view 2 → view 1) whose diagonal entry strictly beats every other. */
export function cmcAccuracyReference(z1: Matrix, z2: Matrix): { oneToTwo: number; twoToOne: number } {
  const s = cmcSimilaritiesReference(z1, z2);
  const n = s.length;
  let rows = 0;
  let columns = 0;
  for (let i = 0; i < n; i++) {
    let rowWins = true;
    let columnWins = true;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      if (!(s[i][i] > s[i][j])) rowWins = false;
      if (!(s[i][i] > s[j][i])) columnWins = false;
    }
    if (rowWins) rows++;
    if (columnWins) columns++;
  }
  return { oneToTwo: rows / n, twoToOne: columns / n };
}
