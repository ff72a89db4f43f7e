#!/usr/bin/env node
/**
 * Builds the playground's built-in dataset: a class-balanced 12k subset of
 * Fashion-MNIST (MIT licence, © 2017 Zalando SE,
 * https://github.com/zalandoresearch/fashion-mnist).
 *
 * Input : the IDX files of the Debian package `dataset-fashion-mnist`
 *         (/usr/share/datasets/fashion-mnist, or $FASHION_MNIST_DIR).
 * Output: public/datasets/fashion-mnist-12k.bin.gz and fashion-mnist.json
 *         (or into $OUT_DIR).
 *
 * Payload layout (uncompressed, all uint8):
 *   [train images 10000*28*28][train labels 10000][test images 2000*28*28][test labels 2000]
 *
 * The subset is chosen with a seeded mulberry32 shuffle (seed 2020), so reruns
 * produce byte-identical files. Plain Node ESM, no dependencies.
 *
 * Usage: npm run build:datasets
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const SOURCE_DIR = process.env.FASHION_MNIST_DIR || '/usr/share/datasets/fashion-mnist';
const OUT_DIR = resolve(process.env.OUT_DIR || join(here, '..', 'public', 'datasets'));

const SEED = 2020;
const IMAGE_SIZE = 28;
const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
const TRAIN_PER_CLASS = 1000;
const TEST_PER_CLASS = 200;
const CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
const NUM_CLASSES = CLASS_NAMES.length;
const DATA_FILE = 'fashion-mnist-12k.bin.gz';
const MANIFEST_FILE = 'fashion-mnist.json';

function fail(message) {
  console.error(`build-fashion-mnist: ${message}`);
  process.exit(1);
}

/** mulberry32: tiny seeded PRNG, uniform in [0, 1). Same as src/core/random.ts. */
function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function readIdx(fileName) {
  const path = join(SOURCE_DIR, fileName);
  if (!existsSync(path)) {
    fail(
      `missing ${path}.\n` +
        `Install the Fashion-MNIST files with:  apt-get install -y dataset-fashion-mnist\n` +
        `(or point FASHION_MNIST_DIR at a folder holding the four *-ubyte.gz IDX files).`,
    );
  }
  let raw = readFileSync(path);
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (e) {
      fail(`${path} is not a valid gzip file: ${e.message}`);
    }
  }
  if (raw.length < 8) fail(`${path} is too short to be an IDX file (${raw.length} bytes).`);
  return { path, data: raw };
}

function readImages(fileName) {
  const { path, data } = readIdx(fileName);
  const magic = data.readUInt32BE(0);
  if (magic !== 2051) fail(`${path}: bad magic number ${magic} (expected 2051 for an IDX image file).`);
  if (data.length < 16) fail(`${path}: truncated header.`);
  const count = data.readUInt32BE(4);
  const rows = data.readUInt32BE(8);
  const cols = data.readUInt32BE(12);
  if (rows !== IMAGE_SIZE || cols !== IMAGE_SIZE) {
    fail(`${path}: images are ${rows}×${cols}, expected ${IMAGE_SIZE}×${IMAGE_SIZE}.`);
  }
  const expected = 16 + count * PIXELS;
  if (data.length !== expected) {
    fail(`${path}: header says ${count} images (${expected} bytes) but the file has ${data.length} bytes.`);
  }
  return { count, pixels: data.subarray(16) };
}

function readLabels(fileName) {
  const { path, data } = readIdx(fileName);
  const magic = data.readUInt32BE(0);
  if (magic !== 2049) fail(`${path}: bad magic number ${magic} (expected 2049 for an IDX label file).`);
  const count = data.readUInt32BE(4);
  if (data.length !== 8 + count) {
    fail(`${path}: header says ${count} labels but the file has ${data.length - 8} label bytes.`);
  }
  const labels = data.subarray(8);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= NUM_CLASSES) fail(`${path}: label ${labels[i]} at index ${i} is out of range 0..${NUM_CLASSES - 1}.`);
  }
  return { count, labels };
}

function loadSplit(imagesFile, labelsFile) {
  const images = readImages(imagesFile);
  const labels = readLabels(labelsFile);
  if (images.count !== labels.count) {
    fail(`${imagesFile} has ${images.count} images but ${labelsFile} has ${labels.count} labels.`);
  }
  return { count: images.count, pixels: images.pixels, labels: labels.labels };
}

/**
 * Walks a seeded Fisher–Yates permutation of the split and keeps the first
 * `perClass` examples of every class, in shuffled order (classes interleaved).
 */
function selectBalanced(split, perClass, rng, name) {
  const order = new Uint32Array(split.count);
  for (let i = 0; i < split.count; i++) order[i] = i;
  for (let i = split.count - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const taken = new Array(NUM_CLASSES).fill(0);
  const picked = [];
  const total = perClass * NUM_CLASSES;
  for (let k = 0; k < split.count && picked.length < total; k++) {
    const idx = order[k];
    const label = split.labels[idx];
    if (taken[label] < perClass) {
      taken[label]++;
      picked.push(idx);
    }
  }
  if (picked.length !== total) {
    fail(`${name}: could only pick ${picked.length} of ${total} examples; per class: ${taken.join(', ')}.`);
  }
  const images = new Uint8Array(total * PIXELS);
  const labels = new Uint8Array(total);
  picked.forEach((idx, i) => {
    images.set(split.pixels.subarray(idx * PIXELS, (idx + 1) * PIXELS), i * PIXELS);
    labels[i] = split.labels[idx];
  });
  return { images, labels, count: total, counts: taken };
}

const t0 = Date.now();
const trainSrc = loadSplit('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz');
const testSrc = loadSplit('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz');

// One RNG stream: the train permutation is drawn first, then the test one.
const rng = mulberry32(SEED);
const train = selectBalanced(trainSrc, TRAIN_PER_CLASS, rng, 'train');
const test = selectBalanced(testSrc, TEST_PER_CLASS, rng, 'test');

const payload = Buffer.concat([train.images, train.labels, test.images, test.labels]);
const expectedBytes = (train.count + test.count) * (PIXELS + 1);
if (payload.length !== expectedBytes) fail(`internal error: payload is ${payload.length} bytes, expected ${expectedBytes}.`);
const sha256 = createHash('sha256').update(payload).digest('hex');

const gz = gzipSync(payload, { level: 9, memLevel: 9, strategy: zlibConstants.Z_DEFAULT_STRATEGY });
// Gzip header (RFC 1952): bytes 4..7 are MTIME. Node writes 0 already; force it
// so the output never depends on the build time. Byte 9 (OS) is fixed by zlib.
gz.writeUInt32LE(0, 4);

const manifest = {
  id: 'fashion-mnist',
  name: 'Fashion-MNIST (12k subset)',
  file: DATA_FILE,
  imageSize: IMAGE_SIZE,
  channels: 1,
  classNames: CLASS_NAMES,
  train: { count: train.count },
  test: { count: test.count },
  bytes: payload.length,
  sha256,
  licence: 'MIT',
  credit: 'Zalando Research, https://github.com/zalandoresearch/fashion-mnist',
  source: 'Debian package dataset-fashion-mnist',
};

mkdirSync(OUT_DIR, { recursive: true });
writeFileSync(join(OUT_DIR, DATA_FILE), gz);
writeFileSync(join(OUT_DIR, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`Fashion-MNIST subset from ${SOURCE_DIR} (seed ${SEED})`);
console.log(`  source: ${trainSrc.count} train / ${testSrc.count} test images`);
console.log('  class            train  test');
CLASS_NAMES.forEach((name, c) => {
  console.log(`  ${String(c).padStart(1)} ${name.padEnd(13)} ${String(train.counts[c]).padStart(6)} ${String(test.counts[c]).padStart(5)}`);
});
console.log(`  total            ${String(train.count).padStart(6)} ${String(test.count).padStart(5)}`);
console.log(`  payload: ${payload.length} bytes (${kib(payload.length)}), sha256 ${sha256}`);
console.log(`  wrote ${join(OUT_DIR, DATA_FILE)}: ${gz.length} bytes (${kib(gz.length)}, gzip -9)`);
console.log(`  wrote ${join(OUT_DIR, MANIFEST_FILE)}`);
console.log(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
