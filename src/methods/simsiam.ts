/**
 * SimSiam (Chen & He 2021): BYOL without the moving average. One network f, g
 * and a predictor q; each view's prediction is pulled towards the other view's
 * projection, through which no gradient flows:
 *
 *   p_i = q(g(f(x̃_i))),  z_i = g(f(x̃_i))
 *   L = ½ [ −cos(p₁, sg(z₂)) − cos(p₂, sg(z₁)) ]      (src/loss/simsiam.ts)
 *
 * The paper's finding, and the collapse switch here: without the
 * stop-gradient, the loss falls to its floor −1 at once by mapping every
 * image to the same output.
 */
import * as tf from '@tensorflow/tfjs';
import { negativeCosine } from '../loss/simsiam';
import type { MethodFactory, SslMethod } from './method';
import { loadEmptyState, Predictor, predictionTargetMatrix, stopGradient } from './siamese';
import { EMPTY_METHOD_STATE } from './state';

export const simsiam: MethodFactory = {
  id: 'simsiam',
  create({ network, config }): SslMethod {
    const predictor = new Predictor(network.zDim, config.predictorHidden, config.seed);
    return {
      id: 'simsiam',
      trainableVariables: [...network.trainableVariables, ...predictor.variables],
      lossPath: () => 'composed',
      forward(batch, { config: settings, capture }) {
        const z = network.project(network.encode(batch.views, true));
        const p = predictor.predict(z);
        const target = settings.stopGradient ? stopGradient(z) : z;
        const [p1, p2] = tf.split(p, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
        const [t1, t2] = tf.split(target, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
        const loss = tf.div(tf.add(negativeCosine(p1, t2), negativeCosine(p2, t1)), 2) as tf.Scalar;
        return { loss, metrics: null, z, ...(capture ? predictionTargetMatrix(p1, t2) : {}) };
      },
      afterUpdate: async () => ({}),
      discardPending() {},
      extraBytes: () => predictor.bytes,
      // nothing of its own: f, g and q are trained variables (the trainer saves them), and q keeps no running statistics
      saveState: async () => EMPTY_METHOD_STATE,
      loadState: (state) => loadEmptyState(state, 'SimSiam'),
      dispose: () => predictor.dispose(),
    };
  },
};
