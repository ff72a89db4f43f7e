import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../export/safetensors';
import { methodConfig, trainSteps } from '../methods/methodHarness.testutil';
import { checkpointBytes, CheckpointError, decodeCheckpointFile, EMPTY_HISTORY, encodeCheckpointFile, type Checkpoint, type RunHistory } from './checkpoint';
import { toyDataset } from './toyDataset.testutil';
import { Trainer } from './trainer';

await tf.setBackend('cpu');

const dataset = toyDataset(64, 16);

async function checkpointAfter(steps: number, config = methodConfig('simclr')): Promise<Checkpoint> {
  const trainer = new Trainer(dataset, config);
  await trainSteps(trainer, steps);
  const state = await trainer.saveCheckpoint();
  trainer.dispose();
  const history: RunHistory = {
    ...EMPTY_HISTORY,
    steps: [{ step: 1, method: 'simclr', loss: 3.1, values: {}, stepMs: 5, imagesPerSecond: 100, batchSize: 16, lossPath: 'composed', tensors: 10, tensorBytes: 100, alignment: 1, uniformity: -1, collapseStd: 0.1 }],
    restarts: [{ step: 1, reason: 'a test’s “reason” <b>with</b> markup' }],
  };
  return { trainer: state, history, savedAt: '2026-12-01T12:00:00.000Z', reason: 'pause' };
}

describe('the checkpoint file', () => {
  it('round-trips every part of the run: state, config, dataset, history (text kept as text)', async () => {
    const checkpoint = await checkpointAfter(2);
    const bytes = encodeCheckpointFile(checkpoint);
    const back = decodeCheckpointFile(bytes);
    expect(back.trainer.step).toBe(2);
    expect(back.trainer.config).toEqual(checkpoint.trainer.config);
    expect(back.trainer.dataset).toEqual(checkpoint.trainer.dataset);
    expect(back.trainer.rngState).toBe(checkpoint.trainer.rngState);
    expect(Array.from(back.trainer.order)).toEqual(Array.from(checkpoint.trainer.order));
    expect(back.trainer.variables.map((v) => v.shape)).toEqual(checkpoint.trainer.variables.map((v) => v.shape));
    expect(Array.from(back.trainer.variables[0].data)).toEqual(Array.from(checkpoint.trainer.variables[0].data));
    // Adam: two moments per trained variable, and its iteration count
    expect(back.trainer.optimizer.iterations).toBe(2);
    expect(back.trainer.optimizer.moments.length).toBe(2 * methodVariablesOf(checkpoint));
    expect(back.history.steps[0].loss).toBe(3.1);
    expect(back.history.restarts[0].reason).toBe('a test’s “reason” <b>with</b> markup');
    expect(back.reason).toBe('pause');
    // a safetensors reader sees what is inside
    const file = decodeSafetensors(bytes);
    expect(file.metadata).toMatchObject({ format: 'ssl-playground-checkpoint', version: '1', method: 'simclr', step: '2' });
    expect(file.tensors.map((t) => t.name)).toContain('optimizer.moments.0');
    expect(checkpointBytes(checkpoint.trainer)).toBeGreaterThan(4 * 1000);
  });

  it('refuses a truncated file, an edited one, another version, an exported encoder and a file that is not safetensors', async () => {
    const bytes = encodeCheckpointFile(await checkpointAfter(1));
    const refused = (b: Uint8Array) => {
      try {
        decodeCheckpointFile(b);
      } catch (error) {
        expect(error).toBeInstanceOf(CheckpointError);
        return (error as Error).message;
      }
      throw new Error('decodeCheckpointFile accepted a bad file');
    };
    expect(refused(bytes.subarray(0, bytes.length - 100))).toMatch(/not a checkpoint of this app/);
    const edited = Uint8Array.from(bytes);
    edited[edited.length - 5000] ^= 0x40; // one bit of a weight
    expect(refused(edited)).toMatch(/damaged or was edited/);
    const file = decodeSafetensors(bytes);
    expect(refused(encodeSafetensors(file.tensors, { ...file.metadata, version: '99' }))).toMatch(/version "99"; this app reads version 1/);
    expect(refused(encodeSafetensors(file.tensors.slice(0, 3), { format: 'ssl-playground-encoder' }))).toMatch(/exported encoder/);
    expect(refused(new TextEncoder().encode('{"not": "a checkpoint"}'))).toMatch(/not a checkpoint/);
    expect(refused(new Uint8Array(0))).toMatch(/not a checkpoint/);
  });

  it('a checkpoint for another dataset or architecture is refused with the reason, and the trainer is unchanged', async () => {
    const checkpoint = await checkpointAfter(1);
    const reference = new Trainer(dataset, methodConfig('simclr'));
    const [untouchedLoss] = (await trainSteps(reference, 1)).map((m) => m.loss);
    reference.dispose();

    const other = toyDataset(48, 16);
    const onOther = new Trainer(other, methodConfig('simclr'));
    await expect(onOther.loadCheckpoint(checkpoint.trainer)).rejects.toThrow(/trained on .* \(64 training images .*load that dataset first/);
    onOther.dispose();

    const wider = new Trainer(dataset, methodConfig('simclr', { encoderWidth: 6 }));
    await expect(wider.loadCheckpoint(checkpoint.trainer)).rejects.toThrow(/another architecture/);
    // nothing was changed: the next step is a fresh trainer's first
    const [loss] = (await trainSteps(wider, 1)).map((m) => m.loss);
    wider.dispose();
    const freshWide = new Trainer(dataset, methodConfig('simclr', { encoderWidth: 6 }));
    const [freshLoss] = (await trainSteps(freshWide, 1)).map((m) => m.loss);
    freshWide.dispose();
    expect(loss).toBe(freshLoss);
    expect(untouchedLoss).toBeGreaterThan(0);
  });

  it('a checkpoint taken before the first step (no Adam moments yet) resumes into the same first steps', async () => {
    const config = methodConfig('simclr');
    const straight = new Trainer(dataset, config);
    const losses = (await trainSteps(straight, 2)).map((m) => m.loss);
    straight.dispose();
    const checkpoint = await checkpointAfter(0, config);
    expect(checkpoint.trainer.optimizer.moments).toEqual([]);
    const resumed = new Trainer(dataset, config);
    await resumed.loadCheckpoint(decodeCheckpointFile(encodeCheckpointFile(checkpoint)).trainer);
    const again = (await trainSteps(resumed, 2)).map((m) => m.loss);
    resumed.dispose();
    expect(again[0]).toBeCloseTo(losses[0], 5);
    expect(again[1]).toBeCloseTo(losses[1], 5);
  });
});

function methodVariablesOf(checkpoint: Checkpoint): number {
  // variables = trained ones, then 2 running statistics per conv block (4 blocks)
  return checkpoint.trainer.variables.length - 8;
}

describe('the checkpoint’s config', () => {
  it('is checked like a link: a value out of range or of the wrong kind is refused with the setting named', async () => {
    const checkpoint = await checkpointAfter(1);
    const withConfig = (config: unknown) => encodeCheckpointFile({ ...checkpoint, trainer: { ...checkpoint.trainer, config: config as Checkpoint['trainer']['config'] } });
    expect(() => decodeCheckpointFile(withConfig({ ...checkpoint.trainer.config, temperature: -1 }))).toThrow(/Temperature τ/);
    expect(() => decodeCheckpointFile(withConfig({ ...checkpoint.trainer.config, batchSize: 'many' }))).toThrow(CheckpointError);
    const { seed: _seed, ...withoutSeed } = checkpoint.trainer.config;
    expect(() => decodeCheckpointFile(withConfig(withoutSeed))).toThrow(/lacks seed/);
    expect(decodeCheckpointFile(withConfig(checkpoint.trainer.config)).trainer.config).toEqual(checkpoint.trainer.config);
  });
});
