/**
 * Property-based fuzzing (fast-check) of the parts of the upload that read
 * bytes a stranger chose: the zip reader and planner, and the image header
 * sniffer. Their contracts, from the code:
 * - listZip returns entries or throws a ZipError, and nothing else;
 * - planZip and inflateZip never throw: what cannot be used comes back as a
 *   refusal (`refused`, `skipped`) or as an entry with an `error` string;
 * - sniffImage returns an ImageInfo with positive whole dimensions or null,
 *   describeUnreadable a reason, checkImageData a reason or null; none throws;
 * - displayPath makes any string one bounded line without bidi or control characters.
 * Inputs are a few KiB at most, so a run cannot hang; each property checks
 * it finished in time too. A failure prints fast-check's seed and shrunk
 * counterexample; rerun it with `{ seed, path }` in fc.assert's options.
 * A longer search: FUZZ_RUNS=50000 npx vitest run src/data/upload/uploadFuzz
 */
import fc from 'fast-check';
import { zipSync, type Zippable } from 'fflate';
import { describe, expect, it } from 'vitest';
import { bmp, gif, jpeg, png, webp } from './fixtures.testutil';
import { checkImageData, describeUnreadable, sniffImage } from './imageHeader';
import { DISPLAY_PATH_MAX, displayPath, graphemes } from './text';
import { crc32, inflateZip, listZip, planZip, ZipError, type InflatedEntry, type ZipEntry } from './zip';

/** 1000 runs a property keeps the file near 3 s; FUZZ_RUNS=50000 searches harder. */
const RUNS = { numRuns: Number(process.env.FUZZ_RUNS ?? 1000) };

/** Everything the zip side does with the bytes; throws only what its contract allows (ZipError from listZip). */
function readZip(bytes: Uint8Array): { entries: ZipEntry[]; results: InflatedEntry[] } | 'not a zip' {
  let entries: ZipEntry[];
  try {
    entries = listZip(bytes);
  } catch (error) {
    if (error instanceof ZipError) return 'not a zip';
    throw error;
  }
  const plan = planZip('fuzz.zip', entries);
  for (const s of plan.skipped) expect(s.reason.length).toBeGreaterThan(0);
  // every listed entry, not only the planned ones: inflateZip must cope with whatever it is handed
  const results = [...inflateZip(bytes, entries)].flat();
  expect(results).toHaveLength(entries.length);
  for (const r of results) {
    if ('error' in r) expect(r.error.length).toBeGreaterThan(0);
    else {
      // what comes back is what the directory promised
      expect(r.bytes.length).toBe(r.entry.declaredSize);
      expect(crc32(r.bytes)).toBe(r.entry.crc);
    }
  }
  return { entries, results };
}

/** Runs `check` and fails when it took longer than `ms`: the no-hang half of each property. */
function quickly<T>(ms: number, check: () => T): T {
  const started = performance.now();
  const result = check();
  expect(performance.now() - started).toBeLessThan(ms);
  return result;
}

/** A place in a file, as a fraction of its length: uniform (fc.double's values crowd near 0, and would hit the signature every time). */
const fraction = fc.noBias(fc.integer({ min: 0, max: 0xffffff })).map((n) => n / 0x1000000);
/** Overwrites bytes at random places: [position as a fraction of the length, new byte]. */
const mutations = fc.array(fc.tuple(fraction, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 });
function mutate(bytes: Uint8Array, changes: readonly [number, number][]): Uint8Array {
  const out = bytes.slice();
  for (const [where, value] of changes) out[Math.floor(where * out.length)] = value;
  return out;
}

/** Entry names that the planner keeps: a folder or two and a file, never hidden, `..`, absolute or a zip. */
const entryName = fc
  .tuple(fc.array(fc.stringMatching(/^[a-z0-9_ -]{1,8}$/), { maxLength: 2 }), fc.stringMatching(/^[a-z0-9_-]{1,10}$/), fc.constantFrom('.png', '.jpg', '.bin', ''))
  .map(([folders, stem, ext]) => [...folders, `${stem}${ext}`].join('/'))
  // fflate's zipSync reads its input object's keys, and cannot take a top-level "__proto__" (fast-check found it); the reader has no objects keyed by name, and the corpus has such names
  .filter((name) => name !== '__proto__');
const contents = fc.uint8Array({ maxLength: 3000 });
const zipFiles = fc.dictionary(entryName, contents, { minKeys: 1, maxKeys: 6 });
const level = fc.constantFrom(0, 1, 6, 9) as fc.Arbitrary<0 | 1 | 6 | 9>;

describe('zip reader and planner under fuzzing', () => {
  it('round-trips any zip zipSync makes: the same names, in order, and the same bytes', () => {
    fc.assert(
      fc.property(zipFiles, level, (files, lvl) => {
        const zip = zipSync(files, { level: lvl });
        const read = quickly(2000, () => readZip(zip));
        expect(read).not.toBe('not a zip');
        if (read === 'not a zip') return;
        expect(read.entries.map((e) => e.path)).toEqual(Object.keys(files));
        expect(planZip('z.zip', read.entries).entries).toHaveLength(Object.keys(files).length);
        for (const r of read.results) {
          expect('bytes' in r, 'error' in r ? r.error : '').toBe(true);
          if ('bytes' in r) expect(Array.from(r.bytes)).toEqual(Array.from(files[r.entry.path] as Uint8Array));
        }
      }),
      RUNS,
    );
  });

  it('never throws anything but a ZipError on arbitrary bytes, with or without a zip’s end record', () => {
    const endRecord = (count: number, size: number, offset: number) =>
      Uint8Array.from([0x50, 0x4b, 5, 6, 0, 0, 0, 0, count & 255, count >> 8, count & 255, count >> 8, ...le(size), ...le(offset), 0, 0]);
    const le = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        quickly(1000, () => readZip(bytes));
      }),
      RUNS,
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 4096 }),
        fc.integer({ min: 0, max: 4096 }),
        (body, count, size, offset) => {
          quickly(1000, () => readZip(Uint8Array.from([...body, ...endRecord(count, size, offset)])));
        },
      ),
      RUNS,
    );
  });

  it('never throws, and never returns bytes that fail their checksum, on valid zips with bytes changed', () => {
    fc.assert(
      fc.property(zipFiles, level, mutations, (files, lvl, changes) => {
        const zip = mutate(zipSync(files, { level: lvl }), changes);
        quickly(2000, () => readZip(zip));
      }),
      RUNS,
    );
  });

  it('never throws on valid zips cut short or with bytes changed in their directory', () => {
    fc.assert(
      fc.property(zipFiles, fraction, mutations, (files, keep, changes) => {
        const zip = zipSync(files);
        quickly(1000, () => readZip(zip.subarray(0, Math.floor(keep * zip.length))));
        // aim the changes at the directory and end record, where the counts, sizes and offsets are
        const start = findDirectory(zip);
        const changed = Uint8Array.from([...zip.subarray(0, start), ...mutate(zip.subarray(start), changes)]);
        quickly(1000, () => readZip(changed));
      }),
      RUNS,
    );
  });
});

/** Where the central directory starts, from the end record. */
function findDirectory(zip: Uint8Array): number {
  const end = zip.length - 22;
  return new DataView(zip.buffer, zip.byteOffset).getUint32(end + 16, true);
}

// ---- image headers -----------------------------------------------------------------

/** What the sniffer side does with the bytes; none of it may throw. */
function readImage(bytes: Uint8Array): void {
  const info = sniffImage(bytes);
  if (info === null) {
    expect(describeUnreadable(bytes).length).toBeGreaterThan(0);
    return;
  }
  expect(['png', 'jpeg', 'webp', 'gif', 'bmp']).toContain(info.format);
  expect(Number.isInteger(info.width) && info.width > 0).toBe(true);
  expect(Number.isInteger(info.height) && info.height > 0).toBe(true);
  const cut = checkImageData(bytes, info);
  expect(cut === null || cut.length > 0).toBe(true);
}

const side = fc.integer({ min: 1, max: 3000 });
const validImage = fc.oneof(
  fc.tuple(fc.constant('png' as const), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 })).map(([f, w, h]) => ({ format: f, w, h, bytes: png(w, h) })),
  fc.tuple(fc.constant('jpeg' as const), side, side).map(([f, w, h]) => ({ format: f, w, h, bytes: jpeg(w, h) })),
  fc.tuple(fc.constant('gif' as const), side, side, fc.integer({ min: 1, max: 4 })).map(([f, w, h, n]) => ({ format: f, w, h, bytes: gif(w, h, n) })),
  fc.tuple(fc.constant('webp' as const), fc.integer({ min: 1, max: 16384 }), fc.integer({ min: 1, max: 16384 })).map(([f, w, h]) => ({ format: f, w, h, bytes: webp(w, h) })),
  fc.tuple(fc.constant('bmp' as const), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 })).map(([f, w, h]) => ({ format: f, w, h, bytes: bmp(w, h) })),
);

describe('image header sniffer under fuzzing', () => {
  it('reads back the format and size of every valid header, and finds it whole', () => {
    fc.assert(
      fc.property(validImage, ({ format, w, h, bytes }) => {
        const info = sniffImage(bytes);
        expect(info).toEqual({ format, width: w, height: h });
        expect(checkImageData(bytes, info!)).toBeNull();
      }),
      RUNS,
    );
  });

  it('never throws on arbitrary bytes, or on bytes that start like an image', () => {
    const signatures = [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0xff, 0xd8, 0xff], [0x47, 0x49, 0x46, 0x38, 0x39, 0x61], [0x42, 0x4d], [0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50]];
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => quickly(200, () => readImage(bytes))), RUNS);
    fc.assert(
      fc.property(fc.constantFrom(...signatures), fc.uint8Array({ maxLength: 512 }), (signature, rest) => quickly(200, () => readImage(Uint8Array.from([...signature, ...rest])))),
      RUNS,
    );
  });

  it('never throws on valid headers with bytes changed or cut short', () => {
    fc.assert(
      fc.property(validImage, mutations, fraction, ({ bytes }, changes, keep) => {
        quickly(200, () => readImage(mutate(bytes, changes)));
        quickly(200, () => readImage(bytes.subarray(0, Math.floor(keep * bytes.length))));
      }),
      RUNS,
    );
  });
});

describe('names shown to the user under fuzzing', () => {
  it('makes any string, lone surrogates and bidi overrides included, one line of at most DISPLAY_PATH_MAX characters', () => {
    const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    const tricky = fc.constantFrom('\u202E', '\u2066', '\u200B', '\n', '\u0000', '<script>', '"', '../', 'e\u0301', '👩‍👩‍👧');
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(anyUnit, tricky), maxLength: 400 }), (raw) => {
        const shown = displayPath(raw);
        expect(shown.length).toBeGreaterThan(0);
        expect(graphemes(shown).length).toBeLessThanOrEqual(DISPLAY_PATH_MAX);
        expect(shown).not.toMatch(/[\u200B\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]|\p{Cc}/u);
        expect(shown).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
      }),
      RUNS,
    );
  });
});

/** The zips in the corpus are built with fflate; this keeps the round trip honest about what fflate wrote. */
describe('the round trip’s fixture', () => {
  it('zipSync writes what the reader lists', () => {
    const files: Zippable = { 'a/b.png': new Uint8Array([1, 2, 3]), 'ünï/cödé.png': new Uint8Array([4]) };
    expect(listZip(zipSync(files)).map((e) => e.path)).toEqual(['a/b.png', 'ünï/cödé.png']);
  });
});
