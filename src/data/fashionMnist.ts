/**
 * Loader for the built-in Fashion-MNIST subset (public/datasets/, built by
 * `npm run build:datasets`). Runs unchanged on the main thread, in a Web
 * Worker and in Node ≥ 18: it only uses fetch, streams, DecompressionStream
 * and (when present) crypto.subtle.
 *
 * Fashion-MNIST: MIT licence, © 2017 Zalando SE,
 * https://github.com/zalandoresearch/fashion-mnist
 */
import { concatChunks } from './bytes';
import {
  expectedPayloadBytes,
  imageBytes,
  validateManifest,
  type DatasetManifest,
  type ImageDataset,
  type ImageSplit,
} from './dataset';

export type LoadProgress = {
  loadedBytes: number;
  totalBytes: number | null;
  phase: 'download' | 'decompress' | 'parse';
};

const REGENERATE = 'Run `npm run build:datasets` to generate it, then reload.';

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function looksLikeHtml(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && i < 64 && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09 || bytes[i] === 0xef || bytes[i] === 0xbb || bytes[i] === 0xbf)) i++;
  return bytes[i] === 0x3c; /* '<' */
}

/**
 * Parses the decompressed payload against the manifest; throws clear errors
 * on wrong length or labels out of range. Pure: the returned splits own fresh
 * buffers (safe to transfer to/from a worker) and never alias `payload`.
 */
export function parseDatasetPayload(manifest: DatasetManifest, payload: Uint8Array): ImageDataset {
  const { imageSize, channels, classNames } = manifest;
  const per = imageBytes(imageSize, channels);
  const expected = expectedPayloadBytes(manifest);
  if (manifest.bytes !== expected) {
    throw new Error(
      `Dataset manifest "${manifest.id}" is inconsistent: it says ${manifest.bytes} bytes but its shape needs ${expected}. ${REGENERATE}`,
    );
  }
  if (payload.length !== expected) {
    const hint = looksLikeHtml(payload)
      ? ' The server returned an HTML page instead of the dataset file.'
      : payload.length < expected
        ? ' The file looks truncated.'
        : '';
    throw new Error(
      `Dataset "${manifest.id}" payload has ${payload.length} bytes, expected ${expected} ` +
        `(${manifest.train.count} train + ${manifest.test.count} test images of ${imageSize}×${imageSize}×${channels} plus labels).` +
        `${hint} ${REGENERATE}`,
    );
  }

  const numClasses = classNames.length;
  let offset = 0;
  const readSplit = (name: 'train' | 'test', count: number): ImageSplit => {
    const images = payload.slice(offset, offset + count * per);
    offset += count * per;
    const raw = payload.subarray(offset, offset + count);
    offset += count;
    const labels = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const label = raw[i];
      if (label >= numClasses) {
        throw new Error(
          `Dataset "${manifest.id}" ${name} label ${label} at index ${i} is out of range 0..${numClasses - 1} ` +
            `(${numClasses} classes). The dataset file and manifest do not match. ${REGENERATE}`,
        );
      }
      labels[i] = label;
    }
    return { images, labels, count };
  };
  const train = readSplit('train', manifest.train.count);
  const test = readSplit('test', manifest.test.count);

  return {
    id: manifest.id,
    name: manifest.name,
    imageSize,
    channels,
    classNames: [...classNames],
    train,
    test,
    credit: manifest.credit,
  };
}

/** True when `bytes` starts with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}


/**
 * Detects gzip by its magic bytes 1f 8b (a dev server may already have decoded
 * Content-Encoding: gzip) and inflates it with DecompressionStream('gzip');
 * anything else is returned unchanged. `onOutput` is called with the running
 * count of decompressed bytes.
 */
export async function maybeGunzip(
  bytes: Uint8Array,
  onOutput?: (decompressedBytes: number) => void,
): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  if (typeof DecompressionStream === 'undefined') {
    throw new Error(
      'Cannot decompress the dataset: this browser lacks DecompressionStream. Use a current Chrome, Edge, Firefox or Safari.',
    );
  }
  // DecompressionStream wants bytes backed by a plain ArrayBuffer.
  const input: Uint8Array<ArrayBuffer> =
    bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  const source = new ReadableStream<Uint8Array<ArrayBuffer>>({
    start(controller) {
      controller.enqueue(input);
      controller.close();
    },
  });
  const reader = source.pipeThrough(new DecompressionStream('gzip')).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
      onOutput?.(total);
    }
  } catch (e) {
    throw new Error(
      `The dataset file is not valid gzip (${errorMessage(e)}). It may be truncated or corrupt. ${REGENERATE}`,
    );
  }
  return concatChunks(chunks, total);
}

/** Lower-case hex SHA-256 via Web Crypto, or null where crypto.subtle is unavailable (e.g. insecure http origins). */
async function sha256Hex(bytes: Uint8Array): Promise<string | null> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (!subtle) return null;
  const data: Uint8Array<ArrayBuffer> =
    bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  const digest = new Uint8Array(await subtle.digest('SHA-256', data));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

async function fetchOrExplain(fetchImpl: typeof fetch, url: string, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetchImpl(url);
  } catch (e) {
    throw new Error(
      `Could not download the built-in dataset ${what} from ${url} (${errorMessage(e)}). ` +
        'Check that the dev server or site is reachable and reload.',
    );
  }
  if (!res.ok) {
    const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    throw new Error(`Could not download the built-in dataset ${what} (${status} for ${url}). ${REGENERATE}`);
  }
  // Vite's dev server (and many SPA hosts) answer a missing file with index.html and 200.
  if ((res.headers.get('content-type') ?? '').toLowerCase().includes('text/html')) {
    throw new Error(
      `Could not download the built-in dataset ${what}: ${url} returned an HTML page, so the file is probably missing. ${REGENERATE}`,
    );
  }
  return res;
}

/**
 * Fetches the manifest from `${baseUrl}datasets/fashion-mnist.json`, streams the
 * data file next to it (reporting progress; Content-Length is used when
 * present), gunzips, checks the SHA-256 when Web Crypto is available, and parses.
 */
export async function loadBuiltinDataset(
  baseUrl: string,
  onProgress?: (p: LoadProgress) => void,
  fetchImpl: typeof fetch = fetch,
): Promise<ImageDataset> {
  const base = baseUrl === '' ? '' : baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const manifestUrl = `${base}datasets/fashion-mnist.json`;

  const manifestRes = await fetchOrExplain(fetchImpl, manifestUrl, 'manifest');
  let json: unknown;
  try {
    json = JSON.parse(await manifestRes.text());
  } catch {
    throw new Error(
      `The built-in dataset manifest at ${manifestUrl} is not valid JSON (the server may have returned an HTML page because the file is missing). ${REGENERATE}`,
    );
  }
  let manifest: DatasetManifest;
  try {
    manifest = validateManifest(json);
  } catch (e) {
    throw new Error(`${errorMessage(e)} (${manifestUrl}) ${REGENERATE}`);
  }

  const dataUrl = `${base}datasets/${manifest.file}`;
  const res = await fetchOrExplain(fetchImpl, dataUrl, `file "${manifest.file}"`);

  // Content-Length counts the bytes on the wire. If the server applied a
  // Content-Encoding, the body we read is already decoded: expect the payload size.
  const encoding = (res.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  const lengthHeader = Number(res.headers.get('content-length'));
  let expectedTotal: number | null =
    encoding !== 'identity' && encoding !== ''
      ? manifest.bytes
      : Number.isFinite(lengthHeader) && lengthHeader > 0
        ? lengthHeader
        : null;

  let loaded = 0;
  const report = (phase: LoadProgress['phase'], loadedBytes: number, totalBytes: number | null) =>
    onProgress?.({ loadedBytes, totalBytes, phase });

  let downloaded: Uint8Array;
  report('download', 0, expectedTotal);
  try {
    if (res.body) {
      const reader = res.body.getReader();
      const chunks: Uint8Array[] = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        loaded += value.length;
        // A wrong or encoded Content-Length must not make the bar run past 100%.
        if (expectedTotal !== null && loaded > expectedTotal) expectedTotal = null;
        report('download', loaded, expectedTotal);
      }
      downloaded = concatChunks(chunks, loaded);
    } else {
      downloaded = new Uint8Array(await res.arrayBuffer());
      loaded = downloaded.length;
    }
  } catch (e) {
    throw new Error(
      `The download of ${dataUrl} was interrupted after ${loaded} bytes (${errorMessage(e)}). Check your connection and reload.`,
    );
  }
  report('download', loaded, loaded);

  report('decompress', 0, manifest.bytes);
  const payload = await maybeGunzip(downloaded, (n) => report('decompress', n, Math.max(n, manifest.bytes)));
  report('decompress', payload.length, Math.max(payload.length, manifest.bytes));

  report('parse', 0, manifest.bytes);
  if (payload.length === manifest.bytes) {
    const hash = await sha256Hex(payload);
    if (hash !== null && hash !== manifest.sha256) {
      throw new Error(
        `The dataset file ${dataUrl} does not match its manifest (sha256 ${hash.slice(0, 12)}… ≠ ${manifest.sha256.slice(0, 12)}…): ` +
          `the two files are out of sync or a cached copy is stale. ${REGENERATE}`,
      );
    }
  }
  const dataset = parseDatasetPayload(manifest, payload);
  report('parse', manifest.bytes, manifest.bytes);
  return dataset;
}
