import { strFromU8, unzipSync, unzlibSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  escapeTsvField,
  formatFloat32,
  metadataTsv,
  projectorBundle,
  projectorConfig,
  projectorConfigPbtxt,
  spriteSheet,
  SPRITE_MAX_SIDE,
  vectorsTsv,
  type ProjectorInput,
} from './projector';
import { crc32 } from './png';

const FLT_MAX = 3.4028234663852886e38;
const FLT_MIN_NORMAL = 2 ** -126;
const FLT_MIN_SUBNORMAL = 2 ** -149;

/** The rule as the brief states it, without the skip: toPrecision(1…9), the first that reads back. */
function shortestReference(v: number): string {
  if (Object.is(v, -0)) return '-0';
  for (let p = 1; p <= 9; p++) {
    const text = v.toPrecision(p);
    if (Math.fround(Number(text)) === v) return text;
  }
  throw new Error(`no round trip for ${v}`);
}

/** vectors.tsv read the way the standalone projector reads it (parseTensors): trimmed lines, tabs, Number, Float32Array. */
function parseVectors(tsv: string): Float32Array[] {
  return tsv
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => new Float32Array(line.split('\t').map(Number)));
}

/** Bit-exact float32 equality, so −0 and 0 differ. */
function bitsOf(values: Float32Array | number[]): number[] {
  return Array.from(new Uint32Array(Float32Array.from(values).buffer));
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

const SPECIAL = [
  0,
  -0,
  1,
  -1,
  0.1,
  -2.5,
  1 / 3,
  Math.PI,
  1e-7,
  123456789,
  16777217,
  -1e30,
  7.006492321624085e-46, // rounds to the smallest subnormal
  FLT_MIN_SUBNORMAL,
  3 * FLT_MIN_SUBNORMAL,
  FLT_MIN_NORMAL - FLT_MIN_SUBNORMAL, // the largest subnormal
  -1e-40,
  FLT_MIN_NORMAL,
  FLT_MAX,
  -FLT_MAX,
].map(Math.fround);

function input(over: Partial<ProjectorInput> = {}): ProjectorInput {
  const n = over.n ?? 5;
  const d = over.d ?? 3;
  const vectors = new Float32Array(n * d);
  for (let i = 0; i < vectors.length; i++) vectors[i] = Math.fround((i - 7) / 3);
  return {
    vectors,
    n,
    d,
    labels: Int32Array.from({ length: n }, (_, i) => (i === 2 ? -1 : i % 2)),
    classNames: ['cat', 'dog'],
    indices: Int32Array.from({ length: n }, (_, i) => 100 + i),
    split: 'test',
    imageSize: 2,
    channels: 1,
    tensorName: 'simclr h',
    about: { method: 'SimCLR', step: '1200', dataset: 'Fashion-MNIST' },
    ...over,
  };
}

describe('vectorsTsv', () => {
  it('writes values that read back to exactly the same float32, tiny, huge, negative, −0 and subnormal included', () => {
    const tsv = vectorsTsv(Float32Array.from(SPECIAL), 4, 5);
    const rows = parseVectors(tsv);
    expect(rows.map((r) => r.length)).toEqual([5, 5, 5, 5]);
    const back = rows.flatMap((r) => Array.from(r));
    expect(bitsOf(back)).toEqual(bitsOf(SPECIAL));
    // TensorBoard reads with Python's float() then float32: the same double rounding as Number then Math.fround
    expect(tsv.split('\n')[0].split('\t')[1]).toBe('-0');
  });

  it('writes the shortest text that reads back', () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [-0, '-0'],
      [1, '1'],
      [0.5, '0.5'],
      [0.1, '0.1'],
      [-2.5, '-2.5'],
      [1 / 3, '0.33333334'],
      [100, '100'], // toPrecision(1) says "1e+2": the same decimal, written as usual
      [16777216, '16777216'],
      [1e-7, '1e-7'],
      [FLT_MAX, '3.4028235e+38'],
      [FLT_MIN_SUBNORMAL, '1e-45'],
    ];
    for (const [v, text] of cases) expect(formatFloat32(Math.fround(v))).toBe(text);
  });

  it('gives the decimal the plain toPrecision(1…9) loop finds, on 300,000 float32 bit patterns of every exponent, and each reads back', () => {
    const next = lcg(7);
    const bits = new Uint32Array(300_000);
    for (let i = 0; i < bits.length; i++) bits[i] = next() ^ (next() >>> 9);
    const values = new Float32Array(bits.buffer);
    let checked = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) continue;
      const text = formatFloat32(v);
      // the same decimal as the reference (only the notation may differ: "100" for "1e+2")
      if (Number(text) !== Number(shortestReference(v))) expect({ v, text }).toEqual({ v, text: shortestReference(v) });
      if (!Object.is(Math.fround(Number(text)), v)) expect({ v, back: Math.fround(Number(text)) }).toEqual({ v, back: v });
      checked++;
    }
    expect(checked).toBeGreaterThan(290_000);
    // short decimals, where a value needs few digits, and the powers of two, where the float32 spacing changes
    const same = (v: number) => {
      if (Number(formatFloat32(v)) !== Number(shortestReference(v))) expect(formatFloat32(v)).toBe(shortestReference(v));
    };
    for (let k = -149; k <= 127; k++) same(Math.fround(2 ** k));
    for (let i = 0; i < 20_000; i++) {
      for (const v of [Math.fround(i / 1000), Math.fround(i * 1e-7), Math.fround(-i * 12345.678), Math.fround(1 / (i + 1))]) same(v);
    }
  });

  it('writes one line per vector, d values on each, no header, ending in a newline', () => {
    const v = Float32Array.from({ length: 12 }, (_, i) => i);
    expect(vectorsTsv(v, 3, 4)).toBe('0\t1\t2\t3\n4\t5\t6\t7\n8\t9\t10\t11\n');
  });

  it('refuses NaN and ±Infinity, naming the row and column as in the file', () => {
    const v = new Float32Array(6);
    v[4] = Number.NaN;
    expect(() => vectorsTsv(v, 2, 3)).toThrow(/^vectors\.tsv row 2, column 2 would be NaN/);
    v[4] = 0;
    v[0] = Number.POSITIVE_INFINITY;
    expect(() => vectorsTsv(v, 2, 3)).toThrow(/^vectors\.tsv row 1, column 1 would be Infinity/);
    v[0] = 0;
    v[5] = Number.NEGATIVE_INFINITY;
    expect(() => vectorsTsv(v, 2, 3)).toThrow(/row 2, column 3 would be -Infinity.*not finite/);
  });

  it('refuses counts that are not whole numbers ≥ 1 and arrays of the wrong length', () => {
    expect(() => vectorsTsv(new Float32Array(0), 0, 3)).toThrow('the number of vectors must be a whole number ≥ 1, got 0');
    expect(() => vectorsTsv(new Float32Array(3), 1, 0)).toThrow('the vector dimension must be a whole number ≥ 1, got 0');
    expect(() => vectorsTsv(new Float32Array(5), 2, 3)).toThrow('the vectors should hold 6 values (2 points × 3 dimensions) but holds 5');
  });
});

describe('metadataTsv', () => {
  const hostile = 'a\tb\nc\\d\re <script>alert(1)</script>';

  it('writes the header and one line of four fields per point; unlabelled points have an empty label and class "unlabelled"', () => {
    const text = metadataTsv(input());
    expect(text).toBe(
      'label\tclass\tsplit\tindex\n' +
        '0\tcat\ttest\t100\n' +
        '1\tdog\ttest\t101\n' +
        '\tunlabelled\ttest\t102\n' +
        '1\tdog\ttest\t103\n' +
        '0\tcat\ttest\t104\n',
    );
  });

  it('escapes a tab, newline, carriage return and backslash in a class name and keeps markup as text', () => {
    const n = 3;
    const text = metadataTsv({ n, labels: Int32Array.from([1, 0, 1]), classNames: ['plain', hostile], indices: Int32Array.from([0, 1, 2]), split: 'train' });
    // read as the projector does: rows on '\n', fields on '\t'
    const lines = text.split('\n').filter((l) => l !== '');
    expect(lines.length).toBe(n + 1);
    for (const line of lines) expect(line.split('\t').length).toBe(4);
    expect(lines[1].split('\t')[1]).toBe('a\\tb\\nc\\\\d\\re <script>alert(1)</script>');
    expect(lines[2]).toBe('0\tplain\ttrain\t1');
    // the escapes read back to the name, nothing dropped
    const unescape = (s: string) => s.replace(/\\([\\tnr])/g, (_, c: string) => ({ '\\': '\\', t: '\t', n: '\n', r: '\r' })[c]!);
    expect(unescape(lines[1].split('\t')[1])).toBe(hostile);
    expect(escapeTsvField('a\\tb')).toBe('a\\\\tb'); // a literal backslash-t is not confused with a tab
  });

  it('refuses labels outside the class list, wrong lengths, negative indices and an unknown split', () => {
    const base = { n: 2, labels: Int32Array.from([0, 1]), classNames: ['a', 'b'], indices: Int32Array.from([0, 1]), split: 'test' as const };
    expect(() => metadataTsv({ ...base, labels: Int32Array.from([0, 2]) })).toThrow('point 1 has label 2, which is not a class (the 2 classes are 0…1; −1 means no label)');
    expect(() => metadataTsv({ ...base, labels: Int32Array.from([-2, 0]) })).toThrow('point 0 has label -2');
    expect(() => metadataTsv({ ...base, classNames: [], labels: Int32Array.from([-1, 0]) })).toThrow('there are no classes');
    expect(metadataTsv({ ...base, classNames: [], labels: Int32Array.from([-1, -1]) })).toContain('\tunlabelled\ttest\t1\n');
    expect(() => metadataTsv({ ...base, labels: Int32Array.from([0]) })).toThrow('the labels should hold 2 values (one per point) but holds 1');
    expect(() => metadataTsv({ ...base, indices: Int32Array.from([0, 1, 2]) })).toThrow('the dataset indices should hold 2 values');
    expect(() => metadataTsv({ ...base, indices: Int32Array.from([0, -5]) })).toThrow('point 1 has dataset index -5');
    expect(() => metadataTsv({ ...base, split: 'val' as 'test' })).toThrow('split must be "train" or "test", got "val"');
  });
});

describe('spriteSheet', () => {
  /** The RGBA of cell k, read from the sheet row by row. */
  function cell(sheet: ReturnType<typeof spriteSheet>, k: number): number[] {
    const g = sheet.width / sheet.cell;
    const out: number[] = [];
    for (let y = 0; y < sheet.cell; y++) {
      const start = ((Math.floor(k / g) * sheet.cell + y) * sheet.width + (k % g) * sheet.cell) * 4;
      out.push(...sheet.rgba.subarray(start, start + sheet.cell * 4));
    }
    return out;
  }

  it('puts grey image k in cell k of a ceil(√n)-square grid, row-major, as opaque RGB, and leaves empty cells transparent', () => {
    const n = 5;
    const s = 3;
    const images = Uint8Array.from({ length: n * s * s }, (_, i) => (i * 37 + 11) & 255);
    const sheet = spriteSheet(images, n, s, 1);
    expect([sheet.width, sheet.height, sheet.cell]).toEqual([9, 9, 3]);
    expect(sheet.rgba.length).toBe(9 * 9 * 4);
    for (let k = 0; k < n; k++) {
      const grey = Array.from(images.subarray(k * s * s, (k + 1) * s * s));
      expect(cell(sheet, k)).toEqual(grey.flatMap((v) => [v, v, v, 255]));
    }
    for (let k = n; k < 9; k++) expect(cell(sheet, k).every((v) => v === 0)).toBe(true);
  });

  it('copies RGB images pixel for pixel', () => {
    const n = 2;
    const s = 2;
    const images = Uint8Array.from({ length: n * s * s * 3 }, (_, i) => 200 - i);
    const sheet = spriteSheet(images, n, s, 3);
    expect([sheet.width, sheet.height]).toEqual([4, 4]);
    for (let k = 0; k < n; k++) {
      const rgb = Array.from(images.subarray(k * s * s * 3, (k + 1) * s * s * 3));
      const expected: number[] = [];
      for (let p = 0; p < s * s; p++) expected.push(rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2], 255);
      expect(cell(sheet, k)).toEqual(expected);
    }
    expect(cell(sheet, 2).every((v) => v === 0) && cell(sheet, 3).every((v) => v === 0)).toBe(true);
  });

  it('uses the smallest square grid: 9 images fill 3×3, 10 need 4×4', () => {
    expect(spriteSheet(new Uint8Array(9), 9, 1, 1).width).toBe(3);
    expect(spriteSheet(new Uint8Array(10), 10, 1, 1).width).toBe(4);
    expect(spriteSheet(new Uint8Array(1), 1, 1, 1).width).toBe(1);
  });

  it('refuses a sheet over 8192 px a side, saying how many thumbnails fit', () => {
    expect(SPRITE_MAX_SIDE).toBe(8192);
    // 16,385 thumbnails of 64 px need a 129-cell grid: 8,256 px; 128 × 128 = 16,384 fit
    expect(() => spriteSheet(new Uint8Array(16_385 * 64 * 64), 16_385, 64, 1)).toThrow(
      "a sprite of 16,385 thumbnails would be 8256×8256 px, over the Embedding Projector's limit of 8192 px a side: at most 16,384 thumbnails of 64×64 px fit",
    );
    expect(() => spriteSheet(new Uint8Array(4 * 4097 * 4097), 4, 4097, 1)).toThrow('at most 1 thumbnail of 4097×4097 px fit');
    expect(() => spriteSheet(new Uint8Array(0), 1, 8193, 3)).toThrow('not even one 8193×8193 px thumbnail fits');
  });

  it('refuses images of the wrong length or shape', () => {
    expect(() => spriteSheet(new Uint8Array(7), 2, 2, 1)).toThrow('the thumbnails should hold 8 values (2 images × 2×2 px × 1 channel) but holds 7');
    expect(() => spriteSheet(new Uint8Array(8), 2, 2, 3)).toThrow('should hold 24 values');
    expect(() => spriteSheet(new Uint8Array(8), 2, 2, 4 as 3)).toThrow('images must have 1 (grey) or 3 (RGB) channels, got 4');
    expect(() => spriteSheet(new Uint8Array(8), 2, 0, 1)).toThrow('the image size must be a whole number ≥ 1, got 0');
  });
});

describe('projectorConfig', () => {
  it('names the tensor, its [n, d] shape and the two TSV files, with the projector’s field names', () => {
    const config = projectorConfig(input({ n: 7, d: 4 }));
    expect(config).toEqual({
      embeddings: [{ tensorName: 'simclr h', tensorShape: [7, 4], tensorPath: 'vectors.tsv', metadataPath: 'metadata.tsv' }],
    });
  });

  it('adds the sprite and the size of one thumbnail when there are images', () => {
    const config = projectorConfig(input({ images: new Uint8Array(5 * 28 * 28), imageSize: 28 }));
    expect(config.embeddings[0].sprite).toEqual({ imagePath: 'sprite.png', singleImageDim: [28, 28] });
    const hosted = projectorConfig(input({ images: new Uint8Array(20) }), {
      tensorPath: 'https://example.org/v.tsv',
      metadataPath: 'https://example.org/m.tsv',
      spritePath: 'https://example.org/s.png',
    });
    expect(hosted.embeddings[0]).toMatchObject({ tensorPath: 'https://example.org/v.tsv', sprite: { imagePath: 'https://example.org/s.png' } });
  });

  it('writes the same config in the protobuf text format TensorBoard reads, with names escaped', () => {
    const config = projectorConfig(input({ images: new Uint8Array(20), tensorName: 'h "best"\\\n' }));
    expect(projectorConfigPbtxt(config)).toBe(
      'embeddings {\n' +
        '  tensor_name: "h \\"best\\"\\\\\\n"\n' +
        '  tensor_shape: 5\n' +
        '  tensor_shape: 3\n' +
        '  tensor_path: "vectors.tsv"\n' +
        '  metadata_path: "metadata.tsv"\n' +
        '  sprite {\n' +
        '    image_path: "sprite.png"\n' +
        '    single_image_dim: 2\n' +
        '    single_image_dim: 2\n' +
        '  }\n' +
        '}\n',
    );
  });
});

describe('projectorBundle', () => {
  const u32 = (b: Uint8Array, at: number) => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

  it('zips vectors.tsv, metadata.tsv, sprite.png, both configs and README.txt with the expected contents', () => {
    const images = Uint8Array.from({ length: 5 * 2 * 2 }, (_, i) => i * 12);
    const data = input({ images });
    const files = unzipSync(projectorBundle(data));
    expect(Object.keys(files).sort()).toEqual(['README.txt', 'metadata.tsv', 'projector_config.json', 'projector_config.pbtxt', 'sprite.png', 'vectors.tsv']);

    expect(strFromU8(files['vectors.tsv'])).toBe(vectorsTsv(data.vectors, data.n, data.d));
    expect(bitsOf(parseVectors(strFromU8(files['vectors.tsv'])).flatMap((r) => Array.from(r)))).toEqual(bitsOf(data.vectors));
    expect(strFromU8(files['metadata.tsv'])).toBe(metadataTsv(data));
    const config = JSON.parse(strFromU8(files['projector_config.json']));
    expect(config).toEqual(projectorConfig(data));
    expect(config.embeddings[0].sprite).toEqual({ imagePath: 'sprite.png', singleImageDim: [2, 2] });
    expect(strFromU8(files['projector_config.pbtxt'])).toBe(projectorConfigPbtxt(config));
    const readme = strFromU8(files['README.txt']);
    expect(readme).toContain('The thumbnails, 6×6 px: 3 rows of 3 cells of 2×2 px');
    expect(readme).toContain('https://projector.tensorflow.org/?config=');

    // sprite.png: a PNG whose header gives the sheet's size and whose pixels are the sheet's
    const png = files['sprite.png'];
    const sheet = spriteSheet(images, 5, 2, 1);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(strFromU8(png.subarray(12, 16))).toBe('IHDR');
    expect([u32(png, 16), u32(png, 20), png[24], png[25]]).toEqual([sheet.width, sheet.height, 8, 6]);
    expect(u32(png, 29)).toBe(crc32(png.subarray(12, 29)));
    const idatLength = u32(png, 33);
    expect(strFromU8(png.subarray(37, 41))).toBe('IDAT');
    const raw = unzlibSync(png.subarray(41, 41 + idatLength));
    const rowBytes = sheet.width * 4;
    for (let y = 0; y < sheet.height; y++) {
      expect(raw[y * (rowBytes + 1)]).toBe(0);
      expect(Array.from(raw.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1)))).toEqual(Array.from(sheet.rgba.subarray(y * rowBytes, (y + 1) * rowBytes)));
    }
  });

  it('writes a README with the about lines and how to open the files in both projectors', () => {
    const about = { method: 'SimCLR', step: '1200', dataset: 'my\nupload', date: '2025-01-02' };
    const readme = strFromU8(unzipSync(projectorBundle(input({ about })))['README.txt']);
    expect(readme).toContain('  method: SimCLR\n  step: 1200\n  dataset: my\\nupload\n  date: 2025-01-02\n');
    expect(readme).toContain('https://projector.tensorflow.org/');
    expect(readme).toMatch(/"Load"[\s\S]*vectors\.tsv[\s\S]*metadata\.tsv/);
    expect(readme).toContain('tensorboard --logdir');
    expect(readme).toContain('projector_config.pbtxt');
    expect(readme).toContain('5 lines of 3 tab-separated numbers');
  });

  it('leaves the sprite out, of the zip and the config, when there are no images', () => {
    const files = unzipSync(projectorBundle(input()));
    expect(Object.keys(files).sort()).toEqual(['README.txt', 'metadata.tsv', 'projector_config.json', 'projector_config.pbtxt', 'vectors.tsv']);
    expect(JSON.parse(strFromU8(files['projector_config.json'])).embeddings[0].sprite).toBeUndefined();
    expect(strFromU8(files['projector_config.pbtxt'])).not.toContain('sprite');
    expect(strFromU8(files['README.txt'])).not.toMatch(/sprite\.png|thumbnails/);
  });

  it('refuses empty or malformed input with a message', () => {
    expect(() => projectorBundle(input({ n: 0 }))).toThrow('the number of points must be a whole number ≥ 1, got 0');
    expect(() => projectorBundle(input({ d: 0 }))).toThrow('the vector dimension must be a whole number ≥ 1, got 0');
    expect(() => projectorBundle(input({ d: 1 }))).toThrow('cannot read one-dimensional vectors');
    expect(() => projectorBundle({ ...input(), vectors: new Float32Array(14) })).toThrow('the vectors should hold 15 values (5 points × 3 dimensions) but holds 14');
    expect(() => projectorBundle({ ...input(), labels: new Int32Array(4) })).toThrow('the labels should hold 5 values');
    expect(() => projectorBundle({ ...input(), indices: new Int32Array(6) })).toThrow('the dataset indices should hold 5 values');
    expect(() => projectorBundle({ ...input(), labels: Int32Array.from([0, 1, 2, 0, 1]) })).toThrow('point 2 has label 2, which is not a class');
    expect(() => projectorBundle(input({ images: new Uint8Array(19) }))).toThrow('the thumbnails should hold 20 values');
    expect(() => projectorBundle(input({ tensorName: ' ' }))).toThrow('the embedding needs a name');
    expect(() => projectorBundle(input({ images: new Uint8Array(0), imageSize: 4000 }))).toThrow('at most 4 thumbnails of 4000×4000 px fit');
    const bad = input();
    bad.vectors[7] = Number.NaN;
    expect(() => projectorBundle(bad)).toThrow(/row 3, column 2 would be NaN/);
  });
});
