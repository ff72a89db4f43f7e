/**
 * SimCLR (Chen et al. 2020): both views of a batch go through f and g; NT-Xent
 * over the 2N×2N cosine-similarity matrix makes each view pick out its partner
 * among the 2N − 1 others. Nothing is updated after the step; the method has
 * no variables of its own.
 */
import * as tf from '@tensorflow/tfjs';
import { ntXentWithMetrics } from '../loss/ntxent';
import { MAX_FUSED_DIM, ntXentFusedWithMetrics } from '../loss/ntxent-fused';
import type { MethodFactory, SslMethod } from './method';
import { loadEmptyState } from './siamese';
import { EMPTY_METHOD_STATE } from './state';

export const simclr: MethodFactory = {
  id: 'simclr',
  create({ network }): SslMethod {
    return {
      id: 'simclr',
      trainableVariables: network.trainableVariables,
      lossPath(config) {
        // the fused WGSL kernels run on webgpu only, and hold one row of z per workgroup lane
        return config.fusedLoss && network.zDim <= MAX_FUSED_DIM && tf.getBackend() === 'webgpu' ? 'fused' : 'composed';
      },
      forward(batch, { config, capture, lossPath }) {
        const { temperature, normalize } = config;
        const h = network.encode(batch.views, true);
        const z = network.project(h);
        const [z1, z2] = tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
        const result = lossPath === 'fused'
          ? ntXentFusedWithMetrics(z1, z2, { temperature, normalize }, { withAffinity: capture })
          : ntXentWithMetrics(z1, z2, { temperature, normalize });
        if (!capture) result.affinityMatrix?.dispose();
        // metrics: [positive similarity, negative similarity, contrastive accuracy], the catalog's order
        return { loss: result.loss, metrics: result.metrics, z, h: capture ? h : undefined, matrix: capture ? result.affinityMatrix ?? undefined : undefined };
      },
      async afterUpdate() {
        return {};
      },
      discardPending() {},
      extraBytes() {
        return 0;
      },
      // nothing of its own: f and g are the trainer's to save
      saveState: async () => EMPTY_METHOD_STATE,
      loadState(state) {
        loadEmptyState(state, 'SimCLR');
      },
      dispose() {},
    };
  },
};
