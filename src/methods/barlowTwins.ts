/**
 * Barlow Twins (Zbontar et al. 2021): the cross-correlation matrix C of the
 * two views' standardized embeddings (d×d, averaged over the batch) is pushed
 * towards the identity: the diagonal to 1 (each feature invariant to the
 * augmentation), the rest to 0 (features not redundant):
 *
 *   L = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij²      (src/loss/barlowTwins.ts)
 *
 * No negatives, no predictor, no moving average: the off-diagonal term alone
 * keeps the features from collapsing onto each other. λ defaults to 1/d (see
 * defaultBarlowLambda) rather than the paper's 0.005 for d = 8192.
 */
import * as tf from '@tensorflow/tfjs';
import { METHOD_MATRIX_MAX_SIDE } from '../core/methods';
import { barlowTwinsWithMetrics } from '../loss/barlowTwins';
import type { MethodFactory, SslMethod } from './method';
import { loadEmptyState } from './siamese';
import { EMPTY_METHOD_STATE } from './state';

export const barlowTwins: MethodFactory = {
  id: 'barlow-twins',
  create({ network }): SslMethod {
    return {
      id: 'barlow-twins',
      trainableVariables: network.trainableVariables,
      lossPath: () => 'composed',
      forward(batch, { config, capture }) {
        const z = network.project(network.encode(batch.views, true));
        const [z1, z2] = tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
        const out = barlowTwinsWithMetrics(z1, z2, { lambda: config.barlowLambda });
        if (!capture) out.crossCorrelation.dispose();
        // the catalog's order: the invariance term, then the redundancy term (unweighted)
        const metrics = tf.stack([out.onDiagonal, out.offDiagonal]) as tf.Tensor1D;
        if (!capture) return { loss: out.loss, metrics, z };
        // the heatmap gets C's first dimensions when d is larger than it draws
        const d = out.crossCorrelation.shape[0];
        const side = Math.min(d, METHOD_MATRIX_MAX_SIDE);
        const matrix = side === d ? out.crossCorrelation : tf.tidy(() => tf.slice(out.crossCorrelation, [0, 0], [side, side]));
        if (matrix !== out.crossCorrelation) out.crossCorrelation.dispose();
        return { loss: out.loss, metrics, z, matrix, matrixInfo: { rowsTotal: d, columnsTotal: d, unwritten: new Uint8Array(side) } };
      },
      afterUpdate: async () => ({}),
      discardPending() {},
      extraBytes: () => 0,
      // nothing of its own: f and g are the trainer's to save, λ is in the config
      saveState: async () => EMPTY_METHOD_STATE,
      loadState: (state) => loadEmptyState(state, 'Barlow Twins'),
      dispose() {},
    };
  },
};
