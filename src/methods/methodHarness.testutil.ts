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
import { Trainer } from '../train/trainer';
import type { StepMetrics } from '../train/protocol';

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
