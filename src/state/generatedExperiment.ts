/**
 * The generated-data experiment (issue 19), the pure part: its settings as
 * the user types them, the run specs it queues (one per real budget × ratio
 * |Z|/|X|, all at the same steps and batch size: fixed compute), and the
 * table, chart, findings and CSV made from its completed runs. No DOM, no
 * worker: the runner is src/state/comparisonRunner.ts (runGeneratedExperiment).
 */
import { withMethodDefaults, type ExperimentConfig } from '../core/config';
import { GENERATOR_MIN_IMAGES } from '../core/generatorSettings';
import { METHOD_CATALOG, type MethodId } from '../core/methods';
import type { GeneratorSettings } from '../train/protocol';
import { MAX_STEPS_PER_RUN, runMethod, type ComparisonRun, type RunSpec } from './comparison';

/** The SSL methods the experiment offers (the lecture's set-up: SimCLR, and MoCo). */
export type ExperimentMethod = 'simclr' | 'moco';

export const EXPERIMENT_METHODS: readonly { id: ExperimentMethod; label: string }[] = (['simclr', 'moco'] as const)
  .map((id) => ({ id, label: METHOD_CATALOG[id].label }));

export function isExperimentMethod(value: string): value is ExperimentMethod {
  return EXPERIMENT_METHODS.some((m) => m.id === value);
}

export interface GeneratedExperimentSettings {
  method: ExperimentMethod;
  /** real-data budgets, shares of the training split in (0, 1], ascending, distinct */
  realFractions: number[];
  /** |Z|/|X| ratios ≥ 0, ascending, distinct */
  ratios: number[];
  /** pretraining steps of every run (equal steps and batch size: fixed compute) */
  steps: number;
  /** where Z comes from: a saved generator, or one trained first with these settings */
  generator: { source: 'saved'; id: string } | { source: 'train'; settings: GeneratorSettings };
}

/**
 * The most generated images per real one, |Z|/|X|: beyond it X is a small
 * minority of every batch. The worker's buildMixedDataset enforces the same
 * bound (src/train/mixDataset.ts MAX_MIX_RATIO, not imported: that module
 * brings tfjs, which the page never loads).
 */
export const EXPERIMENT_MAX_RATIO = 8;
/** Budgets, and ratios, per experiment at most. */
export const EXPERIMENT_MAX_VALUES = 6;
/** Runs per experiment at most (budgets × ratios): each pretrains an encoder from scratch. */
export const EXPERIMENT_MAX_RUNS = 24;

/** What the panel's controls start with: the lecture's question at two budgets, real only against as many generated as real. */
export const EXPERIMENT_DEFAULTS = { method: 'simclr' as ExperimentMethod, budgets: '10, 100', ratios: '0, 1', steps: '200' };

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** A number with at most six significant digits and no float noise: 0.07 × 100 → 7, not 7.000000000000001. */
const clean = (x: number): number => Number(x.toPrecision(6));

/** A real budget as a percentage for people: 0.1 → "10", 0.005 → "0.5". */
export const budgetPercent = (fraction: number): number => clean(fraction * 100);

/** "10% real only", "10% real + 1× generated": a run's label. */
export function experimentLabel(realFraction: number, ratio: number): string {
  const real = `${budgetPercent(realFraction)}% real`;
  return ratio === 0 ? `${real} only` : `${real} + ${clean(ratio)}× generated`;
}

/** The legend's name of a ratio's line. */
export const ratioLineName = (ratio: number): string => `|Z|/|X| = ${clean(ratio)}`;

/** A plain decimal (an optional sign, digits, an optional fraction), as typed; not hex, not exponents, not "Infinity". */
const DECIMAL = /^[-+−]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * A list of numbers from user text: separated by commas, semicolons or
 * spaces, each with an optional unit suffix (% for budgets, × or x for
 * ratios); then each value checked, the count checked and duplicates refused.
 */
function parseList(
  raw: string,
  what: { empty: string; example: string; suffix: RegExp; unit: string; plural: string },
  check: (value: number, token: string) => string | null,
): Parsed<number[]> {
  // a unit typed apart from its number ("10 %") belongs to it
  const tokens = raw.split(/[\s,;]+/).filter((t) => t !== '' && t.replace(what.suffix, '') !== '');
  if (tokens.length === 0) return { ok: false, error: what.empty };
  const values: number[] = [];
  for (const token of tokens) {
    const text = token.replace(what.suffix, '').replace('−', '-');
    if (!DECIMAL.test(text)) {
      return { ok: false, error: `“${token}” is not a number: list the ${what.plural} separated by commas, e.g. “${what.example}”.` };
    }
    const value = Number(text);
    const problem = check(value, token);
    if (problem) return { ok: false, error: problem };
    if (values.some((v) => clean(v) === clean(value))) {
      return { ok: false, error: `${clean(value)}${what.unit} is listed twice; give each of the ${what.plural} once.` };
    }
    values.push(clean(value) + 0); // + 0: "-0" is 0
  }
  if (values.length > EXPERIMENT_MAX_VALUES) {
    return { ok: false, error: `At most ${EXPERIMENT_MAX_VALUES} ${what.plural}; got ${values.length}. Each one adds a run per ${what.plural === 'ratios' ? 'budget' : 'ratio'}.` };
  }
  return { ok: true, value: values.sort((a, b) => a - b) };
}

/**
 * Real-data budgets from user text, in percent of the training split
 * ("1, 10, 100"; "10%" too): 1 to 6 distinct values in (0, 100], returned as
 * ascending fractions in (0, 1].
 */
export function parseRealBudgets(raw: string): Parsed<number[]> {
  const parsed = parseList(
    raw,
    {
      empty: 'Give at least one real-data budget, in percent of the training images, e.g. “10, 100”.',
      example: '1, 10, 100', suffix: /%$/, unit: '%', plural: 'budgets',
    },
    (value) => (value > 0 && value <= 100
      ? null
      : `Each real-data budget must be above 0% and at most 100% of the training images; got ${clean(value)}%.`),
  );
  return parsed.ok ? { ok: true, value: parsed.value.map((p) => clean(p / 100)) } : parsed;
}

/** Ratios |Z|/|X| from user text ("0, 0.5, 1, 2"): 1 to 6 distinct values in [0, EXPERIMENT_MAX_RATIO], ascending. */
export function parseRatios(raw: string): Parsed<number[]> {
  return parseList(
    raw,
    {
      empty: 'Give at least one ratio |Z|/|X|, e.g. “0, 1”: 0 is real images only, 1 adds as many generated images as real ones.',
      example: '0, 0.5, 1, 2', suffix: /[×xX]$/, unit: '×', plural: 'ratios',
    },
    (value) => (value >= 0 && value <= EXPERIMENT_MAX_RATIO
      ? null
      : `Each ratio |Z|/|X| must be from 0 to ${EXPERIMENT_MAX_RATIO} generated images per real one; got ${clean(value)}.`),
  );
}

/** Pretraining steps of every run: a whole number from 1 to MAX_STEPS_PER_RUN. */
export function parseExperimentSteps(raw: string): Parsed<number> {
  const text = raw.trim();
  const value = Number(text);
  if (text === '' || !/^\+?\d+$/.test(text) || value < 1 || value > MAX_STEPS_PER_RUN) {
    return { ok: false, error: `Pretraining steps must be a whole number from 1 to ${MAX_STEPS_PER_RUN.toLocaleString('en-US')}; got “${raw}”.` };
  }
  return { ok: true, value };
}

/** Why budgets × ratios are too many runs, or null when they fit EXPERIMENT_MAX_RUNS. */
export function runCountError(budgets: number, ratios: number): string | null {
  const runs = budgets * ratios;
  if (runs <= EXPERIMENT_MAX_RUNS) return null;
  return `${budgets} budgets × ${ratios} ratios make ${runs} runs; an experiment holds at most ${EXPERIMENT_MAX_RUNS}. Drop a budget or a ratio.`;
}

/** The experiment's settings as typed in the panel. */
export interface ExperimentForm {
  method: ExperimentMethod;
  budgets: string;
  ratios: string;
  steps: string;
}

/** A control's name: budgets, ratios, steps, or the run count of budgets × ratios. */
export type ExperimentFormField = 'budgets' | 'ratios' | 'steps' | 'runs';

/** The form's settings other than the generator, or every control's error (each shown next to its control). */
export function checkExperimentForm(form: ExperimentForm):
  | { ok: true; value: Omit<GeneratedExperimentSettings, 'generator'> }
  | { ok: false; errors: Partial<Record<ExperimentFormField, string>> } {
  const budgets = parseRealBudgets(form.budgets);
  const ratios = parseRatios(form.ratios);
  const steps = parseExperimentSteps(form.steps);
  const errors: Partial<Record<ExperimentFormField, string>> = {};
  if (!budgets.ok) errors.budgets = budgets.error;
  if (!ratios.ok) errors.ratios = ratios.error;
  if (!steps.ok) errors.steps = steps.error;
  if (budgets.ok && ratios.ok) {
    const tooMany = runCountError(budgets.value.length, ratios.value.length);
    if (tooMany) errors.runs = tooMany;
  }
  if (!budgets.ok || !ratios.ok || !steps.ok || errors.runs) return { ok: false, errors };
  return { ok: true, value: { method: form.method, realFractions: budgets.value, ratios: ratios.value, steps: steps.value } };
}

/** Whether an experiment needs generated images at all (every ratio 0: real images only). */
export const needsGenerator = (ratios: readonly number[]): boolean => ratios.some((r) => r > 0);

/**
 * The runs, budgets outer and ratios inner: one spec per (fraction, ratio),
 * each the base config with the method (and its defaults) and a `mix`.
 * generatorId: the saved generator Z comes from (null: the one the worker holds).
 */
export function experimentSpecs(
  base: ExperimentConfig, settings: GeneratedExperimentSettings, sourceDatasetId: string, generatorId: string | null,
): RunSpec[] {
  // the method's own defaults (MoCo's τ 0.2), as the methods preset and a pick in the menu apply them
  const config = withMethodDefaults({ ...base, method: settings.method, dataset: sourceDatasetId });
  return settings.realFractions.flatMap((realFraction) => settings.ratios.map((ratio): RunSpec => ({
    label: experimentLabel(realFraction, ratio),
    config,
    // every run the same steps at the same batch size: fixed pretraining compute, whatever |X ∪ Z|
    steps: settings.steps,
    mix: { sourceDatasetId, realFraction, ratio, generatorId: ratio > 0 ? generatorId : null, seed: base.seed },
  })));
}

/**
 * About how many images each planned run trains on, before the worker draws
 * them: |X| = round(f · n) (at least 1; realBudget also keeps one per class)
 * and |Z| = round(ratio · |X|). For the plan shown before a run, not for results.
 */
export function plannedSizes(realFraction: number, ratio: number, trainCount: number): { realCount: number; generatedCount: number } {
  const realCount = Math.min(trainCount, Math.max(1, Math.round(realFraction * trainCount)));
  return { realCount, generatedCount: Math.round(ratio * realCount) };
}

/**
 * Why a new generator cannot be trained on every budget's X (the runner
 * trains one per budget, on that budget's real images only), or null: the
 * smallest X must hold GENERATOR_MIN_IMAGES images, and a generator batch
 * no larger than it (plannedSizes' estimate; the worker checks the real count).
 */
export function budgetGeneratorProblem(realFractions: readonly number[], trainCount: number, generatorBatch: number): string | null {
  if (realFractions.length === 0) return null;
  const smallest = Math.min(...realFractions);
  const { realCount } = plannedSizes(smallest, 0, trainCount);
  const where = `At ${budgetPercent(smallest)}% real, X holds about ${realCount.toLocaleString('en-US')} images`;
  if (realCount < GENERATOR_MIN_IMAGES) {
    return `${where}: too few to train a generator on (it needs at least ${GENERATOR_MIN_IMAGES}). Raise the smallest budget, or pick a saved generator.`;
  }
  if (generatorBatch > realCount) {
    return `${where}, fewer than the generator’s batch of ${generatorBatch}. Lower the batch in the generator panel, or raise the smallest budget.`;
  }
  return null;
}

/**
 * The budgets at which Z would come from a generator that saw real training
 * images X leaves out, so that a gain there is not the lecture's question
 * (a generator trained on X alone). `trainedOn`: the real budget the
 * generator learnt from (GeneratorConfig.budget), undefined for the whole
 * training split. realBudget's subsets are nested across fractions for one
 * seed, so its images lie inside X exactly when the seed is the same and its
 * fraction is no larger, or X is the whole split.
 */
export function budgetsWithWiderGenerator(
  trainedOn: { realFraction: number; seed: number } | undefined, realFractions: readonly number[], seed: number,
): number[] {
  return realFractions.filter((f) => {
    if (f >= 1) return false;
    if (!trainedOn) return true;
    return trainedOn.seed !== seed || trainedOn.realFraction > f;
  });
}

/** One row of the experiment's table: a run's setting and its final accuracies on the real test split. */
export interface ExperimentRow {
  runId: string;
  label: string;
  method: MethodId;
  realFraction: number;
  ratio: number;
  /** |X| and |Z| as the worker built them */
  realCount: number;
  generatedCount: number;
  /** steps the run took */
  steps: number;
  /** the encoder's last linear-probe and weighted-kNN test accuracies (undefined: not measured, e.g. no labels) */
  linear: number | undefined;
  knn: number | undefined;
  /** the same probe and kNN on the random-init encoder (same seed, same probe set) */
  randomInitLinear: number | undefined;
  randomInitKnn: number | undefined;
  /**
   * linear − the same budget's ratio-0 run's linear, and the same for kNN:
   * what adding Z changed. Undefined for the ratio-0 run itself, when the
   * budget has no ratio-0 run, or when either accuracy is missing.
   */
  linearGain: number | undefined;
  knnGain: number | undefined;
}

/** A budget as a map key: fractions parsed from the same text are equal, from a JSON round trip too; this guards the last digits. */
const budgetKey = (fraction: number): number => Math.round(fraction * 1e9);

const definedOr = (value: number | null | undefined): number | undefined => (value === null || value === undefined || !Number.isFinite(value) ? undefined : value);

const difference = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a - b);

/**
 * One row per run of a generated-data comparison (runs of another preset, or
 * without a mix, are left out), sorted by real budget then ratio, with each
 * run's gain over its budget's real-only run.
 */
export function experimentTable(runs: readonly ComparisonRun[]): ExperimentRow[] {
  const rows = runs
    .filter((run): run is ComparisonRun & { mix: NonNullable<ComparisonRun['mix']> } => run.preset === 'generated-data' && run.mix !== undefined)
    .map((run) => ({
      runId: run.id,
      label: run.label,
      method: runMethod(run),
      realFraction: run.mix.realFraction,
      ratio: run.mix.ratio,
      realCount: run.mix.realCount,
      generatedCount: run.mix.generatedCount,
      steps: run.steps.at(-1)?.step ?? 0,
      linear: definedOr(run.probes.filter((p) => p.kind === 'encoder').at(-1)?.testAccuracy),
      knn: definedOr(run.knn?.at(-1)?.testAccuracy),
      randomInitLinear: definedOr(run.randomInitBaseline),
      randomInitKnn: definedOr(run.randomInitKnnBaseline),
      linearGain: undefined as number | undefined,
      knnGain: undefined as number | undefined,
    }))
    .sort((a, b) => a.realFraction - b.realFraction || a.ratio - b.ratio);
  const reference = new Map<number, ExperimentRow>();
  for (const row of rows) {
    if (row.ratio === 0 && !reference.has(budgetKey(row.realFraction))) reference.set(budgetKey(row.realFraction), row);
  }
  for (const row of rows) {
    const real = reference.get(budgetKey(row.realFraction));
    if (!real || real === row) continue;
    row.linearGain = difference(row.linear, real.linear);
    row.knnGain = difference(row.knn, real.knn);
  }
  return rows;
}

/** Whether any run of the table has an accuracy (none: the dataset had no labels, or no test images). */
export const hasAccuracies = (rows: readonly ExperimentRow[]): boolean =>
  rows.some((r) => r.linear !== undefined || r.knn !== undefined);

/** A line of the chart: one ratio, its linear-probe and kNN columns. */
export interface ExperimentChartLine {
  ratio: number;
  /** "|Z|/|X| = 1" */
  name: string;
  linearKey: string;
  knnKey: string;
}

/**
 * A chart row: x is the real budget in percent; per ratio a linear-probe and
 * a kNN column (absent when the run is missing or was not measured, never 0),
 * and the random-init encoder's linear and kNN accuracy at that budget (its
 * probe set is the budget's real images, so it moves with the budget).
 */
export type ExperimentChartRow = { budgetPercent: number; randomInitLinear?: number; randomInitKnn?: number } & Record<string, number | undefined>;

export interface ExperimentChart {
  rows: ExperimentChartRow[];
  /** one per ratio, ascending */
  lines: ExperimentChartLine[];
}

/**
 * The chart's rows, for recharts: one per real budget, ascending. Column keys
 * are `linear<k>` and `knn<k>` for the k-th ratio, never the ratio itself: a
 * dataKey with a dot ("r0.5") would be read as a path.
 */
export function experimentChart(runs: readonly ComparisonRun[]): ExperimentChart {
  const table = experimentTable(runs);
  const ratios = [...new Set(table.map((r) => r.ratio))].sort((a, b) => a - b);
  const lines = ratios.map((ratio, k) => ({ ratio, name: ratioLineName(ratio), linearKey: `linear${k}`, knnKey: `knn${k}` }));
  const byBudget = new Map<number, ExperimentChartRow>();
  for (const row of table) {
    const key = budgetKey(row.realFraction);
    let chartRow = byBudget.get(key);
    if (!chartRow) byBudget.set(key, (chartRow = { budgetPercent: budgetPercent(row.realFraction) }));
    const line = lines[ratios.indexOf(row.ratio)];
    if (row.linear !== undefined) chartRow[line.linearKey] ??= row.linear;
    if (row.knn !== undefined) chartRow[line.knnKey] ??= row.knn;
    // every run of a budget probes the same random-init encoder on the same set: the first measured one stands for them
    if (row.randomInitLinear !== undefined) chartRow.randomInitLinear ??= row.randomInitLinear;
    if (row.randomInitKnn !== undefined) chartRow.randomInitKnn ??= row.randomInitKnn;
  }
  return { rows: [...byBudget.values()].sort((a, b) => a.budgetPercent - b.budgetPercent), lines };
}

/** An accuracy difference in percentage points, signed: "+1.2", "−0.4". */
export function formatPoints(gain: number): string {
  const points = Math.round(gain * 1000) / 10;
  if (points === 0) return '±0.0';
  return `${points > 0 ? '+' : '−'}${Math.abs(points).toFixed(1)}`;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/**
 * What the numbers say, in sentences computed from them: first the count of
 * settings where generated images raised the linear-probe accuracy, then one
 * sentence per (budget, ratio > 0) against that budget's real-only run.
 * Nothing is claimed that the table does not show.
 */
export function experimentFindings(rows: readonly ExperimentRow[]): string[] {
  if (rows.length === 0) return [];
  if (!hasAccuracies(rows)) {
    return ['No accuracy was measured, so these runs cannot answer the question: the dataset has no labels (or no test images), so the linear probe and kNN were off.'];
  }
  const mixed = rows.filter((r) => r.ratio > 0);
  if (mixed.length === 0) return ['Every run used real images only (ratio 0): add a ratio above 0 to see what generated images change.'];
  const compared = mixed.filter((r) => r.linearGain !== undefined);
  const sentences: string[] = [];
  if (compared.length > 0) {
    const up = compared.filter((r) => r.linearGain! >= 0.0005).length;
    const down = compared.filter((r) => r.linearGain! <= -0.0005).length;
    const total = compared.length;
    sentences.push(
      `Adding generated images raised the linear-probe accuracy in ${up} of ${total} ${total === 1 ? 'setting' : 'settings'}`
        + `${down > 0 ? ` and lowered it in ${down}` : ''}${total - up - down > 0 ? `; ${total - up - down} changed by less than 0.05 points` : ''}`
        + ' (each setting ran once, from one seed, so small differences may be noise).',
    );
  }
  for (const r of mixed) {
    const where = `At ${budgetPercent(r.realFraction)}% real, adding ${clean(r.ratio)}× generated`;
    if (r.linearGain === undefined) {
      sentences.push(r.linear === undefined
        ? `${where} has no linear-probe accuracy to compare.`
        : `${where} has no real-only run at that budget to compare with (linear probe ${pct(r.linear)}).`);
      continue;
    }
    const real = r.linear! - r.linearGain;
    const knn = r.knnGain === undefined ? '' : `, and kNN accuracy by ${formatPoints(r.knnGain)} points`;
    sentences.push(`${where} changed linear-probe accuracy by ${formatPoints(r.linearGain)} points (${pct(real)} → ${pct(r.linear!)})${knn}.`);
  }
  return sentences;
}

/** A CSV field: quoted when it holds a comma, a quote or a line break. */
const csvField = (value: string | number | undefined): string => {
  if (value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

export const EXPERIMENT_CSV_COLUMNS = [
  'label', 'method', 'realFraction', 'ratio', 'realCount', 'generatedCount', 'steps',
  'linearProbe', 'knn', 'randomInitLinear', 'randomInitKnn', 'linearGain', 'knnGain',
] as const;

/** The experiment's table as CSV: one line per run, accuracies as fractions in [0, 1], an empty field where none was measured. */
export function experimentCsv(runs: readonly ComparisonRun[]): string {
  const lines = [EXPERIMENT_CSV_COLUMNS.join(',')];
  for (const r of experimentTable(runs)) {
    lines.push([
      r.label, r.method, r.realFraction, r.ratio, r.realCount, r.generatedCount, r.steps,
      r.linear, r.knn, r.randomInitLinear, r.randomInitKnn, r.linearGain, r.knnGain,
    ].map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}
