/**
 * Weighted kNN (knn.ts) on features already read back from the device, in
 * float64: each test row's k most cosine-similar training rows vote for their
 * class with weight exp((s − s_max)/τ), the most similar first; the largest
 * vote wins, the lowest class index on a tie. Equal similarities rank the
 * lower training index first. See devicePolicy.ts for when this runs.
 */
import type { FeatureMatrix } from './linearProbeArrays';

/** Test rows between yields to the event loop, so a worker stays responsive to messages. */
const ROWS_BETWEEN_YIELDS = 64;
/** Norm floor, as l2NormalizeRows: a zero row stays zero rather than NaN. */
const MIN_NORM = 1e-12;

function normalizedRows(x: FeatureMatrix): Float64Array {
  const { values, n, d } = x;
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let squared = 0;
    for (let j = 0; j < d; j++) squared += values[i * d + j] * values[i * d + j];
    const scale = 1 / Math.sqrt(Math.max(squared, MIN_NORM * MIN_NORM));
    for (let j = 0; j < d; j++) out[i * d + j] = values[i * d + j] * scale;
  }
  return out;
}

export interface KnnArraysOptions {
  k: number;
  temperature: number;
  numClasses: number;
  /** called between chunks of test rows with the rows done; it may throw to stop the computation */
  onProgress?: (done: number, total: number) => void;
}

/** The predicted class of every test row. Inputs are validated by the caller (knnPredict). */
export async function knnPredictArrays(train: FeatureMatrix, trainLabels: Int32Array, test: FeatureMatrix, opts: KnnArraysOptions): Promise<Int32Array> {
  const { k, temperature, numClasses } = opts;
  const { d } = train;
  const a = normalizedRows(train);
  const b = normalizedRows(test);
  const predictions = new Int32Array(test.n);
  // the k best so far, most similar first
  const topSimilarity = new Float64Array(k);
  const topIndex = new Int32Array(k);
  const votes = new Float64Array(numClasses);
  for (let q = 0; q < test.n; q++) {
    let filled = 0;
    for (let i = 0; i < train.n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += b[q * d + j] * a[i * d + j];
      // strictly better than the k-th: an equal similarity keeps the earlier (lower) index ahead
      if (filled === k && !(s > topSimilarity[k - 1])) continue;
      let slot = filled < k ? filled++ : k - 1;
      while (slot > 0 && s > topSimilarity[slot - 1]) {
        topSimilarity[slot] = topSimilarity[slot - 1];
        topIndex[slot] = topIndex[slot - 1];
        slot--;
      }
      topSimilarity[slot] = s;
      topIndex[slot] = i;
    }
    votes.fill(0);
    for (let r = 0; r < k; r++) votes[trainLabels[topIndex[r]]] += Math.exp((topSimilarity[r] - topSimilarity[0]) / temperature);
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (votes[c] > votes[best]) best = c;
    predictions[q] = best;
    if ((q + 1) % ROWS_BETWEEN_YIELDS === 0 && q + 1 < test.n) {
      opts.onProgress?.(q + 1, test.n);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  return predictions;
}
