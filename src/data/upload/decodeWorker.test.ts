import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { ImageDataset } from '../dataset';
import { StorageError } from '../indexedDb';
import { runUpload, type UploadIo } from './decodeWorker';
import type { ImageInfo } from './imageHeader';
import { MAX_FILES, type DecodeFromWorker, type DecodeOptions, type UploadSummary } from './protocol';

const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
/** A PNG signature and IHDR: enough for sniffImage; the fake decoder needs no pixels. */
const png = (w: number, h = w) => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82, ...be32(w), ...be32(h), 8, 2, 0, 0, 0, 0, 0, 0, 0]);
const text = (s: string) => new TextEncoder().encode(s);
const file = (name: string, bytes: Uint8Array) => new File([bytes as Uint8Array<ArrayBuffer>], name);

const options: DecodeOptions = { imageSize: 16, fit: 'crop', testShare: 0.25, name: 'Test set' };

interface Fake {
  io: UploadIo;
  messages: DecodeFromWorker[];
  saved: ImageDataset[];
  removed: string[];
}

/** Decodes a PNG header to a solid thumbnail of value width % 256; width 13 fails to decode. `taken`: names already stored. */
function fakeIo(cancelAfterDecodes = Infinity, taken: string[] = []): Fake {
  const messages: DecodeFromWorker[] = [];
  const saved: ImageDataset[] = [];
  const removed: string[] = [];
  let decodes = 0;
  const io: UploadIo = {
    decode: async (_bytes: Uint8Array, info: ImageInfo, size: number) => {
      decodes += 1;
      if (info.width === 13) throw new Error('The source image could not be decoded.');
      return new Uint8Array(size * size * 3).fill(info.width % 256);
    },
    save: async (dataset) => void saved.push(dataset),
    remove: async (id) => void removed.push(id),
    storedNames: async () => taken,
    post: (message) => void messages.push(message),
    isCancelled: () => decodes >= cancelAfterDecodes,
    pause: () => Promise.resolve(),
    now: () => 1234,
  };
  return { io, messages, saved, removed };
}

function last(messages: DecodeFromWorker[]): DecodeFromWorker {
  return messages[messages.length - 1];
}

function summaryOf(fake: Fake): UploadSummary {
  const m = last(fake.messages);
  if (m.type !== 'done') throw new Error(`expected done, got ${JSON.stringify(m)}`);
  return m.summary;
}

describe('runUpload', () => {
  it('turns a folder of class folders into a stored, labelled dataset and says what it skipped', async () => {
    const files = [
      ...Array.from({ length: 8 }, (_, i) => file(`pets/cat/${i}.png`, png(10))),
      ...Array.from({ length: 4 }, (_, i) => file(`pets/dog/${i}.png`, png(20))),
      file('pets/dog/.DS_Store', text('clutter')),
      file('pets/dog/readme.txt', text('hello')),
      file('pets/dog/empty.png', new Uint8Array(0)),
      file('pets/dog/huge.png', png(12000)),
      file('pets/dog/broken.png', png(13)),
      file('pets/cat/0.png', png(10)),
    ];
    const fake = fakeIo();
    await runUpload(files, options, fake.io);

    const summary = summaryOf(fake);
    expect(summary).toMatchObject({
      name: 'Test set',
      imageCount: 12,
      trainCount: 9,
      testCount: 3,
      classNames: ['cat', 'dog'],
      classCounts: [8, 4],
      labelled: true,
    });
    expect(summary.truncatedAt).toBeUndefined();
    expect(summary.skipped).toEqual([
      { name: 'pets/cat/0.png', reason: 'duplicate file name' },
      { name: 'pets/dog/readme.txt', reason: 'not an image: text' },
      { name: 'pets/dog/empty.png', reason: 'empty file (0 bytes)' },
      { name: 'pets/dog/huge.png', reason: expect.stringContaining('12000×12000') },
      { name: 'pets/dog/broken.png', reason: expect.stringMatching(/^damaged or truncated PNG image/) },
    ]);

    expect(fake.saved).toHaveLength(1);
    const ds = fake.saved[0];
    expect(ds.id).toBe(summary.id);
    expect(ds).toMatchObject({ imageSize: 16, channels: 3, classNames: ['cat', 'dog'] });
    expect(ds.train.images.length).toBe(9 * 16 * 16 * 3);
    // the pixels follow the labels: cats were decoded to 10, dogs to 20
    for (let k = 0; k < ds.train.count; k++) expect(ds.train.images[k * 768]).toBe(ds.train.labels[k] === 0 ? 10 : 20);

    const phases = fake.messages.filter((m) => m.type === 'progress').map((m) => m.type === 'progress' && m.phase);
    expect(new Set(phases)).toEqual(new Set(['reading', 'decoding', 'saving']));
  });

  it('reads zips: class folders inside, nested zips and corrupt zips skipped, the rest kept', async () => {
    const pets = zipSync({
      'cat/1.png': png(10),
      'cat/2.png': png(10),
      'dog/1.png': png(20),
      'dog/2.png': png(20),
      'inner.zip': zipSync({ 'cat/3.png': png(10) }),
      'notes.txt': text('x'),
    });
    const more = zipSync({ 'cat/1.png': png(30) });
    const fake = fakeIo();
    await runUpload([file('pets.zip', pets), file('more.zip', more), file('bad.zip', text('not a zip'))], options, fake.io);

    const summary = summaryOf(fake);
    // more.zip's cat/1.png is another file from cat/1.png in pets.zip: both are kept
    expect(summary).toMatchObject({ imageCount: 5, classNames: ['cat', 'dog'], classCounts: [3, 2], labelled: true });
    expect(summary.skipped).toEqual([
      { name: 'pets.zip/inner.zip', reason: 'nested zip archives are not opened' },
      { name: 'bad.zip', reason: expect.stringMatching(/^not a readable zip archive/) },
      { name: 'pets.zip/notes.txt', reason: 'not an image: text' },
    ]);
    expect(fake.messages.some((m) => m.type === 'progress' && m.phase === 'unzipping')).toBe(true);
  });

  it('stores loose files as an unlabelled set and says why', async () => {
    const fake = fakeIo();
    await runUpload([file('a.png', png(1)), file('b.png', png(2)), file('c.png', png(3))], options, fake.io);
    const summary = summaryOf(fake);
    expect(summary).toMatchObject({ labelled: false, classNames: [], classCounts: [], imageCount: 3 });
    expect(summary.unlabelledReason).toMatch(/No image is inside a folder/);
    const ds = fake.saved[0];
    expect([ds.train.count, ds.test.count]).toEqual([2, 1]);
    expect([...ds.train.labels, ...ds.test.labels]).toEqual([-1, -1, -1]);
  });

  it('names the set from what was uploaded, apart from the sets already stored', async () => {
    const named = async (files: File[], taken: string[] = [], given?: string) => {
      const fake = fakeIo(Infinity, taken);
      await runUpload(files, { ...options, name: given }, fake.io);
      expect(fake.saved[0]?.name).toBe(summaryOf(fake).name);
      return summaryOf(fake).name;
    };
    const pets = zipSync({ 'cat/1.png': png(10), 'dog/1.png': png(20) });
    expect(await named([file('my-pets.zip', pets)])).toBe('my-pets');
    expect(await named([file('my-pets.zip', pets)], ['my-pets', 'other'])).toBe('my-pets (2)');
    expect(await named([file('flowers/roses/a.png', png(1)), file('flowers/tulips/b.png', png(2))])).toBe('flowers');
    // the count is of images kept, not of files chosen
    const loose = await named([file('a.png', png(1)), file('b.png', png(2)), file('c.png', png(13)), file('d.txt', text('x'))]);
    expect(loose).toMatch(/^2 images \([A-Z][a-z]{2} \d{1,2}\)$/);
    // a name the user gave wins, cleaned
    expect(await named([file('my-pets.zip', pets)], [], '  Pets\n<b>mine</b> ')).toBe('Pets <b>mine</b>');
    // when the stored names cannot be read, the upload still goes ahead
    const fake = fakeIo();
    fake.io.storedNames = () => Promise.reject(new Error('no IndexedDB'));
    await runUpload([file('my-pets.zip', pets)], options, fake.io);
    expect(summaryOf(fake).name).toBe('Test set');
  });

  it('fails with the skipped list when no image survives', async () => {
    const fake = fakeIo();
    await runUpload([file('a.txt', text('hello')), file('b.png', png(13))], options, fake.io);
    const m = last(fake.messages);
    expect(m.type).toBe('failed');
    expect(m.type === 'failed' && m.skipped.map((s) => s.name)).toEqual(['a.txt', 'b.png']);
    expect(fake.saved).toHaveLength(0);

    const alone = fakeIo();
    await runUpload([file('x.bin', Uint8Array.from([0, 1, 2, 250]))], options, alone.io);
    expect(last(alone.messages)).toEqual({
      type: 'failed',
      message: 'None of the files could be used as an image. x.bin: not an image: unknown.',
      skipped: [{ name: 'x.bin', reason: 'not an image: unknown' }],
    });

    const hidden = fakeIo();
    await runUpload([file('.DS_Store', text('x'))], options, hidden.io);
    expect(last(hidden.messages)).toMatchObject({ type: 'failed', message: expect.stringMatching(/^There were no files/) });
  });

  it('gives traversal names their own reason, says why a zip gave nothing, and shows names clean and bounded', async () => {
    const fake = fakeIo();
    const long = `${'x'.repeat(300)}.png`;
    await runUpload(
      [
        file('ok/a/1.png', png(1)),
        file('ok/b/2.png', png(2)),
        file('../../evil.png', png(3)),
        file('empty.zip', zipSync({})),
        file('clutter.zip', zipSync({ '__MACOSX/._1.png': text('x'), 'a/.DS_Store': text('x') })),
        file(`ok/b/${long}`, text('x')),
        file('ok/b/\u202Eevil\u0000.png', text('x')),
      ],
      options,
      fake.io,
    );
    expect(summaryOf(fake).skipped).toEqual([
      { name: '../../evil.png', reason: 'its path leaves the upload’s folder (../): skipped for safety' },
      { name: 'empty.zip', reason: 'the zip is empty' },
      { name: 'clutter.zip', reason: 'the zip holds only folders and hidden files (names starting with a dot, __MACOSX)' },
      { name: `ok/b/${'x'.repeat(27)}…${'x'.repeat(43)}.png`, reason: 'not an image: text' },
      { name: 'ok/b/evil .png', reason: 'not an image: text' },
    ]);
  });

  it('stops on cancel and saves nothing', async () => {
    const files = Array.from({ length: 100 }, (_, i) => file(`c${i % 2}/${i}.png`, png(5)));
    const fake = fakeIo(30);
    await runUpload(files, options, fake.io);
    expect(last(fake.messages)).toEqual({ type: 'cancelled' });
    expect(fake.saved).toHaveLength(0);
  });

  it('keeps a set the browser will not store: done, with the set itself and one message saying it was not saved', async () => {
    const files = Array.from({ length: 8 }, (_, i) => file(`c${i % 2}/${i}.png`, png(5)));
    const fake = fakeIo();
    fake.io.save = () => Promise.reject(new StorageError('quota', 'There is not enough storage.', 'QuotaExceededError: full'));
    await runUpload(files, options, fake.io);
    const done = last(fake.messages);
    if (done.type !== 'done' || !done.unsaved) throw new Error(`expected done with the unsaved set, got ${JSON.stringify(done)}`);
    expect(done.unsaved.dataset.id).toBe(done.summary.id);
    expect(done.unsaved.dataset.train.count + done.unsaved.dataset.test.count).toBe(8);
    expect(done.unsaved.warning).toMatch(/^“Test set” \(1 MB\) was not saved: the browser’s storage is full \(quota exceeded\)\. This set is used for this visit only/);
    expect(fake.messages.filter((m) => m.type === 'failed')).toEqual([]);
  });

  it('refuses bad options', async () => {
    const fake = fakeIo();
    await runUpload([file('a/1.png', png(1))], { ...options, testShare: 0.9 }, fake.io);
    expect(last(fake.messages)).toMatchObject({ type: 'failed', message: expect.stringContaining('test share') });
  });

  it('considers only the first MAX_FILES files and says how many were dropped', async () => {
    const header = png(7);
    const files = Array.from({ length: MAX_FILES + 3 }, (_, i) => file(`c${i % 2}/${i}.png`, header));
    const fake = fakeIo();
    await runUpload(files, { ...options, imageSize: 16 }, fake.io);
    const summary = summaryOf(fake);
    expect(summary).toMatchObject({ imageCount: MAX_FILES, truncatedAt: MAX_FILES, droppedCount: 3 });
  });
});
