/**
 * MoCo v2 (He et al. 2020; Chen, Fan, Girshick & He 2020): a query q = g(f(t(x)))
 * from the online network must pick out its key k = g_k(f_k(t′(x))) from a
 * momentum key encoder among the K keys of earlier batches held in a queue:
 *
 *   L = mean_b −log( e^{q̂_b·k̂_b/τ} / (e^{q̂_b·k̂_b/τ} + Σ_j e^{q̂_b·queue_j/τ}) )   (src/loss/infoNce.ts)
 *   after the optimizer step:  θ_k ← m·θ_k + (1 − m)·θ_q;  enqueue k̂ (FIFO, oldest keys leave)
 *
 * Keys carry no gradient: they come from the key encoder, whose variables the
 * optimizer does not see. The queue starts as random unit vectors, as in the
 * paper's code, so the loss starts near log(K + 1); "queue fill" counts the
 * slots real keys have reached.
 *
 * Shuffling BN, single-device equivalent: MoCo computes batch-norm statistics
 * per GPU and shuffles the keys across GPUs, so a query and its key never
 * share batch statistics (which would let the model find its positive by the
 * batch's signature instead of by content). Here the batch is split into two
 * virtual devices: queries are encoded in two halves in order, keys in two
 * halves of a seeded shuffle, then put back in order. Below N = 4 a half would
 * hold one image (no statistics to speak of), and the whole batch is one group.
 * Because each half is a training-mode pass, the online network's running BN
 * statistics move twice per step.
 */
import * as tf from '@tensorflow/tfjs';
import { METHOD_MATRIX_MAX_SIDE } from '../core/methods';
import { createRng, permutation, type SeededRng } from '../core/random';
import { infoNceWithMetrics } from '../loss/infoNce';
import { l2NormalizeRows, randomUnitRows } from '../loss/normalize';
import { EncoderNetwork } from '../model/encoderNetwork';
import type { MethodFactory, SslMethod } from './method';
import { MethodStateReader, networkStateArrays, readStateArray } from './state';

/** Smallest batch split into two virtual devices for shuffling BN. */
const MIN_SHUFFLE_BATCH = 4;

/**
 * The queue after enqueuing `keys` at `pointer` (FIFO, wrapping around): row
 * (pointer + i) mod K becomes keys[i]; when more keys than K arrive, only the
 * last K stay, as if enqueued one by one. Returns the new queue (the caller
 * disposes both) and the next write position.
 */
export function enqueueKeys(queue: tf.Tensor2D, keys: tf.Tensor2D, pointer: number): { queue: tf.Tensor2D; pointer: number } {
  const [size, dim] = queue.shape;
  const [count, keyDim] = keys.shape;
  if (keyDim !== dim) throw new Error(`enqueueKeys: keys have ${keyDim} dimensions but the queue holds ${dim}`);
  if (!Number.isInteger(pointer) || pointer < 0 || pointer >= size) throw new Error(`enqueueKeys: pointer ${pointer} is outside the queue of ${size}`);
  return tf.tidy(() => {
    if (count >= size) {
      // the last K keys, placed where one-by-one writes would have left them
      const last = tf.slice(keys, [count - size, 0], [size, dim]);
      const start = (pointer + count - size) % size;
      const rolled = start === 0 ? last : tf.concat([tf.slice(last, [size - start, 0], [start, dim]), tf.slice(last, [0, 0], [size - start, dim])], 0);
      return { queue: rolled as tf.Tensor2D, pointer: (pointer + count) % size };
    }
    const end = pointer + count;
    if (end <= size) {
      const parts = [tf.slice(queue, [0, 0], [pointer, dim]), keys, tf.slice(queue, [end, 0], [size - end, dim])];
      return { queue: tf.concat(parts, 0) as tf.Tensor2D, pointer: end % size };
    }
    // wrap: the first keys fill the tail, the rest overwrite the head
    const tail = size - pointer;
    const wrapped = count - tail;
    const parts = [
      tf.slice(keys, [tail, 0], [wrapped, dim]),
      tf.slice(queue, [wrapped, 0], [pointer - wrapped, dim]),
      tf.slice(keys, [0, 0], [tail, dim]),
    ];
    return { queue: tf.concat(parts, 0) as tf.Tensor2D, pointer: wrapped };
  });
}

/** z = g(f(x)) in training mode, batch norm computed separately over each group of rows; rows come back in their order. */
function projectInGroups(network: EncoderNetwork, x: tf.Tensor4D, order: Int32Array | null): tf.Tensor2D {
  return tf.tidy(() => {
    const n = x.shape[0];
    if (n < MIN_SHUFFLE_BATCH) return network.project(network.encode(x, true));
    const shuffled = order ? tf.gather(x, order) : x;
    const half = Math.floor(n / 2);
    const parts = [tf.slice(shuffled, 0, half), tf.slice(shuffled, half, n - half)] as tf.Tensor4D[];
    const z = tf.concat(parts.map((part) => network.project(network.encode(part, true))), 0) as tf.Tensor2D;
    if (!order) return z;
    // inverse permutation: row order[i] of x is row i of z
    const inverse = new Int32Array(n);
    order.forEach((source, i) => { inverse[source] = i; });
    return tf.gather(z, inverse);
  });
}

export const moco: MethodFactory = {
  id: 'moco',
  create({ network, config, trainCount }): SslMethod {
    const queueSize = Math.max(1, Math.min(config.queueSize, trainCount));
    const dim = network.zDim;
    // the queue's random start, then each step's shuffle of the keys (shuffling BN)
    const rng: SeededRng = createRng(config.seed ^ 0x40c0);
    // the key encoder starts as a copy of the query encoder (MoCo's param_k.data.copy_(param_q.data))
    const keyNetwork = new EncoderNetwork(network.config);
    keyNetwork.followEma(network, 0);
    // random unit vectors until real keys replace them
    const queue = randomUnitRows(queueSize, dim, rng);
    let pointer = 0;
    let filled = 0;
    let pendingKeys: tf.Tensor2D | null = null;
    const dropPending = () => {
      pendingKeys?.dispose();
      pendingKeys = null;
    };

    return {
      id: 'moco',
      trainableVariables: network.trainableVariables,
      lossPath: () => 'composed',
      forward(batch, { config: settings, capture }) {
        const [x1, x2] = tf.split(batch.views, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
        const q = projectInGroups(network, x1, null);
        // keys: from the key encoder, in shuffled halves (shuffling BN); no path to the optimizer's variables
        const order = batch.n >= MIN_SHUFFLE_BATCH ? permutation(rng, batch.n) : null;
        const k = projectInGroups(keyNetwork, x2, order);
        const kHat = l2NormalizeRows(k);
        dropPending();
        pendingKeys = tf.keep(kHat);
        const out = infoNceWithMetrics(q, kHat, queue as tf.Tensor2D, { temperature: settings.temperature });
        // the catalog's order: positive logit, queue logit, contrastive accuracy
        const metrics = tf.stack([out.positiveLogit, out.negativeLogit, out.accuracy]) as tf.Tensor1D;
        // geometry reads the two views' embeddings: queries and their keys
        const z = tf.concat([q, k], 0) as tf.Tensor2D;
        if (!capture) return { loss: out.loss, metrics, z };
        // the heatmap: Algorithm 1's logits before /τ, [l_pos, l_neg], for the first queries against the newest keys
        const rows = Math.min(batch.n, METHOD_MATRIX_MAX_SIDE);
        const shownKeys = Math.min(queueSize, METHOD_MATRIX_MAX_SIDE - 1);
        const slots = Array.from({ length: shownKeys }, (_, i) => (((pointer - 1 - i) % queueSize) + queueSize) % queueSize);
        const matrix = tf.tidy(() => {
          const qHat = l2NormalizeRows(tf.slice(q, [0, 0], [rows, -1]));
          const positive = tf.sum(tf.mul(qHat, tf.slice(kHat, [0, 0], [rows, -1])), 1, true);
          const negatives = tf.matMul(qHat, tf.gather(queue, slots), false, true);
          return tf.concat([positive, negatives], 1) as tf.Tensor2D;
        });
        // the i-th newest slot holds a real key once more than i keys have been enqueued
        const unwritten = Uint8Array.from([0, ...slots.map((_, i) => (i < filled ? 0 : 1))]);
        return { loss: out.loss, metrics, z, matrix, matrixInfo: { rowsTotal: batch.n, columnsTotal: 1 + queueSize, unwritten } };
      },
      async afterUpdate(batch, settings) {
        keyNetwork.followEma(network, settings.momentum);
        if (pendingKeys) {
          const next = enqueueKeys(queue as tf.Tensor2D, pendingKeys, pointer);
          queue.assign(next.queue);
          next.queue.dispose();
          pointer = next.pointer;
          filled = Math.min(queueSize, filled + batch.n);
          dropPending();
        }
        const drift = keyNetwork.relativeDistanceTo(network);
        const [keyDrift] = await drift.data();
        drift.dispose();
        return { queueFill: filled / queueSize, keyDrift };
      },
      discardPending: dropPending,
      extraBytes: () => 4 * (queue.size + keyNetwork.allVariables.reduce((sum, v) => sum + v.size, 0)),
      // the key encoder (no optimizer sees it), the queue with where the next keys go and how many are real, the shuffle's stream
      async saveState() {
        return {
          arrays: { ...(await networkStateArrays('keyNetwork', keyNetwork)), queue: await readStateArray(queue) },
          values: { pointer, filled, shuffleRng: rng.state() },
        };
      },
      loadState(state) {
        const reader = new MethodStateReader(state, 'MoCo v2');
        reader.assignNetwork('keyNetwork', keyNetwork);
        reader.assignVariable('queue', queue);
        const savedPointer = reader.number('pointer');
        const savedFilled = reader.number('filled');
        if (savedPointer < 0 || savedPointer >= queueSize) throw new Error(`MoCo v2’s “pointer” in the checkpoint is ${savedPointer}, outside its queue of ${queueSize} keys.`);
        if (savedFilled < 0 || savedFilled > queueSize) throw new Error(`MoCo v2’s “filled” in the checkpoint is ${savedFilled}, not between 0 and its queue’s ${queueSize} keys.`);
        reader.restoreRng('shuffleRng', rng);
        reader.then(() => {
          dropPending();
          pointer = savedPointer;
          filled = savedFilled;
        });
        reader.commit();
      },
      dispose() {
        dropPending();
        queue.dispose();
        keyNetwork.dispose();
      },
    };
  },
};
