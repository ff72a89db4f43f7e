/**
 * The encoder's representations h as the files TensorBoard's Embedding
 * Projector reads, in one zip: the standalone projector
 * (https://projector.tensorflow.org, "Load") and TensorBoard's projector plugin.
 *
 * The formats, as the projector's source reads them (tensorflow/tensorboard,
 * tensorboard/plugins/projector/):
 * - vectors.tsv: one point per line, its d values tab-separated, no header
 *   (vz_projector/data-provider.ts `parseTensors`; projector_plugin.py
 *   `_read_tensor_tsv_file`). The standalone parser refuses vectors of one
 *   dimension ("Found a vector with only one dimension?").
 * - metadata.tsv: with more than one column the first line is the header
 *   (`parseMetadata`); rows are split on '\n' and fields on '\t' with no
 *   quoting, so a tab or newline inside a value would shift or break a row;
 *   an empty field reads as a missing value.
 * - sprite: one image holding every thumbnail in a grid, row-major from the top
 *   left, point i in cell i. The sprite shader finds cell i as
 *   (i mod perRow, floor(i / perColumn)), right only when the grid has as many
 *   rows as columns, so the sheet is a square of ceil(√n) × ceil(√n) cells
 *   (scatterPlotVisualizerSprites.ts); a sheet over 8192 px a side is refused
 *   (data-provider.ts, MAX_SPRITE_IMAGE_SIZE_PX).
 * - config: the JSON form of projector_config.proto (`ProjectorConfig`,
 *   `EmbeddingInfo`, `SpriteMetadata` in data-provider.ts), which the standalone
 *   projector fetches from `?config=URL`; TensorBoard reads the same message in
 *   protobuf text format from `projector_config.pbtxt` in the log directory,
 *   resolving relative paths against that directory (projector_plugin.py).
 */
import { strToU8, zipSync, type Zippable } from 'fflate';
import { encodePng } from './png';

export interface ProjectorInput {
  /** n × d representations h, row-major, point i at [i·d, (i+1)·d). */
  vectors: Float32Array;
  n: number;
  d: number;
  /** n class indices into `classNames`; −1: the point has no label. */
  labels: Int32Array;
  classNames: readonly string[];
  /** n positions of the points in their split of the dataset. */
  indices: Int32Array;
  split: 'train' | 'test';
  /** n × imageSize² × channels thumbnails, HWC uint8; without them no sprite is written. */
  images?: Uint8Array;
  imageSize: number;
  channels: 1 | 3;
  /** The embedding's name in the projector's menus. */
  tensorName: string;
  /** Lines for README.txt (method, step, dataset, encoder, date…), in this order. */
  about: Record<string, string>;
}

/** File names inside the bundle; the configs point at the first three. */
export interface ProjectorFileNames {
  tensorPath: string;
  metadataPath: string;
  spritePath: string;
}

export const PROJECTOR_FILE_NAMES: ProjectorFileNames = {
  tensorPath: 'vectors.tsv',
  metadataPath: 'metadata.tsv',
  spritePath: 'sprite.png',
};
export const PROJECTOR_CONFIG_JSON = 'projector_config.json';
/** The name TensorBoard's projector plugin looks for (metadata.PROJECTOR_FILENAME). */
export const PROJECTOR_CONFIG_PBTXT = 'projector_config.pbtxt';
export const PROJECTOR_README = 'README.txt';

/** The projector refuses a sprite image wider or taller than this (MAX_SPRITE_IMAGE_SIZE_PX). */
export const SPRITE_MAX_SIDE = 8192;

/** `SpriteMetadata` in data-provider.ts: singleImageDim is [width, height] of one thumbnail. */
export interface ProjectorSprite {
  imagePath: string;
  singleImageDim: [number, number];
}

/** `EmbeddingInfo` in data-provider.ts, the JSON form of the proto message. */
export interface ProjectorEmbedding {
  tensorName: string;
  tensorShape: [number, number];
  tensorPath: string;
  metadataPath: string;
  sprite?: ProjectorSprite;
}

/** `ProjectorConfig` in data-provider.ts. */
export interface ProjectorConfig {
  embeddings: ProjectorEmbedding[];
}

export interface SpriteSheet {
  /** width × height × 4 bytes, RGBA, row-major. */
  rgba: Uint8Array;
  width: number;
  height: number;
  /** Side of one thumbnail's cell in px (= the image size). */
  cell: number;
}

function checkCount(value: number, what: string, min = 1): void {
  if (!Number.isInteger(value) || value < min) throw new Error(`${what} must be a whole number ≥ ${min}, got ${value}`);
}

function checkLength(array: ArrayLike<unknown>, expected: number, what: string, shape: string): void {
  if (array.length !== expected) throw new Error(`${what} should hold ${expected} values (${shape}) but holds ${array.length}`);
}

/**
 * A float32 value as the shortest decimal that reads back to exactly the same
 * float32: the first of toPrecision(1…9) whose Math.fround is the value.
 * Nine significant digits always suffice for binary32 (IEEE 754-2008 §5.12.2);
 * reading back is float64 parsing then rounding to float32, as both readers do
 * (`new Float32Array(row.map(Number))`; numpy's float64 → float32 cast).
 * −0 keeps its sign ("-0"), which toPrecision drops. The digits are written
 * in JavaScript's usual notation (String of the same number: "10", "1e-7",
 * "3.4028235e+38"), which Number and Python's float() both read.
 *
 * Speed (most values of a trained h need 7–9 digits, and toPrecision is the
 * cost): a precision p is skipped without calling toPrecision when no decimal
 * of p digits can be near enough. toPrecision(p) is a multiple of
 * 10^(e−p+1), e = ⌊log₁₀|v|⌋, so a multiple of the finer grid 10^(e₀−p) for
 * the computed e₀ (Math.log10 may be off by one at a power of ten). Reading
 * back to v needs it within half a float32 spacing of v; so if |v| is farther
 * than a whole spacing (bounded above by 2^(⌈log₂|v|⌉−23), at least 2^−149)
 * from every multiple of that grid, p cannot round-trip. The float64 error of
 * the test is ~10⁻⁶ of that margin. The output is the plain loop's, faster
 * about 2.5× (the test compares the two on hundreds of thousands of values).
 */
export function formatFloat32(value: number): string {
  if (Object.is(value, -0)) return '-0';
  const a = Math.abs(value);
  const spacing = a === 0 ? 0 : Math.max(2 ** (Math.ceil(Math.log2(a)) - 23), 2 ** -149);
  let grid = a === 0 ? 1 : 10 ** (Math.floor(Math.log10(a)) - 1);
  for (let p = 1; p <= 9; p++, grid /= 10) {
    const m = a / grid;
    if (Math.abs(m - Math.round(m)) * grid > spacing) continue;
    const text = value.toPrecision(p);
    // toPrecision writes 10 as "1e+1"; String gives the same decimal in the usual notation ("10")
    if (Math.fround(Number(text)) === value) return text.includes('e') ? String(Number(text)) : text;
  }
  // only for a number that is not a float32 to begin with; its float64 text reads back to the same float64
  return String(value);
}

/**
 * vectors.tsv: n lines of d tab-separated values, each the shortest text that
 * reads back to the same float32 (see formatFloat32), no header.
 *
 * @throws Error when n or d is not a whole number ≥ 1, `vectors` is not n × d
 *   long, or a value is NaN or ±Infinity (naming its row and column, 1-based as
 *   in the file).
 */
export function vectorsTsv(vectors: Float32Array, n: number, d: number): string {
  checkCount(n, 'the number of vectors');
  checkCount(d, 'the vector dimension');
  checkLength(vectors, n * d, 'the vectors', `${n} points × ${d} dimensions`);
  const lines = new Array<string>(n);
  const row = new Array<string>(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = vectors[i * d + j];
      if (!Number.isFinite(v)) {
        throw new Error(
          `vectors.tsv row ${i + 1}, column ${j + 1} would be ${v}: the encoder's output is not finite there ` +
            '(training has probably diverged), and the projector cannot read it, so nothing was exported',
        );
      }
      row[j] = formatFloat32(v);
    }
    lines[i] = row.join('\t');
  }
  return lines.join('\n') + '\n';
}

/**
 * A name as one TSV field: backslash, tab, newline and carriage return become
 * the two-character escapes \\, \t, \n and \r, so the row keeps its columns and
 * the name reads back unambiguously. Everything else (markup included) is kept
 * as text: the projector shows metadata as text.
 */
export function escapeTsvField(text: string): string {
  return text.replace(/[\\\t\n\r]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '\t' ? '\\t' : ch === '\n' ? '\\n' : '\\r'));
}

function checkSplit(split: string): void {
  if (split !== 'train' && split !== 'test') throw new Error(`split must be "train" or "test", got "${split}"`);
}

function checkLabels(labels: Int32Array, classNames: readonly string[]): void {
  const k = classNames.length;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y !== -1 && !(y >= 0 && y < k)) {
      const classes = k === 0 ? 'there are no classes' : `the ${k} classes are 0…${k - 1}`;
      throw new Error(`point ${i} has label ${y}, which is not a class (${classes}; −1 means no label)`);
    }
  }
}

function checkIndices(indices: Int32Array): void {
  for (let i = 0; i < indices.length; i++) {
    if (indices[i] < 0) throw new Error(`point ${i} has dataset index ${indices[i]}; an index is a position in the split, ≥ 0`);
  }
}

/**
 * metadata.tsv: the header `label	class	split	index`, then one line per
 * point in the order of vectors.tsv: its class index (empty when it has none),
 * its class name (escaped, see escapeTsvField; "unlabelled" when it has none),
 * the split, and its position in that split.
 *
 * @throws Error when the arrays are not n long, a label is neither −1 nor a
 *   class index, an index is negative, or split is not train/test.
 */
export function metadataTsv(input: Pick<ProjectorInput, 'n' | 'labels' | 'classNames' | 'indices' | 'split'>): string {
  const { n, labels, classNames, indices, split } = input;
  checkCount(n, 'the number of points');
  checkLength(labels, n, 'the labels', 'one per point');
  checkLength(indices, n, 'the dataset indices', 'one per point');
  checkLabels(labels, classNames);
  checkIndices(indices);
  checkSplit(split);
  const names = classNames.map(escapeTsvField);
  const lines = new Array<string>(n + 1);
  lines[0] = 'label\tclass\tsplit\tindex';
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    lines[i + 1] = y === -1 ? `\tunlabelled\t${split}\t${indices[i]}` : `${y}\t${names[y]}\t${split}\t${indices[i]}`;
  }
  return lines.join('\n') + '\n';
}

const plural = (count: number, noun: string) => `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;

const thumbnailShape = (n: number, size: number, channels: number) =>
  `${plural(n, 'image')} × ${size}×${size} px × ${plural(channels, 'channel')}`;

function checkImageShape(imageSize: number, channels: number): void {
  checkCount(imageSize, 'the image size');
  if (channels !== 1 && channels !== 3) throw new Error(`images must have 1 (grey) or 3 (RGB) channels, got ${channels}`);
}

/** Cells per side of the sprite grid: the smallest square that holds n thumbnails. */
const gridSide = (n: number) => Math.ceil(Math.sqrt(n));

/** Refuses a sheet of n thumbnails over the projector's 8192 px a side, saying how many of this size fit. */
function checkSpriteFits(n: number, imageSize: number): void {
  const side = gridSide(n) * imageSize;
  if (side <= SPRITE_MAX_SIDE) return;
  const perSide = Math.floor(SPRITE_MAX_SIDE / imageSize);
  const fit =
    perSide === 0
      ? `not even one ${imageSize}×${imageSize} px thumbnail fits`
      : `at most ${plural(perSide * perSide, 'thumbnail')} of ${imageSize}×${imageSize} px fit; export that many points or fewer, or leave the thumbnails out`;
  throw new Error(
    `a sprite of ${plural(n, 'thumbnail')} would be ${side}×${side} px, over the Embedding Projector's limit of ` +
      `${SPRITE_MAX_SIDE} px a side: ${fit}`,
  );
}

/**
 * The sprite sheet: thumbnail k in cell (row floor(k / g), column k mod g) of a
 * g × g grid, g = ceil(√n), grey expanded to RGB, alpha 255; cells past the
 * last point stay transparent (all zero).
 *
 * @throws Error when the sheet would be over 8192 px a side (saying how many
 *   thumbnails of this size fit), or the images are not n × imageSize² × channels.
 */
export function spriteSheet(images: Uint8Array, n: number, imageSize: number, channels: 1 | 3): SpriteSheet {
  checkCount(n, 'the number of images');
  checkImageShape(imageSize, channels);
  checkSpriteFits(n, imageSize);
  const pixels = imageSize * imageSize;
  checkLength(images, n * pixels * channels, 'the thumbnails', thumbnailShape(n, imageSize, channels));

  const g = gridSide(n);
  const side = g * imageSize;
  const rgba = new Uint8Array(side * side * 4);
  for (let k = 0; k < n; k++) {
    const top = Math.floor(k / g) * imageSize;
    const left = (k % g) * imageSize;
    const src = k * pixels * channels;
    for (let y = 0; y < imageSize; y++) {
      let out = ((top + y) * side + left) * 4;
      let at = src + y * imageSize * channels;
      for (let x = 0; x < imageSize; x++, out += 4, at += channels) {
        if (channels === 1) {
          rgba[out] = rgba[out + 1] = rgba[out + 2] = images[at];
        } else {
          rgba[out] = images[at];
          rgba[out + 1] = images[at + 1];
          rgba[out + 2] = images[at + 2];
        }
        rgba[out + 3] = 255;
      }
    }
  }
  return { rgba, width: side, height: side, cell: imageSize };
}

/**
 * The projector config (JSON form of projector_config.proto) for this export:
 * one embedding of shape [n, d] with its vectors and metadata files, and the
 * sprite when `input.images` is given. The standalone projector fetches these
 * paths as URLs, TensorBoard resolves them against the config's folder.
 */
export function projectorConfig(
  input: Pick<ProjectorInput, 'n' | 'd' | 'tensorName' | 'images' | 'imageSize'>,
  files: ProjectorFileNames = PROJECTOR_FILE_NAMES,
): ProjectorConfig {
  const { n, d, tensorName, images, imageSize } = input;
  checkCount(n, 'the number of vectors');
  checkCount(d, 'the vector dimension');
  if (tensorName.trim() === '') throw new Error('the embedding needs a name (tensorName is empty)');
  const embedding: ProjectorEmbedding = {
    tensorName,
    tensorShape: [n, d],
    tensorPath: files.tensorPath,
    metadataPath: files.metadataPath,
  };
  if (images) {
    checkCount(imageSize, 'the image size');
    embedding.sprite = { imagePath: files.spritePath, singleImageDim: [imageSize, imageSize] };
  }
  return { embeddings: [embedding] };
}

/**
 * A string literal in protobuf text format: C-style escapes for the backslash,
 * the double quote and control characters (octal), UTF-8 text kept as it is
 * (the text-format tokenizer reads escapes the way C does).
 */
function protoString(text: string): string {
  const escaped = text.replace(/[\\"\u0000-\u001f\u007f]/g, (ch) => {
    switch (ch) {
      case '\\':
        return '\\\\';
      case '"':
        return '\\"';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return '\\' + ch.charCodeAt(0).toString(8).padStart(3, '0');
    }
  });
  return `"${escaped}"`;
}

/**
 * The same config in protobuf text format, as TensorBoard's projector plugin
 * reads it from projector_config.pbtxt (field names from
 * projector_config.proto; repeated scalars written one per line).
 */
export function projectorConfigPbtxt(config: ProjectorConfig): string {
  const lines: string[] = [];
  for (const e of config.embeddings) {
    lines.push('embeddings {');
    lines.push(`  tensor_name: ${protoString(e.tensorName)}`);
    for (const s of e.tensorShape) lines.push(`  tensor_shape: ${s}`);
    lines.push(`  tensor_path: ${protoString(e.tensorPath)}`);
    lines.push(`  metadata_path: ${protoString(e.metadataPath)}`);
    if (e.sprite) {
      lines.push('  sprite {');
      lines.push(`    image_path: ${protoString(e.sprite.imagePath)}`);
      for (const s of e.sprite.singleImageDim) lines.push(`    single_image_dim: ${s}`);
      lines.push('  }');
    }
    lines.push('}');
  }
  return lines.join('\n') + '\n';
}

/** Every check that needs no file built, the sprite's size included; a non-finite value is found while writing vectors.tsv. */
function checkInput(input: ProjectorInput): void {
  const { n, d } = input;
  checkCount(n, 'the number of points');
  checkCount(d, 'the vector dimension');
  if (d < 2) throw new Error('the Embedding Projector cannot read one-dimensional vectors; it needs d ≥ 2');
  checkLength(input.vectors, n * d, 'the vectors', `${n} points × ${d} dimensions`);
  checkLength(input.labels, n, 'the labels', 'one per point');
  checkLength(input.indices, n, 'the dataset indices', 'one per point');
  checkLabels(input.labels, input.classNames);
  checkIndices(input.indices);
  checkSplit(input.split);
  if (input.tensorName.trim() === '') throw new Error('the embedding needs a name (tensorName is empty)');
  if (input.images) {
    checkImageShape(input.imageSize, input.channels);
    checkSpriteFits(n, input.imageSize);
    const s = input.imageSize;
    checkLength(input.images, n * s * s * input.channels, 'the thumbnails', thumbnailShape(n, s, input.channels));
  }
}

/** README.txt: the files, the `about` lines (escaped like TSV fields, so each stays on its line), how to open them. */
function readme(input: ProjectorInput, sprite: SpriteSheet | undefined): string {
  const { n, d } = input;
  const f = PROJECTOR_FILE_NAMES;
  const about = Object.entries(input.about).map(([k, v]) => `  ${escapeTsvField(k)}: ${escapeTsvField(v)}`);
  const files = [
    f.tensorPath,
    `    ${n} lines of ${d} tab-separated numbers, no header: the encoder's representation h of one image per line.`,
    f.metadataPath,
    '    A header line (label, class, split, index), then one line per image in the same order: its class index',
    `    (empty if unlabelled), class name ("unlabelled" if none), split (${input.split}) and position in that split.`,
    '    A tab, newline, carriage return or backslash inside a class name is written as \\t, \\n, \\r or \\\\.',
  ];
  if (sprite) {
    const g = sprite.width / sprite.cell;
    files.push(
      f.spritePath,
      `    The thumbnails, ${sprite.width}×${sprite.height} px: ${g} rows of ${g} cells of ${sprite.cell}×${sprite.cell} px, filled row by row`,
      '    from the top left in the same order; cells past the last image are transparent.',
    );
  }
  files.push(
    PROJECTOR_CONFIG_JSON,
    "    The projector's config (its JSON format) naming these files, for the standalone projector.",
    PROJECTOR_CONFIG_PBTXT,
    '    The same config in the text format TensorBoard reads.',
  );
  const hosted = [
    '  To see the thumbnails there, put the files at public URLs that allow cross-origin reads, replace the',
    `  paths in ${PROJECTOR_CONFIG_JSON} with those URLs, and open`,
    `  https://projector.tensorflow.org/?config=<the URL of ${PROJECTOR_CONFIG_JSON}>`,
  ];
  return [
    'Embeddings for the TensorBoard Embedding Projector, exported by the Self-Supervised Playground',
    '',
    'About this export',
    ...(about.length > 0 ? about : ['  (nothing recorded)']),
    '',
    'Files',
    ...files,
    '',
    'Open in the standalone projector (in a browser, nothing to install)',
    '  1. Go to https://projector.tensorflow.org/ and click "Load" in the left panel.',
    `  2. Step 1, "Load a TSV file of vectors": choose ${f.tensorPath}.`,
    `  3. Step 2, "Load a TSV file of metadata": choose ${f.metadataPath}.`,
    '  4. Colour or label the points by "class" in the left panel.',
    ...(sprite ? ['  The Load dialog takes no images.', ...hosted] : []),
    '',
    `Open in TensorBoard's projector${sprite ? ' (with the thumbnails)' : ''}`,
    '  1. Unzip this file into a folder of its own, say embeddings/.',
    '  2. Run: tensorboard --logdir embeddings',
    '  3. Open the PROJECTOR tab on the page it prints (if it is not listed yet, reload the page or pick it',
    '     from the INACTIVE menu).',
    `  TensorBoard reads ${PROJECTOR_CONFIG_PBTXT}; the paths in it are relative to that folder.`,
    '',
  ].join('\n');
}

/**
 * The whole export as one zip: vectors.tsv, metadata.tsv, sprite.png (when
 * images are given), projector_config.json, projector_config.pbtxt and
 * README.txt.
 *
 * @throws Error when n < 1 or d < 2 (the projector cannot read one-dimensional
 *   vectors), an array has the wrong length, a label is outside the class list,
 *   a vector holds NaN or ±Infinity, or the sprite would be over 8192 px a side.
 */
export function projectorBundle(input: ProjectorInput): Uint8Array {
  checkInput(input);
  // vectors first: a non-finite value is the one refusal left, found before the sprite is drawn
  const files: Zippable = {
    [PROJECTOR_FILE_NAMES.tensorPath]: strToU8(vectorsTsv(input.vectors, input.n, input.d)),
    [PROJECTOR_FILE_NAMES.metadataPath]: strToU8(metadataTsv(input)),
  };
  const sprite = input.images ? spriteSheet(input.images, input.n, input.imageSize, input.channels) : undefined;
  const config = projectorConfig(input);
  // a PNG is deflated already: stored, not compressed twice
  if (sprite) files[PROJECTOR_FILE_NAMES.spritePath] = [encodePng(sprite.rgba, sprite.width, sprite.height), { level: 0 }];
  files[PROJECTOR_CONFIG_JSON] = strToU8(JSON.stringify(config, null, 2) + '\n');
  files[PROJECTOR_CONFIG_PBTXT] = strToU8(projectorConfigPbtxt(config));
  files[PROJECTOR_README] = strToU8(readme(input, sprite));
  return zipSync(files);
}
