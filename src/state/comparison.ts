/**
 * Runs side by side: the pure part. A comparison is a list of run specs made
 * from the current config by a preset (each spec overrides one setting), run
 * one after another with the same seed, so the runs differ only in what the
 * preset varies. Here: the presets, the recorded run, its summary row, the
 * overlaid chart series and the CSV/JSON exports. No DOM, no worker.
 */
import { presetPipeline } from '../core/pipeline';
import type { MixRequest, ProbeKind, StepMetrics } from '../train/protocol';
import { configToSearch, withMethodDefaults, type ExperimentConfig } from '../core/config';
import { METHOD_CATALOG, METHOD_IDS, methodTrains, methodUnfitReason, type DatasetShape, type MethodId } from '../core/methods';

/** The presets the compare panel offers: each makes its runs from the user's current settings (presetSpecs). */
export type SweepPresetId = 'tau-sweep' | 'l2' | 'head' | 'augment' | 'methods' | 'pretext' | 'families';
/**
 * What made a comparison: a sweep preset, or the generated-data experiment
 * (issue 19: real budgets × |Z|/|X| ratios, src/state/generatedExperiment.ts),
 * whose runs carry their `mix`; or 'main-run': the run the page trains
 * outside any comparison, exported as one (src/state/runExport.ts).
 */
export type ComparisonPresetId = SweepPresetId | 'generated-data' | 'main-run';

export const COMPARISON_PRESETS: readonly { id: SweepPresetId; label: string; help: string }[] = [
  { id: 'tau-sweep', label: 'τ sweep (0.05, 0.1, 0.5, 1)', help: 'Small τ sharpens the softmax over similarities; large τ flattens it.' },
  { id: 'l2', label: 'L2 normalization on / off', help: 'Cosine similarity against the raw dot product of z.' },
  { id: 'head', label: 'Projection head none / linear / MLP', help: 'SimCLR found an MLP head g gives the best h for the probe.' },
  { id: 'augment', label: 'Augmentation crop only / crop + colour', help: 'Without colour jitter, views can be matched by colour alone.' },
  {
    id: 'methods', label: 'Methods: SimCLR, memory bank, MoCo, BYOL, SimSiam, Barlow Twins',
    help: 'The same encoder, data, augmentations and steps under each method (each with its own defaults, e.g. τ), judged by the same probes.',
  },
  {
    id: 'pretext', label: 'Pretext: rotation, patch, jigsaw, inpainting, colour, exemplar',
    help: 'The same encoder, data and steps under each pretext task that fits the dataset (colorization needs colour images), judged by the same probes as the contrastive methods.',
  },
  {
    id: 'families', label: 'Families: SimCLR, BYOL, rotation, CPC, autoencoder, DeepCluster',
    help: 'One method of each family the lectures teach (contrastive, non-contrastive, pretext, predictive coding, generative, clustering) at the same encoder, data and steps; a method the dataset does not fit is left out and named.',
  },
];

/** The methods each method preset runs, in order (those that train and fit the dataset). */
const PRESET_METHODS: Record<'methods' | 'pretext' | 'families', readonly MethodId[]> = {
  methods: ['simclr', 'memory-bank', 'moco', 'byol', 'simsiam', 'barlow-twins'],
  pretext: METHOD_IDS.filter((m) => METHOD_CATALOG[m].family === 'pretext'),
  families: ['simclr', 'byol', 'rotation', 'cpc', 'autoencoder', 'deepcluster'],
};

export function isComparisonPreset(value: string): value is SweepPresetId {
  return COMPARISON_PRESETS.some((p) => p.id === value);
}

/** One queued run: the current config with the preset's override, run for `steps` optimizer steps. */
export interface RunSpec {
  label: string;
  config: ExperimentConfig;
  steps: number;
  /** the generated-data experiment: the training set X ∪ Z the worker builds before the run (its dataset replaces config.dataset) */
  mix?: Omit<MixRequest, 'requestId'>;
}

export const TAU_SWEEP = [0.05, 0.1, 0.5, 1] as const;

/** The runs of a preset, made from the user's current config; labels name what differs between them. */
export function presetSpecs(preset: SweepPresetId, base: ExperimentConfig, steps: number, dataset: DatasetShape | null = null): RunSpec[] {
  const spec = (label: string, override: Partial<ExperimentConfig>): RunSpec => ({ label, config: { ...base, ...override }, steps });
  switch (preset) {
    case 'tau-sweep':
      return TAU_SWEEP.map((temperature) => spec(`τ = ${temperature}`, { temperature }));
    case 'l2':
      return [spec('L2 on', { normalize: true }), spec('L2 off', { normalize: false })];
    case 'head':
      return [
        spec('head: none', { projectionHead: 'none' }),
        spec('head: linear', { projectionHead: 'linear' }),
        spec('head: MLP', { projectionHead: 'mlp' }),
      ];
    case 'augment':
      return [
        spec('crop only', { augmentation: presetPipeline('crop-only') }),
        spec('crop + colour', { augmentation: presetPipeline('crop-color') }),
      ];
    case 'methods':
    case 'pretext':
    case 'families':
      return PRESET_METHODS[preset].filter(methodTrains)
        .map((method) => ({ method, config: withMethodDefaults({ ...base, method }) }))
        // a method that does not fit the dataset is left out (presetLeftOut says which, and why)
        .filter(({ method, config }) => !dataset || !methodUnfitReason(method, dataset, config))
        .map(({ method, config }) => ({ label: METHOD_CATALOG[method].label, config, steps }));
  }
}

/** The methods of a method preset that this dataset leaves out, each with its reason (shown before the comparison starts). */
export function presetLeftOut(preset: SweepPresetId, base: ExperimentConfig, dataset: DatasetShape | null): string[] {
  if ((preset !== 'methods' && preset !== 'pretext' && preset !== 'families') || !dataset) return [];
  return PRESET_METHODS[preset].filter(methodTrains).flatMap((method) => {
    const reason = methodUnfitReason(method, dataset, withMethodDefaults({ ...base, method }));
    return reason ? [`${METHOD_CATALOG[method].label}: ${reason}`] : [];
  });
}

export const MAX_STEPS_PER_RUN = 100_000;

/** Steps per run from user text: a whole number from 1 to MAX_STEPS_PER_RUN. */
export function parseStepsPerRun(raw: string): { ok: true; value: number } | { ok: false; error: string } {
  const text = raw.trim();
  const value = Number(text);
  if (text === '' || !Number.isInteger(value) || value < 1 || value > MAX_STEPS_PER_RUN) {
    return { ok: false, error: `Steps per run must be a whole number from 1 to ${MAX_STEPS_PER_RUN}; got “${raw}”.` };
  }
  return { ok: true, value };
}

/**
 * One step of a recorded run: the metrics the charts, the table and the
 * exports use. The method's own metrics are in `values`, named by its catalog
 * entry; runs stored before methods existed are SimCLR's and kept their three
 * metrics as fields of their own (read them with stepValue). The geometry
 * fields are absent from runs stored before they were measured.
 */
export type RunStep = Pick<StepMetrics, 'step' | 'loss' | 'stepMs'>
  & Partial<Pick<StepMetrics, 'values' | 'alignment' | 'uniformity' | 'collapseStd'>>
  & { positiveSimilarity?: number; negativeSimilarity?: number; contrastiveAccuracy?: number };

/** A method metric of a stored step, from `values` or (runs stored before methods existed) its own field. */
export function stepValue(step: RunStep | undefined, key: string): number | undefined {
  if (!step) return undefined;
  const value = step.values?.[key] ?? (step as Record<string, unknown>)[key];
  return typeof value === 'number' ? value : undefined;
}

export interface RunProbe {
  kind: ProbeKind;
  step: number;
  testAccuracy: number;
  trainAccuracy: number;
}

/** A completed run, as stored in IndexedDB and exported. */
export interface ComparisonRun {
  id: string;
  /** the comparison it belongs to; runs of one comparison are drawn together */
  comparisonId: string;
  /** e.g. "τ sweep, 100 steps per run" */
  comparisonTitle: string;
  preset: ComparisonPresetId;
  /** position in its comparison, from 0 */
  index: number;
  label: string;
  /** the config the encoder was built with (what the worker reported) */
  config: ExperimentConfig;
  stepsRequested: number;
  steps: RunStep[];
  /** the encoder's probes, in step order */
  probes: RunProbe[];
  /** the same probe on the untrained encoder and on raw pixels, when the dataset is labelled */
  randomInitBaseline: number | null;
  rawPixelBaseline: number | null;
  /** wall time from start to the last step, periodic probes included */
  wallMs: number;
  /** the encoder's weighted-kNN test accuracies, in step order (runs stored before kNN was recorded have none) */
  knn?: { step: number; testAccuracy: number }[];
  /** the same kNN on the untrained encoder */
  randomInitKnnBaseline?: number | null;
  /** the generated-data experiment's training set: X (realCount images, realFraction of the split) and Z (generatedCount = ratio · |X|) */
  mix?: RunMix;
  backend: string | null;
  /** ms since the epoch, when the run finished */
  createdAt: number;
}

/** The training set of a generated-data experiment's run (src/data/generatedMix.ts). */
export interface RunMix {
  sourceDatasetId: string;
  realFraction: number;
  ratio: number;
  realCount: number;
  generatedCount: number;
  /** the saved generator Z came from (null at ratio 0, or when it was not saved) */
  generatorId: string | null;
  /**
   * the share of the training split the generator was trained on: the run's own budget when the experiment trained
   * it (the lecture's set-up), more when a saved generator saw images X withholds; null at ratio 0 or unknown
   */
  generatorRealFraction?: number | null;
}

export function toRunStep(m: StepMetrics): RunStep {
  return {
    step: m.step, loss: m.loss, values: { ...m.values }, stepMs: m.stepMs,
    alignment: m.alignment, uniformity: m.uniformity, collapseStd: m.collapseStd,
  };
}

/** The summary table's row: the run's final numbers (undefined where there is none, e.g. no probe on unlabelled data). */
export interface SummaryRow {
  label: string;
  finalProbeAccuracy: number | undefined;
  contrastiveAccuracy: number | undefined;
  positiveSimilarity: number | undefined;
  negativeSimilarity: number | undefined;
  /** the collapse meter at the last step (runs stored before it was measured have none) */
  collapseStd: number | undefined;
  steps: number;
  wallMs: number;
}

export function summarize(run: ComparisonRun): SummaryRow {
  const last = run.steps[run.steps.length - 1];
  const probe = run.probes.filter((p) => p.kind === 'encoder').at(-1);
  return {
    label: run.label,
    finalProbeAccuracy: probe?.testAccuracy,
    contrastiveAccuracy: stepValue(last, 'contrastiveAccuracy'),
    positiveSimilarity: stepValue(last, 'positiveSimilarity'),
    negativeSimilarity: stepValue(last, 'negativeSimilarity'),
    collapseStd: last?.collapseStd,
    steps: last?.step ?? 0,
    wallMs: run.wallMs,
  };
}

/** Keeps at most `max` evenly spaced indices of 0…n−1, always the first and the last. */
function sampledIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let k = 0; k < max; k++) out.push(Math.round((k * (n - 1)) / (max - 1)));
  return out;
}

/**
 * One chart row per step with a column per run (`r0`, `r1`, …), as recharts
 * wants overlaid lines; a run without a value at that step has none (the line
 * connects over it). Rows are thinned to at most `maxPoints`.
 */
export function overlaySeries(
  runs: readonly { points: readonly { step: number; value: number }[] }[],
  maxPoints: number,
): Record<string, number>[] {
  const rows = new Map<number, Record<string, number>>();
  runs.forEach((run, r) => {
    // thin each run first (runs of equal length keep the same steps), so merging stays cheap on long runs
    for (const i of sampledIndices(run.points.length, maxPoints)) {
      const p = run.points[i];
      let row = rows.get(p.step);
      if (!row) rows.set(p.step, (row = { step: p.step }));
      row[`r${r}`] = p.value;
    }
  });
  const sorted = [...rows.values()].sort((a, b) => a.step - b.step);
  return sampledIndices(sorted.length, maxPoints).map((i) => sorted[i]);
}

/** The run's method (runs stored before methods existed are SimCLR's). */
export function runMethod(run: Pick<ComparisonRun, 'config'>): MethodId {
  return run.config.method ?? 'simclr';
}

/**
 * One row per step; the probe and kNN columns are filled at the steps where
 * the encoder was probed. The method's own metrics (its catalog's names) sit
 * between the loss and the step time. A plain table: the label and config are
 * in the file name and the JSON export.
 */
export function runToCsv(run: ComparisonRun): string {
  const metricKeys = METHOD_CATALOG[runMethod(run)].metrics.map((m) => m.key);
  const extraKeys = [...new Set(run.steps.flatMap((s) => Object.keys(s.values ?? {})))].filter((k) => !metricKeys.includes(k));
  const keys = [...metricKeys, ...extraKeys];
  const columns = ['step', 'loss', ...keys, 'stepMs', 'alignment', 'uniformity', 'collapseStd', 'probeTestAccuracy', 'probeTrainAccuracy', 'knnTestAccuracy'];
  const probes = new Map(run.probes.filter((p) => p.kind === 'encoder').map((p) => [p.step, p]));
  const knn = new Map((run.knn ?? []).map((k) => [k.step, k.testAccuracy]));
  const lines = [columns.join(',')];
  const stepsSeen = new Set<number>();
  for (const s of run.steps) {
    stepsSeen.add(s.step);
    const p = probes.get(s.step);
    lines.push([
      s.step, s.loss, ...keys.map((k) => stepValue(s, k) ?? ''), s.stepMs,
      s.alignment ?? '', s.uniformity ?? '', s.collapseStd ?? '', p?.testAccuracy ?? '', p?.trainAccuracy ?? '', knn.get(s.step) ?? '',
    ].join(','));
  }
  // a probe or kNN point at a step without step metrics (should not happen) still gets its row
  for (const step of new Set([...probes.keys(), ...knn.keys()])) {
    if (stepsSeen.has(step)) continue;
    const p = probes.get(step);
    lines.push([step, ...new Array(columns.length - 4).fill(''), p?.testAccuracy ?? '', p?.trainAccuracy ?? '', knn.get(step) ?? ''].join(','));
  }
  return `${lines.join('\n')}\n`;
}

export const JSON_FORMAT = 'ssl-playground-run';

/** Everything about the run, with its config as an object and as the link that reproduces it. */
export function runToJson(run: ComparisonRun): string {
  return JSON.stringify(
    {
      format: JSON_FORMAT,
      version: 1,
      label: run.label,
      comparison: run.comparisonTitle,
      preset: run.preset,
      createdAt: new Date(run.createdAt).toISOString(),
      backend: run.backend,
      link: configToSearch(run.config),
      config: run.config,
      summary: summarize(run),
      baselines: { randomInit: run.randomInitBaseline, rawPixels: run.rawPixelBaseline, randomInitKnn: run.randomInitKnnBaseline ?? null },
      ...(run.mix && { mix: run.mix }),
      probes: run.probes,
      knn: run.knn ?? [],
      steps: run.steps,
    },
    null,
    2,
  );
}

/** A file name from the label, safe on every OS: "simclr-tau-0.05.csv". */
export function exportFileName(run: Pick<ComparisonRun, 'label' | 'index'> & Partial<Pick<ComparisonRun, 'config'>>, extension: string): string {
  const slug = run.label
    .replace(/τ/g, 'tau')
    .replace(/\+/g, 'plus')
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const method = run.config ? runMethod({ config: run.config }) : 'simclr';
  return `${method}-${slug || `run-${run.index + 1}`}.${extension}`;
}
