import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { classCounts, imageAt, validateManifest, type DatasetManifest, type ImageDataset } from './dataset';
import { loadBuiltinDataset, maybeGunzip, parseDatasetPayload, type LoadProgress } from './fashionMnist';

const ROOT = join(import.meta.dirname, '..', '..');
const DATASETS = join(ROOT, 'public', 'datasets');
const MANIFEST_PATH = join(DATASETS, 'fashion-mnist.json');
const SCRIPT = join(ROOT, 'scripts', 'build-fashion-mnist.mjs');
const SOURCE_DIR = process.env.FASHION_MNIST_DIR || '/usr/share/datasets/fashion-mnist';

const manifestJson: unknown = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8'));
const manifest = validateManifest(manifestJson);
const gzBytes = new Uint8Array(readFileSync(join(DATASETS, manifest.file)));

/** A tiny valid manifest for synthetic payloads: 4×4 grey images, 3 classes. */
function tinyManifest(train = 3, test = 2): DatasetManifest {
  return {
    id: 'tiny',
    name: 'Tiny',
    file: 'tiny.bin.gz',
    imageSize: 4,
    channels: 1,
    classNames: ['a', 'b', 'c'],
    train: { count: train },
    test: { count: test },
    bytes: (train + test) * 17,
    sha256: '0'.repeat(64),
    licence: 'MIT',
    credit: 'test',
  };
}

function tinyPayload(m: DatasetManifest, labels: number[]): Uint8Array {
  const per = m.imageSize * m.imageSize * m.channels;
  const out = new Uint8Array(m.bytes);
  let at = 0;
  const split = (count: number, labelOffset: number) => {
    for (let i = 0; i < count * per; i++) out[at++] = (i * 7) % 256;
    for (let i = 0; i < count; i++) out[at++] = labels[labelOffset + i];
  };
  split(m.train.count, 0);
  split(m.test.count, m.train.count);
  return out;
}

describe('the committed Fashion-MNIST asset', () => {
  let payload: Uint8Array;
  let ds: ImageDataset;

  beforeAll(async () => {
    payload = await maybeGunzip(gzBytes);
    ds = parseDatasetPayload(manifest, payload);
  });

  it('has the expected manifest', () => {
    expect(manifest.id).toBe('fashion-mnist');
    expect(manifest.imageSize).toBe(28);
    expect(manifest.channels).toBe(1);
    expect(manifest.classNames).toHaveLength(10);
    expect(manifest.classNames[0]).toBe('T-shirt/top');
    expect(manifest.classNames[9]).toBe('Ankle boot');
    expect(manifest.licence).toBe('MIT');
    expect(manifest.credit).toMatch(/Zalando/);
  });

  it('payload length and sha256 match the manifest', () => {
    expect(payload.length).toBe(manifest.bytes);
    expect(payload.length).toBe(12_000 * (784 + 1));
    expect(createHash('sha256').update(payload).digest('hex')).toBe(manifest.sha256);
  });

  it('has 10,000 / 2,000 images, exactly 1,000 / 200 per class', () => {
    expect(ds.train.count).toBe(10_000);
    expect(ds.test.count).toBe(2_000);
    expect(ds.train.images.length).toBe(10_000 * 784);
    expect(ds.test.images.length).toBe(2_000 * 784);
    expect(ds.train.labels.length).toBe(10_000);
    expect(classCounts(ds.train, 10)).toEqual(new Array(10).fill(1000));
    expect(classCounts(ds.test, 10)).toEqual(new Array(10).fill(200));
    expect(ds.credit).toMatch(/zalandoresearch/);
  });

  it('interleaves classes (shuffled order, not sorted by class)', () => {
    const first = Array.from(ds.train.labels.subarray(0, 50));
    expect(new Set(first).size).toBeGreaterThanOrEqual(8);
    let changes = 0;
    for (let i = 1; i < ds.train.count; i++) if (ds.train.labels[i] !== ds.train.labels[i - 1]) changes++;
    expect(changes).toBeGreaterThan(5000);
  });

  it('has a sensible pixel range', () => {
    for (const split of [ds.train, ds.test]) {
      let min = 255;
      let max = 0;
      let sum = 0;
      for (const v of split.images) {
        if (v < min) min = v;
        if (v > max) max = v;
        sum += v;
      }
      const mean = sum / split.images.length;
      expect(min).toBe(0);
      expect(max).toBe(255);
      // Fashion-MNIST's mean pixel is ≈ 72.9 / 255.
      expect(mean).toBeGreaterThan(60);
      expect(mean).toBeLessThan(85);
    }
    // Every image has some ink: no blank images.
    for (let i = 0; i < ds.test.count; i++) {
      const img = imageAt(ds.test, i, 28, 1);
      expect(img.length).toBe(784);
      expect(img.some((v) => v > 0)).toBe(true);
    }
  });

  it('splits own their buffers (safe to transfer)', () => {
    expect(ds.train.images.buffer).not.toBe(payload.buffer);
    expect(ds.test.images.buffer).not.toBe(ds.train.images.buffer);
    expect(ds.train.images.byteOffset).toBe(0);
  });
});

describe('maybeGunzip', () => {
  it('passes non-gzip bytes through unchanged', async () => {
    const plain = new Uint8Array([1, 2, 3, 0x1f, 0x8b, 9]);
    const out = await maybeGunzip(plain);
    expect(out).toBe(plain);
    expect(await maybeGunzip(new Uint8Array(0))).toHaveLength(0);
    expect(Array.from(await maybeGunzip(new Uint8Array([0x1f])))).toEqual([0x1f]);
  });

  it('inflates gzip and reports output progress', async () => {
    const original = new Uint8Array(300_000);
    for (let i = 0; i < original.length; i++) original[i] = (i * 31 + (i >> 8)) & 0xff;
    const gz = new Uint8Array(gzipSync(original));
    const seen: number[] = [];
    const out = await maybeGunzip(gz, (n) => seen.push(n));
    expect(out.length).toBe(original.length);
    expect(Buffer.from(out).equals(Buffer.from(original))).toBe(true);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[seen.length - 1]).toBe(original.length);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
  });

  it('rejects corrupt gzip with a clear message', async () => {
    const gz = new Uint8Array(gzipSync(new Uint8Array(10_000).fill(7)));
    await expect(maybeGunzip(gz.subarray(0, gz.length >> 1))).rejects.toThrow(/not valid gzip.*build:datasets/s);
  });
});

describe('parseDatasetPayload', () => {
  it('parses a well-formed payload', () => {
    const m = tinyManifest();
    const ds = parseDatasetPayload(m, tinyPayload(m, [0, 1, 2, 2, 1]));
    expect(ds.train.count).toBe(3);
    expect(Array.from(ds.train.labels)).toEqual([0, 1, 2]);
    expect(Array.from(ds.test.labels)).toEqual([2, 1]);
    expect(ds.train.images.length).toBe(48);
    expect(imageAt(ds.train, 1, 4, 1)[0]).toBe((16 * 7) % 256);
    expect(classCounts(ds.test, 3)).toEqual([0, 1, 1]);
  });

  it('rejects a truncated payload', () => {
    const m = tinyManifest();
    const p = tinyPayload(m, [0, 1, 2, 2, 1]);
    expect(() => parseDatasetPayload(m, p.subarray(0, p.length - 1))).toThrow(
      /payload has 84 bytes, expected 85.*truncated.*build:datasets/,
    );
    expect(() => parseDatasetPayload(manifest, gzBytes)).toThrow(/expected 9420000/);
  });

  it('explains an HTML page served instead of the data', () => {
    const m = tinyManifest();
    const html = new TextEncoder().encode('<!doctype html><html></html>');
    expect(() => parseDatasetPayload(m, html)).toThrow(/HTML page/);
  });

  it('rejects an out-of-range label', () => {
    const m = tinyManifest();
    expect(() => parseDatasetPayload(m, tinyPayload(m, [0, 1, 2, 3, 1]))).toThrow(
      /test label 3 at index 0 is out of range 0\.\.2/,
    );
    expect(() => parseDatasetPayload(m, tinyPayload(m, [0, 255, 2, 0, 1]))).toThrow(/train label 255 at index 1/);
  });
});

describe('validateManifest', () => {
  const good = () => JSON.parse(JSON.stringify(manifestJson)) as Record<string, unknown>;

  it('accepts the committed manifest', () => {
    expect(validateManifest(good())).toEqual(manifestJson);
  });

  it.each<[string, (m: Record<string, unknown>) => unknown, RegExp]>([
    ['null', () => null, /expected a JSON object, got null/],
    ['an array', () => [], /got an array/],
    ['missing id', (m) => ({ ...m, id: undefined }), /"id" must be a non-empty string/],
    ['path in file', (m) => ({ ...m, file: '../secret.bin' }), /"file" must be a plain file name/],
    ['bad imageSize', (m) => ({ ...m, imageSize: 28.5 }), /"imageSize" must be an integer/],
    ['bad channels', (m) => ({ ...m, channels: 2 }), /"channels" must be 1 or 3/],
    ['too few classes', (m) => ({ ...m, classNames: ['x'] }), /"classNames" must be an array/],
    ['non-string class', (m) => ({ ...m, classNames: ['x', 3] }), /"classNames\[1\]"/],
    ['missing train', (m) => ({ ...m, train: undefined }), /"train" must be an object/],
    ['negative test count', (m) => ({ ...m, test: { count: -1 } }), /"test.count" must be an integer/],
    ['wrong bytes', (m) => ({ ...m, bytes: 123 }), /"bytes" is 123 but .* need 9420000/],
    ['bad sha256', (m) => ({ ...m, sha256: 'abc' }), /"sha256" must be 64 lower-case hex digits/],
    ['missing licence', (m) => ({ ...m, licence: '' }), /"licence"/],
  ])('rejects %s', (_name, mutate, message) => {
    expect(() => validateManifest(mutate(good()))).toThrow(message);
    expect(() => validateManifest(mutate(good()))).toThrow(/^Invalid dataset manifest/);
  });
});

describe('dataset helpers', () => {
  it('imageAt returns a view and range-checks', () => {
    const split = { images: new Uint8Array(2 * 12), labels: new Int32Array([0, 1]), count: 2 };
    const v = imageAt(split, 1, 2, 3);
    expect(v.length).toBe(12);
    v[0] = 42;
    expect(split.images[12]).toBe(42);
    expect(() => imageAt(split, 2, 2, 3)).toThrow(RangeError);
    expect(() => imageAt(split, -1, 2, 3)).toThrow(/out of range/);
  });

  it('classCounts rejects labels outside the class range', () => {
    const split = { images: new Uint8Array(0), labels: new Int32Array([0, 4]), count: 2 };
    expect(() => classCounts(split, 3)).toThrow(/Label 4 at index 1/);
  });
});

/** A fetch stand-in that serves files from public/ in small chunks. */
function fakeFetch(
  files: Record<string, Uint8Array>,
  opts: { chunk?: number; contentLength?: boolean; headers?: Record<string, string> } = {},
): { fetch: typeof fetch; urls: string[] } {
  const urls: string[] = [];
  const impl = async (input: RequestInfo | URL): Promise<Response> => {
    const url = String(input);
    urls.push(url);
    const body = files[url];
    if (!body) return new Response('Not Found', { status: 404, statusText: 'Not Found' });
    const chunk = opts.chunk ?? 256 * 1024;
    let at = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= body.length) {
          controller.close();
          return;
        }
        controller.enqueue(body.slice(at, at + chunk));
        at += chunk;
      },
    });
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.contentLength !== false) headers['content-length'] = String(body.length);
    return new Response(stream, { status: 200, headers });
  };
  return { fetch: impl as typeof fetch, urls };
}

describe('loadBuiltinDataset', () => {
  const manifestBytes = new Uint8Array(readFileSync(MANIFEST_PATH));
  const served = (base: string) => ({
    [`${base}datasets/fashion-mnist.json`]: manifestBytes,
    [`${base}datasets/${manifest.file}`]: gzBytes,
  });

  it('loads via fetch, reporting monotonic progress that reaches totalBytes', async () => {
    const { fetch: f, urls } = fakeFetch(served('/app/'));
    const events: LoadProgress[] = [];
    const ds = await loadBuiltinDataset('/app', (p) => events.push(p), f);
    expect(urls).toEqual(['/app/datasets/fashion-mnist.json', `/app/datasets/${manifest.file}`]);
    expect(ds.train.count).toBe(10_000);
    expect(ds.test.count).toBe(2_000);
    expect(ds.classNames).toEqual(manifest.classNames);

    const phases = events.map((e) => e.phase);
    // Phases come in order: download… decompress… parse…
    expect(phases.join(',')).toMatch(/^(download,)+(decompress,)+parse(,parse)*$/);

    const download = events.filter((e) => e.phase === 'download');
    expect(download.length).toBeGreaterThan(10);
    for (let i = 1; i < download.length; i++) {
      expect(download[i].loadedBytes).toBeGreaterThanOrEqual(download[i - 1].loadedBytes);
    }
    for (const e of download) expect(e.totalBytes).toBe(gzBytes.length);
    const lastDownload = download[download.length - 1];
    expect(lastDownload.loadedBytes).toBe(gzBytes.length);

    const decompress = events.filter((e) => e.phase === 'decompress');
    for (let i = 1; i < decompress.length; i++) {
      expect(decompress[i].loadedBytes).toBeGreaterThanOrEqual(decompress[i - 1].loadedBytes);
    }
    expect(decompress[decompress.length - 1].loadedBytes).toBe(manifest.bytes);

    const last = events[events.length - 1];
    expect(last).toEqual({ phase: 'parse', loadedBytes: manifest.bytes, totalBytes: manifest.bytes });
  });

  it('works without Content-Length (totalBytes unknown until the end)', async () => {
    const { fetch: f } = fakeFetch(served('/'), { contentLength: false });
    const events: LoadProgress[] = [];
    await loadBuiltinDataset('/', (p) => events.push(p), f);
    const download = events.filter((e) => e.phase === 'download');
    expect(download[0].totalBytes).toBeNull();
    expect(download[download.length - 1]).toEqual({
      phase: 'download',
      loadedBytes: gzBytes.length,
      totalBytes: gzBytes.length,
    });
  });

  it('accepts a body the server already decoded (Content-Encoding: gzip)', async () => {
    const payload = await maybeGunzip(gzBytes);
    const { fetch: f } = fakeFetch(
      { '/datasets/fashion-mnist.json': manifestBytes, [`/datasets/${manifest.file}`]: payload },
      { headers: { 'content-encoding': 'gzip' }, contentLength: false },
    );
    const events: LoadProgress[] = [];
    const ds = await loadBuiltinDataset('/', (p) => events.push(p), f);
    expect(ds.test.count).toBe(2000);
    const download = events.filter((e) => e.phase === 'download');
    expect(download[0].totalBytes).toBe(manifest.bytes);
    for (const e of download) expect(e.loadedBytes).toBeLessThanOrEqual(e.totalBytes ?? Infinity);
  });

  it('gives a clear error on a 404 for the data file', async () => {
    const { fetch: f } = fakeFetch({ '/datasets/fashion-mnist.json': manifestBytes });
    await expect(loadBuiltinDataset('/', undefined, f)).rejects.toThrow(
      /Could not download the built-in dataset file "fashion-mnist-12k\.bin\.gz" \(HTTP 404 Not Found for \/datasets\/fashion-mnist-12k\.bin\.gz\)\. Run `npm run build:datasets`/,
    );
  });

  it('gives a clear error on a 404 for the manifest', async () => {
    const { fetch: f } = fakeFetch({});
    await expect(loadBuiltinDataset('/', undefined, f)).rejects.toThrow(
      /Could not download the built-in dataset manifest \(HTTP 404.*npm run build:datasets/,
    );
  });

  it('explains an HTML fallback page served instead of the manifest', async () => {
    const { fetch: f } = fakeFetch({ '/datasets/fashion-mnist.json': new TextEncoder().encode('<!doctype html>') });
    await expect(loadBuiltinDataset('/', undefined, f)).rejects.toThrow(/not valid JSON.*build:datasets/);
  });

  it('explains an HTML page served (status 200) instead of the data file', async () => {
    const html = new TextEncoder().encode('<!doctype html><html></html>');
    const real = fakeFetch(served('/')).fetch;
    const f = (async (input: RequestInfo | URL) =>
      String(input).endsWith('.gz')
        ? new Response(html, { status: 200, headers: { 'content-type': 'text/html' } })
        : real(input)) as typeof fetch;
    await expect(loadBuiltinDataset('/', undefined, f)).rejects.toThrow(
      /dataset file "fashion-mnist-12k\.bin\.gz": \/datasets\/fashion-mnist-12k\.bin\.gz returned an HTML page.*build:datasets/,
    );
  });

  it('explains a network failure', async () => {
    const failing = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    await expect(loadBuiltinDataset('/', undefined, failing)).rejects.toThrow(/Could not download.*Failed to fetch/);
  });

  it('detects a data file that does not match the manifest', async () => {
    const payload = new Uint8Array(await maybeGunzip(gzBytes));
    payload[100] ^= 0xff;
    const { fetch: f } = fakeFetch({
      '/datasets/fashion-mnist.json': manifestBytes,
      [`/datasets/${manifest.file}`]: new Uint8Array(gzipSync(payload)),
    });
    await expect(loadBuiltinDataset('/', undefined, f)).rejects.toThrow(/does not match its manifest \(sha256/);
  });
});

describe('scripts/build-fashion-mnist.mjs', () => {
  const haveSource = existsSync(join(SOURCE_DIR, 'train-images-idx3-ubyte.gz'));
  const skipReason = `Fashion-MNIST IDX files not found in ${SOURCE_DIR} (apt-get install -y dataset-fashion-mnist)`;

  it.skipIf(!haveSource)(`is deterministic and reproduces the committed asset${haveSource ? '' : ` — SKIPPED: ${skipReason}`}`, async () => {
    const run = promisify(execFile);
    const dirs = [mkdtempSync(join(tmpdir(), 'fmnist-a-')), mkdtempSync(join(tmpdir(), 'fmnist-b-'))];
    try {
      await Promise.all(
        dirs.map((dir) => run(process.execPath, [SCRIPT], { env: { ...process.env, OUT_DIR: dir, FASHION_MNIST_DIR: SOURCE_DIR } })),
      );
      for (const name of ['fashion-mnist.json', manifest.file]) {
        const a = readFileSync(join(dirs[0], name));
        const b = readFileSync(join(dirs[1], name));
        expect(a.equals(b), `${name} differs between two runs`).toBe(true);
        expect(a.equals(readFileSync(join(DATASETS, name))), `${name} differs from the committed public/datasets/${name}; rerun npm run build:datasets`).toBe(true);
      }
      const gz = readFileSync(join(dirs[0], manifest.file));
      expect(gz.readUInt32LE(4), 'gzip header mtime').toBe(0);
    } finally {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with an install hint when the source files are missing', async () => {
    const run = promisify(execFile);
    const out = mkdtempSync(join(tmpdir(), 'fmnist-missing-'));
    try {
      await expect(
        run(process.execPath, [SCRIPT], { env: { ...process.env, OUT_DIR: out, FASHION_MNIST_DIR: join(out, 'nope') } }),
      ).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/apt-get install -y dataset-fashion-mnist/) });
      expect(existsSync(join(out, manifest.file))).toBe(false);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
