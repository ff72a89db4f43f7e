/**
 * The generator panel's store: the reducer of the worker's generator
 * messages, the settings as typed, and the saved-generator list on
 * fake-indexeddb (an in-memory IndexedDB for Node that follows the spec).
 */
import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { saveGenerator, type GeneratorToSave } from '../data/generatorDb';
import type {
  GeneratorQualityPoint, GeneratorSamples, GeneratorState, GeneratorStepMetrics, StoredGeneratorInfo,
} from '../train/protocol';
import {
  MAX_GENERATOR_STEPS, appendThinned, applyGeneratorMessage, beginGeneratorRequest, deleteSavedGenerator, generatorSettingsFromFields,
  initialGeneratorFields, initialGeneratorState, refreshSavedGenerators, setGeneratorField, setGeneratorKind, useGeneratorStore,
} from './generatorStore';

const state = () => useGeneratorStore.getState();

const step = (n: number): GeneratorStepMetrics => ({
  step: n, kind: 'dcgan', values: { discriminatorLoss: 1.2, generatorLoss: 0.8, realScore: 0.6, fakeScore: 0.4 }, stepMs: 5,
});
const grid = (n: number, fill = n): GeneratorSamples => ({
  step: n, count: 16, images: new Uint8Array(16 * 16 * 16).fill(fill), imageSize: 16, channels: 1,
});
const quality = (n: number): GeneratorQualityPoint => ({
  step: n, frechet: 40 / n, precision: 0.5, recall: 0.3, k: 3, generatedCount: 256, realCount: 256,
  features: 'random-init encoder, width 8, seed 0: h of 64 dimensions', ms: 20,
});
const heldState = (savedId: string | null): GeneratorState => ({
  datasetId: 'shapes', datasetName: 'Coloured shapes', kind: 'dcgan', savedId,
  config: { size: 16, channels: 3, width: 8, zDim: 32, seed: 1, stepsTrained: 40 },
});
const info = (id: string, createdAt: number, datasetId = 'shapes'): StoredGeneratorInfo => ({
  id, datasetId, kind: 'dcgan', createdAt, weightCount: 1, parameterCount: 4,
  config: { size: 16, channels: 3, width: 8, zDim: 32, seed: 1, stepsTrained: 40 },
});
const toSave = (datasetId: string, createdAt: number): GeneratorToSave => ({
  datasetId, kind: 'vae', createdAt, config: { size: 16, channels: 1, width: 4, zDim: 8, seed: 3, stepsTrained: 100 },
  weights: [{ name: 'decoder.dense.kernel', shape: [2, 2], values: Float32Array.of(0.1, -0.2, 0.3, 0.4) }],
  quality: { frechet: 12.5 },
});

beforeEach(() => {
  useGeneratorStore.setState(initialGeneratorState, true);
  vi.stubGlobal('indexedDB', new IDBFactory());
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('applyGeneratorMessage', () => {
  it('drops messages of any other request than the one in progress', () => {
    applyGeneratorMessage({ type: 'generator-step', requestId: 1, metrics: step(1) });
    expect(state().steps).toEqual([]); // no request yet
    beginGeneratorRequest(2, 'train-fresh', 100);
    applyGeneratorMessage({ type: 'generator-step', requestId: 1, metrics: step(1) });
    applyGeneratorMessage({ type: 'generator-samples', requestId: 1, samples: grid(1) });
    applyGeneratorMessage({ type: 'generator-done', requestId: 1, cancelled: false, state: heldState(null), saved: null });
    expect(state()).toMatchObject({ running: true, steps: [], samples: null, current: null });
    applyGeneratorMessage({ type: 'generator-step', requestId: 2, metrics: step(1) });
    expect(state().steps.map((s) => s.step)).toEqual([1]);
  });

  it('keeps the grid before the latest, so the panel shows it change; a second grid of one step replaces the latest only', () => {
    beginGeneratorRequest(1, 'train-fresh', 100);
    applyGeneratorMessage({ type: 'generator-samples', requestId: 1, samples: grid(10) });
    expect(state().samples?.step).toBe(10);
    expect(state().previousSamples).toBeNull();
    applyGeneratorMessage({ type: 'generator-samples', requestId: 1, samples: grid(20) });
    expect([state().previousSamples?.step, state().samples?.step]).toEqual([10, 20]);
    applyGeneratorMessage({ type: 'generator-samples', requestId: 1, samples: grid(20, 99) });
    expect([state().previousSamples?.step, state().samples?.step, state().samples?.images[0]]).toEqual([10, 20, 99]);
  });

  it('appends quality points and takes the latest neighbours', () => {
    beginGeneratorRequest(1, 'train-fresh', 100);
    applyGeneratorMessage({ type: 'generator-quality', requestId: 1, point: quality(10) });
    applyGeneratorMessage({ type: 'generator-quality', requestId: 1, point: quality(20) });
    expect(state().quality.map((q) => q.frechet)).toEqual([4, 2]);
    const result = {
      step: 20, sampleIndices: [0], k: 1, neighbourIndices: [7], distances: [0.2], images: new Uint8Array(2 * 256), imageSize: 16, channels: 1 as const,
    };
    applyGeneratorMessage({ type: 'generator-neighbours', requestId: 1, result });
    expect(state().neighbours).toBe(result);
  });

  it('done: stops, holds the generator, and puts the saved one first in place of an older copy', () => {
    useGeneratorStore.setState({ saved: [info('b', 2), info('a', 1)], savedDatasetId: 'shapes' });
    beginGeneratorRequest(1, 'train-fresh', 40);
    const saved = { ...info('a', 1), config: { ...info('a', 1).config, stepsTrained: 80 } };
    applyGeneratorMessage({ type: 'generator-done', requestId: 1, cancelled: false, state: heldState('a'), saved });
    expect(state()).toMatchObject({ running: false, cancelled: false, error: null, saveError: null, current: heldState('a') });
    expect(state().saved.map((g) => [g.id, g.config.stepsTrained])).toEqual([['a', 80], ['b', 40]]);
  });

  it('done with an error or a failed save says so; a cancel keeps what was learnt', () => {
    beginGeneratorRequest(1, 'train-fresh', 40);
    applyGeneratorMessage({
      type: 'generator-done', requestId: 1, cancelled: true, state: heldState(null), saved: null,
      saveError: 'There is not enough storage to save the DCGAN generator for “shapes” (1 MB).',
    });
    expect(state()).toMatchObject({ running: false, cancelled: true, error: null, current: heldState(null) });
    expect(state().saveError).toMatch(/not enough storage/);
    beginGeneratorRequest(2, 'train-continue', 40);
    expect(state().saveError).toBeNull();
    applyGeneratorMessage({ type: 'generator-done', requestId: 2, cancelled: false, state: null, saved: null, error: 'The generator diverged (NaN loss). Lower the batch or train a new one.' });
    expect(state()).toMatchObject({ running: false, current: null, errorKind: 'request' });
    expect(state().error).toMatch(/diverged/);
  });

  it('a generator saved for another dataset than the one listed is not put in the list', () => {
    useGeneratorStore.setState({ saved: [info('b', 2)], savedDatasetId: 'shapes' });
    beginGeneratorRequest(1, 'train-fresh');
    applyGeneratorMessage({ type: 'generator-done', requestId: 1, cancelled: false, state: heldState('x'), saved: info('x', 3, 'fashion-mnist') });
    expect(state().saved.map((g) => g.id)).toEqual(['b']);
  });
});

describe('beginGeneratorRequest', () => {
  it('a fresh training or a load starts a new history; continuing keeps it and counts on from the held generator', () => {
    beginGeneratorRequest(1, 'train-fresh', 40);
    applyGeneratorMessage({ type: 'generator-step', requestId: 1, metrics: step(1) });
    applyGeneratorMessage({ type: 'generator-samples', requestId: 1, samples: grid(1) });
    applyGeneratorMessage({ type: 'generator-quality', requestId: 1, point: quality(1) });
    applyGeneratorMessage({ type: 'generator-done', requestId: 1, cancelled: false, state: heldState(null), saved: null });

    beginGeneratorRequest(2, 'train-continue', 60);
    expect(state()).toMatchObject({ running: true, requestId: 2, requestKind: 'train-continue', target: { from: 40, to: 100 } });
    expect([state().steps.length, state().quality.length, state().samples?.step]).toEqual([1, 1, 1]);

    beginGeneratorRequest(3, 'load');
    expect(state()).toMatchObject({ requestKind: 'load', target: null, steps: [], quality: [], samples: null, previousSamples: null, neighbours: null });
  });
});

describe('appendThinned', () => {
  it('never keeps more than the limit, keeps the first and the recent points whole', () => {
    let points: number[] = [];
    for (let i = 0; i < 10 * MAX_GENERATOR_STEPS; i++) points = appendThinned(points, i);
    expect(points.length).toBeLessThanOrEqual(MAX_GENERATOR_STEPS);
    expect(points[0]).toBe(0);
    const tail = points.slice(-MAX_GENERATOR_STEPS / 4);
    expect(tail).toEqual(Array.from({ length: tail.length }, (_, i) => 10 * MAX_GENERATOR_STEPS - tail.length + i));
    expect(points).toEqual([...points].sort((a, b) => a - b));
  });
  it('small histories stay as they are', () => {
    expect(appendThinned([1, 2], 3, 8)).toEqual([1, 2, 3]);
    expect(appendThinned([0, 1, 2, 3], 4, 4)).toEqual([0, 2, 3, 4]);
  });
});

describe('settings', () => {
  it('parses the typed fields into settings of the chosen kind', () => {
    expect(generatorSettingsFromFields('vae', initialGeneratorFields('vae'))).toEqual({
      ok: true, settings: { kind: 'vae', steps: 300, batchSize: 64, width: 16, zDim: 16, seed: 1 },
    });
  });
  it('gives each wrong field its own error, and refuses a batch larger than the training split', () => {
    const result = generatorSettingsFromFields('dcgan', { ...initialGeneratorFields('dcgan'), steps: '0', zDim: '2.5', seed: '' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual(['seed', 'steps', 'zDim']);
    expect(result.errors.steps).toMatch(/Steps must be a whole number from 1 to 20,000/);
    const tooBig = generatorSettingsFromFields('dcgan', initialGeneratorFields('dcgan'), 50);
    expect(tooBig).toEqual({ ok: false, errors: { batchSize: 'Batch must be at most the 50 training images; got 64.' } });
  });
  it('switching the kind resets the fields to its defaults; a typed field is kept as typed', () => {
    setGeneratorField('steps', '12x');
    expect(state().fields.steps).toBe('12x');
    setGeneratorKind('vae');
    expect(state().kind).toBe('vae');
    expect(state().fields).toEqual(initialGeneratorFields('vae'));
    expect(state().fields.zDim).toBe('16');
  });
});

describe('saved generators', () => {
  it('lists a dataset’s generators newest first, without another dataset’s', async () => {
    await saveGenerator(toSave('shapes', 1000));
    await saveGenerator(toSave('shapes', 3000));
    await saveGenerator(toSave('fashion-mnist', 2000));
    await refreshSavedGenerators('shapes');
    expect(state().saved.map((g) => g.createdAt)).toEqual([3000, 1000]);
    expect(state().saved[0].quality).toEqual({ frechet: 12.5 });
    expect(state().savedDatasetId).toBe('shapes');
    await refreshSavedGenerators('fashion-mnist');
    expect(state().saved.map((g) => g.datasetId)).toEqual(['fashion-mnist']);
  });

  it('deletes one, drops it from the list, and the held generator is no longer marked saved', async () => {
    const kept = await saveGenerator(toSave('shapes', 1000));
    const gone = await saveGenerator(toSave('shapes', 2000));
    await refreshSavedGenerators('shapes');
    useGeneratorStore.setState({ current: heldState(gone.id) });
    expect(await deleteSavedGenerator(gone.id)).toBe(true);
    expect(state().saved.map((g) => g.id)).toEqual([kept.id]);
    expect(state().current?.savedId).toBeNull();
    await refreshSavedGenerators('shapes');
    expect(state().saved.map((g) => g.id)).toEqual([kept.id]);
  });

  it('a delete that fails says so and keeps the generator listed', async () => {
    const g = await saveGenerator(toSave('shapes', 1000));
    await refreshSavedGenerators('shapes');
    vi.spyOn(IDBObjectStore.prototype, 'delete').mockImplementation(() => {
      throw new DOMException('The disk is read-only.', 'UnknownError');
    });
    expect(await deleteSavedGenerator(g.id)).toBe(false);
    expect(state().saved.map((s) => s.id)).toEqual([g.id]);
    expect(state().errorKind).toBe('storage');
    expect(state().error).toMatch(/Could not delete the saved generator .*read-only.*Reload the page and try again\./);
  });

  it('no IndexedDB: the list is empty and the error says what to do, without throwing', async () => {
    vi.stubGlobal('indexedDB', undefined);
    await expect(refreshSavedGenerators('shapes')).resolves.toBeUndefined();
    expect(state().saved).toEqual([]);
    expect(state().errorKind).toBe('storage');
    expect(state().error).toMatch(/Saved generators need IndexedDB.*Allow site data for this page/);
    // storage back: the next refresh clears the storage error
    vi.stubGlobal('indexedDB', new IDBFactory());
    await refreshSavedGenerators('shapes');
    expect(state().error).toBeNull();
  });

  it('an older refresh that answers last does not overwrite the newer one', async () => {
    // listGenerators answers when the test says: the first dataset's list arrives after the second's
    const answers: ((value: { generators: StoredGeneratorInfo[]; broken: [] }) => void)[] = [];
    vi.resetModules();
    vi.doMock('../data/generatorDb', () => ({
      listGenerators: () => new Promise((resolve) => answers.push(resolve)),
      deleteGenerator: async () => undefined,
    }));
    const fresh = await import('./generatorStore');
    const first = fresh.refreshSavedGenerators('shapes');
    const second = fresh.refreshSavedGenerators('fashion-mnist');
    answers[1]({ generators: [info('f', 2, 'fashion-mnist')], broken: [] });
    await second;
    answers[0]({ generators: [info('s', 1, 'shapes')], broken: [] });
    await first;
    expect(fresh.useGeneratorStore.getState().savedDatasetId).toBe('fashion-mnist');
    expect(fresh.useGeneratorStore.getState().saved.map((g) => g.id)).toEqual(['f']);
    vi.doUnmock('../data/generatorDb');
    vi.resetModules();
  });
});
