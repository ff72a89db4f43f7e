/**
 * max |a − b| / max |b|: the error relative to the reference's scale, the
 * figure every browser check reports (entries near 0 make per-entry ratios
 * meaningless). Where the reference is all zeros, the largest absolute error;
 * a NaN or a length mismatch is an infinite error, never a small one.
 */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let maxDiff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    maxDiff = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : Math.max(maxDiff, diff);
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? maxDiff : maxDiff / scale;
}
