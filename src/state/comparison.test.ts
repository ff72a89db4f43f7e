import { describe, expect, it } from 'vitest';
import { pipelinesEqual, presetPipeline } from '../core/pipeline';
import {
  COMPARISON_PRESETS, presetLeftOut, exportFileName, overlaySeries, parseStepsPerRun, presetSpecs, runToCsv, runToJson, summarize,
  type ComparisonRun, type RunStep,
} from './comparison';
import { CONFIG_KEYS, DEFAULT_CONFIG, configFromSearch, configToSearch, parseField, sameSetting, type ExperimentConfig } from '../core/config';
import { METHOD_CATALOG, methodUnfitReason } from '../core/methods';

const base: ExperimentConfig = { ...DEFAULT_CONFIG, batchSize: 16, temperature: 0.2, seed: 9 };

/** Settings in which two configs differ. */
const differences = (a: ExperimentConfig, b: ExperimentConfig) => CONFIG_KEYS.filter((k) => !sameSetting(k, a[k], b[k]));

function step(i: number): RunStep {
  return { step: i, loss: 3 - i * 0.1, positiveSimilarity: 0.1 * i, negativeSimilarity: -0.01 * i, contrastiveAccuracy: i / 10, stepMs: 12.5 };
}

function makeRun(overrides: Partial<ComparisonRun> = {}): ComparisonRun {
  return {
    id: 'run-1', comparisonId: 'cmp-1', comparisonTitle: 'τ sweep: 3 steps per run', preset: 'tau-sweep', index: 1,
    label: 'τ = 0.1', config: { ...base, temperature: 0.1 }, stepsRequested: 3,
    steps: [step(1), step(2), step(3)],
    probes: [
      { kind: 'encoder', step: 2, testAccuracy: 0.5, trainAccuracy: 0.6 },
      { kind: 'encoder', step: 3, testAccuracy: 0.625, trainAccuracy: 0.7 },
    ],
    randomInitBaseline: 0.4, rawPixelBaseline: 0.7, wallMs: 1234, backend: 'cpu', createdAt: Date.UTC(2025, 0, 2),
    ...overrides,
  };
}

describe('comparison presets', () => {
  it('τ sweep: four runs that differ from the current config only in τ', () => {
    const specs = presetSpecs('tau-sweep', base, 50);
    expect(specs.map((s) => s.config.temperature)).toEqual([0.05, 0.1, 0.5, 1]);
    expect(specs.map((s) => s.label)).toEqual(['τ = 0.05', 'τ = 0.1', 'τ = 0.5', 'τ = 1']);
    for (const s of specs) {
      expect(s.steps).toBe(50);
      expect(differences(base, s.config).filter((k) => k !== 'temperature')).toEqual([]);
    }
  });

  it('L2 on/off, heads none/linear/MLP, crop only vs crop + colour', () => {
    expect(presetSpecs('l2', base, 10).map((s) => [s.label, s.config.normalize])).toEqual([['L2 on', true], ['L2 off', false]]);
    expect(presetSpecs('head', base, 10).map((s) => s.config.projectionHead)).toEqual(['none', 'linear', 'mlp']);
    const augment = presetSpecs('augment', base, 10);
    expect(augment.map((s) => s.label)).toEqual(['crop only', 'crop + colour']);
    expect(pipelinesEqual(augment[0].config.augmentation, presetPipeline('crop-only'))).toBe(true);
    expect(pipelinesEqual(augment[1].config.augmentation, presetPipeline('crop-color'))).toBe(true);
    for (const s of augment) expect(differences(base, s.config)).toEqual(['augmentation']);
  });

  it('methods: all six methods on the same encoder, data, augmentations and steps, each with its own defaults', () => {
    const specs = presetSpecs('methods', base, 20);
    expect(specs.map((s) => s.config.method)).toEqual(['simclr', 'memory-bank', 'moco', 'byol', 'simsiam', 'barlow-twins']);
    expect(specs.map((s) => s.label)).toEqual(['SimCLR', 'Memory bank (InstDisc)', 'MoCo v2', 'BYOL', 'SimSiam', 'Barlow Twins']);
    expect(specs.find((s) => s.config.method === 'moco')!.config.temperature).toBe(0.2);
    expect(specs.find((s) => s.config.method === 'memory-bank')!.config.temperature).toBe(0.07);
    for (const s of specs) {
      expect(s.steps).toBe(20);
      expect(differences(base, s.config).filter((k) => k !== 'method' && k !== 'temperature')).toEqual([]);
    }
  });

  it('pretext: every pretext task that trains and fits the dataset, the others named with their reason', () => {
    const grey = { name: 'Fashion-MNIST', channels: 1 as const, imageSize: 28, trainCount: 12000 };
    const specs = presetSpecs('pretext', base, 20, grey);
    const methods = specs.map((s) => s.config.method);
    expect(methods).toContain('rotation');
    for (const m of methods) expect(METHOD_CATALOG[m].family).toBe('pretext');
    for (const m of methods) expect(methodUnfitReason(m, grey, specs.find((s) => s.config.method === m)!.config)).toBeNull();
    // what a dataset leaves out is said before the comparison starts
    const tiny = { ...grey, trainCount: 3 };
    const left = presetLeftOut('pretext', base, tiny);
    const kept = presetSpecs('pretext', base, 20, tiny).map((s) => s.config.method);
    for (const line of left) expect(kept.some((m) => line.startsWith(`${METHOD_CATALOG[m].label}:`))).toBe(false);
    expect(presetLeftOut('methods', base, grey)).toEqual([]);
    expect(presetLeftOut('tau-sweep', base, tiny)).toEqual([]);
  });

  it('families: one method of each family, each with its own defaults; on the coloured shapes all six fit', () => {
    const shapes = { name: 'Coloured shapes', channels: 3 as const, imageSize: 32, trainCount: 5000 };
    const specs = presetSpecs('families', base, 3, shapes);
    expect(specs.map((s) => s.config.method)).toEqual(['simclr', 'byol', 'rotation', 'cpc', 'autoencoder', 'deepcluster']);
    // CPC is catalogued as contrastive (InfoNCE over patch codes), beside SimCLR: five catalog families in six runs
    expect(new Set(specs.map((s) => METHOD_CATALOG[s.config.method].family)).size).toBe(5);
    expect(presetLeftOut('families', base, shapes)).toEqual([]);
    for (const s of specs) {
      expect(s.steps).toBe(3);
      expect(s.label).toBe(METHOD_CATALOG[s.config.method].label);
      expect(methodUnfitReason(s.config.method, shapes, s.config)).toBeNull();
    }
    // a set too small for DeepCluster's k clusters leaves it out, and says why, before the comparison starts
    const few = { ...shapes, trainCount: 10 };
    const left = presetLeftOut('families', base, few);
    const kept = presetSpecs('families', base, 3, few).map((s) => s.config.method);
    for (const line of left) expect(kept.some((m) => line.startsWith(`${METHOD_CATALOG[m].label}:`))).toBe(false);
    expect(kept.length + left.length).toBe(6);
  });

  it('makes only valid configs, for every preset', () => {
    for (const { id } of COMPARISON_PRESETS) {
      for (const { config } of presetSpecs(id, base, 5)) {
        // every setting survives its own URL codec: the worker gets nothing the UI would refuse
        const { config: back, warnings } = configFromSearch(configToSearch(config));
        expect(warnings, id).toEqual([]);
        expect(differences(config, back), id).toEqual([]);
        expect(parseField('temperature', String(config.temperature)).ok).toBe(true);
      }
    }
  });

  it('does not change the config it was given', () => {
    const before = JSON.stringify(base);
    for (const { id } of COMPARISON_PRESETS) presetSpecs(id, base, 5);
    expect(JSON.stringify(base)).toBe(before);
  });

  it.each([
    ['100', 100], [' 8 ', 8], ['1', 1],
  ])('reads steps per run %j', (text, value) => {
    expect(parseStepsPerRun(text)).toEqual({ ok: true, value });
  });

  it.each(['', '0', '-3', '2.5', 'ten', '1e9'])('refuses steps per run %j with a message', (text) => {
    const parsed = parseStepsPerRun(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(/whole number from 1/);
  });
});

describe('summary row', () => {
  it('takes the last step and the last encoder probe', () => {
    expect(summarize(makeRun())).toEqual({
      label: 'τ = 0.1', finalProbeAccuracy: 0.625, contrastiveAccuracy: 0.3, positiveSimilarity: 0.30000000000000004,
      negativeSimilarity: -0.03, steps: 3, wallMs: 1234,
    });
  });

  it('has no probe accuracy on an unlabelled dataset, and no step numbers before the first step', () => {
    expect(summarize(makeRun({ probes: [] })).finalProbeAccuracy).toBeUndefined();
    const empty = summarize(makeRun({ steps: [], probes: [] }));
    expect(empty.steps).toBe(0);
    expect(empty.contrastiveAccuracy).toBeUndefined();
  });

  it('ignores baseline probes', () => {
    const run = makeRun({ probes: [{ kind: 'random-init', step: 0, testAccuracy: 0.9, trainAccuracy: 0.9 }] });
    expect(summarize(run).finalProbeAccuracy).toBeUndefined();
  });
});

describe('exports', () => {
  it('CSV: a header, one row per step, probe columns filled where the encoder was probed', () => {
    const lines = runToCsv(makeRun()).trimEnd().split('\n');
    expect(lines[0]).toBe(
      'step,loss,positiveSimilarity,negativeSimilarity,contrastiveAccuracy,stepMs,alignment,uniformity,collapseStd,probeTestAccuracy,probeTrainAccuracy,knnTestAccuracy',
    );
    expect(lines).toHaveLength(4);
    // a step stored before the geometry was measured leaves its columns empty
    expect(lines[1]).toBe('1,2.9,0.1,-0.01,0.1,12.5,,,,,,');
    expect(lines[2].split(',').slice(-3)).toEqual(['0.5', '0.6', '']);
    expect(lines[3].split(',').slice(-3)).toEqual(['0.625', '0.7', '']);
    // every row has as many fields as the header
    for (const line of lines) expect(line.split(',')).toHaveLength(12);
  });

  it('CSV: kNN accuracies in their own column at their steps', () => {
    const lines = runToCsv(makeRun({ knn: [{ step: 2, testAccuracy: 0.45 }, { step: 9, testAccuracy: 0.5 }] })).trimEnd().split('\n');
    expect(lines[2].split(',').at(-1)).toBe('0.45');
    // a kNN point past the recorded steps still has its row
    expect(lines.at(-1)).toBe('9,,,,,,,,,,,0.5');
  });

  it('JSON: label, the config and the link that reproduces it, summary, steps and probes', () => {
    const run = makeRun();
    const parsed = JSON.parse(runToJson(run));
    expect(parsed.format).toBe('ssl-playground-run');
    expect(parsed.label).toBe('τ = 0.1');
    expect(parsed.config).toEqual(JSON.parse(JSON.stringify(run.config)));
    expect(configFromSearch(parsed.link).config.temperature).toBe(0.1);
    expect(parsed.summary.finalProbeAccuracy).toBe(0.625);
    expect(parsed.steps).toHaveLength(3);
    expect(parsed.probes).toHaveLength(2);
    expect(parsed.baselines).toEqual({ randomInit: 0.4, rawPixels: 0.7, randomInitKnn: null });
    expect(parsed.createdAt).toBe('2025-01-02T00:00:00.000Z');
    expect(parsed.mix).toBeUndefined();
    expect(parsed.knn).toEqual([]);
  });

  it('JSON of a generated-data run: its training set X ∪ Z and its kNN accuracies come with it', () => {
    const mix = { sourceDatasetId: 'fashion-mnist', realFraction: 0.1, ratio: 1, realCount: 1000, generatedCount: 1000, generatorId: 'g1', generatorRealFraction: 0.1 };
    const run = makeRun({ preset: 'generated-data', mix, knn: [{ step: 3, testAccuracy: 0.55 }], randomInitKnnBaseline: 0.5 });
    const parsed = JSON.parse(runToJson(run));
    expect(parsed.mix).toEqual(mix);
    expect(parsed.knn).toEqual([{ step: 3, testAccuracy: 0.55 }]);
    expect(parsed.baselines.randomInitKnn).toBe(0.5);
  });

  it('file names are safe', () => {
    expect(exportFileName({ label: 'τ = 0.05', index: 0 }, 'csv')).toBe('simclr-tau-0.05.csv');
    expect(exportFileName({ label: 'crop + colour', index: 1 }, 'json')).toBe('simclr-crop-plus-colour.json');
    expect(exportFileName({ label: '///', index: 2 }, 'csv')).toBe('simclr-run-3.csv');
  });
});

describe('overlaid series', () => {
  it('one row per step with a column per run; a run missing a step has no value there', () => {
    const rows = overlaySeries([
      { points: [{ step: 1, value: 3 }, { step: 2, value: 2 }] },
      { points: [{ step: 2, value: 5 }, { step: 3, value: 4 }] },
    ], 100);
    expect(rows).toEqual([{ step: 1, r0: 3 }, { step: 2, r0: 2, r1: 5 }, { step: 3, r1: 4 }]);
  });

  it('thins long runs to at most maxPoints rows, keeping the first and last step', () => {
    const points = Array.from({ length: 5000 }, (_, i) => ({ step: i + 1, value: i }));
    const rows = overlaySeries([{ points }, { points }], 300);
    expect(rows.length).toBeLessThanOrEqual(300);
    expect(rows[0]).toEqual({ step: 1, r0: 0, r1: 0 });
    expect(rows.at(-1)).toEqual({ step: 5000, r0: 4999, r1: 4999 });
    // runs of equal length keep the same steps: no row has only one of the two
    expect(rows.every((r) => 'r0' in r && 'r1' in r)).toBe(true);
  });
});
