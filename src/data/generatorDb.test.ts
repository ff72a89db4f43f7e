/**
 * Stored generators on fake-indexeddb (an in-memory IndexedDB for Node that
 * follows the spec, so transactions and aborts behave as in a browser).
 */
import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  deleteGenerator, deleteGeneratorsOf, generatorId, listGenerators, loadGenerator, saveGenerator,
  type GeneratorToSave, type NamedWeight, type StoredGenerator,
} from './generatorDb';
import { StorageError } from './indexedDb';
import { writeRawRecord } from './idbRaw.testutil';

/** A small generator record: two weights whose values count up from `start`. */
function generator(datasetId: string, createdAt: number, overrides: Partial<GeneratorToSave> = {}, start = 0): GeneratorToSave {
  return {
    datasetId, kind: 'dcgan', createdAt,
    config: { size: 16, channels: 1, width: 4, zDim: 8, seed: 3, stepsTrained: 200 },
    weights: [
      { name: 'generator.layer0.kernel', shape: [2, 3], values: Float32Array.from({ length: 6 }, (_, i) => start + i / 4) },
      { name: 'generator.layer0.gamma', shape: [3], values: Float32Array.of(1, 1, -0.5) },
    ],
    ...overrides,
  };
}

/** Writes a record straight into a store, as an older version or a damaged profile might have left it. */
async function writeRaw(store: 'meta' | 'weights', record: object): Promise<void> {
  await listGenerators(); // creates the database
  await writeRawRecord('ssp-generators', 1, store, record);
}

async function loaded(id: string): Promise<StoredGenerator> {
  const result = await loadGenerator(id);
  if (!result?.ok) throw new Error(`expected generator ${id} to load, got ${JSON.stringify(result)}`);
  return result.generator;
}

async function brokenReason(id: string): Promise<string> {
  const result = await loadGenerator(id);
  if (!result || result.ok) throw new Error(`expected generator ${id} to be broken`);
  return result.broken.reason;
}

beforeEach(() => {
  vi.stubGlobal('indexedDB', new IDBFactory());
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('generatorDb', () => {
  it('saves, lists, loads and deletes a generator, weights bit for bit', async () => {
    const saved = generator('fashion-mnist', 1000, { quality: { precision: 0.61, recall: 0.4 } });
    const info = await saveGenerator(saved);
    expect(info).toEqual({
      id: 'generator:fashion-mnist:dcgan:seed3:steps200:1000', datasetId: 'fashion-mnist', kind: 'dcgan',
      config: saved.config, createdAt: 1000, quality: { precision: 0.61, recall: 0.4 }, weightCount: 2, parameterCount: 9,
    });
    expect(info.id).toBe(generatorId(saved));
    expect(await listGenerators()).toEqual({ generators: [info], broken: [] });

    const back = await loaded(info.id);
    expect(back).toEqual({ ...info, weights: saved.weights });
    expect(back.weights[0].values).toBeInstanceOf(Float32Array);
    expect(Array.from(back.weights[0].values)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);

    await deleteGenerator(info.id);
    expect(await loadGenerator(info.id)).toBeNull();
    expect(await listGenerators()).toEqual({ generators: [], broken: [] });
    await deleteGenerator('nobody'); // nothing there: no error
  });

  it('lists one dataset’s generators, newest first, and deletes all of a dataset’s at once', async () => {
    await saveGenerator(generator('a', 1));
    await saveGenerator(generator('b', 2));
    await saveGenerator(generator('a', 3, { kind: 'vae' }));
    expect((await listGenerators('a')).generators.map((g) => [g.kind, g.createdAt])).toEqual([['vae', 3], ['dcgan', 1]]);
    expect((await listGenerators('b')).generators.map((g) => g.createdAt)).toEqual([2]);
    expect((await listGenerators('c')).generators).toEqual([]);
    expect((await listGenerators()).generators.map((g) => g.createdAt)).toEqual([3, 2, 1]);
    expect(await deleteGeneratorsOf('a')).toBe(2);
    expect((await listGenerators()).generators.map((g) => g.datasetId)).toEqual(['b']);
  });

  it('stores only the numbers of a weight that is a view into a larger buffer', async () => {
    const big = new Float32Array(1000).fill(7);
    const view = big.subarray(10, 16);
    const info = await saveGenerator(generator('a', 1, { weights: [{ name: 'w', shape: [6], values: view }] }));
    const [weight] = (await loaded(info.id)).weights;
    expect(weight.values.buffer.byteLength).toBe(24);
  });

  it('refuses to save a generator with a NaN weight, a misshapen one or a malformed config, writing nothing', async () => {
    const withValues = (values: Float32Array, shape = [3]): NamedWeight[] => [{ name: 'w', shape, values }];
    await expect(saveGenerator(generator('fashion-mnist', 1, { weights: withValues(Float32Array.of(0, Number.NaN, 1)) }))).rejects.toThrow(
      'The DCGAN generator for “fashion-mnist” cannot be saved: weight “w” has a NaN value at 1. Train it again, then save it.',
    );
    await expect(saveGenerator(generator('a', 1, { weights: withValues(Float32Array.of(0, 1, 2), [2, 2]) }))).rejects.toThrow(/weight “w” has 3 values for shape \[2, 2\] \(4\)/);
    await expect(saveGenerator(generator('a', 1, { weights: [] }))).rejects.toThrow(/its weights are missing/);
    await expect(saveGenerator(generator('a', 1, { config: { size: 16, channels: 1, width: 0, zDim: 8, seed: 1, stepsTrained: 0 } }))).rejects.toThrow(
      /configuration's width is not a whole number ≥ 1/,
    );
    await expect(saveGenerator(generator('a', 1, { quality: { fid: Number.POSITIVE_INFINITY } }))).rejects.toThrow(/sample-quality figure “fid” is not a finite number/);
    expect(await listGenerators()).toEqual({ generators: [], broken: [] });
  });

  it('reports broken records with a reason instead of failing: wrong shape, missing weights, NaN, a name that is not text', async () => {
    const good = await saveGenerator(generator('a', 10));
    const record = (id: string, createdAt: number) => ({ ...good, id, createdAt });
    await writeRaw('meta', record('no-weights', 20));
    await writeRaw('meta', { id: 'junk', datasetId: 'a', kind: 'gan' });
    await writeRaw('meta', { id: 'anonymous' });
    await writeRaw('meta', record('wrong-shape', 30));
    await writeRaw('weights', { id: 'wrong-shape', weights: [{ name: 'w', shape: [2, 2], values: new Float32Array(5) }, { name: 'v', shape: [4], values: new Float32Array(4) }] });
    await writeRaw('meta', record('nan', 40));
    await writeRaw('weights', { id: 'nan', weights: [{ name: 'w', shape: [6], values: Float32Array.of(0, 1, 2, 3, Number.NaN, 5) }, { name: 'v', shape: [3], values: new Float32Array(3) }] });
    await writeRaw('meta', record('nameless', 50));
    await writeRaw('weights', { id: 'nameless', weights: [{ name: 7, shape: [6], values: new Float32Array(6) }, { name: 'v', shape: [3], values: new Float32Array(3) }] });
    await writeRaw('meta', record('plain-array', 60));
    await writeRaw('weights', { id: 'plain-array', weights: [{ name: 'w', shape: [6], values: [0, 0, 0, 0, 0, 0] }, { name: 'v', shape: [3], values: new Float32Array(3) }] });
    await writeRaw('meta', record('miscounted', 70));
    await writeRaw('weights', { id: 'miscounted', weights: [{ name: 'w', shape: [9], values: new Float32Array(9) }] });
    // weights without a description are unreachable leftovers, not listed at all
    await writeRaw('weights', { id: 'leftover', weights: [] });

    const { generators, broken } = await listGenerators();
    // listing reads no weights: those whose weights are there but wrong are listed, and loading them says why
    expect(generators.map((g) => g.id)).toEqual(['miscounted', 'plain-array', 'nameless', 'nan', 'wrong-shape', good.id]);
    expect(broken).toEqual([
      { id: 'anonymous', datasetId: '', reason: 'its description has no id or dataset' },
      { id: 'junk', datasetId: 'a', reason: 'its kind "gan" is neither dcgan nor vae' },
      { id: 'no-weights', datasetId: 'a', reason: 'its weights are missing' },
    ]);
    // one dataset's list keeps its own broken records and those whose dataset is unreadable
    await writeRaw('meta', { ...good, id: 'other', datasetId: 'b', config: { ...good.config, channels: 2 } });
    expect((await listGenerators('a')).broken.map((b) => b.id)).toEqual(['anonymous', 'junk', 'no-weights']);
    expect((await listGenerators('b')).broken).toEqual([
      { id: 'anonymous', datasetId: '', reason: 'its description has no id or dataset' },
      { id: 'other', datasetId: 'b', reason: 'its configuration\'s channels is not 1 or 3' },
    ]);

    expect(await brokenReason('no-weights')).toBe('its weights are missing');
    expect(await brokenReason('wrong-shape')).toBe('weight “w” has 5 values for shape [2, 2] (4)');
    expect(await brokenReason('nan')).toBe('weight “w” has a NaN value at 4');
    expect(await brokenReason('nameless')).toBe('weight 0\'s name is not text');
    expect(await brokenReason('plain-array')).toBe('weight “w” has no float32 values');
    expect(await brokenReason('miscounted')).toBe('it has 1 weights of 9 numbers where its description says 2 of 9');
    expect(await loadGenerator('leftover')).toBeNull();
    expect(await loadGenerator('junk')).toEqual({ ok: false, broken: { id: 'junk', datasetId: 'a', reason: 'its kind "gan" is neither dcgan nor vae' } });
    expect((await loaded(good.id)).weights).toHaveLength(2);

    // and they can be removed
    for (const id of ['no-weights', 'junk', 'anonymous', 'other']) await deleteGenerator(id);
    expect((await listGenerators()).broken).toEqual([]);
  });

  it('keeps the real-data budget a generator was trained on, and reports a record whose budget does not add up', async () => {
    const budget = { realFraction: 0.1, seed: 4, count: 1000 };
    const saved = await saveGenerator(generator('a', 10, { config: { ...generator('a', 10).config, budget } }));
    expect(saved.config.budget).toEqual(budget);
    expect((await loaded(saved.id)).config.budget).toEqual(budget);
    expect((await listGenerators('a')).generators[0].config.budget).toEqual(budget);
    for (const [id, bad] of [['zero-share', { ...budget, realFraction: 0 }], ['no-count', { realFraction: 0.5, seed: 1 }], ['text-seed', { ...budget, seed: '4' }]] as const) {
      await writeRaw('meta', { ...saved, id, config: { ...saved.config, budget: bad } });
    }
    const reasons = (await listGenerators('a')).broken.map((b) => `${b.id}: ${b.reason}`).sort();
    expect(reasons).toEqual(['no-count', 'text-seed', 'zero-share'].map((id) => `${id}: its configuration's real-data budget is not a share in (0, 1] with a whole seed and count`));
  });

  it('says the storage is full when a write fails with QuotaExceededError, and keeps nothing of it', async () => {
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    const weights = [{ name: 'w', shape: [500_000], values: new Float32Array(500_000) }];
    const error = await saveGenerator(generator('fashion-mnist', 1, { kind: 'vae', weights })).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).kind).toBe('quota');
    expect((error as StorageError).message).toBe(
      'There is not enough storage to save the VAE generator for “fashion-mnist” (2 MB). ' +
        'Delete saved generators or datasets you no longer need, or free disk space, then save it again.',
    );
    vi.restoreAllMocks();
    expect(await listGenerators()).toEqual({ generators: [], broken: [] });
  });

  it('keeps the old record whole when the second write of a save fails', async () => {
    const old = await saveGenerator(generator('a', 1, {}, 0));
    const put = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (this.name === 'meta') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.call(this, value, key);
    });
    await expect(saveGenerator(generator('a', 1, {}, 100))).rejects.toBeInstanceOf(StorageError);
    vi.restoreAllMocks();
    expect(Array.from((await loaded(old.id)).weights[0].values)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
  });

  it('says the storage is unavailable when there is no IndexedDB', async () => {
    vi.stubGlobal('indexedDB', undefined);
    const error = await listGenerators().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).kind).toBe('unavailable');
    expect((error as StorageError).message).toMatch(/^Saved generators need IndexedDB/);
  });
});
