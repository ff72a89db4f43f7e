/**
 * The dataset store with the real decode pipeline (runUpload, with a fake
 * image decoder standing in for the worker's canvas) and the real storage on
 * fake-indexeddb (an in-memory IndexedDB for Node that follows the spec).
 * The training client is replaced: what the store hands it is checked.
 */
import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UPLOAD_PREFIX } from '../core/datasets';
import { tinyDataset } from '../data/dataset.testutil';
import { deleteDataset, listDatasets, renameDataset, saveDataset } from '../data/datasetDb';
import { closeStorageChannel, STORAGE_CHANNEL } from '../data/storageChannel';
import { runUpload, takenNames } from '../data/upload/decodeWorker';
import { png } from '../data/upload/fixtures.testutil';
import type { DecodeFromWorker, DecodeOptions, DecodeToWorker } from '../data/upload/protocol';
import { useConfigStore } from './configStore';
import { refreshStoredDatasets, uploads, useDatasetStore } from './datasetStore';
import { useRunStore } from './runStore';
import { provideDataset, training } from './trainingClient';

vi.mock('./trainingClient', () => ({ provideDataset: vi.fn(), training: { renameDataset: vi.fn(), reset: vi.fn() } }));

/** The decode worker, run in this thread: the real pipeline and storage, a solid grey thumbnail for any image. */
class FakeDecoder {
  onmessage: ((event: { data: DecodeFromWorker }) => void) | null = null;
  onerror: unknown = null;
  postMessage(message: DecodeToWorker): void {
    if (message.type !== 'decode') return;
    void runUpload(message.files, message.options, {
      decode: async (_bytes, _info, size) => new Uint8Array(size * size * 3).fill(128),
      save: saveDataset,
      remove: deleteDataset,
      storedNames: () => takenNames(message.sessionNames ?? []),
      post: (m) => this.onmessage?.({ data: m }),
      isCancelled: () => false,
      pause: () => Promise.resolve(),
      now: () => 1000,
    });
  }
  terminate(): void {}
}

const options: DecodeOptions = { imageSize: 16, fit: 'crop', testShare: 0.25 };
/** Two classes of four PNGs each. */
const twoClasses = () => ['red', 'blue'].flatMap((c) => [0, 1, 2, 3].map((i) => new File([png(8, 8) as Uint8Array<ArrayBuffer>], `shapes/${c}/${i}.png`)));

/** Uploads and waits for the outcome. */
async function upload(): Promise<void> {
  uploads.start(twoClasses(), options);
  await vi.waitFor(() => expect(useDatasetStore.getState().progress).toBeNull());
}

const messages = () => useDatasetStore.getState().storageMessages;

beforeEach(() => {
  vi.stubGlobal('indexedDB', new IDBFactory());
  vi.stubGlobal('Worker', FakeDecoder);
  useDatasetStore.setState({ stored: [], session: [], broken: [], progress: null, summary: null, uploadError: null, skipped: [], storageMessages: [] });
  useConfigStore.getState().setField('dataset', 'fashion-mnist');
  useRunStore.setState({ dataset: null });
  vi.mocked(provideDataset).mockClear();
  vi.mocked(training.renameDataset).mockClear();
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});
afterAll(() => closeStorageChannel());

describe('uploads', () => {
  it('saves an upload, lists it and makes it the active set, with no storage message', async () => {
    await refreshStoredDatasets();
    await upload();
    const { summary, stored, session } = useDatasetStore.getState();
    expect(summary?.imageCount).toBe(8);
    await vi.waitFor(() => expect(useConfigStore.getState().config.dataset).toBe(`${UPLOAD_PREFIX}${summary!.id}`));
    expect(stored.map((d) => d.name)).toEqual(['shapes']);
    expect(session).toEqual([]);
    expect(provideDataset).not.toHaveBeenCalled();
    expect(messages()).toEqual([]);
  });

  it('without IndexedDB, uses the upload for this visit: listed apart, handed to the training worker, said once', async () => {
    vi.stubGlobal('indexedDB', undefined);
    await refreshStoredDatasets();
    expect(messages().map((m) => m.key)).toEqual(['list']);
    expect(messages()[0].text).toMatch(/^Uploads are not saved on this visit: the browser’s storage is unavailable/);

    await upload();
    const { summary, session, uploadError } = useDatasetStore.getState();
    const id = `${UPLOAD_PREFIX}${summary!.id}`;
    expect(uploadError).toBeNull();
    expect(session.map((d) => [d.id, d.name, d.imageCount, d.classNames])).toEqual([[summary!.id, 'shapes', 8, ['blue', 'red']]]);
    // one message: the set that was not saved replaces the general one
    expect(messages()).toHaveLength(1);
    expect(messages()[0].text).toMatch(
      /^“shapes” \(1 MB\) was not saved: the browser’s storage is unavailable \(this browser offers no IndexedDB here\)\. This set is used for this visit only, so it will be gone after a reload\./,
    );
    // the training worker gets the images, under the id the config names, before the switch
    expect(provideDataset).toHaveBeenCalledTimes(1);
    const [givenId, given] = vi.mocked(provideDataset).mock.calls[0];
    expect(givenId).toBe(id);
    expect(given?.id).toBe(id);
    expect(given!.train.count + given!.test.count).toBe(8);
    expect(useConfigStore.getState().config.dataset).toBe(id);

    // listing again (another panel, another upload) does not say it a second time
    await refreshStoredDatasets();
    expect(messages()).toHaveLength(1);

    // a second upload is named apart from the first, though neither is stored
    await upload();
    expect(useDatasetStore.getState().session.map((d) => d.name)).toEqual(['shapes (2)', 'shapes']);
    expect(messages()).toHaveLength(1);
  });

  it('when the storage is full, says so and uses the upload for this visit', async () => {
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    await refreshStoredDatasets();
    await upload();
    expect(useDatasetStore.getState().session).toHaveLength(1);
    expect(messages()).toHaveLength(1);
    expect(messages()[0].text).toMatch(/^“shapes” \(1 MB\) was not saved: the browser’s storage is full \(quota exceeded\)\. This set is used for this visit only/);
    expect(provideDataset).toHaveBeenCalledTimes(1);
    vi.restoreAllMocks();
    expect((await listDatasets()).datasets).toEqual([]);
  });

  it('renames and deletes a set kept for this visit without touching the storage; the worker lets it go', async () => {
    vi.stubGlobal('indexedDB', undefined);
    await upload();
    const { id } = useDatasetStore.getState().session[0];
    useRunStore.setState({ dataset: { id: `${UPLOAD_PREFIX}${id}`, name: 'shapes' } as never });
    expect(await uploads.rename(id, 'Mine')).toBeNull();
    expect(useDatasetStore.getState().session[0].name).toBe('Mine');
    expect(training.renameDataset).toHaveBeenCalledWith(`${UPLOAD_PREFIX}${id}`, 'Mine');
    await uploads.remove(id);
    expect(useDatasetStore.getState().session).toEqual([]);
    expect(useConfigStore.getState().config.dataset).toBe('fashion-mnist');
    expect(provideDataset).toHaveBeenLastCalledWith(`${UPLOAD_PREFIX}${id}`, null);
  });

  it('reports stored sets that cannot be used, skips them, and removes them on request', async () => {
    await saveDataset(tinyDataset('good', 'Good'), { skipped: [], createdAt: 1 });
    // a description without its images
    const put = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (this.name === 'pixels') return put.call(this, { id: 'elsewhere' }, key);
      return put.call(this, value, key);
    });
    await saveDataset(tinyDataset('half', 'Half'), { skipped: [], createdAt: 2 });
    vi.restoreAllMocks();

    await refreshStoredDatasets();
    expect(useDatasetStore.getState().stored.map((d) => d.id)).toEqual(['good']);
    expect(messages()).toEqual([{ key: 'broken', text: 'A saved dataset cannot be used and is skipped: “Half” (its images are missing).' }]);
    await uploads.removeBroken();
    expect(useDatasetStore.getState().broken).toEqual([]);
    expect(messages()).toEqual([]);
  });
});

describe('two tabs', () => {
  /** The other tab's end of the channel. */
  let otherTab: BroadcastChannel;
  let heard: unknown[];
  beforeEach(() => {
    otherTab = new BroadcastChannel(STORAGE_CHANNEL);
    heard = [];
    otherTab.onmessage = (event) => heard.push(event.data);
  });
  afterEach(() => otherTab.close());

  it('a set deleted in another tab leaves the list; in use here, training goes on and the page says why', async () => {
    await saveDataset(tinyDataset('kept', 'Kept'), { skipped: [], createdAt: 1 });
    await saveDataset(tinyDataset('used', 'In use'), { skipped: [], createdAt: 2 });
    await refreshStoredDatasets();
    useConfigStore.getState().setField('dataset', `${UPLOAD_PREFIX}used`);
    useRunStore.setState({ dataset: { id: `${UPLOAD_PREFIX}used`, name: 'In use' } as never });

    // the other tab deletes it and says so
    await deleteDataset('used');
    otherTab.postMessage({ store: 'datasets', change: 'deleted', id: 'used' });
    await vi.waitFor(() => expect(useDatasetStore.getState().stored.map((d) => d.id)).toEqual(['kept']));
    await vi.waitFor(() => expect(messages().map((m) => m.key)).toEqual(['other-tab']));
    expect(messages()[0].text).toBe(
      '“In use” was deleted in another tab. Training goes on with the copy this page holds, for this visit only: it will be gone after a reload.',
    );
    expect(useConfigStore.getState().config.dataset).toBe(`${UPLOAD_PREFIX}used`);

    // choosing another set ends the message
    useConfigStore.getState().setField('dataset', `${UPLOAD_PREFIX}kept`);
    expect(messages()).toEqual([]);
  });

  it('a rename in another tab shows here, in the list and on the set in use', async () => {
    await saveDataset(tinyDataset('used', 'Before'), { skipped: [], createdAt: 1 });
    await refreshStoredDatasets();
    useConfigStore.getState().setField('dataset', `${UPLOAD_PREFIX}used`);
    useRunStore.setState({ dataset: { id: `${UPLOAD_PREFIX}used`, name: 'Before' } as never });

    await renameDataset('used', 'After');
    otherTab.postMessage({ store: 'datasets', change: 'renamed', id: 'used' });
    await vi.waitFor(() => expect(useDatasetStore.getState().stored[0]?.name).toBe('After'));
    await vi.waitFor(() => expect(useRunStore.getState().dataset?.name).toBe('After'));
    expect(training.renameDataset).toHaveBeenCalledWith(`${UPLOAD_PREFIX}used`, 'After');
  });

  it('a set saved in another tab is listed here; messages of another shape are ignored', async () => {
    await refreshStoredDatasets();
    await saveDataset(tinyDataset('new', 'New'), { skipped: [], createdAt: 1 });
    otherTab.postMessage({ store: 'datasets', change: 'exploded', id: 'new' });
    otherTab.postMessage('hello');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(useDatasetStore.getState().stored).toEqual([]);
    otherTab.postMessage({ store: 'datasets', change: 'saved', id: 'new' });
    await vi.waitFor(() => expect(useDatasetStore.getState().stored.map((d) => d.id)).toEqual(['new']));
  });

  it('a deletion here is announced to the other tabs', async () => {
    await saveDataset(tinyDataset('gone', 'Gone'), { skipped: [], createdAt: 1 });
    await refreshStoredDatasets();
    heard.length = 0;
    await uploads.remove('gone');
    await vi.waitFor(() => expect(heard).toContainEqual({ store: 'datasets', change: 'deleted', id: 'gone' }));
  });
});
