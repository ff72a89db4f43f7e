/**
 * Exemplar CNN (Dosovitskiy et al. 2014): the first K training images are K
 * surrogate classes, each made of that image under the trainer's random
 * augmentations (crop, flip, colour). The trainer draws batches from those K
 * only (batchPool), so an image's training-split index is its class label.
 * Two views of each drawn exemplar: f encodes the 2N views, a K-way linear
 * head on h names the exemplar (softmax cross-entropy; a head that cannot
 * tell the K apart scores log K). The paper fixes its augmented set in
 * advance; here every step draws new augmentations, so over the epochs each
 * exemplar is seen under ever new members.
 */
import * as tf from '@tensorflow/tfjs';
import { TASK_SNAPSHOT_EXAMPLES, type TaskSnapshot } from '../core/taskSnapshot';
import { classificationAccuracy, confusionCounts, softmaxCrossEntropy } from '../loss/classification';
import type { MethodFactory, SslMethod } from './method';
import { CaptureSlot, ClassifierHead, pretextLifecycle, pretextStateReader, readCapture } from './pretextHead';

/** Up to this many exemplars the instrument adds the K × K confusion matrix (beyond it a batch fills too few of its cells to read). */
export const EXEMPLAR_CONFUSION_MAX = 12;

/**
 * The class of each of the 2N views: view rows b and N + b are two members of
 * exemplar indices[b], whose label is its training-split index.
 */
export function exemplarLabels(indices: Int32Array, classes: number): Int32Array {
  for (const i of indices) {
    if (!(Number.isInteger(i) && i >= 0 && i < classes)) {
      throw new Error(`Exemplar CNN was handed training image ${i}, outside its ${classes} exemplars (0…${classes - 1}): the batch must be drawn from the first K images.`);
    }
  }
  const labels = new Int32Array(2 * indices.length);
  labels.set(indices, 0);
  labels.set(indices, indices.length);
  return labels;
}

/** The instrument's examples: the batch positions of the first distinct exemplars (a small K repeats exemplars within a batch). */
export function shownExemplarPositions(indices: Int32Array): number[] {
  const seen = new Set<number>();
  const positions: number[] = [];
  for (let b = 0; b < indices.length && positions.length < TASK_SNAPSHOT_EXAMPLES; b++) {
    if (seen.has(indices[b])) continue;
    seen.add(indices[b]);
    positions.push(b);
  }
  return positions;
}

export const exemplar: MethodFactory = {
  id: 'exemplar',
  create({ network, config, trainCount }): SslMethod {
    // the fit rule refuses K > n; the pool is clamped all the same, and the head has one class per exemplar in it
    const classes = Math.min(config.exemplarCount, trainCount);
    const head = new ClassifierHead(network.hDim, classes, config.seed, 0xe8e3);
    const captured = new CaptureSlot<{ members: tf.Tensor4D; predicted: tf.Tensor1D }>();
    let capturedIndices = new Int32Array(0);
    // augmented views trained on so far, all exemplars together
    let membersSeen = 0;
    return {
      id: 'exemplar',
      batchPool: classes,
      // f and the K-way head: the projection head g plays no part in a pretext task
      trainableVariables: [...network.encoderVariables, ...head.variables],
      lossPath: () => 'composed',
      forward(batch, { capture }) {
        const n = batch.indices.length;
        const labels = tf.tensor1d(exemplarLabels(batch.indices, classes), 'int32');
        const h = network.encode(batch.views, true);
        const logits = head.logits(h);
        const loss = softmaxCrossEntropy(logits, labels);
        const metrics = tf.stack([classificationAccuracy(logits, labels)]) as tf.Tensor1D;
        if (capture) {
          capturedIndices = Int32Array.from(batch.indices);
          const positions = shownExemplarPositions(batch.indices);
          // rows 0…S−1 the shown exemplars' first members, S…2S−1 their second
          const rows = [...positions, ...positions.map((b) => n + b)];
          captured.hold({ members: tf.gather(batch.views, rows) as tf.Tensor4D, predicted: tf.argMax(logits, 1) as tf.Tensor1D });
        }
        tf.dispose([labels, logits]);
        // h of both members, first views then second: two views of one image, so alignment reads how close the members sit
        return { loss, metrics, z: h, geometry: 'pairs' };
      },
      ...pretextLifecycle(captured, [head]),
      async afterUpdate(batch) {
        membersSeen += 2 * batch.indices.length;
        return { membersPerExemplar: membersSeen / classes };
      },
      // the members counted so far, behind the members-per-exemplar chart; the K exemplars are fixed by the config
      saveState: async () => ({ arrays: {}, values: { membersSeen } }),
      loadState(state) {
        const reader = pretextStateReader(state, 'Exemplar CNN', { values: ['membersSeen'] });
        const saved = reader.number('membersSeen');
        if (saved < 0) throw new Error(`Exemplar CNN’s “membersSeen” in the checkpoint is ${saved}, not a count.`);
        reader.then(() => {
          membersSeen = saved;
        });
        reader.commit();
      },
      taskSnapshot: (step) => readCapture(captured, async (held): Promise<TaskSnapshot> => {
        const indices = capturedIndices;
        const n = indices.length;
        const positions = shownExemplarPositions(indices);
        const count = positions.length;
        const [, size, , channels] = held.members.shape;
        const perImage = size * size * channels;
        const members = Float32Array.from(await held.members.data());
        const predicted = Array.from(await held.predicted.data());
        const truth = Array.from(exemplarLabels(indices, classes));
        const said = positions.map((b) => [predicted[b], predicted[n + b]]);
        const right = predicted.filter((p, r) => p === truth[r]).length;
        const distinct = new Set(indices).size;
        return {
          step, method: 'exemplar', count,
          rows: [
            { label: 'member 1 (view t)', images: members.slice(0, count * perImage), size, channels: channels as 1 | 3 },
            { label: 'member 2 (view t′)', images: members.slice(count * perImage), size, channels: channels as 1 | 3 },
          ],
          captions: positions.map((b, e) => `exemplar #${indices[b]} · said #${said[e][0]}, #${said[e][1]}`),
          // right when the head names the exemplar for both members
          correct: positions.map((b, e) => said[e][0] === indices[b] && said[e][1] === indices[b]),
          confusion: classes <= EXEMPLAR_CONFUSION_MAX
            ? { labels: Array.from({ length: classes }, (_, k) => `#${k}`), counts: confusionCounts(truth, predicted, classes) }
            : undefined,
          summary: `${right} of ${2 * n} views named their exemplar among ${classes} (${((100 * right) / (2 * n)).toFixed(0)}%; chance ${(100 / classes).toFixed(classes > 100 ? 2 : 1)}%); the batch holds ${distinct} distinct exemplars.`,
        };
      }),
    };
  },
};
