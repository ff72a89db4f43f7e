/**
 * Exact nearest neighbours of one query among n feature rows, for the
 * "what did it learn" gallery (the retrieval figure of InstDisc, Wu et al.
 * 2018, Fig. 4: an image and the training images closest to it in feature
 * space). Plain float64 JavaScript: one query is O(n·d), no tfjs needed.
 *
 *     cosine:     score_i = q·x_i / (max(‖q‖, 1e-12) · max(‖x_i‖, 1e-12)),  the k highest
 *     euclidean:  score_i = ‖q − x_i‖₂,                                        the k lowest
 *
 * Ties are broken by the lower index, so the result is deterministic.
 */

export interface NeighbourOptions {
  /** 'cosine' (default): highest cosine similarity first; 'euclidean': smallest distance first. */
  metric?: 'cosine' | 'euclidean';
  /** An index to leave out (the query's own row when it comes from the same set). */
  exclude?: number;
}

/** ‖x‖ is clamped to at least this before dividing (a zero row has cosine 0 with everything). */
const MIN_NORM = 1e-12;
/** Up to this k a bounded insertion list beats sorting all n candidates. */
const INSERTION_MAX_K = 64;

/**
 * The k nearest rows of `features` to `query`.
 *
 * @param features n × d row-major.
 * @param query d values.
 * @param k how many neighbours, 1 ≤ k ≤ n (n − 1 when one index is excluded).
 * @returns indices of the neighbours, best first, and their scores (the
 *   cosine similarity, or the Euclidean distance).
 * @throws Error when the sizes do not match, k is out of range, or exclude is
 *   not an index of features.
 */
export function nearestNeighbours(
  features: Float32Array,
  n: number,
  d: number,
  query: Float32Array,
  k: number,
  opts: NeighbourOptions = {},
): { indices: Int32Array; scores: Float32Array } {
  const metric = opts.metric ?? 'cosine';
  const { exclude } = opts;
  if (!Number.isInteger(n) || n < 0) throw new Error(`n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new Error(`d must be an integer ≥ 1, got ${d}`);
  if (features.length !== n * d) throw new Error(`expected ${n}×${d} = ${n * d} features, got ${features.length}`);
  if (query.length !== d) throw new Error(`the query has ${query.length} values but the features have ${d} dims`);
  if (metric !== 'cosine' && metric !== 'euclidean') throw new Error(`unknown metric '${metric as string}'; use 'cosine' or 'euclidean'`);
  if (exclude !== undefined && !(Number.isInteger(exclude) && exclude >= 0 && exclude < n)) {
    throw new Error(`exclude must be an index in [0, ${n}), got ${exclude}`);
  }
  const available = exclude === undefined ? n : n - 1;
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be an integer ≥ 1, got ${k}`);
  if (k > available) {
    throw new Error(
      `k = ${k} is larger than the ${available} candidate${available === 1 ? '' : 's'}` +
        (exclude === undefined ? '' : ` (${n} rows minus the excluded one)`),
    );
  }

  // Larger-is-better keys for both metrics, so one selection serves both:
  // cosine → s_i, euclidean → −‖q − x_i‖² (sqrt is monotone; applied to the k winners only).
  const key = new Float64Array(n);
  if (metric === 'cosine') {
    let qq = 0;
    for (let j = 0; j < d; j++) qq += query[j] * query[j];
    const qNorm = Math.max(Math.sqrt(qq), MIN_NORM);
    for (let i = 0; i < n; i++) {
      const offset = i * d;
      let dot = 0;
      let xx = 0;
      for (let j = 0; j < d; j++) {
        const x = features[offset + j];
        dot += query[j] * x;
        xx += x * x;
      }
      key[i] = dot / (qNorm * Math.max(Math.sqrt(xx), MIN_NORM));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const offset = i * d;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const diff = query[j] - features[offset + j];
        s += diff * diff;
      }
      key[i] = -s;
    }
  }

  // A NaN feature ranks last instead of poisoning the comparisons.
  for (let i = 0; i < n; i++) if (Number.isNaN(key[i])) key[i] = Number.NEGATIVE_INFINITY;

  let best: Int32Array;
  if (k <= INSERTION_MAX_K) {
    // Bounded insertion into a best-first list of k (O(n·k) worst case, O(n)
    // typical): a candidate enters only if it beats the current k-th, and ties
    // keep the earlier (lower) index ahead because candidates arrive in index order.
    best = new Int32Array(k);
    let size = 0;
    for (let i = 0; i < n; i++) {
      if (i === exclude) continue;
      const v = key[i];
      if (size === k && !(v > key[best[k - 1]])) continue;
      let pos = size < k ? size++ : k - 1;
      while (pos > 0 && v > key[best[pos - 1]]) {
        best[pos] = best[pos - 1];
        pos--;
      }
      best[pos] = i;
    }
  } else {
    // Many neighbours: sort every candidate, O(n log n).
    const candidates = new Int32Array(available);
    for (let i = 0, c = 0; i < n; i++) if (i !== exclude) candidates[c++] = i;
    candidates.sort((a, b) => key[b] - key[a] || a - b);
    best = candidates.slice(0, k);
  }
  const scores = Float32Array.from(best, (i) => (metric === 'cosine' ? key[i] : Math.sqrt(-key[i])));
  return { indices: best, scores };
}
