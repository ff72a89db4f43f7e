/**
 * Runs a comparison through the ordinary worker protocol, one run after
 * another. For each run spec: reset with its config (a new encoder from the
 * same seed), wait for the worker to be idle, start with `untilStep` so the
 * worker pauses by itself after exactly that many steps, probe once more if
 * the last periodic probe was earlier, then record the run and go on. While
 * it runs the comparison owns the worker (claimWorker): the user's actions and
 * setting changes are held back. When it ends or is cancelled the worker gets
 * a new encoder with the user's own settings (releaseWorker); after an error
 * the failed run stays loaded with the error shown, and the user's live
 * settings are applied to it.
 */
import type { FromWorker, ToWorker } from '../train/protocol';
import type { ExperimentConfig } from '../core/config';
import {
  COMPARISON_PRESETS, presetSpecs, toRunStep,
  type ComparisonPresetId, type ComparisonRun, type SweepPresetId, type RunProbe, type RunSpec, type RunStep,
} from './comparison';
import { saveComparisonRun, useComparisonStore } from './comparisonStore';
import { useConfigStore } from './configStore';
import { useRunStore } from './runStore';
import { claimWorker, nextGeneratorRequestId, onWorkerMessage, releaseWorker } from './trainingClient';
import { experimentSpecs, type GeneratedExperimentSettings } from './generatedExperiment';
import { beginGeneratorRequest, useGeneratorStore } from './generatorStore';
import { METHOD_CATALOG } from '../core/methods';

/** The panel redraws the run in progress at most this often. */
const LIVE_MS = 400;

type Phase = 'generator' | 'mixing' | 'building' | 'training' | 'probing';

/**
 * The generated-data experiment's own state: the generators it trains (one
 * per real budget, on that budget's X, when asked) and the mix request in flight.
 */
interface Experiment {
  /** the user's settings when it started: every run's config is made from them */
  base: ExperimentConfig;
  settings: GeneratedExperimentSettings;
  sourceDatasetId: string;
  generatorRequestId: number;
  /** the budget whose generator is training, and its steps taken */
  generatorFraction: number;
  generatorStep: number;
  /** budgets whose generator is trained: the saved generator's id, or null for the one the worker holds (not saved) */
  generators: Map<number, string | null>;
  mixRequestId: number;
}

interface Active {
  comparisonId: string;
  title: string;
  preset: ComparisonPresetId;
  specs: RunSpec[];
  send: (message: ToWorker) => void;
  unsubscribe: () => void;
  unwatchCrash: () => void;
  index: number;
  phase: Phase;
  modelReady: boolean;
  run: ComparisonRun;
  steps: RunStep[];
  probes: RunProbe[];
  startedAt: number;
  liveTimer: ReturnType<typeof setTimeout> | null;
  experiment: Experiment | null;
}

let active: Active | null = null;
let mixRequestId = 0;

const newId = (): string =>
  typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;

/** Starts a comparison of `preset` on the user's current settings; does nothing while one runs. */
export function runComparison(preset: SweepPresetId, stepsPerRun: number): void {
  if (active) return;
  const specs = presetSpecs(preset, useConfigStore.getState().config, stepsPerRun, useRunStore.getState().dataset);
  const name = COMPARISON_PRESETS.find((p) => p.id === preset)?.label ?? preset;
  begin(specs, `${name}: ${stepsPerRun} steps per run`, preset, null);
  beginRun(0);
}

/**
 * The generated-data experiment (issue 19): trains a generator first when
 * asked (else Z comes from the saved one chosen), then one run per real
 * budget × ratio |Z|/|X|, each on its X ∪ Z built by the worker, all at the
 * same steps and batch size, each probed on the real test split.
 */
export function runGeneratedExperiment(settings: GeneratedExperimentSettings): void {
  if (active) return;
  const base = useConfigStore.getState().config;
  const dataset = useRunStore.getState().dataset;
  const sourceDatasetId = dataset?.mix?.sourceId ?? base.dataset;
  const savedId = settings.generator.source === 'saved' ? settings.generator.id : null;
  const specs = experimentSpecs(base, settings, sourceDatasetId, savedId);
  if (specs.length === 0) return;
  const budgets = settings.realFractions.map((f) => `${Number((f * 100).toPrecision(3))}%`).join(', ');
  const ratios = settings.ratios.join(', ');
  const title = `Generated data, ${METHOD_CATALOG[settings.method].label}: real ${budgets} × |Z|/|X| ${ratios}, ${settings.steps} steps per run`;
  begin(specs, title, 'generated-data', {
    base, settings, sourceDatasetId, generatorRequestId: 0, generatorFraction: 0, generatorStep: 0, generators: new Map(), mixRequestId: 0,
  });
  beginRun(0);
}

/**
 * Trains the generator of run `index`'s budget on that budget's X (the
 * lecture's set-up: the generator sees only the real images the encoder
 * will), before the budget's first run that needs Z.
 */
function trainBudgetGenerator(index: number): void {
  const a = active!;
  const experiment = a.experiment!;
  const { settings } = experiment;
  if (settings.generator.source !== 'train') return;
  const fraction = a.specs[index].mix!.realFraction;
  const requestId = nextGeneratorRequestId();
  experiment.generatorRequestId = requestId;
  experiment.generatorFraction = fraction;
  experiment.generatorStep = 0;
  a.index = index;
  a.phase = 'generator';
  setProgress();
  beginGeneratorRequest(requestId, 'train-fresh', settings.generator.settings.steps);
  a.send({
    type: 'generator-train', requestId, fresh: true,
    settings: { ...settings.generator.settings, budget: { realFraction: fraction, seed: experiment.base.seed } },
  });
}

function begin(specs: RunSpec[], name: string, preset: ComparisonPresetId, experiment: Experiment | null): void {
  const comparisonId = newId();
  const time = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  active = {
    comparisonId,
    title: `${name} (${time})`,
    preset,
    specs,
    send: claimWorker(),
    unsubscribe: onWorkerMessage(onMessage),
    // a crashed worker sends no message: the training client marks the run store instead
    unwatchCrash: useRunStore.subscribe((s, prev) => {
      if (s.status === 'error' && prev.status !== 'error') stop({ kind: 'error', text: runError(s.error) });
    }),
    index: -1,
    phase: 'building',
    modelReady: false,
    run: null as unknown as ComparisonRun,
    steps: [],
    probes: [],
    startedAt: 0,
    liveTimer: null,
    experiment,
  };
  useComparisonStore.setState({ selected: comparisonId, message: null, live: null });
}

/** Stops the queue; the completed runs stay. */
export function cancelComparison(): void {
  if (!active) return;
  const done = active.index;
  active.send({ type: 'pause' });
  if (active.phase === 'generator' && active.experiment) active.send({ type: 'generator-cancel', requestId: active.experiment.generatorRequestId });
  stop({ kind: 'info', text: `Comparison cancelled during run ${done + 1} of ${active.specs.length}; ${done === 1 ? '1 completed run was' : `${done} completed runs were`} kept.` });
}

export const comparisonRunning = (): boolean => active !== null;

function runError(message: string | null): string {
  const a = active;
  const where = a ? `Run ${a.index + 1} of ${a.specs.length} (${a.specs[a.index].label}) stopped` : 'The comparison stopped';
  return `${where}: ${message ?? 'the training worker reported an error.'} The comparison was stopped and its completed runs are kept; `
    + 'the failed run is still loaded, so press Reset to go on with your own settings.';
}

function beginRun(index: number): void {
  const a = active!;
  const spec = a.specs[index];
  a.index = index;
  a.phase = 'building';
  a.modelReady = false;
  a.steps = [];
  a.probes = [];
  a.run = {
    id: newId(), comparisonId: a.comparisonId, comparisonTitle: a.title, preset: a.preset, index, label: spec.label,
    config: spec.config, stepsRequested: spec.steps, steps: [], probes: [], randomInitBaseline: null, rawPixelBaseline: null,
    wallMs: 0, backend: null, createdAt: 0, knn: [], randomInitKnnBaseline: null,
  };
  const experiment = a.experiment;
  if (spec.mix && experiment && spec.mix.ratio > 0 && experiment.settings.generator.source === 'train' && !experiment.generators.has(spec.mix.realFraction)) {
    trainBudgetGenerator(index);
    return;
  }
  if (spec.mix && a.experiment) {
    // the worker builds X ∪ Z first; the reset follows on mix-ready
    a.phase = 'mixing';
    a.experiment.mixRequestId = ++mixRequestId;
    setProgress();
    a.send({ type: 'mix-dataset', request: { ...spec.mix, requestId: a.experiment.mixRequestId } });
    return;
  }
  setProgress();
  a.send({ type: 'reset', config: spec.config });
}

function setProgress(): void {
  const a = active!;
  if (a.phase === 'generator' && a.experiment) {
    const { settings, generatorStep, generatorFraction } = a.experiment;
    const steps = settings.generator.source === 'train' ? settings.generator.settings.steps : 0;
    const label = `the generator of the ${Number((generatorFraction * 100).toPrecision(3))}% budget`;
    useComparisonStore.setState({
      progress: { comparisonId: a.comparisonId, index: a.index, total: a.specs.length, label, step: generatorStep, steps, phase: 'generator' },
    });
    return;
  }
  useComparisonStore.setState({
    progress: {
      comparisonId: a.comparisonId, index: a.index, total: a.specs.length, label: a.specs[a.index].label,
      step: a.steps.at(-1)?.step ?? 0, steps: a.specs[a.index].steps, phase: a.phase,
    },
  });
}

/** Shows the run in progress at most every LIVE_MS: steps arrive far faster than the charts should redraw. */
function scheduleLive(): void {
  const a = active!;
  a.liveTimer ??= setTimeout(() => {
    a.liveTimer = null;
    if (active !== a) return;
    useComparisonStore.setState({ live: { ...a.run, steps: a.steps.slice(), probes: a.probes.slice() } });
    setProgress();
  }, LIVE_MS);
}

/** The share of the training split the run's generator saw: its budget's (trained here), or a saved one's (1 when it saw all of it). */
function generatorRealFraction(experiment: Experiment, runFraction: number): number | null {
  const { generator } = experiment.settings;
  if (generator.source === 'train') return runFraction;
  const saved = useGeneratorStore.getState().saved.find((g) => g.id === generator.id);
  return saved ? saved.config.budget?.realFraction ?? 1 : null;
}

/** The progress line during the generator's training, at most every LIVE_MS. */
function scheduleProgress(): void {
  const a = active!;
  a.liveTimer ??= setTimeout(() => {
    a.liveTimer = null;
    if (active === a) setProgress();
  }, LIVE_MS);
}

function onMessage(message: FromWorker): void {
  const a = active;
  if (!a) return;
  switch (message.type) {
    case 'model-ready':
      if (a.phase === 'building') {
        a.modelReady = true;
        // a run on X ∪ Z records the real dataset it came from (its mix says the rest): the mixed set's id is this visit's only
        const spec = a.specs[a.index];
        a.run.config = spec.mix ? { ...message.config, dataset: spec.config.dataset } : message.config;
      }
      break;
    case 'generator-step':
      if (a.phase === 'generator' && a.experiment && message.requestId === a.experiment.generatorRequestId) {
        a.experiment.generatorStep += 1;
        scheduleProgress();
      }
      break;
    case 'generator-done':
      if (a.phase === 'generator' && a.experiment && message.requestId === a.experiment.generatorRequestId) {
        if (message.error) {
          stop({ kind: 'error', text: `The experiment stopped while training its generator: ${message.error}` });
        } else if (!message.cancelled) {
          // this budget's Z comes from the generator just trained: saved, by its id; not saved (no storage), the one the worker holds
          const fraction = a.experiment.generatorFraction;
          const id = message.saved?.id ?? null;
          a.experiment.generators.set(fraction, id);
          a.specs = a.specs.map((spec) => (spec.mix && spec.mix.realFraction === fraction && spec.mix.ratio > 0 ? { ...spec, mix: { ...spec.mix, generatorId: id } } : spec));
          beginRun(a.index);
        }
      }
      break;
    case 'mix-ready':
      if (a.phase === 'mixing' && a.experiment && message.mix.requestId === a.experiment.mixRequestId) {
        const spec = a.specs[a.index];
        const { mix } = message;
        a.run.mix = {
          sourceDatasetId: spec.mix!.sourceDatasetId, realFraction: spec.mix!.realFraction, ratio: spec.mix!.ratio,
          realCount: mix.realCount, generatedCount: mix.generatedCount, generatorId: spec.mix!.generatorId,
          generatorRealFraction: spec.mix!.ratio === 0 ? null : generatorRealFraction(a.experiment, spec.mix!.realFraction),
        };
        a.phase = 'building';
        setProgress();
        a.send({ type: 'reset', config: { ...spec.config, dataset: mix.datasetId } });
      }
      break;
    case 'mix-error':
      if (a.phase === 'mixing' && a.experiment && message.requestId === a.experiment.mixRequestId) {
        stop({ kind: 'error', text: `Run ${a.index + 1} of ${a.specs.length} (${a.specs[a.index].label}) could not build its training set: ${message.message} The completed runs are kept.` });
      }
      break;
    case 'knn':
      if (a.phase === 'training' || a.phase === 'probing') {
        const { point } = message;
        if (point.kind === 'random-init') a.run.randomInitKnnBaseline = point.testAccuracy;
        else if (point.kind === 'encoder') a.run.knn = [...(a.run.knn ?? []), { step: point.step, testAccuracy: point.testAccuracy }];
        scheduleLive();
      }
      break;
    case 'backend':
      a.run.backend = message.backend;
      break;
    case 'status':
      if (message.status === 'idle' && a.phase === 'building' && a.modelReady) {
        a.phase = 'training';
        a.run.backend = useRunStore.getState().backend;
        a.startedAt = performance.now();
        setProgress();
        a.send({ type: 'start', untilStep: a.specs[a.index].steps });
      } else if (message.status === 'paused' && a.phase === 'training') {
        a.run.wallMs = performance.now() - a.startedAt;
        const last = a.steps.at(-1)?.step ?? 0;
        const dataset = useRunStore.getState().dataset;
        const probeable = !!dataset && dataset.labelled && dataset.testCount > 0;
        const probedAtEnd = a.probes.some((p) => p.kind === 'encoder' && p.step === last);
        if (probeable && last > 0 && !probedAtEnd) {
          a.phase = 'probing';
          setProgress();
          a.send({ type: 'probe' });
        } else {
          finishRun();
        }
      } else if (message.status === 'paused' && a.phase === 'probing') {
        finishRun();
      }
      break;
    case 'step':
      if (a.phase === 'training') {
        a.steps.push(toRunStep(message.metrics));
        scheduleLive();
      }
      break;
    case 'probe':
      if (a.phase === 'training' || a.phase === 'probing') {
        const { point } = message;
        if (point.kind === 'random-init') a.run.randomInitBaseline = point.testAccuracy;
        else if (point.kind === 'raw-pixels') a.run.rawPixelBaseline = point.testAccuracy;
        a.probes.push({ kind: point.kind, step: point.step, testAccuracy: point.testAccuracy, trainAccuracy: point.trainAccuracy });
        scheduleLive();
      }
      break;
    case 'error':
      stop({ kind: 'error', text: runError(message.message) });
      break;
    default:
      // previews, affinity snapshots and the rest are the panels' business
      break;
  }
}

function finishRun(): void {
  const a = active!;
  const run: ComparisonRun = { ...a.run, steps: a.steps, probes: a.probes.filter((p) => p.kind === 'encoder'), createdAt: Date.now() };
  useComparisonStore.setState((s) => ({ runs: [...s.runs, run], live: null }));
  void saveComparisonRun(run);
  if (a.index + 1 < a.specs.length) beginRun(a.index + 1);
  else stop(null);
}

/** Ends the comparison and gives the worker back with the user's settings. */
function stop(message: { kind: 'error' | 'info'; text: string } | null): void {
  const a = active;
  if (!a) return;
  active = null;
  if (a.liveTimer) clearTimeout(a.liveTimer);
  a.unsubscribe();
  a.unwatchCrash();
  useComparisonStore.setState((s) => ({
    progress: null,
    live: null,
    message,
    // a comparison that completed no run has nothing to show: show the latest one that did
    selected: s.runs.some((r) => r.comparisonId === s.selected) ? s.selected : s.runs.at(-1)?.comparisonId ?? null,
  }));
  // after an error the failed run stays loaded, with its history and the error banner, until the user resets
  releaseWorker({ reset: message?.kind !== 'error' });
}
