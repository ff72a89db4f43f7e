import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../core/config';
import type { KnnPoint, ProbePoint, StepMetrics } from '../train/protocol';
import { exportFileName, runToCsv, runToJson } from './comparison';
import { mainRunAsComparisonRun } from './runExport';
import { initialRunState } from './runStore';

const step = (i: number): StepMetrics => ({
  step: i, method: 'simclr', loss: 4 - 0.1 * i, values: { positiveSimilarity: 0.1 * i, negativeSimilarity: 0, contrastiveAccuracy: 0.05 * i },
  stepMs: 100, imagesPerSecond: 160, batchSize: 16, lossPath: 'fused', tensors: 70, tensorBytes: 1e6, alignment: 1, uniformity: -2, collapseStd: 0.1,
});
const probe = (kind: ProbePoint['kind'], s: number, acc: number): ProbePoint => ({ kind, step: s, testAccuracy: acc, trainAccuracy: acc + 0.1, trainSize: 600, testSize: 400, ms: 5 });
const knn = (kind: KnnPoint['kind'], s: number, acc: number): KnnPoint => ({ kind, step: s, testAccuracy: acc, k: 20, temperature: 0.07, trainSize: 600, testSize: 400, ms: 3 });

describe('the main run as an exported run', () => {
  const state = {
    ...initialRunState,
    steps: [1, 2, 3, 4].map(step),
    probes: [probe('encoder', 2, 0.6), probe('encoder', 4, 0.65)],
    randomInitBaseline: probe('random-init', 0, 0.55), rawPixelBaseline: probe('raw-pixels', 0, 0.7),
    knn: [knn('encoder', 4, 0.58)], knnRandomInit: knn('random-init', 0, 0.5),
    backend: 'webgpu' as const, appliedConfig: { ...DEFAULT_CONFIG, temperature: 0.2 },
  };

  it('carries every step, the encoder’s probes and kNN at their steps, and the baselines', () => {
    const run = mainRunAsComparisonRun(state, DEFAULT_CONFIG, Date.UTC(2026, 11, 1));
    expect(run.preset).toBe('main-run');
    expect(run.config.temperature).toBe(0.2); // the config the encoder was built with, not the one being edited
    expect(run.steps.map((s) => s.step)).toEqual([1, 2, 3, 4]);
    expect(run.probes.map((p) => p.step)).toEqual([2, 4]);
    expect([run.randomInitBaseline, run.rawPixelBaseline, run.randomInitKnnBaseline]).toEqual([0.55, 0.7, 0.5]);
    expect(run.wallMs).toBe(400);
    const csv = runToCsv(run).trimEnd().split('\n');
    expect(csv).toHaveLength(5);
    expect(csv[4].split(',').slice(-3)).toEqual(['0.65', '0.75', '0.58']);
    const json = JSON.parse(runToJson(run));
    expect(json.knn).toEqual([{ step: 4, testAccuracy: 0.58 }]);
    expect(json.link).toContain('tau=0.2');
    expect(exportFileName({ ...run, label: 'main run step 4' }, 'csv')).toBe('simclr-main-run-step-4.csv');
  });

  it('an empty run exports a header only', () => {
    const run = mainRunAsComparisonRun(initialRunState, DEFAULT_CONFIG);
    expect(runToCsv(run).trimEnd().split('\n')).toHaveLength(1);
    expect(run.label).toBe('main run, step 0');
  });
});
