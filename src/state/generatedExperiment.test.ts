import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, DEFAULT_CONFIG, sameSetting, type ExperimentConfig } from '../core/config';
import { exportFileName, type ComparisonRun, type RunMix } from './comparison';
import {
  EXPERIMENT_CSV_COLUMNS, EXPERIMENT_DEFAULTS, EXPERIMENT_MAX_RATIO, checkExperimentForm, experimentLabel, experimentChart, experimentCsv,
  experimentFindings, experimentSpecs, experimentTable, formatPoints, parseExperimentSteps, parseRatios, parseRealBudgets,
  budgetGeneratorProblem, budgetsWithWiderGenerator, plannedSizes, runCountError, type GeneratedExperimentSettings,
} from './generatedExperiment';

const base: ExperimentConfig = { ...DEFAULT_CONFIG, dataset: 'synthetic-shapes', batchSize: 32, temperature: 0.9, seed: 7 };

const settings = (overrides: Partial<GeneratedExperimentSettings> = {}): GeneratedExperimentSettings => ({
  method: 'simclr', realFractions: [0.1, 1], ratios: [0, 1], steps: 150,
  generator: { source: 'saved', id: 'gen-1' }, ...overrides,
});

const errorOf = (result: { ok: boolean; error?: string }): string => (result.ok ? '' : result.error!);

describe('parseRealBudgets', () => {
  it('reads percentages as ascending fractions, with or without % and in any order', () => {
    expect(parseRealBudgets('1, 10, 100')).toEqual({ ok: true, value: [0.01, 0.1, 1] });
    expect(parseRealBudgets('100% 10%;1')).toEqual({ ok: true, value: [0.01, 0.1, 1] });
    expect(parseRealBudgets(' 50 , 0.5 ')).toEqual({ ok: true, value: [0.005, 0.5] });
    expect(parseRealBudgets('7 %')).toEqual({ ok: true, value: [0.07] });
    // the defaults parse
    expect(parseRealBudgets(EXPERIMENT_DEFAULTS.budgets)).toEqual({ ok: true, value: [0.1, 1] });
  });

  it('refuses empty text, words, 0, more than 100%, repeats and a seventh budget, saying which', () => {
    expect(errorOf(parseRealBudgets('  '))).toMatch(/at least one real-data budget/);
    expect(errorOf(parseRealBudgets('10, ten'))).toBe('“ten” is not a number: list the budgets separated by commas, e.g. “1, 10, 100”.');
    expect(errorOf(parseRealBudgets('0x10'))).toMatch(/“0x10” is not a number/);
    expect(errorOf(parseRealBudgets('0, 10'))).toMatch(/above 0% and at most 100%.*got 0%/);
    expect(errorOf(parseRealBudgets('-5'))).toMatch(/got -5%/);
    expect(errorOf(parseRealBudgets('100.5'))).toMatch(/at most 100%.*got 100.5%/);
    expect(errorOf(parseRealBudgets('10, 10%'))).toBe('10% is listed twice; give each of the budgets once.');
    expect(errorOf(parseRealBudgets('1, 2, 3, 4, 5, 6, 7'))).toMatch(/At most 6 budgets; got 7/);
    expect(parseRealBudgets('1, 2, 3, 4, 5, 6').ok).toBe(true);
    expect(parseRealBudgets('100').ok).toBe(true);
  });
});

describe('parseRatios', () => {
  it('reads |Z|/|X| ratios from 0 to the maximum, ascending, with an optional ×', () => {
    expect(parseRatios('0, 1')).toEqual({ ok: true, value: [0, 1] });
    expect(parseRatios('2, 0.5, 0, 1')).toEqual({ ok: true, value: [0, 0.5, 1, 2] });
    expect(parseRatios('1×, 2x')).toEqual({ ok: true, value: [1, 2] });
    expect(parseRatios(`0, ${EXPERIMENT_MAX_RATIO}`)).toEqual({ ok: true, value: [0, 8] });
    expect(parseRatios('-0')).toEqual({ ok: true, value: [0] });
  });

  it('refuses negatives, ratios above 8, repeats, words and more than six', () => {
    expect(errorOf(parseRatios(''))).toMatch(/at least one ratio \|Z\|\/\|X\|/);
    expect(errorOf(parseRatios('-1'))).toBe('Each ratio |Z|/|X| must be from 0 to 8 generated images per real one; got -1.');
    expect(errorOf(parseRatios('0, 8.5'))).toMatch(/from 0 to 8 .*got 8.5/);
    expect(errorOf(parseRatios('1, 1.0'))).toBe('1× is listed twice; give each of the ratios once.');
    expect(errorOf(parseRatios('one'))).toMatch(/“one” is not a number: list the ratios/);
    expect(errorOf(parseRatios('0 0.5 1 2 3 4 5'))).toMatch(/At most 6 ratios; got 7/);
  });
});

describe('parseExperimentSteps and the run count', () => {
  it('takes whole numbers from 1 to 100,000 and nothing else', () => {
    expect(parseExperimentSteps('200')).toEqual({ ok: true, value: 200 });
    expect(parseExperimentSteps(' 1 ')).toEqual({ ok: true, value: 1 });
    expect(parseExperimentSteps('100000')).toEqual({ ok: true, value: 100_000 });
    for (const bad of ['0', '100001', '2.5', '1e3', '', 'abc', '-3']) {
      expect(errorOf(parseExperimentSteps(bad))).toBe(`Pretraining steps must be a whole number from 1 to 100,000; got “${bad}”.`);
    }
  });

  it('allows up to 24 runs and says how many budgets × ratios were asked for beyond that', () => {
    expect(runCountError(4, 6)).toBeNull();
    expect(runCountError(5, 5)).toBe('5 budgets × 5 ratios make 25 runs; an experiment holds at most 24. Drop a budget or a ratio.');
  });

  it('checkExperimentForm gives each control its own error, and the settings when all are good', () => {
    const good = checkExperimentForm({ method: 'moco', budgets: '10, 100', ratios: '0, 1', steps: '50' });
    expect(good).toEqual({ ok: true, value: { method: 'moco', realFractions: [0.1, 1], ratios: [0, 1], steps: 50 } });
    const bad = checkExperimentForm({ method: 'simclr', budgets: '0', ratios: '9', steps: 'x' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(Object.keys(bad.errors).sort()).toEqual(['budgets', 'ratios', 'steps']);
    const tooMany = checkExperimentForm({ method: 'simclr', budgets: '1 2 3 4 5', ratios: '0 1 2 3 4', steps: '10' });
    expect(tooMany).toEqual({ ok: false, errors: { runs: expect.stringMatching(/make 25 runs/) } });
  });
});

describe('experimentSpecs', () => {
  it('one run per budget × ratio, budgets outer, labelled by the mix, all at the same steps', () => {
    const specs = experimentSpecs(base, settings({ realFractions: [0.01, 0.1, 1], ratios: [0, 0.5, 2] }), 'fashion-mnist', 'gen-1');
    expect(specs).toHaveLength(9);
    expect(specs.map((s) => s.label)).toEqual([
      '1% real only', '1% real + 0.5× generated', '1% real + 2× generated',
      '10% real only', '10% real + 0.5× generated', '10% real + 2× generated',
      '100% real only', '100% real + 0.5× generated', '100% real + 2× generated',
    ]);
    expect(specs.map((s) => [s.mix!.realFraction, s.mix!.ratio])).toEqual([
      [0.01, 0], [0.01, 0.5], [0.01, 2], [0.1, 0], [0.1, 0.5], [0.1, 2], [1, 0], [1, 0.5], [1, 2],
    ]);
    // fixed compute: the same steps, and the same config (so the same batch size) for every run
    expect(new Set(specs.map((s) => s.steps))).toEqual(new Set([150]));
    for (const s of specs) expect(s.config).toEqual(specs[0].config);
  });

  it('the mix names the real dataset, the seed, and the generator only where Z is drawn', () => {
    const specs = experimentSpecs(base, settings(), 'fashion-mnist', 'gen-1');
    expect(specs.map((s) => s.mix)).toEqual([
      { sourceDatasetId: 'fashion-mnist', realFraction: 0.1, ratio: 0, generatorId: null, seed: 7 },
      { sourceDatasetId: 'fashion-mnist', realFraction: 0.1, ratio: 1, generatorId: 'gen-1', seed: 7 },
      { sourceDatasetId: 'fashion-mnist', realFraction: 1, ratio: 0, generatorId: null, seed: 7 },
      { sourceDatasetId: 'fashion-mnist', realFraction: 1, ratio: 1, generatorId: 'gen-1', seed: 7 },
    ]);
    // the worker's generator (null) stays null
    expect(experimentSpecs(base, settings(), 'fashion-mnist', null).map((s) => s.mix!.generatorId)).toEqual([null, null, null, null]);
  });

  it('applies the method and its defaults (MoCo’s τ 0.2, SimCLR’s 0.5) and the source dataset, and nothing else', () => {
    const moco = experimentSpecs(base, settings({ method: 'moco' }), 'fashion-mnist', 'gen-1')[0].config;
    expect(moco.method).toBe('moco');
    expect(moco.temperature).toBe(0.2);
    expect(moco.dataset).toBe('fashion-mnist');
    const changed = CONFIG_KEYS.filter((k) => !sameSetting(k, base[k], moco[k]));
    expect(changed.sort()).toEqual(['dataset', 'method', 'temperature']);
    expect(experimentSpecs(base, settings(), 'fashion-mnist', 'gen-1')[0].config.temperature).toBe(0.5);
  });

  it('labels make file names the comparison exports can use', () => {
    const [, mixed] = experimentSpecs(base, settings(), 'fashion-mnist', 'gen-1');
    expect(exportFileName({ label: mixed.label, index: 1, config: mixed.config }, 'csv')).toBe('simclr-10-real-plus-1-generated.csv');
  });

  it('plannedSizes estimates |X| and |Z| from the split size', () => {
    expect(plannedSizes(0.1, 2, 1000)).toEqual({ realCount: 100, generatedCount: 200 });
    expect(plannedSizes(0.001, 0.5, 100)).toEqual({ realCount: 1, generatedCount: 1 });
  });
});

describe('generators and budgets', () => {
  it('a new generator per budget needs 64 images and its batch in the smallest X', () => {
    expect(budgetGeneratorProblem([0.1, 1], 1000, 64)).toBeNull();
    expect(budgetGeneratorProblem([0.05, 1], 1000, 64)).toBe(
      'At 5% real, X holds about 50 images: too few to train a generator on (it needs at least 64). Raise the smallest budget, or pick a saved generator.',
    );
    expect(budgetGeneratorProblem([0.1], 1000, 128)).toBe(
      'At 10% real, X holds about 100 images, fewer than the generator’s batch of 128. Lower the batch in the generator panel, or raise the smallest budget.',
    );
  });

  it('names the budgets whose Z would come from a generator that saw more real images than X', () => {
    // trained on the whole split: every budget below 100% gets a wider generator
    expect(budgetsWithWiderGenerator(undefined, [0.01, 0.1, 1], 7)).toEqual([0.01, 0.1]);
    // trained on 10% with the experiment's seed: nested subsets, so only the 1% budget
    expect(budgetsWithWiderGenerator({ realFraction: 0.1, seed: 7 }, [0.01, 0.1, 1], 7)).toEqual([0.01]);
    // another seed draws another 10%: not inside this 10%, nor the 50%
    expect(budgetsWithWiderGenerator({ realFraction: 0.1, seed: 3 }, [0.1, 0.5, 1], 7)).toEqual([0.1, 0.5]);
  });
});

/** A completed run of a generated-data comparison, with its final linear probe, kNN and baselines. */
function run(
  realFraction: number, ratio: number,
  acc: { linear?: number; knn?: number; baseline?: number | null; knnBaseline?: number | null } = {},
  overrides: Partial<ComparisonRun> = {},
): ComparisonRun {
  const realCount = Math.round(realFraction * 1000);
  const mix: RunMix = {
    sourceDatasetId: 'fashion-mnist', realFraction, ratio, realCount, generatedCount: Math.round(ratio * realCount),
    generatorId: ratio > 0 ? 'gen-1' : null,
  };
  return {
    id: `run-${realFraction}-${ratio}`, comparisonId: 'exp-1', comparisonTitle: 'Generated data', preset: 'generated-data', index: 0,
    label: experimentLabel(realFraction, ratio), config: { ...base, dataset: 'fashion-mnist' }, stepsRequested: 100,
    steps: [{ step: 99, loss: 4, stepMs: 10 }, { step: 100, loss: 3.9, stepMs: 10 }],
    // an earlier probe that must not count: the table takes the last one
    probes: acc.linear === undefined ? [] : [
      { kind: 'encoder', step: 50, testAccuracy: 0.11, trainAccuracy: 0.1 },
      { kind: 'encoder', step: 100, testAccuracy: acc.linear, trainAccuracy: 0.9 },
    ],
    knn: acc.knn === undefined ? [] : [{ step: 50, testAccuracy: 0.12 }, { step: 100, testAccuracy: acc.knn }],
    randomInitBaseline: acc.baseline ?? null, randomInitKnnBaseline: acc.knnBaseline ?? null, rawPixelBaseline: null,
    wallMs: 1000, backend: 'cpu', createdAt: 1, mix, ...overrides,
  };
}

// out of order on purpose: the table sorts
const RUNS = [
  run(1, 1, { linear: 0.78, knn: 0.74, baseline: 0.5, knnBaseline: 0.45 }),
  run(0.1, 1, { linear: 0.6, knn: 0.585, baseline: 0.4, knnBaseline: 0.35 }),
  run(1, 0, { linear: 0.8, knn: 0.7, baseline: 0.5, knnBaseline: 0.45 }),
  run(0.1, 0, { linear: 0.612, knn: 0.58, baseline: 0.4, knnBaseline: 0.35 }),
];

describe('experimentTable', () => {
  it('sorts by budget then ratio and takes each run’s last probe and kNN', () => {
    const rows = experimentTable(RUNS);
    expect(rows.map((r) => [r.realFraction, r.ratio])).toEqual([[0.1, 0], [0.1, 1], [1, 0], [1, 1]]);
    expect(rows.map((r) => r.linear)).toEqual([0.612, 0.6, 0.8, 0.78]);
    expect(rows.map((r) => r.knn)).toEqual([0.58, 0.585, 0.7, 0.74]);
    expect(rows.map((r) => [r.realCount, r.generatedCount])).toEqual([[100, 0], [100, 100], [1000, 0], [1000, 1000]]);
    expect(rows.map((r) => [r.randomInitLinear, r.randomInitKnn])).toEqual([[0.4, 0.35], [0.4, 0.35], [0.5, 0.45], [0.5, 0.45]]);
    expect(rows[0]).toMatchObject({ method: 'simclr', steps: 100 });
  });

  it('gain: each mixed run against its own budget’s real-only run, none for the real-only run itself', () => {
    const rows = experimentTable(RUNS);
    expect(rows[0].linearGain).toBeUndefined();
    expect(rows[1].linearGain).toBeCloseTo(-0.012, 12);
    expect(rows[1].knnGain).toBeCloseTo(0.005, 12);
    expect(rows[3].linearGain).toBeCloseTo(-0.02, 12);
    expect(rows[3].knnGain).toBeCloseTo(0.04, 12);
  });

  it('no gain without a real-only run at that budget, or without the accuracies', () => {
    const rows = experimentTable([
      run(0.1, 1, { linear: 0.6 }),
      run(1, 0, { linear: 0.8 }),
      run(1, 2, { knn: 0.7 }), // probed by kNN only
    ]);
    expect(rows.map((r) => [r.linearGain, r.knnGain])).toEqual([[undefined, undefined], [undefined, undefined], [undefined, undefined]]);
    expect(rows[2].linear).toBeUndefined();
  });

  it('leaves out runs of other comparisons and runs without a mix', () => {
    const other = run(0.5, 0, { linear: 0.9 }, { preset: 'tau-sweep' });
    const noMix = run(0.5, 1, { linear: 0.9 }, { mix: undefined });
    expect(experimentTable([other, noMix, ...RUNS])).toHaveLength(4);
  });

  it('an unlabelled dataset: rows with no accuracies at all (undefined, not 0)', () => {
    const rows = experimentTable([run(0.1, 0), run(0.1, 1)]);
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect([r.linear, r.knn, r.randomInitLinear, r.randomInitKnn, r.linearGain, r.knnGain]).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    }
    expect(experimentFindings(rows)).toEqual([expect.stringMatching(/^No accuracy was measured.*no labels/)]);
  });
});

describe('experimentChart', () => {
  it('one row per budget in percent, a column per ratio for each probe, and the random-init baselines', () => {
    const chart = experimentChart(RUNS);
    expect(chart.lines).toEqual([
      { ratio: 0, name: '|Z|/|X| = 0', linearKey: 'linear0', knnKey: 'knn0' },
      { ratio: 1, name: '|Z|/|X| = 1', linearKey: 'linear1', knnKey: 'knn1' },
    ]);
    expect(chart.rows).toEqual([
      { budgetPercent: 10, linear0: 0.612, linear1: 0.6, knn0: 0.58, knn1: 0.585, randomInitLinear: 0.4, randomInitKnn: 0.35 },
      { budgetPercent: 100, linear0: 0.8, linear1: 0.78, knn0: 0.7, knn1: 0.74, randomInitLinear: 0.5, randomInitKnn: 0.45 },
    ]);
  });

  it('keys never hold a dot (recharts reads "r0.5" as a path), and a missing run leaves its cell out', () => {
    const chart = experimentChart([
      run(0.01, 0, { linear: 0.3 }), run(0.01, 0.5, { linear: 0.31 }), run(0.5, 0.5), // the last: not probed
    ]);
    expect(chart.lines.map((l) => l.linearKey)).toEqual(['linear0', 'linear1']);
    expect(chart.rows).toHaveLength(2);
    expect(chart.rows[0]).toEqual({ budgetPercent: 1, linear0: 0.3, linear1: 0.31 });
    expect(chart.rows[1]).toEqual({ budgetPercent: 50 });
    expect('linear1' in chart.rows[1]).toBe(false);
  });

  it('an empty experiment draws nothing', () => {
    expect(experimentChart([])).toEqual({ rows: [], lines: [] });
  });
});

describe('experimentFindings', () => {
  it('says what the numbers say, with the sign and size of each change', () => {
    expect(experimentFindings(experimentTable(RUNS))).toEqual([
      'Adding generated images raised the linear-probe accuracy in 0 of 2 settings and lowered it in 2 (each setting ran once, from one seed, so small differences may be noise).',
      'At 10% real, adding 1× generated changed linear-probe accuracy by −1.2 points (61.2% → 60.0%), and kNN accuracy by +0.5 points.',
      'At 100% real, adding 1× generated changed linear-probe accuracy by −2.0 points (80.0% → 78.0%), and kNN accuracy by +4.0 points.',
    ]);
  });

  it('a gain is reported as a gain; a missing real-only run is named, not guessed', () => {
    const findings = experimentFindings(experimentTable([run(0.1, 0, { linear: 0.5 }), run(0.1, 2, { linear: 0.53 }), run(1, 1, { linear: 0.7 })]));
    expect(findings[0]).toMatch(/^Adding generated images raised the linear-probe accuracy in 1 of 1 setting \(/);
    expect(findings[1]).toBe('At 10% real, adding 2× generated changed linear-probe accuracy by +3.0 points (50.0% → 53.0%).');
    expect(findings[2]).toBe('At 100% real, adding 1× generated has no real-only run at that budget to compare with (linear probe 70.0%).');
  });

  it('real-only experiments have nothing to compare', () => {
    expect(experimentFindings(experimentTable([run(0.1, 0, { linear: 0.5 })]))).toEqual([expect.stringMatching(/real images only/)]);
    expect(experimentFindings([])).toEqual([]);
  });

  it('formatPoints: signed percentage points with a true minus', () => {
    expect(formatPoints(0.0123)).toBe('+1.2');
    expect(formatPoints(-0.004)).toBe('−0.4');
    expect(formatPoints(0.0004)).toBe('±0.0');
  });
});

describe('experimentCsv', () => {
  it('one line per run in table order, accuracies as fractions, empty where not measured', () => {
    const csv = experimentCsv([...RUNS, run(0.5, 0)]);
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(EXPERIMENT_CSV_COLUMNS.join(','));
    expect(lines[0]).toBe('label,method,realFraction,ratio,realCount,generatedCount,steps,linearProbe,knn,randomInitLinear,randomInitKnn,linearGain,knnGain');
    expect(lines).toHaveLength(6);
    const cells = lines.slice(1).map((l) => l.split(','));
    expect(cells.map((c) => c[0])).toEqual(['10% real only', '10% real + 1× generated', '50% real only', '100% real only', '100% real + 1× generated']);
    expect(cells.map((c) => [c[2], c[3]])).toEqual([['0.1', '0'], ['0.1', '1'], ['0.5', '0'], ['1', '0'], ['1', '1']]);
    expect(cells[1].slice(4, 11)).toEqual(['100', '100', '100', '0.6', '0.585', '0.4', '0.35']);
    expect(Number(cells[1][11])).toBeCloseTo(-0.012, 12);
    // the real-only run has no gain; the unprobed run has no accuracies
    expect(cells[0][11]).toBe('');
    expect(cells[2].slice(7)).toEqual(['', '', '', '', '', '']);
    expect(csv.endsWith('\n')).toBe(true);
  });

  it('quotes a label with a comma or a quote', () => {
    const csv = experimentCsv([run(0.1, 0, { linear: 0.5 }, { label: 'a, "b"' })]);
    expect(csv.split('\n')[1].startsWith('"a, ""b""",simclr,0.1,0,')).toBe(true);
  });
});
