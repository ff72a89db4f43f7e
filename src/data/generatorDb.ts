/**
 * Trained generative models (src/generative: DCGAN, VAE) kept in IndexedDB per
 * dataset, so one generator serves many experiments and survives a reload.
 * Raw IndexedDB and plain typed arrays, no tfjs: the worker turns the weights
 * into variables (src/generative/weights.ts).
 *
 * Its own database, `ssp-generators`: adding stores to the datasets' database
 * would need a version bump in datasetDb.ts, and an upgrade is blocked while
 * another tab keeps the old version open. Two object stores keyed by the
 * generator's id, as in datasetDb.ts: `meta` holds what a list shows, `weights`
 * the arrays (a few MB), so listing never reads weights. A generator's two
 * records are written and deleted in one transaction; everything read back is
 * checked, and a record that does not add up is reported as broken, with why,
 * instead of failing the list or the load.
 */
import { describeError as describe, inTransaction, isQuotaError, openDatabase } from './indexedDb';

const DB_NAME = 'ssp-generators';
const DB_VERSION = 1;
const META = 'meta';
const WEIGHTS = 'weights';

export type GeneratorKind = 'dcgan' | 'vae';
const KIND_NAMES: Record<GeneratorKind, string> = { dcgan: 'DCGAN', vae: 'VAE' };

/** One weight array, named by its layer's position (src/generative/weights.ts), row-major in `shape`. */
export interface NamedWeight {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** What rebuilds the model the weights fit: its sizes and widths, and how it was made. */
export interface GeneratorConfig {
  /** S: the images' side */
  size: number;
  channels: 1 | 3;
  /** w: the narrowest layer's channels */
  width: number;
  /** z's length: DCGAN's zDim, the VAE's latentDim */
  zDim: number;
  /** the seed the model was built and trained with */
  seed: number;
  stepsTrained: number;
  /**
   * the real images it was trained on, when not the whole training split: the
   * budget X = realBudget(train, realFraction, seed) of src/data/generatedMix.ts,
   * `count` images (the experiment trains one generator per budget, so Z never
   * carries images that X withholds)
   */
  budget?: { realFraction: number; seed: number; count: number };
}

/** A trained generator to keep. */
export interface GeneratorToSave {
  /** the dataset it was trained on (its real images, the budget X) */
  datasetId: string;
  kind: GeneratorKind;
  config: GeneratorConfig;
  weights: NamedWeight[];
  /** ms since the epoch */
  createdAt: number;
  /** sample-quality figures by name (e.g. src/eval/sampleQuality.ts's Fréchet proxy, precision, recall), when measured */
  quality?: Record<string, number>;
}

/** A stored generator, as a list shows it (no weights). */
export interface StoredGeneratorInfo {
  id: string;
  datasetId: string;
  kind: GeneratorKind;
  config: GeneratorConfig;
  createdAt: number;
  quality?: Record<string, number>;
  weightCount: number;
  /** numbers in all the weights (4 bytes each) */
  parameterCount: number;
}

export interface StoredGenerator extends StoredGeneratorInfo {
  weights: NamedWeight[];
}

/** A stored generator that cannot be used, and why; listed apart so the page can say so and offer to delete it. */
export interface BrokenGenerator {
  id: string;
  /** its dataset's id when that could be read, else '' */
  datasetId: string;
  reason: string;
}

/** What loadGenerator found: the generator, or why the stored one cannot be used. */
export type LoadedGenerator = { ok: true; generator: StoredGenerator } | { ok: false; broken: BrokenGenerator };

interface WeightsRecord {
  id: string;
  weights: NamedWeight[];
}

const UNAVAILABLE =
  'Saved generators need IndexedDB, which this browser does not allow here (private browsing, or site data turned off). ' +
  'Allow site data for this page, or use a normal window, then try again.';

function openDb(): Promise<IDBDatabase> {
  return openDatabase({
    name: DB_NAME, version: DB_VERSION, stores: [META, WEIGHTS], unavailable: UNAVAILABLE,
    blocked: 'The saved generators are locked by another tab of this page running an older version. Close the other tabs, then try again.',
  });
}

/** Runs `body` in one transaction over both stores (see inTransaction); rejects with a StorageError whose message is `explain(error)`. */
function transact<T>(
  mode: IDBTransactionMode,
  body: (meta: IDBObjectStore, weights: IDBObjectStore) => () => T,
  explain: (error: unknown) => string,
): Promise<T> {
  return inTransaction(openDb, [META, WEIGHTS], mode, body, (error) => explain(error));
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isText = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** Why a config cannot rebuild a model, or null when it can. */
function checkConfig(config: unknown): string | null {
  if (!isRecord(config)) return 'its configuration is missing';
  for (const key of ['size', 'width', 'zDim'] as const) {
    if (!(isCount(config[key]) && config[key] >= 1)) return `its configuration's ${key} is not a whole number ≥ 1`;
  }
  if (config.channels !== 1 && config.channels !== 3) return 'its configuration\'s channels is not 1 or 3';
  if (!(typeof config.seed === 'number' && Number.isInteger(config.seed))) return 'its configuration\'s seed is not a whole number';
  if (!isCount(config.stepsTrained)) return 'its configuration\'s stepsTrained is not a whole number ≥ 0';
  if (config.budget !== undefined) {
    const b = config.budget;
    if (!isRecord(b) || typeof b.realFraction !== 'number' || !(b.realFraction > 0 && b.realFraction <= 1)
      || !(typeof b.seed === 'number' && Number.isInteger(b.seed)) || !(isCount(b.count) && b.count >= 1)) {
      return 'its configuration\'s real-data budget is not a share in (0, 1] with a whole seed and count';
    }
  }
  return null;
}

/** Why sample-quality figures are malformed, or null when absent or well formed. */
function checkQuality(quality: unknown): string | null {
  if (quality === undefined) return null;
  if (!isRecord(quality)) return 'its sample-quality figures are unreadable';
  for (const [name, value] of Object.entries(quality)) {
    if (name === '' || typeof value !== 'number' || !Number.isFinite(value)) return `its sample-quality figure “${name}” is not a finite number`;
  }
  return null;
}

/** Why a stored description cannot be listed, or null when it is whole. */
function checkInfo(record: unknown): string | null {
  if (!isRecord(record)) return 'its description is unreadable';
  if (!isText(record.id) || !isText(record.datasetId)) return 'its description has no id or dataset';
  if (record.kind !== 'dcgan' && record.kind !== 'vae') return `its kind ${JSON.stringify(record.kind)} is neither dcgan nor vae`;
  if (!(typeof record.createdAt === 'number' && Number.isFinite(record.createdAt))) return 'its creation time is missing';
  if (!(isCount(record.weightCount) && record.weightCount >= 1 && isCount(record.parameterCount))) return 'its weight counts are missing';
  return checkConfig(record.config) ?? checkQuality(record.quality);
}

/** Why a list of weights is malformed, or null when every weight is a named, finite array of its shape. */
function checkWeightList(weights: unknown): string | null {
  if (!Array.isArray(weights) || weights.length === 0) return 'its weights are missing';
  const names = new Set<string>();
  for (let k = 0; k < weights.length; k++) {
    const weight: unknown = weights[k];
    if (!isRecord(weight)) return `weight ${k} is unreadable`;
    const { name, shape, values } = weight;
    if (!isText(name)) return `weight ${k}'s name is not text`;
    if (names.has(name)) return `the weight name “${name}” appears twice`;
    names.add(name);
    if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => isCount(d) && d >= 1)) {
      return `weight “${name}” has a malformed shape ${JSON.stringify(shape)}`;
    }
    if (!(values instanceof Float32Array)) return `weight “${name}” has no float32 values`;
    const size = shape.reduce((a: number, b: number) => a * b, 1);
    if (values.length !== size) return `weight “${name}” has ${values.length} values for shape [${shape.join(', ')}] (${size})`;
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) return `weight “${name}” has ${Number.isNaN(values[i]) ? 'a NaN' : 'an infinite'} value at ${i}`;
    }
  }
  return null;
}

/** Why a weights record does not match its description, or null when it does. */
function checkWeights(info: StoredGeneratorInfo, record: unknown): string | null {
  if (!isRecord(record)) return 'its weights are missing';
  const reason = checkWeightList(record.weights);
  if (reason) return reason;
  const weights = record.weights as NamedWeight[];
  const parameters = weights.reduce((sum, w) => sum + w.values.length, 0);
  if (weights.length !== info.weightCount || parameters !== info.parameterCount) {
    return `it has ${weights.length} weights of ${parameters} numbers where its description says ${info.weightCount} of ${info.parameterCount}`;
  }
  return null;
}

/** The view itself when it covers its whole buffer, else a copy: storing a view stores its whole buffer. */
function compact(values: Float32Array): Float32Array {
  return values.byteOffset === 0 && values.byteLength === values.buffer.byteLength ? values : values.slice();
}

/** "DCGAN generator for “fashion-mnist”": how messages name a generator. */
function title(kind: GeneratorKind, datasetId: string): string {
  return `${KIND_NAMES[kind]} generator for “${datasetId}”`;
}

/**
 * The id a generator is stored under: its dataset, kind, seed, steps and
 * creation time, so two trainings never share one, and saving the same
 * generator twice replaces it.
 */
export function generatorId(generator: Pick<GeneratorToSave, 'datasetId' | 'kind' | 'config' | 'createdAt'>): string {
  const { datasetId, kind, config, createdAt } = generator;
  return `generator:${datasetId}:${kind}:seed${config.seed}:steps${config.stepsTrained}:${createdAt}`;
}

/**
 * Stores a trained generator (replacing one with the same id) and resolves
 * with its description. Checks it first, like a record read back: a NaN or
 * infinite weight (a diverged training), a malformed shape, a repeated or
 * empty name or a malformed config throws an Error saying so, and nothing is
 * written. Rejects with a StorageError (kind unavailable, blocked, quota or
 * failed) when the browser does not store it.
 */
export async function saveGenerator(generator: GeneratorToSave): Promise<StoredGeneratorInfo> {
  const weights = generator.weights.map((w) => ({ name: w.name, shape: [...w.shape], values: compact(w.values) }));
  const info: StoredGeneratorInfo = {
    id: generatorId(generator),
    datasetId: generator.datasetId,
    kind: generator.kind,
    config: { ...generator.config },
    createdAt: generator.createdAt,
    weightCount: weights.length,
    parameterCount: weights.reduce((sum, w) => sum + w.values.length, 0),
  };
  if (generator.quality !== undefined) info.quality = { ...generator.quality };
  const reason = checkWeightList(weights) ?? checkInfo(info) ?? checkWeights(info, { id: info.id, weights });
  const name = isText(generator.datasetId) && (generator.kind === 'dcgan' || generator.kind === 'vae') ? title(generator.kind, generator.datasetId) : 'generator';
  if (reason) throw new Error(`The ${name} cannot be saved: ${reason}. Train it again, then save it.`);
  const megabytes = Math.ceil((4 * info.parameterCount) / 1e6);
  const record: WeightsRecord = { id: info.id, weights };
  await transact(
    'readwrite',
    (metaStore, weightStore) => {
      weightStore.put(record);
      metaStore.put(info);
      return () => undefined;
    },
    (error) =>
      isQuotaError(error)
        ? `There is not enough storage to save the ${name} (${megabytes} MB). ` +
          'Delete saved generators or datasets you no longer need, or free disk space, then save it again.'
        : `Could not save the ${name} in this browser (${describe(error)}). Try again; if it keeps failing, reload the page.`,
  );
  return info;
}

/** A broken record as lists name it. */
function broken(id: unknown, record: unknown, reason: string): BrokenGenerator {
  const datasetId = isRecord(record) && typeof record.datasetId === 'string' ? record.datasetId : '';
  return { id: String(id), datasetId, reason };
}

/**
 * The stored generators, newest first, all of them or those of one dataset,
 * and apart from them the ones that cannot be used (a description that is
 * incomplete, or no weights record), with why. Reads no weights, only the
 * weights records' keys: a weight that is NaN or misshapen is found by
 * loadGenerator. Listing one dataset's, a broken record whose dataset cannot
 * be read is listed too, so that it can still be found and deleted.
 */
export async function listGenerators(datasetId?: string): Promise<{ generators: StoredGeneratorInfo[]; broken: BrokenGenerator[] }> {
  const [records, weightKeys] = await transact(
    'readonly',
    (metaStore, weightStore) => {
      const metaRequest = metaStore.getAll();
      const keyRequest = weightStore.getAllKeys();
      return () => [metaRequest.result as unknown[], new Set(keyRequest.result)] as const;
    },
    (error) => `Could not read the saved generators (${describe(error)}). Reload the page to try again.`,
  );
  const generators: StoredGeneratorInfo[] = [];
  const skipped: BrokenGenerator[] = [];
  for (const record of records) {
    const id = isRecord(record) ? record.id : undefined;
    const reason = checkInfo(record) ?? (weightKeys.has(id as IDBValidKey) ? null : 'its weights are missing');
    if (reason) {
      const entry = broken(id, record, reason);
      if (datasetId === undefined || entry.datasetId === datasetId || entry.datasetId === '') skipped.push(entry);
    } else if (datasetId === undefined || (record as StoredGeneratorInfo).datasetId === datasetId) {
      generators.push(record as StoredGeneratorInfo);
    }
  }
  return { generators: generators.sort((a, b) => b.createdAt - a.createdAt), broken: skipped };
}

/**
 * The stored generator with this id, its weights checked (every one named,
 * of its shape, finite, as many as its description says); `ok: false` with
 * the reason when it does not add up; null when there is none. Rejects with a
 * StorageError only when the storage itself cannot be read.
 */
export async function loadGenerator(id: string): Promise<LoadedGenerator | null> {
  const [info, weights] = await transact(
    'readonly',
    (metaStore, weightStore) => {
      const infoRequest = metaStore.get(id);
      const weightRequest = weightStore.get(id);
      return () => [infoRequest.result as unknown, weightRequest.result as unknown] as const;
    },
    (error) => `Could not read the saved generator “${id}” (${describe(error)}). Reload the page to try again.`,
  );
  // weights without a description are unreachable leftovers: as good as none
  if (info === undefined) return null;
  const reason = checkInfo(info) ?? checkWeights(info as StoredGeneratorInfo, weights);
  if (reason) return { ok: false, broken: broken(id, info, reason) };
  return { ok: true, generator: { ...(info as StoredGeneratorInfo), weights: (weights as WeightsRecord).weights } };
}

/** Removes a stored generator, both its records at once; nothing happens when there is none with this id. */
export async function deleteGenerator(id: string): Promise<void> {
  await transact(
    'readwrite',
    (metaStore, weightStore) => {
      metaStore.delete(id);
      weightStore.delete(id);
      return () => undefined;
    },
    (error) => `Could not delete the saved generator (${describe(error)}). Reload the page and try again.`,
  );
}

/**
 * Removes every stored generator of a dataset (broken ones included), in one
 * transaction: for when the dataset itself is deleted. Resolves with how many.
 */
export async function deleteGeneratorsOf(datasetId: string): Promise<number> {
  return transact(
    'readwrite',
    (metaStore, weightStore) => {
      let deleted = 0;
      const request = metaStore.getAll();
      request.onsuccess = () => {
        for (const record of request.result as unknown[]) {
          if (!isRecord(record) || record.datasetId !== datasetId) continue;
          metaStore.delete(record.id as IDBValidKey);
          weightStore.delete(record.id as IDBValidKey);
          deleted += 1;
        }
      };
      return () => deleted;
    },
    (error) => `Could not delete the generators saved for “${datasetId}” (${describe(error)}). Reload the page and try again.`,
  );
}
