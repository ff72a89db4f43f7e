/**
 * Contrastive Multiview Coding (Tian et al. 2019) on colour images: each view
 * t(x) is split into CIE Lab, and its two channel groups are two views of one
 * image. The shared encoder f sees the lightness L (L / 100, one channel:
 * encoderInput, so the probes read f on L, as for colorization); a second
 * encoder of the same architecture, f_ab, the method's own, sees the colour
 * channels ab (ab / 110, two channels, within about ±1 and 0 for grey). Each
 * embeds through its own projection head (g for L, f_ab's for ab) to d
 * dimensions, and the cross-view loss (src/loss/cmc.ts) makes each L view
 * pick its own image's ab view among the batch's N, and each ab view its L
 * view, at temperature τ. Both encoders are trained.
 *
 * The paper splits one network's channels between the two views and draws
 * its negatives from a memory bank; here each view has a full encoder of f's
 * width and the negatives are the batch's other images (in-batch, as SimCLR).
 */
import * as tf from '@tensorflow/tfjs';
import { cmcGreyscaleReason } from '../core/entries/cmc';
import { TASK_SNAPSHOT_EXAMPLES, type TaskSnapshot } from '../core/taskSnapshot';
import { cmcLossWithMetrics } from '../loss/cmc';
import { EncoderNetwork } from '../model/encoderNetwork';
import { AB_SCALE, splitLab } from './colorization';
import { labPlanesToRgb, lightnessInput, rgbToLabArray } from './lab';
import type { MethodFactory, MethodState, SslMethod } from './method';
import { CaptureSlot, pretextLifecycle, pretextStateReader, readCapture } from './pretextHead';
import { readStateArray } from './state';

/** Mixed into the run's seed for the ab encoder's weights, so the two encoders start apart. */
export const CMC_AB_SEED_OFFSET = 0xcc0ab;
/** The lightness at which the instrument shows an ab view: mid-grey, where sRGB reaches the most colours. */
export const CMC_SHOWN_LIGHTNESS = 50;

/** CMC's two views of colour images [n, S, S, 3] in [0, 1]: L / 100 [n, S, S, 1] and ab / 110 [n, S, S, 2]. */
export function cmcViews(views: tf.Tensor4D): { lightness: tf.Tensor4D; ab: tf.Tensor4D } {
  return tf.tidy(() => {
    const lab = splitLab(views);
    return { lightness: tf.div(lab.lightness, 100) as tf.Tensor4D, ab: tf.div(lab.ab, AB_SCALE) as tf.Tensor4D };
  });
}

/** Per row of an N × N matrix (row-major), the column of its largest entry (the first on a tie). */
export function rowPicks(matrix: ArrayLike<number>, n: number): number[] {
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let j = 1; j < n; j++) if (matrix[i * n + j] > matrix[i * n + best]) best = j;
    return best;
  });
}

/** Per column, the row of its largest entry (the first on a tie). */
export function columnPicks(matrix: ArrayLike<number>, n: number): number[] {
  return Array.from({ length: n }, (_, j) => {
    let best = 0;
    for (let i = 1; i < n; i++) if (matrix[i * n + j] > matrix[best * n + j]) best = i;
    return best;
  });
}

export const cmc: MethodFactory = {
  id: 'cmc',
  create({ network, config, channels }): SslMethod {
    if (channels !== 3) throw new Error(cmcGreyscaleReason('this dataset'));
    // f's architecture and head on two input channels, from its own seed
    const abNetwork = new EncoderNetwork({ ...network.config, channels: 2, seed: (config.seed ^ CMC_AB_SEED_OFFSET) >>> 0 });
    const owned = {
      get bytes() {
        return 4 * abNetwork.allVariables.reduce((sum, v) => sum + v.size, 0);
      },
      dispose: () => abNetwork.dispose(),
    };
    const captured = new CaptureSlot<{ views: tf.Tensor4D; partners: tf.Tensor4D; similarities: tf.Tensor2D }>();
    let capturedTemperature = config.temperature;
    return {
      id: 'cmc',
      // both encoders and both projection heads learn
      trainableVariables: [...network.trainableVariables, ...abNetwork.trainableVariables],
      lossPath: () => 'composed',
      encoderInput: lightnessInput,
      forward(batch, { capture, config: current }) {
        const { views } = batch;
        const n = views.shape[0];
        const { lightness, ab } = cmcViews(views);
        const hL = network.encode(lightness, true);
        const zL = network.project(hL);
        const hAb = abNetwork.encode(ab, true);
        const zAb = abNetwork.project(hAb);
        // τ applies from the next step, no reset needed
        const result = cmcLossWithMetrics(zL, zAb, { temperature: current.temperature });
        // the catalog's order: L → ab, then ab → L
        const metrics = tf.stack([result.accuracyOneToTwo, result.accuracyTwoToOne]) as tf.Tensor1D;
        if (capture) {
          const count = Math.min(n, TASK_SNAPSHOT_EXAMPLES);
          capturedTemperature = current.temperature;
          captured.hold({
            views: tf.slice(views, 0, count),
            // the ab view each shown L view scores highest, wherever in the batch it is
            partners: tf.tidy(() => tf.gather(views, tf.argMax(tf.slice(result.similarities, 0, count), 1))) as tf.Tensor4D,
            similarities: tf.clone(result.similarities),
          });
        }
        // the two views' projections, L then ab: alignment reads image b's pair as rows b and N + b
        const z = tf.concat([zL, zAb], 0) as tf.Tensor2D;
        tf.dispose([lightness, ab, hL, zL, hAb, zAb, result.oneToTwo, result.twoToOne, result.accuracyOneToTwo, result.accuracyTwoToOne, result.similarities]);
        return { loss: result.loss, metrics, z };
      },
      ...pretextLifecycle(captured, [owned]),
      // f_ab and its head train (the trainer saves them), but its batch-norm running statistics move with every step and are no trained variable
      async saveState() {
        const arrays: MethodState['arrays'] = {};
        for (const [i, v] of abNetwork.runningStatistics.entries()) arrays[`abRunning.${i}`] = await readStateArray(v);
        return { arrays, values: {} };
      },
      loadState(state) {
        const running = abNetwork.runningStatistics;
        const reader = pretextStateReader(state, 'CMC', { arrays: running.map((_, i) => `abRunning.${i}`) });
        running.forEach((v, i) => reader.assignVariable(`abRunning.${i}`, v));
        reader.commit();
      },
      taskSnapshot: (step) => readCapture(captured, async (held): Promise<TaskSnapshot> => {
        const [count, side] = held.views.shape;
        const n = held.similarities.shape[0];
        const pixels = side * side;
        const cosines = await held.similarities.data();
        const lab = rgbToLabArray(await held.views.data());
        const partnerLab = rgbToLabArray(await held.partners.data());
        const plane = (source: Float64Array, channel: number) => Float64Array.from({ length: count * pixels }, (_, p) => source[3 * p + channel]);
        const abOf = (source: Float64Array) => Float64Array.from({ length: 2 * count * pixels }, (_, k) => source[3 * Math.floor(k / 2) + 1 + (k % 2)]);
        // L as it looks: Lab (L, 0, 0) in sRGB, one channel
        const grey = labPlanesToRgb(plane(lab, 0), new Float64Array(2 * count * pixels));
        const greyRow = Float32Array.from({ length: count * pixels }, (_, p) => grey[3 * p]);
        // ab as it looks: every pixel at the same lightness, so only the colour shows
        const flat = new Float64Array(count * pixels).fill(CMC_SHOWN_LIGHTNESS);
        const picks = rowPicks(cosines, n);
        const backPicks = columnPicks(cosines, n);
        const who = (j: number, e: number) => (j === e ? 'own' : `#${j + 1}`);
        // strict wins, as the metrics count them: a tie is a miss
        const beats = (i: number, other: (j: number) => number) => Array.from({ length: n }, (_, j) => j).every((j) => j === i || cosines[i * n + i] > other(j));
        const rowWins = Array.from({ length: n }, (_, i) => beats(i, (j) => cosines[i * n + j]));
        const columnWins = Array.from({ length: n }, (_, i) => beats(i, (j) => cosines[j * n + i]));
        const wins = (won: boolean[]) => won.filter(Boolean).length;
        let positive = 0;
        let negative = 0;
        for (let k = 0; k < n * n; k++) {
          if (k % (n + 1) === 0) positive += cosines[k];
          else negative += cosines[k];
        }
        const others = n > 1 ? `, ${(negative / (n * (n - 1))).toFixed(2)} between different images’` : '';
        return {
          step, method: 'cmc', count,
          rows: [
            { label: 'L: what f sees', images: greyRow, size: side, channels: 1 },
            { label: `ab at L = ${CMC_SHOWN_LIGHTNESS}: what f_ab sees`, images: labPlanesToRgb(flat, abOf(lab)), size: side, channels: 3 },
            { label: 'the ab view L picks', images: labPlanesToRgb(flat, abOf(partnerLab)), size: side, channels: 3 },
          ],
          captions: Array.from({ length: count }, (_, e) => `L→ab ${who(picks[e], e)} · ab→L ${who(backPicks[e], e)} · cos ${cosines[e * n + e].toFixed(2)}`),
          correct: rowWins.slice(0, count),
          summary: `${wins(rowWins)} of ${n} lightness views pick their own colour view among the batch’s ${n} (L→ab), ${wins(columnWins)} of ${n} colour views their own lightness view (ab→L); chance is 1 in ${n}. `
            + `Mean cosine ${(positive / n).toFixed(2)} between an image’s two views${others} (τ = ${capturedTemperature}).`,
        };
      }),
    };
  },
};
