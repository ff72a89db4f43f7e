/**
 * Colorization (Zhang et al. 2016): each colour view t(x) is split into CIE
 * Lab; f sees the lightness L alone (L / 100, one channel: encoderInput) and
 * a head on h predicts the colour channels ab at every pixel. h is a pooled
 * vector, so the head is a MapDecoder (src/methods/inpainting.ts): dense
 * layers onto a coarse g×g grid, g = min(⌈S/2⌉, 8), upsampled bilinearly to
 * S×S (Zhang et al. predict at a quarter of the resolution and upsample too).
 *
 *   regression:      the grid holds a/110, b/110; L = mean over the N·S² pixels
 *                    of the squared error of the upsampled map against the
 *                    true ab/110.
 *   classification:  the grid holds logits over Q ab bins of side 10 (those
 *                    sRGB reaches, src/methods/lab.ts); L = the softmax
 *                    cross-entropy at the N·g² grid points against the bin of
 *                    the true colour there (the nearest pixel's: as the paper
 *                    scores its quarter-resolution output against the
 *                    subsampled image; a loss at every pixel would hold
 *                    N·S²·Q numbers). Hard labels, without the paper's
 *                    soft-encoding over 5 neighbouring bins or its class
 *                    rebalancing. The colour read out is the annealed mean
 *                    (T = 0.38), upsampled to S×S.
 */
import * as tf from '@tensorflow/tfjs';
import { COLORIZATION_ANNEALED_T, colorizationGreyscaleReason } from '../core/pretext/colorization';
import { TASK_SNAPSHOT_EXAMPLES, type TaskSnapshot } from '../core/taskSnapshot';
import { softmaxCrossEntropy } from '../loss/classification';
import { DECODER_MAX_GRID, MapDecoder, upsampleMap } from './inpainting';
import { abBinLabels, abBins, labPlanesToRgb, lightnessInput, rgbToLab, rgbToLabArray } from './lab';
import type { MethodFactory, SslMethod } from './method';
import { CaptureSlot, pretextLifecycle, pretextStateReader, readCapture } from './pretextHead';
import { EMPTY_METHOD_STATE } from './state';

/** ab are regressed as ab / 110: sRGB's a and b lie within about ±110, so the targets lie within ±1. */
export const AB_SCALE = 110;

/** The head's grid side for views of side S: half the side, at most 8 (then upsampled). */
export function colorizationGrid(size: number): number {
  return Math.min(Math.ceil(size / 2), DECODER_MAX_GRID);
}

/** Lab of a batch, split: L [n, S, S, 1] in [0, 100] and ab [n, S, S, 2]. */
export function splitLab(views: tf.Tensor4D): { lightness: tf.Tensor4D; ab: tf.Tensor4D } {
  return tf.tidy(() => {
    const [lightness, ab] = tf.split(rgbToLab(views), [1, 2], 3) as [tf.Tensor4D, tf.Tensor4D];
    return { lightness, ab };
  });
}

/** Regression loss: mean over pixels and both channels of (predicted − ab/110)², `predicted` already in units of 110. */
export function abRegressionLoss(predicted: tf.Tensor4D, ab: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(predicted, tf.div(ab, AB_SCALE))) as tf.Scalar);
}

/** Classification loss: per-pixel softmax cross-entropy of logits [n, g, g, Q] against the bins of ab [n, g, g, 2]. */
export function abBinCrossEntropy(logits: tf.Tensor4D, ab: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const labels = abBinLabels(ab);
    return softmaxCrossEntropy(tf.reshape(logits, [-1, logits.shape[3]]) as tf.Tensor2D, labels);
  });
}

/**
 * The paper's annealed mean: the distribution sharpened to softmax(logits / T)
 * (T = 1 is the mean, T → 0 the mode), then averaged over the bin centres:
 * [n, g, g, Q] → ab [n, g, g, 2].
 */
export function annealedMeanAb(logits: tf.Tensor4D, temperature = COLORIZATION_ANNEALED_T): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, g, , q] = logits.shape;
    const p = tf.softmax(tf.div(tf.reshape(logits, [-1, q]), temperature)) as tf.Tensor2D;
    return tf.reshape(tf.matMul(p, tf.tensor2d(abBins().centres, [q, 2])), [n, g, g, 2]) as tf.Tensor4D;
  });
}

/** Mean over pixels of the ab distance √(Δa² + Δb²), in Lab units. */
export function abError(predicted: tf.Tensor4D, ab: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sqrt(tf.sum(tf.squaredDifference(predicted, ab), 3))) as tf.Scalar);
}

/** The same on plain interleaved ab arrays (the instrument's captions; the tests' reference). */
export function abErrorArray(predicted: ArrayLike<number>, ab: ArrayLike<number>): number {
  let sum = 0;
  for (let p = 0; p < ab.length; p += 2) sum += Math.hypot(predicted[p] - ab[p], predicted[p + 1] - ab[p + 1]);
  return sum / (ab.length / 2);
}

export const colorization: MethodFactory = {
  id: 'colorization',
  create({ network, config, channels }): SslMethod {
    if (channels !== 3) throw new Error(colorizationGreyscaleReason('this dataset'));
    const mode = config.colorizationMode;
    const size = config.imageSize;
    const grid = colorizationGrid(size);
    const outChannels = mode === 'classification' ? abBins().count : 2;
    const head = new MapDecoder(network.hDim, network.hDim, grid, outChannels, config.seed, 0xc010);
    const captured = new CaptureSlot<{ views: tf.Tensor4D; predicted: tf.Tensor4D; metrics: tf.Tensor1D }>();
    let capturedN = 0;
    return {
      id: 'colorization',
      // f and the colour head: the projection head g plays no part in a pretext task
      trainableVariables: [...network.encoderVariables, ...head.variables],
      lossPath: () => 'composed',
      encoderInput: lightnessInput,
      forward(batch, { capture }) {
        const { views } = batch;
        const n = views.shape[0];
        if (views.shape[1] !== size) throw new Error(`Colorization: the head was built for ${size} px views, these are ${views.shape[1]} px; reset the run after changing the view size.`);
        const { lightness, ab } = splitLab(views);
        const input = tf.div(lightness, 100) as tf.Tensor4D;
        const h = network.encode(input, true);
        const map = head.gridMap(h);
        let loss: tf.Scalar;
        let predicted: tf.Tensor4D;
        if (mode === 'regression') {
          const scaled = upsampleMap(map, size);
          loss = abRegressionLoss(scaled, ab);
          predicted = tf.mul(scaled, AB_SCALE) as tf.Tensor4D;
          scaled.dispose();
        } else {
          // the true colour at the grid points (corners on corners, as upsampleMap places them): the nearest pixel's
          const abAtGrid = grid === size ? tf.clone(ab) : tf.image.resizeNearestNeighbor(ab, [grid, grid], true);
          loss = abBinCrossEntropy(map, abAtGrid);
          const meanAb = annealedMeanAb(map);
          predicted = upsampleMap(meanAb, size);
          tf.dispose([abAtGrid, meanAb]);
        }
        const metrics = tf.tidy(() => tf.stack([abError(predicted, ab), abError(tf.zerosLike(ab) as tf.Tensor4D, ab)])) as tf.Tensor1D;
        if (capture) {
          const count = Math.min(n, TASK_SNAPSHOT_EXAMPLES);
          capturedN = n;
          captured.hold({ views: tf.slice(views, 0, count), predicted: tf.slice(predicted, 0, count), metrics: tf.clone(metrics) });
        }
        tf.dispose([lightness, ab, input, map, predicted]);
        // h of the lightness images: one embedding per image, no positive pairs
        return { loss, metrics, z: h, geometry: 'rows' };
      },
      ...pretextLifecycle(captured, [head]),
      // nothing of its own: Lab and the ab bins are fixed, and f and the head are the trainer's to save
      saveState: async () => EMPTY_METHOD_STATE,
      loadState(state) {
        pretextStateReader(state, 'Colorization').commit();
      },
      taskSnapshot: (step) => readCapture(captured, async (held): Promise<TaskSnapshot> => {
        const [count, side] = held.views.shape;
        const pixels = side * side;
        const truth = Float32Array.from(await held.views.data());
        const predictedAb = Float32Array.from(await held.predicted.data());
        const [error, greyError] = Array.from(await held.metrics.data());
        // Lab in float64 from the views the head was scored on
        const lab = rgbToLabArray(truth);
        const lightness = Float64Array.from({ length: count * pixels }, (_, p) => lab[3 * p]);
        const trueAb = Float64Array.from({ length: 2 * count * pixels }, (_, k) => lab[3 * Math.floor(k / 2) + 1 + (k % 2)]);
        // the grey input as it looks: Lab (L, 0, 0) in sRGB, one channel
        const grey = labPlanesToRgb(lightness, new Float64Array(2 * count * pixels));
        const greyRow = Float32Array.from({ length: count * pixels }, (_, p) => grey[3 * p]);
        const painted = labPlanesToRgb(lightness, predictedAb);
        const captions = Array.from({ length: count }, (_, e) => {
          const slice = (a: Float32Array | Float64Array) => a.subarray(2 * e * pixels, 2 * (e + 1) * pixels);
          const zeros = new Float64Array(2 * pixels);
          return `ab error ${abErrorArray(slice(predictedAb), slice(trueAb)).toFixed(1)} · grey ${abErrorArray(zeros, slice(trueAb)).toFixed(1)}`;
        });
        const how = mode === 'regression' ? 'regression head' : `annealed mean (T = ${COLORIZATION_ANNEALED_T}) over ${outChannels} ab bins`;
        return {
          step, method: 'colorization', count,
          rows: [
            { label: 'input: lightness L', images: greyRow, size: side, channels: 1 },
            { label: 'L + predicted ab', images: painted, size: side, channels: 3 },
            { label: 'truth', images: truth, size: side, channels: 3 },
          ],
          captions,
          summary: `Mean ab error ${error.toFixed(1)} over the batch’s ${capturedN}×${side}×${side} pixels (${how}); a grey prediction scores ${greyError.toFixed(1)}.`,
        };
      }),
    };
  },
};
