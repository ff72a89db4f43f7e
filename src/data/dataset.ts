/**
 * Shared dataset types and helpers. Pure TypeScript: usable on the main
 * thread, in the training worker and in Node tests.
 */

/** One split of an image dataset. */
export interface ImageSplit {
  /** count * H * W * C bytes, row-major HWC per image, 0..255. */
  images: Uint8Array;
  /** One class index per image, 0..numClasses-1. */
  labels: Int32Array;
  count: number;
}

export interface ImageDataset {
  id: string;
  name: string;
  /** Images are square: imageSize × imageSize. */
  imageSize: number;
  channels: 1 | 3;
  classNames: string[];
  train: ImageSplit;
  test: ImageSplit;
  /**
   * Labelled images the linear probe is fitted on, when they should differ
   * from the training split (the coloured shapes' colour-neutral probe set);
   * absent: the probe fits on the first images of `train`.
   */
  probeTrain?: ImageSplit;
  credit?: string;
}

/**
 * The JSON manifest that sits next to a packed dataset file
 * (public/datasets/<id>.json, written by scripts/build-fashion-mnist.mjs).
 * The payload it describes is, uncompressed:
 * [train images][train labels][test images][test labels], all uint8.
 */
export interface DatasetManifest {
  id: string;
  name: string;
  /** File name of the (usually gzipped) payload, relative to the manifest. */
  file: string;
  imageSize: number;
  channels: 1 | 3;
  classNames: string[];
  train: { count: number };
  test: { count: number };
  /** Uncompressed payload length in bytes. */
  bytes: number;
  /** Lower-case hex SHA-256 of the uncompressed payload. */
  sha256: string;
  licence: string;
  credit: string;
  source?: string;
}

/** Bytes of one image. */
export function imageBytes(imageSize: number, channels: number): number {
  return imageSize * imageSize * channels;
}

/** Expected uncompressed payload length for a manifest's shape. */
export function expectedPayloadBytes(
  m: Pick<DatasetManifest, 'imageSize' | 'channels' | 'train' | 'test'>,
): number {
  return (m.train.count + m.test.count) * (imageBytes(m.imageSize, m.channels) + 1);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/**
 * Checks that `json` is a well-formed dataset manifest and returns it typed.
 * Throws an Error naming the first problem found.
 */
export function validateManifest(json: unknown): DatasetManifest {
  const bad = (what: string): never => {
    throw new Error(`Invalid dataset manifest: ${what}.`);
  };
  if (!isRecord(json)) return bad(`expected a JSON object, got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}`);
  const m = json;

  const str = (key: string, optional = false): string | undefined => {
    const v = m[key];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string' || v.trim() === '') return bad(`"${key}" must be a non-empty string`);
    return v;
  };

  const id = str('id')!;
  const name = str('name')!;
  const file = str('file')!;
  if (file.includes('..') || file.startsWith('/') || file.includes('\\') || /^[a-z]+:/i.test(file)) {
    bad(`"file" must be a plain file name next to the manifest, got "${file}"`);
  }

  const imageSize = m.imageSize;
  if (!isNonNegInt(imageSize) || imageSize < 1 || imageSize > 1024) {
    bad(`"imageSize" must be an integer between 1 and 1024, got ${JSON.stringify(imageSize)}`);
  }
  const channels = m.channels;
  if (channels !== 1 && channels !== 3) bad(`"channels" must be 1 or 3, got ${JSON.stringify(channels)}`);

  const classNames = m.classNames;
  if (!Array.isArray(classNames) || classNames.length < 2 || classNames.length > 256) {
    bad('"classNames" must be an array of 2 to 256 names');
  }
  (classNames as unknown[]).forEach((c, i) => {
    if (typeof c !== 'string' || c === '') bad(`"classNames[${i}]" must be a non-empty string`);
  });

  const split = (key: 'train' | 'test', min: number): { count: number } => {
    const s = m[key];
    if (!isRecord(s)) return bad(`"${key}" must be an object like { "count": 1000 }`);
    if (!isNonNegInt(s.count) || s.count < min) {
      return bad(`"${key}.count" must be an integer ≥ ${min}, got ${JSON.stringify(s.count)}`);
    }
    return { count: s.count };
  };
  const train = split('train', 1);
  const test = split('test', 0);

  const bytes = m.bytes;
  if (!isNonNegInt(bytes)) bad(`"bytes" must be a non-negative integer, got ${JSON.stringify(bytes)}`);
  const expected = expectedPayloadBytes({
    imageSize: imageSize as number,
    channels: channels as 1 | 3,
    train,
    test,
  });
  if (bytes !== expected) {
    bad(
      `"bytes" is ${bytes as number} but ${train.count}+${test.count} images of ` +
        `${imageSize as number}×${imageSize as number}×${channels as number} plus labels need ${expected}`,
    );
  }

  const sha256 = m.sha256;
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) {
    bad('"sha256" must be 64 lower-case hex digits');
  }

  const licence = str('licence')!;
  const credit = str('credit')!;
  const source = str('source', true);

  const manifest: DatasetManifest = {
    id,
    name,
    file,
    imageSize: imageSize as number,
    channels: channels as 1 | 3,
    classNames: [...(classNames as string[])],
    train,
    test,
    bytes: bytes as number,
    sha256: sha256 as string,
    licence,
    credit,
  };
  if (source !== undefined) manifest.source = source;
  return manifest;
}

/** A view (no copy) of image `index` of `split`: imageSize*imageSize*channels bytes, HWC. */
export function imageAt(split: ImageSplit, index: number, imageSize: number, channels: number): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index >= split.count) {
    throw new RangeError(`Image index ${index} is out of range 0..${split.count - 1}.`);
  }
  const n = imageBytes(imageSize, channels);
  return split.images.subarray(index * n, (index + 1) * n);
}

/**
 * The buffers under a dataset's arrays, each once: the transfer list that
 * moves the set to another thread without copying it (the sender's arrays
 * are left empty).
 */
export function datasetBuffers(dataset: ImageDataset): ArrayBuffer[] {
  const splits = [dataset.train, dataset.test, ...(dataset.probeTrain ? [dataset.probeTrain] : [])];
  const buffers = new Set<ArrayBuffer>();
  for (const split of splits) {
    for (const array of [split.images, split.labels]) if (array.buffer instanceof ArrayBuffer) buffers.add(array.buffer);
  }
  return [...buffers];
}

/** Number of examples of each class 0..numClasses-1. Throws on a label outside that range. */
export function classCounts(split: ImageSplit, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < split.count; i++) {
    const label = split.labels[i];
    if (!(label >= 0 && label < numClasses)) {
      throw new RangeError(`Label ${label} at index ${i} is out of range 0..${numClasses - 1}.`);
    }
    counts[label]++;
  }
  return counts;
}

/**
 * The label of every image of an unlabelled set (an upload without class
 * folders): its `classNames` is empty and `classCounts` does not apply.
 */
export const UNLABELLED = -1;
