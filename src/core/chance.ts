/**
 * NT-Xent of an encoder that cannot tell the candidates apart: when every
 * logit s_ik/τ is equal, each anchor's softmax over its 2N − 1 candidates is
 * uniform, so ℓ(i, p(i)) = −log(1/(2N − 1)) and
 *     L = log(2N − 1).
 * A freshly initialised encoder starts near it; the loss chart draws it as the
 * level a useful representation must fall below. (No tfjs here: the UI uses it.)
 */
export function uniformGuessLoss(batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  return Math.log(2 * batchSize - 1);
}
