/**
 * Instance discrimination with a memory bank (Wu et al. 2018, InstDisc): every
 * training image is a class of its own. A bank holds one unit vector per
 * image; an image's feature v̂ = normalize(g(f(x̃))) must pick out its own entry
 * among all n by the non-parametric softmax
 *
 *   L = mean_b −log( e^{v̂_b·bank_{i_b}/τ} / Σ_{j=1..n} e^{v̂_b·bank_j/τ} )      (src/loss/memoryBank.ts, exact, no NCE)
 *   after the step:  bank_{i_b} ← normalize(m·bank_{i_b} + (1 − m)·v̂_b)
 *
 * Both views of each image are scored (2N rows against the bank) and the
 * entry moves towards their mean: the bank entry is the image's running
 * average feature. The bank starts as random unit vectors, so the loss starts
 * near log n; entries an image has not yet visited stay random, which is what
 * the staleness meter shows.
 */
import * as tf from '@tensorflow/tfjs';
import { METHOD_MATRIX_MAX_SIDE } from '../core/methods';
import { createRng, type Rng } from '../core/random';
import { memoryBankWithMetrics } from '../loss/memoryBank';
import { l2NormalizeRows, randomUnitRows } from '../loss/normalize';
import type { MethodFactory, SslMethod } from './method';
import { MethodStateReader, readStateArray, typedStateArray } from './state';

/** Largest bank the page builds: a 60,000-image set at d = 512 is 117 MB. */
export const MAX_BANK_MB = 256;

/**
 * A bank of one unit vector per training image, random to start with, as the
 * memory-bank method and PIRL hold it; throws, with the figures, when it would
 * exceed MAX_BANK_MB. `owner` names it in the message ('A memory bank').
 */
export function createMemoryBank(owner: string, size: number, dim: number, rng: Rng): tf.Variable {
  const megabytes = (4 * size * dim) / 2 ** 20;
  if (megabytes > MAX_BANK_MB) {
    throw new Error(`${owner} of ${size} images × ${dim} dimensions would hold ${megabytes.toFixed(0)} MB, more than the ${MAX_BANK_MB} MB this page allows. Lower the z dimensions or use a smaller dataset.`);
  }
  return randomUnitRows(size, dim, rng);
}

/**
 * The memory bank's write, shared with PIRL (src/methods/pirl.ts): for each image
 * in the batch, bank_x ← normalize(m·bank_x + (1 − m)·v̂_x), each entry once
 * (its first row: an index may repeat in a batch that spans an epoch's end).
 * Returns the entries written.
 */
export function writeBankEntries(bank: tf.Variable, indices: Int32Array, features: tf.Tensor2D, momentum: number): number[] {
  const rows: number[] = [];
  const seen = new Set<number>();
  indices.forEach((index, row) => {
    if (!seen.has(index)) {
      seen.add(index);
      rows.push(row);
    }
  });
  const entries = rows.map((row) => indices[row]);
  const updated = tf.tidy(() => {
    const fresh = tf.gather(features, rows);
    const old = tf.gather(bank, entries);
    const written = l2NormalizeRows(tf.add(tf.mul(old, momentum), tf.mul(fresh, 1 - momentum)) as tf.Tensor2D);
    // bank + scatter(written − old) changes exactly the written rows
    return tf.add(bank, tf.scatterND(tf.tensor2d(entries, [entries.length, 1], 'int32'), tf.sub(written, old), bank.shape));
  });
  bank.assign(updated);
  updated.dispose();
  return entries;
}

export const memoryBank: MethodFactory = {
  id: 'memory-bank',
  create({ network, config, trainCount }): SslMethod {
    const size = trainCount;
    const dim = network.zDim;
    const bank = createMemoryBank('A memory bank', size, dim, createRng(config.seed ^ 0xba4c));
    /** the step each entry was last written at; −1: never (still random) */
    const writtenAt = new Int32Array(size).fill(-1);
    let step = 0;
    let pending: tf.Tensor2D | null = null;
    const dropPending = () => {
      pending?.dispose();
      pending = null;
    };

    return {
      id: 'memory-bank',
      trainableVariables: network.trainableVariables,
      lossPath: () => 'composed',
      forward(batch, { config: settings, capture }) {
        const z = network.project(network.encode(batch.views, true));
        // both views of image b are scored against its entry i_b
        const indices = new Int32Array(2 * batch.n);
        indices.set(batch.indices, 0);
        indices.set(batch.indices, batch.n);
        const out = memoryBankWithMetrics(z, indices, bank as tf.Tensor2D, { temperature: settings.temperature });
        // what the bank write needs: the mean of the two views' unit features, per image
        dropPending();
        pending = tf.keep(tf.tidy(() => {
          const [v1, v2] = tf.split(l2NormalizeRows(z), 2, 0);
          return tf.div(tf.add(v1, v2), 2) as tf.Tensor2D;
        }));
        // the catalog's order: positive rank, positive similarity
        const metrics = tf.stack([out.positiveRank, out.positiveSimilarity]) as tf.Tensor1D;
        if (!capture) return { loss: out.loss, metrics, z };
        // the heatmap: both views of the first m images against those images' bank rows (positives: column r mod m)
        const m = Math.min(batch.n, METHOD_MATRIX_MAX_SIDE / 2);
        const images = Array.from(batch.indices.subarray(0, m));
        const matrix = tf.tidy(() => {
          const v = l2NormalizeRows(tf.concat([tf.slice(z, [0, 0], [m, -1]), tf.slice(z, [batch.n, 0], [m, -1])], 0) as tf.Tensor2D);
          return tf.matMul(v, tf.gather(bank, images), false, true) as tf.Tensor2D;
        });
        const unwritten = Uint8Array.from(images.map((index) => (writtenAt[index] < 0 ? 1 : 0)));
        return { loss: out.loss, metrics, z, matrix, matrixInfo: { rowsTotal: 2 * batch.n, columnsTotal: batch.n, unwritten } };
      },
      async afterUpdate(batch, settings) {
        step += 1;
        if (pending) {
          for (const index of writeBankEntries(bank, batch.indices, pending, settings.bankMomentum)) writtenAt[index] = step;
          dropPending();
        }
        let written = 0;
        let staleness = 0;
        for (const at of writtenAt) {
          if (at >= 0) {
            written += 1;
            staleness += step - at;
          }
        }
        return { bankWritten: written / size, bankStaleness: written > 0 ? staleness / written : 0 };
      },
      discardPending: dropPending,
      extraBytes: () => 4 * bank.size,
      // the bank, when each entry was written (staleness, the heatmap's unwritten columns) and the step those are counted in;
      // the bank's random start is drawn once, at construction, from a stream it does not keep
      async saveState() {
        return { arrays: { bank: await readStateArray(bank), writtenAt: typedStateArray(writtenAt) }, values: { step } };
      },
      loadState(state) {
        const reader = new MethodStateReader(state, 'InstDisc');
        reader.assignVariable('bank', bank);
        const savedWrittenAt = reader.array('writtenAt', [size], 'int32').data as Int32Array;
        const savedStep = reader.number('step');
        if (savedStep < 0) throw new Error(`InstDisc’s “step” in the checkpoint is ${savedStep}, not a step count.`);
        if (savedWrittenAt.some((at) => at < -1 || at > savedStep)) throw new Error(`InstDisc’s “writtenAt” in the checkpoint holds steps outside −1…${savedStep}.`);
        reader.then(() => {
          dropPending();
          writtenAt.set(savedWrittenAt);
          step = savedStep;
        });
        reader.commit();
      },
      dispose() {
        dropPending();
        bank.dispose();
      },
    };
  },
};
