/**
 * The temperature lab's math, on one anchor row of the affinity matrix:
 *   p_j(τ) = exp(s_ij/τ) / Σ_{k≠i} exp(s_ik/τ),   j ≠ i   (max-subtracted)
 *   H(τ)   = −Σ_j p_j log p_j   ∈ [0, log(2N−1)]
 * Small τ sharpens the distribution towards the most similar candidate;
 * large τ flattens it towards uniform.
 */

/** Row `anchor` of a size×size matrix as the similarities to its candidates (diagonal dropped), with the candidates' indices. */
export function candidateRow(matrix: Float32Array, size: number, anchor: number): { similarities: Float64Array; indices: Int32Array } {
  const similarities = new Float64Array(size - 1);
  const indices = new Int32Array(size - 1);
  let k = 0;
  for (let j = 0; j < size; j++) {
    if (j === anchor) continue;
    similarities[k] = matrix[anchor * size + j];
    indices[k] = j;
    k++;
  }
  return { similarities, indices };
}

/** Dot products from cosines and norms: s_ij = cos_ij ‖z_i‖ ‖z_j‖ (and back, dividing). */
export function convertRow(similarities: Float64Array, indices: Int32Array, anchor: number, norms: Float32Array, toDot: boolean): Float64Array {
  const out = new Float64Array(similarities.length);
  for (let k = 0; k < similarities.length; k++) {
    const scale = Math.max(norms[anchor] * norms[indices[k]], 1e-12);
    out[k] = toDot ? similarities[k] * scale : similarities[k] / scale;
  }
  return out;
}

/** softmax(s/τ), max-subtracted so any τ > 0 is safe. */
export function softmaxAt(similarities: Float64Array, temperature: number): Float64Array {
  let max = -Infinity;
  for (const s of similarities) max = Math.max(max, s / temperature);
  const out = new Float64Array(similarities.length);
  let sum = 0;
  for (let k = 0; k < similarities.length; k++) {
    out[k] = Math.exp(similarities[k] / temperature - max);
    sum += out[k];
  }
  for (let k = 0; k < out.length; k++) out[k] /= sum;
  return out;
}

/** Shannon entropy in nats. */
export function entropy(p: Float64Array): number {
  let h = 0;
  for (const x of p) if (x > 0) h -= x * Math.log(x);
  return h;
}

/** n log-spaced values from lo to hi. */
export function logSpace(lo: number, hi: number, n: number): number[] {
  return Array.from({ length: n }, (_, k) => lo * (hi / lo) ** (k / (n - 1)));
}

/** Parses a comma-separated list of temperatures; every value must be a number > 0. */
export function parseTemperatures(text: string): { values: number[] } | { error: string } {
  const parts = text.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (parts.length === 0) return { error: 'Enter at least one temperature, e.g. 0.05, 0.1, 0.5, 1.' };
  if (parts.length > 8) return { error: 'At most 8 temperatures at once.' };
  const values = parts.map(Number);
  const bad = parts.find((_, k) => !Number.isFinite(values[k]) || values[k] <= 0);
  if (bad !== undefined) return { error: `Every temperature must be a number greater than 0; “${bad}” is not.` };
  return { values };
}

export const NORMALIZED_TEMPERATURES = [0.05, 0.1, 0.5, 1];
export const UNNORMALIZED_TEMPERATURES = [1, 2, 5, 10, 20, 50, 100, 400];
