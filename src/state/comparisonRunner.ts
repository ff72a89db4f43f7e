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
import {
  COMPARISON_PRESETS, presetSpecs, toRunStep,
  type ComparisonPresetId, type ComparisonRun, type RunProbe, type RunSpec, type RunStep,
} from './comparison';
import { saveComparisonRun, useComparisonStore } from './comparisonStore';
import { useConfigStore } from './configStore';
import { useRunStore } from './runStore';
import { claimWorker, onWorkerMessage, releaseWorker } from './trainingClient';

/** The panel redraws the run in progress at most this often. */
const LIVE_MS = 400;

type Phase = 'building' | 'training' | 'probing';

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
}

let active: Active | null = null;

const newId = (): string =>
  typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;

/** Starts a comparison of `preset` on the user's current settings; does nothing while one runs. */
export function runComparison(preset: ComparisonPresetId, stepsPerRun: number): void {
  if (active) return;
  const specs = presetSpecs(preset, useConfigStore.getState().config, stepsPerRun, useRunStore.getState().dataset);
  const name = COMPARISON_PRESETS.find((p) => p.id === preset)?.label ?? preset;
  const comparisonId = newId();
  const time = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  active = {
    comparisonId,
    title: `${name}: ${stepsPerRun} steps per run (${time})`,
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
  };
  useComparisonStore.setState({ selected: comparisonId, message: null, live: null });
  beginRun(0);
}

/** Stops the queue; the completed runs stay. */
export function cancelComparison(): void {
  if (!active) return;
  const done = active.index;
  active.send({ type: 'pause' });
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
    wallMs: 0, backend: null, createdAt: 0,
  };
  setProgress();
  a.send({ type: 'reset', config: spec.config });
}

function setProgress(): void {
  const a = active!;
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

function onMessage(message: FromWorker): void {
  const a = active;
  if (!a) return;
  switch (message.type) {
    case 'model-ready':
      if (a.phase === 'building') {
        a.modelReady = true;
        a.run.config = message.config;
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
