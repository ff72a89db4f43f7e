/**
 * BYOL (Grill et al. 2020): no negatives. The online network (f, g and the
 * predictor q) predicts, from one view, the target network's projection of the
 * other view; the target is an exponential moving average of the online f and
 * g and gets no gradient:
 *
 *   p_i = q(g(f(x̃_i))),  z′_j = g_ξ(f_ξ(x̃_j))
 *   L = ½ [ (2 − 2 cos(p₁, z′₂)) + (2 − 2 cos(p₂, z′₁)) ]      (src/loss/byol.ts, symmetrized)
 *   after the step:  ξ ← m·ξ + (1 − m)·θ
 *
 * The collapse switches take away what keeps BYOL from mapping every image to
 * one point: without the predictor (p = z) or with target = online
 * (z′ = sg(z), no moving average), the loss can reach 0 by collapsing.
 */
import * as tf from '@tensorflow/tfjs';
import { byolLoss } from '../loss/byol';
import { EncoderNetwork } from '../model/encoderNetwork';
import type { MethodFactory, SslMethod } from './method';
import { meanRowCosine, predictionTargetMatrix, Predictor, stopGradient } from './siamese';
import { MethodStateReader, networkStateArrays } from './state';

export const byol: MethodFactory = {
  id: 'byol',
  create({ network, config }): SslMethod {
    const predictor = new Predictor(network.zDim, config.predictorHidden, config.seed);
    const target = new EncoderNetwork(network.config);
    target.followEma(network, 0);
    return {
      id: 'byol',
      trainableVariables: [...network.trainableVariables, ...predictor.variables],
      lossPath: () => 'composed',
      forward(batch, { config: settings, capture }) {
        const z = network.project(network.encode(batch.views, true));
        const p = settings.usePredictor ? predictor.predict(z) : z;
        // the target's projections: the moving-average network (no gradient reaches it), or the online z with a stop-gradient
        const zTarget = settings.emaTarget ? target.project(target.encode(batch.views, true)) : stopGradient(z);
        const [p1, p2] = tf.split(p, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
        const [t1, t2] = tf.split(zTarget, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
        const loss = tf.div(tf.add(byolLoss(p1, t2), byolLoss(p2, t1)), 2) as tf.Scalar;
        const cosine = tf.div(tf.add(meanRowCosine(p1, t2), meanRowCosine(p2, t1)), 2);
        return { loss, metrics: tf.stack([cosine]) as tf.Tensor1D, z, ...(capture ? predictionTargetMatrix(p1, t2) : {}) };
      },
      async afterUpdate(_batch, settings) {
        if (settings.emaTarget) target.followEma(network, settings.momentum);
        const drift = target.relativeDistanceTo(network);
        const [targetDrift] = await drift.data();
        drift.dispose();
        return { targetDrift: settings.emaTarget ? targetDrift : 0 };
      },
      discardPending() {},
      extraBytes: () => predictor.bytes + 4 * target.allVariables.reduce((sum, v) => sum + v.size, 0),
      // the target network ξ, running statistics included: no optimizer sees it (q is trained, so the trainer saves it)
      saveState: async () => ({ arrays: await networkStateArrays('target', target), values: {} }),
      loadState(state) {
        const reader = new MethodStateReader(state, 'BYOL');
        reader.assignNetwork('target', target);
        reader.commit();
      },
      dispose() {
        predictor.dispose();
        target.dispose();
      },
    };
  },
};
