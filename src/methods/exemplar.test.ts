import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { ExperimentConfig } from '../core/config';
import { lossReference, METHOD_SETTING_FIELDS, methodUnfitReason } from '../core/methods';
import { TASK_SNAPSHOT_EXAMPLES } from '../core/taskSnapshot';
import { toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import { EXEMPLAR_CONFUSION_MAX, exemplarLabels, shownExemplarPositions } from './exemplar';
import type { StepMetrics } from '../train/protocol';
import type { MethodBatch, MethodState } from './method';
import { checkMethodBasics, checkResumesExactly, methodConfig, trainSteps } from './methodHarness.testutil';

await tf.setBackend('cpu');

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Records every batch the trainer hands the method (indices, and the views' values when asked) before passing it on. */
function recordBatches(trainer: Trainer, withViews = false): { indices: Int32Array; views?: Float32Array }[] {
  const seen: { indices: Int32Array; views?: Float32Array }[] = [];
  const method = trainer.method;
  const forward = method.forward.bind(method);
  method.forward = (batch: MethodBatch, options) => {
    seen.push({ indices: Int32Array.from(batch.indices), views: withViews ? Float32Array.from(batch.views.dataSync()) : undefined });
    return forward(batch, options);
  };
  return seen;
}

describe('exemplar classes', () => {
  it('labels view b and view N + b with the training index of image b; refuses an index outside the K', () => {
    expect(Array.from(exemplarLabels(Int32Array.from([3, 0, 7]), 8))).toEqual([3, 0, 7, 3, 0, 7]);
    expect(() => exemplarLabels(Int32Array.from([3, 8]), 8)).toThrow(/training image 8, outside its 8 exemplars/);
  });

  it('shows the first distinct exemplars of the batch, at most TASK_SNAPSHOT_EXAMPLES', () => {
    expect(shownExemplarPositions(Int32Array.from([4, 1, 4, 2, 1, 0]))).toEqual([0, 1, 3, 5]);
    expect(shownExemplarPositions(Int32Array.from({ length: 20 }, (_, i) => i))).toHaveLength(TASK_SNAPSHOT_EXAMPLES);
  });

  it('draws batches from the first K images only, each epoch of the pool covering all K', async () => {
    const k = 12;
    const trainer = new Trainer(toyDataset(64, 16), methodConfig('exemplar', { exemplarCount: k }));
    expect(trainer.method.batchPool).toBe(k);
    const seen = recordBatches(trainer);
    await trainSteps(trainer, 3);
    const drawn = seen.flatMap((b) => Array.from(b.indices));
    expect(drawn).toHaveLength(48);
    expect(drawn.every((i) => i >= 0 && i < k)).toBe(true);
    // 48 draws are four whole shuffles of the 12 exemplars
    for (let epoch = 0; epoch < 4; epoch++) expect(drawn.slice(12 * epoch, 12 * (epoch + 1)).sort((a, b) => a - b)).toEqual(Array.from({ length: k }, (_, i) => i));
    trainer.dispose();
  });

  it('the head is K-way, scores log K when uniform, and its labels are the batch indices', () => {
    const k = 16;
    const trainer = new Trainer(toyDataset(64, 16), methodConfig('exemplar', { exemplarCount: k }));
    const config = trainer.currentConfig;
    const [w, b] = trainer.method.trainableVariables.slice(-2);
    expect(w.shape).toEqual([trainer.model.hDim, k]);
    expect(b.shape).toEqual([k]);
    const indices = Int32Array.from([5, 0, 5, 9]);
    const batch = (): MethodBatch => ({ views: tf.randomUniform([8, config.imageSize, config.imageSize, 1], 0, 1, 'float32', 3) as tf.Tensor4D, indices, n: 4 });
    const lossAndAccuracy = () => tf.tidy(() => {
      const out = trainer.method.forward(batch(), { config, capture: false, lossPath: 'composed' });
      return [out.loss.dataSync()[0], out.metrics!.dataSync()[0], out.z.shape[0]];
    });
    // W = 0, b = 0: equal logits, loss log K exactly; argMax ties go to class 0, which is right for the two views of image 0
    tf.tidy(() => {
      w.assign(tf.zerosLike(w));
      b.assign(tf.zerosLike(b));
    });
    const [uniformLoss, uniformAccuracy, zRows] = lossAndAccuracy();
    expect(uniformLoss).toBeCloseTo(Math.log(k), 5);
    expect(uniformAccuracy).toBeCloseTo(2 / 8, 6);
    expect(zRows).toBe(8);
    // a head that always names exemplar 5 is right exactly for the views of image 5 (4 of 8): the labels are the indices
    tf.tidy(() => b.assign(tf.mul(tf.oneHot(tf.tensor1d([5], 'int32'), k).reshape([k]), 10)));
    const [, alwaysFive] = lossAndAccuracy();
    expect(alwaysFive).toBeCloseTo(4 / 8, 6);
    trainer.dispose();
  });
});

describe('Exemplar CNN fits the dataset', () => {
  const shape = (trainCount: number) => ({ name: 'toy', channels: 1 as const, imageSize: 12, trainCount });
  const settings = (exemplarCount: number): ExperimentConfig => methodConfig('exemplar', { exemplarCount });

  it('is unfit with more exemplars than training images, saying both numbers, and fits otherwise', () => {
    const reason = methodUnfitReason('exemplar', shape(200), settings(256));
    expect(reason).toMatch(/asks for 256 exemplars and this dataset has 200 training images/);
    expect(reason).toMatch(/Lower Exemplars K/);
    expect(reason).toMatch(/\.$/);
    expect(methodUnfitReason('exemplar', shape(200), settings(200))).toBeNull();
    expect(methodUnfitReason('exemplar', shape(60000), settings(256))).toBeNull();
    // K = 1 is one class, nothing to tell apart: the field does not allow it
    expect(METHOD_SETTING_FIELDS.exemplarCount).toMatchObject({ kind: 'number', min: 2, integer: true });
  });

  it('draws the loss chart’s line at log K', () => {
    const line = lossReference('exemplar', settings(32), 256);
    expect(line?.value).toBeCloseTo(Math.log(32), 10);
    expect(line?.label).toBe('log K = 3.47');
  });
});

describe('Exemplar CNN through the training loop', () => {
  it('trains with a finite, falling loss from near log K, leaks nothing and repeats for one seed', async () => {
    const steps = await checkMethodBasics(methodConfig('exemplar', { exemplarCount: 32 }));
    expect(Math.abs(steps[0].loss - Math.log(32))).toBeLessThan(0.6);
    steps.forEach((m, s) => {
      expect(m.values.taskAccuracy).toBeGreaterThanOrEqual(0);
      expect(m.values.taskAccuracy).toBeLessThanOrEqual(1);
      // 2N = 32 members a step shared among 32 exemplars: one more member each per step
      expect(m.values.membersPerExemplar).toBeCloseTo(s + 1, 10);
      // two members of each exemplar: pairs, so alignment is defined
      expect(Number.isFinite(m.alignment)).toBe(true);
      expect(Number.isFinite(m.uniformity)).toBe(true);
    });
  });

  it('a K-way head learns to name 16 exemplars well above chance (1/16) in 40 steps', async () => {
    // measured on the toy set (seeds 1–3, 30–40 steps): 0.29–0.37 against chance 0.0625; the toy set's four kinds of
    // image differ within a kind only by the bar's offset and the noise, so four exemplars of a kind stay hard to tell apart
    const trainer = new Trainer(toyDataset(64, 16), methodConfig('exemplar', { exemplarCount: 16 }));
    const steps = await trainSteps(trainer, 40);
    expect(mean(steps.slice(0, 3).map((m) => m.values.taskAccuracy))).toBeLessThan(0.2);
    expect(mean(steps.slice(-10).map((m) => m.values.taskAccuracy))).toBeGreaterThan(0.2);
    expect(mean(steps.slice(-5).map((m) => m.loss))).toBeLessThan(Math.log(16) - 0.6);
    trainer.dispose();
  });

  for (const k of [6, 32]) {
    it(`captures an instrument (K = ${k}): two members of each shown exemplar, captions, marks${k <= EXEMPLAR_CONFUSION_MAX ? ' and a confusion matrix' : ', no confusion matrix'}`, async () => {
      const before = tf.memory().numTensors;
      const trainer = new Trainer(toyDataset(64, 16), methodConfig('exemplar', { exemplarCount: k }));
      await trainSteps(trainer, 2);
      const seen = recordBatches(trainer, true);
      trainer.captureAffinity = true;
      const step = await trainer.trainStep();
      const snapshot = trainer.taskSnapshot!;
      const { indices, views } = seen[0];
      const n = indices.length;
      const positions = shownExemplarPositions(indices);
      // K = 6 with N = 16: exemplars repeat within the batch, and all 6 are shown once each
      expect(positions).toHaveLength(Math.min(k, TASK_SNAPSHOT_EXAMPLES));
      expect(snapshot.method).toBe('exemplar');
      expect(snapshot.count).toBe(positions.length);
      expect(snapshot.rows.map((r) => r.label)).toEqual(['member 1 (view t)', 'member 2 (view t′)']);
      const { size, channels } = snapshot.rows[0];
      const per = size * size * channels;
      positions.forEach((b, e) => {
        // the rows are the views the head saw: view b and view N + b of the batch
        expect(Array.from(snapshot.rows[0].images.subarray(e * per, (e + 1) * per))).toEqual(Array.from(views!.subarray(b * per, (b + 1) * per)));
        expect(Array.from(snapshot.rows[1].images.subarray(e * per, (e + 1) * per))).toEqual(Array.from(views!.subarray((n + b) * per, (n + b + 1) * per)));
        const caption = snapshot.captions[e].match(/^exemplar #(\d+) · said #(\d+), #(\d+)$/);
        expect(caption).not.toBeNull();
        const [exemplarNumber, said1, said2] = caption!.slice(1).map(Number);
        expect(exemplarNumber).toBe(indices[b]);
        expect([said1, said2].every((s) => s >= 0 && s < k)).toBe(true);
        expect(snapshot.correct![e]).toBe(said1 === exemplarNumber && said2 === exemplarNumber);
      });
      // the summary's count (truth: the batch indices, read back) agrees with the accuracy the step measured with its label tensor
      const right = Number(snapshot.summary.match(/^(\d+) of 32 views named their exemplar among (\d+)/)![1]);
      expect(right / (2 * n)).toBeCloseTo(step.values.taskAccuracy, 6);
      expect(snapshot.summary).toContain(`among ${k} `);
      expect(snapshot.summary).toContain(`the batch holds ${new Set(indices).size} distinct exemplars`);
      if (k <= EXEMPLAR_CONFUSION_MAX) {
        expect(snapshot.confusion!.labels).toEqual(Array.from({ length: k }, (_, i) => `#${i}`));
        expect(snapshot.confusion!.counts.reduce((a, c) => a + c, 0)).toBe(2 * n);
        // the diagonal is the views named right
        expect(snapshot.confusion!.counts.filter((_, i) => Math.floor(i / k) === i % k).reduce((a, c) => a + c, 0)).toBe(right);
      } else {
        expect(snapshot.confusion).toBeUndefined();
      }
      trainer.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('Exemplar CNN resumes from a checkpoint', () => {
  it('saves the members counted so far; resumed, the count goes on past a new epoch of the pool as if never interrupted', async () => {
    // K = 24 exemplars in batches of 8: an epoch of the pool is 3 steps, the next drawn at step 4, after the checkpoint at step 2
    const config = methodConfig('exemplar', { exemplarCount: 24, batchSize: 8 });
    const dataset = toyDataset(48, 8);
    const trainer = new Trainer(dataset, config);
    await trainSteps(trainer, 2);
    // 2N = 16 members a step
    expect(await trainer.method.saveState()).toEqual({ arrays: {}, values: { membersSeen: 32 } });
    trainer.dispose();
    const { resumed } = await checkResumesExactly(config, { before: 2, after: 2, dataset });
    // 16 members a step among 24 exemplars, counted from step 0: the count came back with the checkpoint
    expect(resumed.map((m) => m.values.membersPerExemplar)).toEqual([48 / 24, 64 / 24]);
  }, 20_000);

  it('refuses another method’s state or a broken count, naming the entry, and changes nothing', async () => {
    const dataset = toyDataset(32, 8);
    const config = methodConfig('exemplar', { exemplarCount: 16, batchSize: 8 });
    const refused = new Trainer(dataset, config);
    const untouched = new Trainer(dataset, config);
    const cases: [MethodState, RegExp][] = [
      [{ arrays: {}, values: { regionRng: 7 } }, /“regionRng”, which Exemplar CNN does not keep/],
      // its own count beside a foreign entry: refused before the count is touched
      [{ arrays: {}, values: { membersSeen: 1000, shuffleRng: 3 } }, /“shuffleRng”, which Exemplar CNN does not keep/],
      [{ arrays: {}, values: { membersSeen: 2.5 } }, /lacks Exemplar CNN’s “membersSeen” \(a whole number\)/],
      [{ arrays: {}, values: { membersSeen: -16 } }, /Exemplar CNN’s “membersSeen” in the checkpoint is -16, not a count/],
    ];
    for (const [state, entry] of cases) expect(() => refused.method.loadState(state)).toThrow(entry);
    // membersPerExemplar would show a count put in by a refused state
    const seen = (m: StepMetrics) => [m.loss, m.values, m.alignment, m.uniformity, m.collapseStd];
    expect((await trainSteps(refused, 1)).map(seen)).toEqual((await trainSteps(untouched, 1)).map(seen));
    refused.dispose();
    untouched.dispose();
  });
});
