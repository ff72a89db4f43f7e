/**
 * The generator panel's state (issue 19): the settings being edited, the
 * generator training in progress and what it shows live (losses, the
 * fixed-noise grid, sample quality, nearest real neighbours), and the
 * generators saved for the active dataset. Written by the training client
 * (applyGeneratorMessage) and the panel.
 */
import { create } from 'zustand';
import { deleteGenerator, listGenerators, type BrokenGenerator } from '../data/generatorDb';
import { StorageError, describeError } from '../data/indexedDb';
import {
  assertNever,
  type FromWorker, type GeneratorKind, type GeneratorNeighbours, type GeneratorQualityPoint, type GeneratorSamples, type GeneratorSettings,
  type GeneratorState, type GeneratorStepMetrics, type StoredGeneratorInfo,
} from '../train/protocol';
import {
  GENERATOR_DEFAULTS, GENERATOR_FIELDS, generatorSettingErrors, parseGeneratorField, type GeneratorField,
} from '../core/generatorSettings';

/** What a request asks the worker for: a new generator, more steps of the one it holds, or a saved one. */
export type GeneratorRequestKind = 'train-fresh' | 'train-continue' | 'load';

export interface GeneratorStoreState {
  kind: GeneratorKind;
  /** the numeric settings as typed (validated with parseGeneratorField next to each control) */
  fields: Record<GeneratorField, string>;
  /** the request in progress (train or load), 0 when none */
  requestId: number;
  /** what that request asked for (null before the first) */
  requestKind: GeneratorRequestKind | null;
  running: boolean;
  /** the generator step a training request started from and the one it ends at, when known (the progress line) */
  target: { from: number; to: number } | null;
  /** this generator's steps, oldest first (cleared when a fresh one starts or a saved one loads) */
  steps: GeneratorStepMetrics[];
  /** the latest fixed-noise grid, and the one before it (to show that it changed) */
  samples: GeneratorSamples | null;
  previousSamples: GeneratorSamples | null;
  quality: GeneratorQualityPoint[];
  neighbours: GeneratorNeighbours | null;
  /** the generator the worker holds */
  current: GeneratorState | null;
  /** saved generators of the active dataset, newest first, and the stored ones that cannot be used */
  saved: StoredGeneratorInfo[];
  broken: BrokenGenerator[];
  /** the dataset whose generators `saved` and `broken` list (null before the first refresh) */
  savedDatasetId: string | null;
  /** why the last request failed, or why saving failed */
  error: string | null;
  /** where `error` came from: the worker's answer to a request, or the browser's storage (listing, deleting) */
  errorKind: 'request' | 'storage' | null;
  saveError: string | null;
  cancelled: boolean;
}

export function initialGeneratorFields(kind: GeneratorKind): Record<GeneratorField, string> {
  const d = GENERATOR_DEFAULTS[kind];
  return { steps: String(d.steps), batchSize: String(d.batchSize), width: String(d.width), zDim: String(d.zDim), seed: String(d.seed) };
}

export const initialGeneratorState: GeneratorStoreState = {
  kind: 'dcgan', fields: initialGeneratorFields('dcgan'), requestId: 0, requestKind: null, running: false, target: null,
  steps: [], samples: null, previousSamples: null, quality: [], neighbours: null, current: null,
  saved: [], broken: [], savedDatasetId: null, error: null, errorKind: null, saveError: null, cancelled: false,
};

export const useGeneratorStore = create<GeneratorStoreState>(() => initialGeneratorState);

/**
 * Step metrics kept at most: a long training (20,000 steps) stays a few
 * hundred kB, and the chart draws a few hundred of them anyway.
 */
export const MAX_GENERATOR_STEPS = 4000;

/**
 * `points` with `next` appended; past `max`, every other point of the older
 * half is dropped, so the recent steps stay whole and the early ones keep
 * their shape at half the density (the first point is always kept).
 */
export function appendThinned<T>(points: readonly T[], next: T, max = MAX_GENERATOR_STEPS): T[] {
  if (points.length < max) return [...points, next];
  const half = Math.floor(points.length / 2);
  const older = points.slice(0, half).filter((_, i) => i % 2 === 0);
  return [...older, ...points.slice(half), next];
}

/**
 * A request starts: running, with the last one's error, save error and
 * cancel cleared. A fresh training or a load starts a new history (steps,
 * grids, quality, neighbours cleared); continuing keeps it. `steps`, when
 * given, is how many steps the training takes, for the progress line.
 * The panel calls this with the id generatorClient returned, and so does the
 * experiment runner for the generator it trains, so that it shows live here.
 */
export function beginGeneratorRequest(requestId: number, what: GeneratorRequestKind, steps?: number): void {
  useGeneratorStore.setState((s) => {
    const from = what === 'train-continue' ? (s.current?.config.stepsTrained ?? s.steps[s.steps.length - 1]?.step ?? 0) : 0;
    const target = what === 'load' || steps === undefined ? null : { from, to: from + steps };
    const begun = { requestId, requestKind: what, running: true, target, error: null, errorKind: null, saveError: null, cancelled: false };
    return what === 'train-continue'
      ? begun
      : { ...begun, steps: [], samples: null, previousSamples: null, quality: [], neighbours: null };
  });
}

/** The generator messages the training client hands over. */
export type GeneratorMessage = Extract<FromWorker, { type: `generator-${string}` }>;

/** Applies a generator message from the worker (answers to an older request are dropped). */
export function applyGeneratorMessage(message: GeneratorMessage): void {
  const { requestId } = useGeneratorStore.getState();
  if (requestId === 0 || message.requestId !== requestId) return;
  switch (message.type) {
    case 'generator-step':
      useGeneratorStore.setState((s) => ({ steps: appendThinned(s.steps, message.metrics) }));
      break;
    case 'generator-samples':
      useGeneratorStore.setState((s) =>
        // a second grid of the same step (the one sent at the end) replaces it: "previous" stays an older step
        s.samples && s.samples.step === message.samples.step
          ? { samples: message.samples }
          : { samples: message.samples, previousSamples: s.samples });
      break;
    case 'generator-quality':
      useGeneratorStore.setState((s) => ({ quality: appendThinned(s.quality, message.point) }));
      break;
    case 'generator-neighbours':
      useGeneratorStore.setState({ neighbours: message.result });
      break;
    case 'generator-done': {
      const { saved } = message;
      useGeneratorStore.setState((s) => ({
        running: false,
        current: message.state,
        cancelled: message.cancelled,
        error: message.error ?? null,
        errorKind: message.error ? 'request' : null,
        saveError: message.saveError ?? null,
        // the list shows one dataset's generators: one saved for another (the experiment's source) waits for its refresh
        saved: saved && (s.savedDatasetId === null || s.savedDatasetId === saved.datasetId)
          ? [saved, ...s.saved.filter((g) => g.id !== saved.id)]
          : s.saved,
      }));
      break;
    }
    default:
      assertNever(message);
  }
}

/** A storage failure in the user's words: generatorDb's StorageErrors already are; anything else gets `fallback`'s sentence. */
function storageText(error: unknown, fallback: (detail: string) => string): string {
  return error instanceof StorageError ? error.message : fallback(describeError(error));
}

let refreshCount = 0;

/**
 * Lists the generators saved for `datasetId` (newest first) and the broken
 * ones; the list of another dataset is cleared at once. A failure is put in
 * `error` (it never throws); an answer overtaken by a later refresh is dropped.
 */
export async function refreshSavedGenerators(datasetId: string): Promise<void> {
  const refresh = ++refreshCount;
  useGeneratorStore.setState((s) => (s.savedDatasetId === datasetId ? {} : { saved: [], broken: [], savedDatasetId: datasetId }));
  try {
    const { generators, broken } = await listGenerators(datasetId);
    if (refresh !== refreshCount) return;
    useGeneratorStore.setState((s) => ({
      saved: generators, broken, savedDatasetId: datasetId,
      ...(s.errorKind === 'storage' ? { error: null, errorKind: null } : {}),
    }));
  } catch (error) {
    if (refresh !== refreshCount) return;
    useGeneratorStore.setState({
      error: storageText(error, (detail) => `Could not read the saved generators (${detail}). Reload the page to try again.`),
      errorKind: 'storage',
    });
  }
}

/**
 * Deletes a saved (or broken) generator and drops it from the lists;
 * resolves with whether it was deleted. A failure is put in `error`, and the
 * generator stays listed.
 */
export async function deleteSavedGenerator(id: string): Promise<boolean> {
  try {
    await deleteGenerator(id);
  } catch (error) {
    useGeneratorStore.setState({
      error: storageText(error, (detail) => `Could not delete the saved generator (${detail}). Reload the page and try again.`),
      errorKind: 'storage',
    });
    return false;
  }
  useGeneratorStore.setState((s) => ({
    saved: s.saved.filter((g) => g.id !== id),
    broken: s.broken.filter((b) => b.id !== id),
    // the worker still holds it, but it is no longer stored
    current: s.current?.savedId === id ? { ...s.current, savedId: null } : s.current,
  }));
  return true;
}

/** Chooses DCGAN or VAE; the fields go back to that kind's defaults (their z sizes differ). */
export function setGeneratorKind(kind: GeneratorKind): void {
  useGeneratorStore.setState({ kind, fields: initialGeneratorFields(kind) });
}

export function setGeneratorField(field: GeneratorField, raw: string): void {
  useGeneratorStore.setState((s) => ({ fields: { ...s.fields, [field]: raw } }));
}

export type GeneratorSettingsResult =
  | { ok: true; settings: GeneratorSettings }
  | { ok: false; errors: Partial<Record<GeneratorField, string>> };

/**
 * The settings the typed fields make, or each wrong field's error (the text
 * shown next to it). With `trainCount`, a batch larger than the training
 * split is refused too.
 */
export function generatorSettingsFromFields(
  kind: GeneratorKind, fields: Record<GeneratorField, string>, trainCount?: number,
): GeneratorSettingsResult {
  const errors: Partial<Record<GeneratorField, string>> = {};
  const values = {} as Record<GeneratorField, number>;
  for (const field of Object.keys(GENERATOR_FIELDS) as GeneratorField[]) {
    const parsed = parseGeneratorField(field, fields[field] ?? '');
    if (parsed.ok) values[field] = parsed.value;
    else errors[field] = parsed.error;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const limits = generatorSettingErrors(values, trainCount);
  if (Object.keys(limits).length > 0) return { ok: false, errors: limits };
  return { ok: true, settings: { kind, ...values } };
}
