/**
 * Zip archives in an upload. Three steps, so that nothing is inflated before
 * it is known to fit:
 *   listZip    reads the central directory only (names, declared sizes,
 *              flags, checksums), with every offset checked against the file;
 *   planZip    refuses the whole archive when the declared sizes add up to
 *              more than the cap or every file in it is encrypted, and sorts
 *              out folders, clutter, unsafe paths, nested zips and
 *              encrypted entries;
 *   inflateZip inflates the planned entries a batch at a time and checks each
 *              against what the zip says of it: its size, its checksum, and
 *              its local header.
 * The archive is hostile until proven otherwise. A header that understates
 * an entry's size cannot blow memory up or keep the CPU busy: an entry is
 * inflated as a stream into a buffer of its declared size, and the first
 * byte past that ends it with a reason. Damage (a bad checksum, a broken
 * deflate stream, data cut off) is named as damage in the zip, not left for
 * the image decoder to call "not an image".
 *
 * The directory is read here rather than with fflate's unzipSync, which
 * trusts the entry count (a forged zip64 count of 2³² would loop for hours),
 * inflates a lying entry's whole stream into a fixed buffer, and does not
 * check checksums. fflate still does the inflating (its streaming Inflate).
 */
import { Inflate } from 'fflate';
import { isHiddenPath, isZipName, unsafePathReason } from './paths';
import type { SkippedFile } from './protocol';
import { concatChunks } from '../bytes';

/** Most bytes one zip may unzip to: 512 MiB, well within a tab's memory. */
export const MAX_UNZIPPED_BYTES = 512 * 1024 * 1024;
/** Most entries a zip's directory may list: five times what an upload reads (MAX_FILES), so no real set is refused, and the listing stays small. */
export const MAX_ZIP_ENTRIES = 100_000;
/** Declared bytes inflated per batch: bounds what is held at once, and the time between cancel checks. */
export const BATCH_BYTES = 32 * 1024 * 1024;
/** Entries per batch: a batch is yielded so that progress is posted and a cancel is read. */
export const BATCH_ENTRIES = 256;
/** Compressed bytes fed to the inflater at a time: deflate expands at most ~1032×, so one push makes at most ~17 MB. */
const INFLATE_CHUNK = 16 * 1024;

/** What listZip throws, and only that: the bytes are not a zip this reader will open. Its message says why, in the user's words. */
export class ZipError extends Error {
  override name = 'ZipError';
}

export interface ZipEntry {
  /** position in the central directory */
  index: number;
  /** path inside the archive, `/`-separated */
  path: string;
  compressedSize: number;
  /** uncompressed size, as the central directory declares it */
  declaredSize: number;
  /** 0 stored, 8 deflate; others are not supported (99 is WinZip's AES encryption) */
  compression: number;
  /** general-purpose bit flags: bit 0 encrypted, bit 3 sizes after the data, bit 6 strong encryption, bit 11 UTF-8 name */
  flags: number;
  /** CRC-32 of the uncompressed data, as the central directory declares it */
  crc: number;
  /** where the entry's local header starts */
  localOffset: number;
}

export interface ZipPlan {
  /** the entries to inflate, in directory order */
  entries: ZipEntry[];
  skipped: SkippedFile[];
  /** set when the whole archive was refused; then entries and skipped are empty */
  refused?: string;
}

export type InflatedEntry = { entry: ZipEntry; bytes: Uint8Array } | { entry: ZipEntry; error: string };

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

const count = (n: number) => n.toLocaleString('en');

// ---- reading the directory ---------------------------------------------------

const END_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_END_SIGNATURE = 0x06064b50;
const END_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
/** A 32-bit size or offset of all ones: the real value is in the zip64 extra field. */
const ZIP64_MARK = 0xffffffff;

const ENCRYPTED = 0x0001;
const SIZES_AFTER_DATA = 0x0008;
const STRONG_ENCRYPTION = 0x0040;
const UTF8_NAME = 0x0800;
const AES_METHOD = 99;

/** Reads little-endian fields; every read is inside the array (callers check first). */
class Reader {
  constructor(readonly bytes: Uint8Array) {}
  u16(at: number): number {
    return this.bytes[at] | (this.bytes[at + 1] << 8);
  }
  u32(at: number): number {
    return (this.bytes[at] | (this.bytes[at + 1] << 8) | (this.bytes[at + 2] << 16) | (this.bytes[at + 3] << 24)) >>> 0;
  }
  /** exact up to 2⁵³; larger values are past any file anyway */
  u64(at: number): number {
    return this.u32(at) + this.u32(at + 4) * 2 ** 32;
  }
  fits(at: number, length: number): boolean {
    return at >= 0 && length >= 0 && at + length <= this.bytes.length;
  }
}

const utf8 = new TextDecoder('utf-8');
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * An entry's name. Bit 11 says UTF-8; without it the format says code page
 * 437, but most zips made today write UTF-8 without the flag, so valid UTF-8
 * is read as UTF-8 and anything else byte for byte (Latin-1), as fflate does.
 */
function decodeName(raw: Uint8Array, flaggedUtf8: boolean): string {
  if (flaggedUtf8) return utf8.decode(raw);
  try {
    return strictUtf8.decode(raw);
  } catch {
    let name = '';
    for (const b of raw) name += String.fromCharCode(b);
    return name;
  }
}

/** The end-of-central-directory record: the last signature whose comment fits in the file. */
function findEnd(r: Reader): number {
  const length = r.bytes.length;
  for (let at = length - END_SIZE; at >= 0 && length - at <= END_SIZE + 0xffff; at--) {
    if (r.u32(at) === END_SIGNATURE && at + END_SIZE + r.u16(at + 20) <= length) return at;
  }
  return -1;
}

/** The zip64 extra field's values, in its fixed order, for the fields marked all ones. */
function zip64Values(r: Reader, extraStart: number, extraLength: number, marked: readonly boolean[]): (number | null)[] {
  const values: (number | null)[] = marked.map(() => null);
  let at = extraStart;
  const end = extraStart + extraLength;
  while (at + 4 <= end) {
    const id = r.u16(at);
    const size = r.u16(at + 2);
    if (at + 4 + size > end) break;
    if (id === 0x0001) {
      let field = at + 4;
      marked.forEach((isMarked, k) => {
        if (isMarked && field + 8 <= at + 4 + size) {
          values[k] = r.u64(field);
          field += 8;
        }
      });
      return values;
    }
    at += 4 + size;
  }
  return values;
}

const damaged = (detail: string) => new ZipError(`not a readable zip archive (${detail})`);

/**
 * The archive's entries from its central directory; inflates nothing.
 * Throws a ZipError, and nothing else, when the bytes are not a zip this
 * reader will open: no end record (not a zip, or cut short), a directory
 * outside the file or broken, a zip split across several files, or more
 * than `maxEntries` entries. Time and memory are linear in the file's size.
 */
export function listZip(bytes: Uint8Array, maxEntries = MAX_ZIP_ENTRIES): ZipEntry[] {
  const r = new Reader(bytes);
  const end = findEnd(r);
  if (end < 0) throw damaged('no end-of-archive record: it is not a zip, or the file was cut short');

  if (r.u16(end + 4) !== 0 && r.u16(end + 4) !== 0xffff) {
    throw new ZipError('this zip is split across several files (a spanned archive); join it into one zip, or unzip it and upload the folder');
  }
  let total = r.u16(end + 10);
  let directorySize = r.u32(end + 12);
  let directoryStart = r.u32(end + 16);
  if (end >= 20 && r.u32(end - 20) === ZIP64_LOCATOR_SIGNATURE) {
    const zip64End = r.u64(end - 12);
    if (!r.fits(zip64End, 56) || r.u32(zip64End) !== ZIP64_END_SIGNATURE) throw damaged('its zip64 end record is missing');
    total = r.u64(zip64End + 32);
    directorySize = r.u64(zip64End + 40);
    directoryStart = r.u64(zip64End + 48);
  }
  if (total === 0) return [];
  if (!r.fits(directoryStart, directorySize)) throw damaged('its directory lies past the end of the file: the file was cut short or is damaged');
  // every directory record takes at least 46 bytes: a count the directory cannot hold is a lie, found before looping on it
  if (total * CENTRAL_SIZE > directorySize) {
    throw damaged(`its directory says it lists ${count(total)} files but has room for at most ${count(Math.floor(directorySize / CENTRAL_SIZE))}`);
  }
  if (total > maxEntries) {
    throw new ZipError(`this zip lists ${count(total)} files, more than the ${count(maxEntries)} a zip may hold here; split it into smaller zips`);
  }

  const directoryEnd = directoryStart + directorySize;
  const entries: ZipEntry[] = [];
  let at = directoryStart;
  for (let index = 0; index < total; index++) {
    if (at + CENTRAL_SIZE > directoryEnd || r.u32(at) !== CENTRAL_SIGNATURE) throw damaged(`its directory is damaged at file ${count(index + 1)}`);
    const flags = r.u16(at + 8);
    const nameLength = r.u16(at + 28);
    const extraLength = r.u16(at + 30);
    const commentLength = r.u16(at + 32);
    const next = at + CENTRAL_SIZE + nameLength + extraLength + commentLength;
    if (next > directoryEnd) throw damaged(`its directory is damaged at file ${count(index + 1)}`);

    let compressedSize = r.u32(at + 20);
    let declaredSize = r.u32(at + 24);
    let localOffset = r.u32(at + 42);
    const marked = [declaredSize === ZIP64_MARK, compressedSize === ZIP64_MARK, r.u32(at + 42) === ZIP64_MARK];
    if (marked.some(Boolean)) {
      const [size, compressed, offset] = zip64Values(r, at + CENTRAL_SIZE + nameLength, extraLength, marked);
      declaredSize = size ?? declaredSize;
      compressedSize = compressed ?? compressedSize;
      localOffset = offset ?? localOffset;
    }
    entries.push({
      index,
      path: decodeName(bytes.subarray(at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength), (flags & UTF8_NAME) !== 0),
      compressedSize,
      declaredSize,
      compression: r.u16(at + 10),
      flags,
      crc: r.u32(at + 16),
      localOffset,
    });
    at = next;
  }
  return entries;
}

// ---- planning ------------------------------------------------------------------

export function isEncrypted(entry: Pick<ZipEntry, 'flags' | 'compression'>): boolean {
  return (entry.flags & (ENCRYPTED | STRONG_ENCRYPTION)) !== 0 || entry.compression === AES_METHOD;
}

export const ENCRYPTED_ZIP = 'this zip is password-protected; the browser cannot open encrypted zips — unzip it first, then upload the folder';
export const ENCRYPTED_ENTRY = 'password-protected inside the zip; the browser cannot open encrypted zip entries — unzip it first, then upload the folder';

/**
 * What to inflate. `zipName` prefixes the names of skipped entries. The
 * whole archive is refused when its declared sizes sum to more than
 * `maxUnzippedBytes`, or when every file in it is encrypted. Folders and
 * clutter (isHiddenPath) are left out silently; paths that leave the zip's
 * folder, nested zips, encrypted entries, unsupported compression and
 * repeated paths are skipped with a reason.
 */
export function planZip(zipName: string, entries: readonly ZipEntry[], maxUnzippedBytes = MAX_UNZIPPED_BYTES): ZipPlan {
  const declared = entries.reduce((sum, e) => sum + e.declaredSize, 0);
  if (declared > maxUnzippedBytes) {
    return {
      entries: [],
      skipped: [],
      refused:
        `would unzip to ${formatBytes(declared)}, more than the limit of ${formatBytes(maxUnzippedBytes)}, ` +
        'so it was not opened. Split it into smaller zips, or use smaller images.',
    };
  }
  const planned: ZipEntry[] = [];
  const skipped: SkippedFile[] = [];
  const seen = new Set<string>();
  let encrypted = 0;
  for (const entry of entries) {
    if (entry.path.endsWith('/') || entry.path.endsWith('\\')) continue;
    const name = `${zipName}/${entry.path}`;
    const unsafe = unsafePathReason(entry.path, 'the zip’s folder');
    if (unsafe) {
      skipped.push({ name, reason: unsafe });
      continue;
    }
    if (isHiddenPath(entry.path)) continue;
    if (isZipName(entry.path)) skipped.push({ name, reason: 'nested zip archives are not opened' });
    else if (isEncrypted(entry)) {
      encrypted += 1;
      skipped.push({ name, reason: ENCRYPTED_ENTRY });
    } else if (entry.compression !== 0 && entry.compression !== 8) {
      skipped.push({ name, reason: `compressed with method ${entry.compression}, which is not supported (zip it again with the usual deflate)` });
    } else if (seen.has(entry.path)) skipped.push({ name, reason: 'duplicate file name' });
    else {
      seen.add(entry.path);
      planned.push(entry);
    }
  }
  // one message for the zip, not one per file, when nothing in it can be opened for want of a password
  if (encrypted > 0 && planned.length === 0) return { entries: [], skipped: [], refused: ENCRYPTED_ZIP };
  return { entries: planned, skipped };
}

// ---- inflating -------------------------------------------------------------------

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-32 (the zip and PNG one: polynomial 0xEDB88320, reflected). */
export function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const tampered = (entry: ZipEntry) =>
  `the zip says this file is ${count(entry.declaredSize)} bytes but it holds more: the zip looks tampered with, so it was not unzipped`;
const shortOf = (entry: ZipEntry, got: number) =>
  `damaged in the zip: the zip says this file is ${count(entry.declaredSize)} bytes but it holds only ${count(got)}`;
const BAD_CHECKSUM = 'damaged in the zip (its data does not match its checksum)';
const BAD_STREAM = 'damaged in the zip (its compressed data is corrupt and cannot be unpacked)';

/** Thrown from the inflater's callback to stop it at the first byte past the declared size. */
class PastDeclaredSize extends Error {}

/**
 * Inflates a deflate stream that should give exactly `size` bytes, or says
 * why not. Fed INFLATE_CHUNK at a time, so a stream that holds more than
 * `size` is stopped within one chunk's output, and trailing input after the
 * stream's end is refused rather than fed on (fflate would copy it again on
 * every push). Memory follows what the stream gives, not what the header
 * claims: a forged size allocates nothing.
 */
function inflateExactly(data: Uint8Array, size: number): Uint8Array | 'more' | 'corrupt' | number {
  const chunks: Uint8Array[] = [];
  let produced = 0;
  const inflater = new Inflate((chunk) => {
    if (produced + chunk.length > size) throw new PastDeclaredSize();
    if (chunk.length > 0) chunks.push(chunk);
    produced += chunk.length;
  });
  try {
    let offset = 0;
    // chunks pushed once the output was complete: a well-formed stream ends within one
    let pushedWhenFull = 0;
    do {
      const stop = Math.min(offset + INFLATE_CHUNK, data.length);
      if (produced === size && pushedWhenFull++ > 0) return 'more';
      inflater.push(data.subarray(offset, stop), stop === data.length);
      offset = stop;
    } while (offset < data.length);
  } catch (error) {
    return error instanceof PastDeclaredSize ? 'more' : 'corrupt';
  }
  if (produced !== size) return produced;
  if (chunks.length === 1) return chunks[0];
  return concatChunks(chunks, size);
}

/** Checks one entry against its local header and inflates it; a reason when anything disagrees. */
function inflateEntry(r: Reader, entry: ZipEntry): InflatedEntry {
  const fail = (error: string): InflatedEntry => ({ entry, error });
  if (isEncrypted(entry)) return fail(ENCRYPTED_ENTRY);
  if (entry.compression !== 0 && entry.compression !== 8) return fail(`compressed with method ${entry.compression}, which is not supported`);

  const at = entry.localOffset;
  if (!r.fits(at, LOCAL_SIZE) || r.u32(at) !== LOCAL_SIGNATURE) {
    return fail(
      r.fits(at, 4)
        ? 'damaged in the zip (its header is not where the zip’s directory says it is)'
        : 'missing: the zip ends before this file’s data (the zip was cut short; make or download it again)',
    );
  }
  const localFlags = r.u16(at + 6);
  const start = at + LOCAL_SIZE + r.u16(at + 26) + r.u16(at + 28);
  if (!r.fits(start, entry.compressedSize)) return fail('missing: the zip ends before this file’s data does (the zip was cut short; make or download it again)');
  if ((localFlags & (ENCRYPTED | STRONG_ENCRYPTION)) !== 0) return fail(ENCRYPTED_ENTRY);
  const data = r.bytes.subarray(start, start + entry.compressedSize);

  let bytes: Uint8Array;
  if (entry.compression === 0) {
    if (data.length > entry.declaredSize) return fail(tampered(entry));
    if (data.length < entry.declaredSize) return fail(shortOf(entry, data.length));
    bytes = data.slice();
  } else {
    const result = inflateExactly(data, entry.declaredSize);
    if (result === 'more') return fail(tampered(entry));
    if (result === 'corrupt') return fail(BAD_STREAM);
    if (typeof result === 'number') return fail(shortOf(entry, result));
    bytes = result;
  }
  if (crc32(bytes) !== entry.crc) return fail(BAD_CHECKSUM);

  // The data matches the directory. A local header that says otherwise (when
  // it says anything: bit 3 puts the sizes after the data) is how a zip shows
  // one file to one reader and another to the next: no zip tool writes that.
  if ((localFlags & SIZES_AFTER_DATA) === 0) {
    const local = { method: r.u16(at + 8), crc: r.u32(at + 14), compressed: r.u32(at + 18), size: r.u32(at + 22) };
    const disagrees =
      local.method !== entry.compression ||
      (local.crc !== 0 && local.crc !== entry.crc) ||
      (local.compressed !== 0 && local.compressed !== ZIP64_MARK && local.compressed !== entry.compressedSize) ||
      (local.size !== 0 && local.size !== ZIP64_MARK && local.size !== entry.declaredSize);
    if (disagrees) {
      const sizes = local.size !== entry.declaredSize ? ` (${count(local.size)} bytes in one, ${count(entry.declaredSize)} in the other)` : '';
      return fail(`the zip’s two records of this file disagree${sizes}: the zip looks tampered with, so it was not used`);
    }
  }
  return { entry, bytes };
}

/**
 * Inflates the planned entries in batches (BATCH_BYTES declared, at most
 * BATCH_ENTRIES), yielding each batch when it is done; stop iterating to stop
 * inflating. Never throws: an entry that is encrypted, cut off, damaged
 * (bad checksum, broken stream), larger or smaller than declared, or whose
 * two headers disagree comes back with an error, and the rest go on. Once
 * the bytes produced would pass `maxUnzippedBytes`, every remaining entry
 * comes back with an error.
 */
export function* inflateZip(
  bytes: Uint8Array,
  entries: readonly ZipEntry[],
  options: { maxUnzippedBytes?: number; batchBytes?: number } = {},
): Generator<InflatedEntry[], void, void> {
  const maxUnzippedBytes = options.maxUnzippedBytes ?? MAX_UNZIPPED_BYTES;
  const batchBytes = options.batchBytes ?? BATCH_BYTES;
  const r = new Reader(bytes);
  let produced = 0;
  let overLimit = false;
  let next = 0;
  while (next < entries.length) {
    const batch: ZipEntry[] = [];
    let declared = 0;
    while (next < entries.length && batch.length < BATCH_ENTRIES && (batch.length === 0 || declared + entries[next].declaredSize <= batchBytes)) {
      declared += entries[next].declaredSize;
      batch.push(entries[next++]);
    }
    yield batch.map((entry) => {
      // checked before the entry's buffer is allocated: the declared size is all the entry may produce
      if (overLimit || produced + entry.declaredSize > maxUnzippedBytes) {
        overLimit = true;
        return { entry, error: `the zip unzips to more than the limit of ${formatBytes(maxUnzippedBytes)}; this file and the rest were not unzipped` };
      }
      const result = inflateEntry(r, entry);
      if ('bytes' in result) produced += result.bytes.length;
      return result;
    });
  }
}
