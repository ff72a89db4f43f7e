/**
 * What every method must do, checked the same way for each (Node, cpu
 * backend, the toy dataset): train with a finite, falling loss; hold no tensor
 * more after 20 steps than after 2; give the same run twice for one seed; and
 * free everything it made on dispose.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import type { ExperimentConfig } from '../core/config';
import { withMethodDefaults } from '../core/config';
import type { MethodId } from '../core/methods';
import { TOY_CONFIG, toyDataset } from '../train/toyDataset.testutil';
import type { MethodState } from './method';
import { Trainer } from '../train/trainer';
import type { StepMetrics } from '../train/protocol';
import { decodeCheckpointFile, EMPTY_HISTORY, encodeCheckpointFile } from '../train/checkpoint';

export function methodConfig(method: MethodId, overrides: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return { ...withMethodDefaults({ ...TOY_CONFIG, method }), learningRate: 0.01, probeTrainSize: 200, probeTestSize: 200, probeEpochs: 100, ...overrides };
}

/** Trains `steps` steps and returns every step's metrics. */
export async function trainSteps(trainer: Trainer, steps: number): Promise<StepMetrics[]> {
  const out: StepMetrics[] = [];
  for (let i = 0; i < steps; i++) out.push(await trainer.trainStep());
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * The shared checks; returns the 20 steps' metrics for method-specific ones.
 * `settle` steps are left out of the falling-loss check (MoCo's loss climbs
 * while its queue fills with real keys).
 */
export async function checkMethodBasics(config: ExperimentConfig, settle = 0, dataset = toyDataset(256, 64)): Promise<StepMetrics[]> {
  const startTensors = tf.memory().numTensors;
  const trainer = new Trainer(dataset, config);
  const steps: StepMetrics[] = [];
  steps.push(...(await trainSteps(trainer, 2)));
  const afterTwo = tf.memory().numTensors;
  steps.push(...(await trainSteps(trainer, 18)));
  // no tensor leaked by 18 more steps
  expect(tf.memory().numTensors).toBe(afterTwo);
  for (const m of steps) {
    expect(m.method).toBe(config.method);
    expect(Number.isFinite(m.loss)).toBe(true);
    for (const [key, value] of Object.entries(m.values)) expect(Number.isFinite(value), key).toBe(true);
  }
  // a falling loss
  expect(mean(steps.slice(-5).map((m) => m.loss))).toBeLessThan(mean(steps.slice(settle, settle + 5).map((m) => m.loss)));
  trainer.dispose();
  // the method frees its queue, bank, target network and predictor with the run
  expect(tf.memory().numTensors).toBe(startTensors);

  // determinism: the same seed gives the same losses
  const again = new Trainer(dataset, config);
  const repeat = await trainSteps(again, 3);
  repeat.forEach((m, i) => expect(m.loss).toBeCloseTo(steps[i].loss, 5));
  again.dispose();
  return steps;
}

/**
 * Resuming from a checkpoint gives the run that was never interrupted: train
 * `before` steps, save (through the checkpoint file, as a download and a
 * reload would), build a fresh trainer from the file and train `after` more;
 * its losses and metrics equal those of one trainer that trained
 * before + after steps straight through. No tensor is left behind.
 */
export async function checkResumesExactly(
  config: ExperimentConfig, options: { before?: number; after?: number; dataset?: ReturnType<typeof toyDataset> } = {},
): Promise<{ straight: StepMetrics[]; resumed: StepMetrics[] }> {
  const { before = 3, after = 3, dataset = toyDataset(128, 32) } = options;
  const startTensors = tf.memory().numTensors;
  const straightTrainer = new Trainer(dataset, config);
  const straight = await trainSteps(straightTrainer, before + after);
  straightTrainer.dispose();

  const first = new Trainer(dataset, config);
  await trainSteps(first, before);
  const state = await first.saveCheckpoint();
  first.dispose();
  const file = encodeCheckpointFile({ trainer: state, history: EMPTY_HISTORY, savedAt: new Date(0).toISOString(), reason: 'manual' });
  const loaded = decodeCheckpointFile(file);
  const second = new Trainer(dataset, loaded.trainer.config);
  await second.loadCheckpoint(loaded.trainer);
  expect(second.step).toBe(before);
  const resumed = await trainSteps(second, after);
  second.dispose();
  resumed.forEach((m, i) => {
    const reference = straight[before + i];
    expect(m.step).toBe(reference.step);
    expect(Math.abs(m.loss - reference.loss), `${config.method} loss at step ${m.step}: ${m.loss} resumed vs ${reference.loss}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(reference.loss)));
    for (const [key, value] of Object.entries(reference.values)) {
      expect(Math.abs(m.values[key] - value), `${config.method} ${key} at step ${m.step}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(value)));
    }
  });
  expect(tf.memory().numTensors).toBe(startTensors);
  return { straight, resumed };
}

/** The method's state after `steps` steps of a run of `config` (trained, so nothing in it is the initial value). */
export async function stateAfter(config: ExperimentConfig, steps: number, dataset = toyDataset(128, 32)): Promise<MethodState> {
  const trainer = new Trainer(dataset, config);
  await trainSteps(trainer, steps);
  const state = await trainer.method.saveState();
  trainer.dispose();
  return state;
}

/** loadState refuses `state` with `message`, making no tensor, and changes nothing: the next step is an untouched trainer's. */
export async function expectRefusedUnchanged(config: ExperimentConfig, state: MethodState, message: RegExp, dataset = toyDataset(128, 32)): Promise<void> {
  const untouched = new Trainer(dataset, config);
  const refused = new Trainer(dataset, config);
  const tensors = tf.memory().numTensors;
  expect(() => refused.method.loadState(state)).toThrow(message);
  expect(tf.memory().numTensors).toBe(tensors);
  const [expected] = await trainSteps(untouched, 1);
  const [got] = await trainSteps(refused, 1);
  expect(got.loss).toBe(expected.loss);
  expect(got.values).toEqual(expected.values);
  untouched.dispose();
  refused.dispose();
}
