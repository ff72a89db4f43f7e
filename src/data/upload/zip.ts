/**
 * Zip archives in an upload, with fflate. Three steps, so that nothing is
 * inflated before it is known to fit:
 *   listZip    reads the central directory only (names, declared sizes);
 *   planZip    refuses the whole archive when the declared sizes add up to
 *              more than the cap, and sorts out folders, clutter and nested zips;
 *   inflateZip inflates the planned entries a batch at a time, counting the
 *              bytes actually produced against the cap as it goes.
 * A header that lies cannot blow memory up: fflate inflates an entry into a
 * buffer of its declared size and never grows it, and an entry whose output
 * differs from its declared size is refused as damaged.
 */
import { unzipSync } from 'fflate';
import { isHiddenPath, isZipName } from './paths';
import type { SkippedFile } from './protocol';

/** Most bytes one zip may unzip to: 512 MiB, well within a tab's memory. */
export const MAX_UNZIPPED_BYTES = 512 * 1024 * 1024;
/** Declared bytes inflated per batch: bounds what is held at once, and the time between cancel checks. */
export const BATCH_BYTES = 32 * 1024 * 1024;
/** Entries per batch: each batch re-reads the central directory, so batches of one would be quadratic. */
export const BATCH_ENTRIES = 256;

export interface ZipEntry {
  /** position in the central directory */
  index: number;
  /** path inside the archive, `/`-separated */
  path: string;
  compressedSize: number;
  /** uncompressed size, as the central directory declares it */
  declaredSize: number;
  /** 0 stored, 8 deflate; others are not supported */
  compression: number;
}

export interface ZipPlan {
  /** the entries to inflate, in directory order */
  entries: ZipEntry[];
  skipped: SkippedFile[];
  /** set when the whole archive was refused; then entries is empty */
  refused?: string;
}

export type InflatedEntry = { entry: ZipEntry; bytes: Uint8Array } | { entry: ZipEntry; error: string };

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The archive's entries from its central directory; inflates nothing. Throws when it is not a readable zip. */
export function listZip(bytes: Uint8Array): ZipEntry[] {
  const entries: ZipEntry[] = [];
  try {
    unzipSync(bytes, {
      filter: (file) => {
        entries.push({
          index: entries.length,
          path: file.name,
          compressedSize: file.size,
          declaredSize: file.originalSize,
          compression: file.compression,
        });
        return false;
      },
    });
  } catch (error) {
    throw new Error(`not a readable zip archive (${messageOf(error)})`);
  }
  return entries;
}

/**
 * What to inflate. `zipName` prefixes the names of skipped entries. The
 * whole archive is refused when its declared sizes sum to more than
 * `maxUnzippedBytes`. Folders and clutter (isHiddenPath) are left out
 * silently; nested zips, unsupported compression and repeated paths are
 * skipped with a reason.
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
  for (const entry of entries) {
    if (entry.path.endsWith('/') || entry.path.endsWith('\\') || isHiddenPath(entry.path)) continue;
    const name = `${zipName}/${entry.path}`;
    if (isZipName(entry.path)) skipped.push({ name, reason: 'nested zip archives are not opened' });
    else if (entry.compression !== 0 && entry.compression !== 8) {
      skipped.push({ name, reason: `compressed with method ${entry.compression}, which is not supported (zip it again with the usual deflate)` });
    } else if (seen.has(entry.path)) skipped.push({ name, reason: 'duplicate file name' });
    else {
      seen.add(entry.path);
      planned.push(entry);
    }
  }
  return { entries: planned, skipped };
}

/** Inflates the entries of the archive at the given directory positions; throws if any of them fails. */
function inflateIndices(bytes: Uint8Array, wanted: ReadonlySet<number>): Record<string, Uint8Array> {
  let index = -1;
  return unzipSync(bytes, {
    filter: () => {
      index += 1;
      return wanted.has(index);
    },
  });
}

/**
 * Inflates the planned entries in batches (BATCH_BYTES declared, at most
 * BATCH_ENTRIES), yielding each batch when it is done; stop iterating to stop
 * inflating. An entry that fails to inflate, or whose size differs from its
 * declared size, comes back with an error and the rest go on. Once the
 * bytes actually produced pass `maxUnzippedBytes`, every remaining entry
 * comes back with an error.
 */
export function* inflateZip(
  bytes: Uint8Array,
  entries: readonly ZipEntry[],
  options: { maxUnzippedBytes?: number; batchBytes?: number } = {},
): Generator<InflatedEntry[], void, void> {
  const maxUnzippedBytes = options.maxUnzippedBytes ?? MAX_UNZIPPED_BYTES;
  const batchBytes = options.batchBytes ?? BATCH_BYTES;
  let produced = 0;
  let next = 0;
  while (next < entries.length) {
    const batch: ZipEntry[] = [];
    let declared = 0;
    while (next < entries.length && batch.length < BATCH_ENTRIES && (batch.length === 0 || declared + entries[next].declaredSize <= batchBytes)) {
      declared += entries[next].declaredSize;
      batch.push(entries[next++]);
    }

    if (produced > maxUnzippedBytes) {
      const error = `the zip unzipped to more than the limit of ${formatBytes(maxUnzippedBytes)} (its headers understate the sizes); the rest was not unzipped`;
      yield batch.map((entry) => ({ entry, error }));
      continue;
    }

    let files: Record<string, Uint8Array> | null = null;
    try {
      files = inflateIndices(bytes, new Set(batch.map((e) => e.index)));
    } catch {
      // one damaged entry fails the whole pass: inflate this batch one entry at a time to find it
    }
    const results: InflatedEntry[] = batch.map((entry) => {
      let data: Uint8Array | undefined;
      try {
        data = files ? files[entry.path] : inflateIndices(bytes, new Set([entry.index]))[entry.path];
      } catch (error) {
        return { entry, error: `could not be unzipped (${messageOf(error)})` };
      }
      if (!data) return { entry, error: 'could not be unzipped (entry missing)' };
      produced += data.length;
      if (produced > maxUnzippedBytes) {
        return { entry, error: `the zip unzipped to more than the limit of ${formatBytes(maxUnzippedBytes)} (its headers understate the sizes)` };
      }
      if (data.length !== entry.declaredSize) {
        return { entry, error: `unzips to ${data.length} bytes but the zip declares ${entry.declaredSize} (damaged or tampered zip)` };
      }
      return { entry, bytes: data };
    });
    files = null;
    yield results;
  }
}
