/**
 * RotNet (Gidaris et al. 2018): every image of the batch at 0°, 90°, 180° and
 * 270°, all four at once as the paper found best; f encodes the 4N images and
 * a linear head on h names the rotation (softmax cross-entropy; a head that
 * cannot tell them apart scores log 4). Quarter turns of a square image are
 * exact (transposes and flips, no interpolation), so no resampling artefact
 * can give the answer away.
 */
import * as tf from '@tensorflow/tfjs';
import { TASK_SNAPSHOT_EXAMPLES, type TaskSnapshot } from '../core/taskSnapshot';
import { classificationAccuracy, confusionCounts, softmaxCrossEntropy } from '../loss/classification';
import type { MethodFactory, SslMethod } from './method';
import { CaptureSlot, ClassifierHead, pretextLifecycle, pretextStateReader, readCapture } from './pretextHead';
import { EMPTY_METHOD_STATE } from './state';

export const ROTATION_LABELS = ['0°', '90°', '180°', '270°'] as const;

/**
 * x turned counterclockwise by `turns` quarter turns, [n, S, S, c] (square).
 * One turn: out[i][j] = x[j][S − 1 − i], the transpose with its rows reversed.
 */
export function rotateQuarterTurns(x: tf.Tensor4D, turns: number): tf.Tensor4D {
  if (x.shape[1] !== x.shape[2]) throw new Error(`rotateQuarterTurns: images must be square, got ${x.shape[1]}×${x.shape[2]}`);
  const k = ((turns % 4) + 4) % 4;
  return tf.tidy(() => {
    if (k === 0) return tf.clone(x);
    if (k === 2) return tf.reverse(x, [1, 2]);
    const transposed = tf.transpose(x, [0, 2, 1, 3]);
    return tf.reverse(transposed, k === 1 ? 1 : 2);
  });
}

/**
 * The task's inputs and labels for N images: 4N rows, rows kN … kN + N − 1
 * the batch turned by k quarter turns, labelled k.
 */
export function rotationTask(images: tf.Tensor4D): { inputs: tf.Tensor4D; labels: tf.Tensor1D } {
  const n = images.shape[0];
  return tf.tidy(() => {
    const inputs = tf.concat([0, 1, 2, 3].map((k) => rotateQuarterTurns(images, k)), 0) as tf.Tensor4D;
    const labels = tf.tensor1d(Int32Array.from({ length: 4 * n }, (_, r) => Math.floor(r / n)), 'int32');
    return { inputs, labels };
  });
}

/**
 * The same turn on plain arrays (HWC, one image): the instrument turns each
 * shown input back by the head's answer, and the tests' reference.
 */
export function rotateImageArray(pixels: ArrayLike<number>, size: number, channels: number, turns: number): Float32Array {
  const k = ((turns % 4) + 4) % 4;
  const out = new Float32Array(size * size * channels);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      // the source of out[i][j] after k counterclockwise quarter turns
      const [si, sj] = k === 0 ? [i, j] : k === 1 ? [j, size - 1 - i] : k === 2 ? [size - 1 - i, size - 1 - j] : [size - 1 - j, i];
      for (let c = 0; c < channels; c++) out[(i * size + j) * channels + c] = pixels[(si * size + sj) * channels + c];
    }
  }
  return out;
}

/** The instrument's examples: image b shown at rotation b mod 4, so all four appear; their rows in the 4N inputs. */
export function shownRotationRows(n: number): { rows: number[]; turns: number[] } {
  const count = Math.min(n, TASK_SNAPSHOT_EXAMPLES);
  const turns = Array.from({ length: count }, (_, b) => b % 4);
  return { rows: turns.map((k, b) => k * n + b), turns };
}

export const rotation: MethodFactory = {
  id: 'rotation',
  create({ network, config }): SslMethod {
    const head = new ClassifierHead(network.hDim, 4, config.seed, 0x4f7a);
    const captured = new CaptureSlot<{ shown: tf.Tensor4D; predicted: tf.Tensor1D }>();
    let capturedN = 0;
    return {
      id: 'rotation',
      // f and the head: the projection head g plays no part in a pretext task
      trainableVariables: [...network.encoderVariables, ...head.variables],
      lossPath: () => 'composed',
      forward(batch, { capture }) {
        const n = batch.views.shape[0];
        const { inputs, labels } = rotationTask(batch.views);
        const h = network.encode(inputs, true);
        const logits = head.logits(h);
        const loss = softmaxCrossEntropy(logits, labels);
        const metrics = tf.stack([classificationAccuracy(logits, labels)]) as tf.Tensor1D;
        if (capture) {
          capturedN = n;
          const { rows } = shownRotationRows(n);
          captured.hold({ shown: tf.gather(inputs, rows) as tf.Tensor4D, predicted: tf.argMax(logits, 1) as tf.Tensor1D });
        }
        // the upright images' h: one embedding per image, no positive pairs
        const z = tf.slice(h, [0, 0], [n, -1]) as tf.Tensor2D;
        tf.dispose([inputs, labels, logits, h]);
        return { loss, metrics, z, geometry: 'rows' };
      },
      ...pretextLifecycle(captured, [head]),
      // nothing of its own: the four turns are fixed, and f and the head are the trainer's to save
      saveState: async () => EMPTY_METHOD_STATE,
      loadState(state) {
        pretextStateReader(state, 'RotNet').commit();
      },
      taskSnapshot: (step) => readCapture(captured, async (held): Promise<TaskSnapshot> => {
        const n = capturedN;
        const [, size, , channels] = held.shown.shape;
        const shown = Float32Array.from(await held.shown.data());
        const predicted = Array.from(await held.predicted.data());
        const truth = predicted.map((_, r) => Math.floor(r / n));
        const { rows, turns } = shownRotationRows(n);
        const said = rows.map((r) => predicted[r]);
        const perImage = size * size * channels;
        // each input turned back by the head's answer: upright exactly when the head was right
        const undone = new Float32Array(shown.length);
        said.forEach((k, e) => undone.set(rotateImageArray(shown.subarray(e * perImage, (e + 1) * perImage), size, channels, -k), e * perImage));
        const correctCount = predicted.filter((p, r) => p === truth[r]).length;
        return {
          step, method: 'rotation', count: rows.length,
          rows: [
            { label: 'input (turned)', images: shown, size, channels: channels as 1 | 3 },
            { label: 'turned back by the head’s answer', images: undone, size, channels: channels as 1 | 3 },
          ],
          captions: turns.map((k, e) => `${ROTATION_LABELS[k]} · said ${ROTATION_LABELS[said[e]]}`),
          correct: turns.map((k, e) => said[e] === k),
          confusion: { labels: [...ROTATION_LABELS], counts: confusionCounts(truth, predicted, 4) },
          summary: `${correctCount} of ${4 * n} rotations named correctly (${((100 * correctCount) / (4 * n)).toFixed(0)}%; chance 25%).`,
        };
      }),
    };
  },
};
