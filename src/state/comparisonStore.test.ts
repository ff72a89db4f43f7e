/**
 * Saved comparisons on fake-indexeddb (an in-memory IndexedDB for Node that
 * follows the spec): a failed save says what was not saved and keeps the run
 * for this visit; other tabs' changes reach the list. Each test loads the
 * store afresh (it lists the saved runs once per page).
 */
import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../core/config';
import type { ComparisonRun } from './comparison';

type Store = typeof import('./comparisonStore');
type Db = typeof import('./comparisonDb');
type Channel = typeof import('../data/storageChannel');

let store: Store;
let db: Db;
let channel: Channel;

function makeRun(id: string, overrides: Partial<ComparisonRun> = {}): ComparisonRun {
  return {
    id, comparisonId: 'cmp-1', comparisonTitle: 'τ sweep: 3 steps per run', preset: 'tau-sweep', index: 0,
    label: `run ${id}`, config: DEFAULT_CONFIG, stepsRequested: 3, steps: [], probes: [],
    randomInitBaseline: null, rawPixelBaseline: null, wallMs: 10, backend: 'cpu', createdAt: 1000,
    ...overrides,
  };
}

/** A run completed on this page: listed, then saved, as the comparison runner does. */
async function complete(run: ComparisonRun): Promise<void> {
  store.useComparisonStore.setState((s) => ({ runs: [...s.runs, run] }));
  await store.saveComparisonRun(run);
}

const state = () => store.useComparisonStore.getState();

beforeEach(async () => {
  vi.stubGlobal('indexedDB', new IDBFactory());
  vi.resetModules();
  store = await import('./comparisonStore');
  db = await import('./comparisonDb');
  channel = await import('../data/storageChannel');
});
afterEach(() => {
  channel.closeStorageChannel();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('saved comparisons', () => {
  it('a saved run is listed again after a reload', async () => {
    await store.loadSavedRuns();
    await complete(makeRun('a'));
    expect(state().storageError).toBeNull();
    vi.resetModules();
    const reloaded: Store = await import('./comparisonStore');
    await reloaded.loadSavedRuns();
    expect(reloaded.useComparisonStore.getState().runs.map((r) => r.id)).toEqual(['a']);
    expect(reloaded.useComparisonStore.getState().selected).toBe('cmp-1');
    (await import('../data/storageChannel')).closeStorageChannel();
  });

  it('without IndexedDB, the runs stay for this visit and one message says the comparison was not saved', async () => {
    vi.stubGlobal('indexedDB', undefined);
    await store.loadSavedRuns();
    expect(state().storageError).toMatch(/^Comparisons are not saved on this visit: the browser’s storage is unavailable/);
    await complete(makeRun('a'));
    await complete(makeRun('b', { index: 1 }));
    expect(state().runs.map((r) => r.id)).toEqual(['a', 'b']);
    expect(state().storageError).toBe(
      'The comparison “τ sweep: 3 steps per run” was not saved: the browser’s storage is unavailable (this browser offers no IndexedDB here). ' +
        'It is shown for this visit only, so it will be gone after a reload. ' +
        'Allow site data for this page, or use a normal (not private) window, to keep them.',
    );
  });

  it('when the storage is full, says so and keeps the run for this visit', async () => {
    await store.loadSavedRuns();
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    await complete(makeRun('a'));
    expect(state().runs.map((r) => r.id)).toEqual(['a']);
    expect(state().storageError).toMatch(/^The comparison “τ sweep: 3 steps per run” was not saved: the browser’s storage is full \(quota exceeded\)\./);
  });

  it('skips a stored record that is not a whole run, and says so', async () => {
    await db.saveRun(makeRun('good'));
    await db.saveRun({ id: 'bad', label: 'half' } as unknown as ComparisonRun);
    await store.loadSavedRuns();
    expect(state().runs.map((r) => r.id)).toEqual(['good']);
    expect(state().storageError).toBe('A saved comparison run is skipped: not a whole run (damaged, or written by another version of the page).');
  });
});

describe('two tabs', () => {
  it('runs saved or deleted in another tab show here; a deletion here is announced', async () => {
    const otherTab = new BroadcastChannel(channel.STORAGE_CHANNEL);
    const heard: unknown[] = [];
    otherTab.onmessage = (event) => heard.push(event.data);
    try {
      await store.loadSavedRuns();
      await complete(makeRun('mine'));

      // the other tab saves a run: listed here
      await db.saveRun(makeRun('theirs', { comparisonId: 'cmp-2', createdAt: 2000 }));
      otherTab.postMessage({ store: 'comparisons', change: 'saved', ids: ['theirs'] });
      await vi.waitFor(() => expect(state().runs.map((r) => r.id)).toEqual(['mine', 'theirs']));

      // and deletes ours: gone here too, the selection moves to what is left
      store.useComparisonStore.setState({ selected: 'cmp-1' });
      otherTab.postMessage({ store: 'comparisons', change: 'deleted', ids: ['mine'] });
      await vi.waitFor(() => expect(state().runs.map((r) => r.id)).toEqual(['theirs']));
      expect(state().selected).toBe('cmp-2');

      await store.deleteComparisonRuns(['theirs']);
      await vi.waitFor(() => expect(heard).toContainEqual({ store: 'comparisons', change: 'deleted', ids: ['theirs'] }));
      expect(heard).toContainEqual({ store: 'comparisons', change: 'saved', ids: ['mine'] });
    } finally {
      otherTab.close();
    }
  });
});
