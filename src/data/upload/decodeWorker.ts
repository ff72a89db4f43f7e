/// <reference lib="webworker" />
/**
 * The decode worker: uploaded files in, a stored dataset out. It reads the
 * files (opening zips), refuses what is not a usable image before decoding
 * it, decodes and resizes the rest on an OffscreenCanvas, labels them by
 * folder, splits, saves to IndexedDB and posts a summary. When the browser
 * will not store it (no IndexedDB, storage full), the set itself goes to the
 * page with the summary, to be used for this visit only. Every outcome,
 * failures included, is a message (protocol.ts); nothing is thrown out.
 *
 * `runUpload` holds the whole pipeline with the browser-only parts (decoding,
 * storage, messaging) passed in, so Node tests run it with fakes.
 */
import { datasetBuffers, type ImageDataset } from '../dataset';
import { deleteDataset, listDatasets, notSavedMessage, saveDataset } from '../datasetDb';
import { buildDataset, newDatasetId, uploadSummary } from './buildDataset';
import { nameUpload } from './datasetName';
import { checkImageData, checkImageSize, describeUnreadable, MIME_TYPES, sniffImage, type ImageInfo } from './imageHeader';
import { isHiddenPath, isZipName, labelsFromPaths, unsafePathReason } from './paths';
import {
  checkDecodeOptions,
  MAX_FILES,
  type DecodeFromWorker,
  type DecodeOptions,
  type DecodePhase,
  type DecodeToWorker,
  type SkippedFile,
  type UnsavedDataset,
} from './protocol';
import { fitRect, rgbaToRgb, type Fit } from './resize';
import { stratifiedSplit } from './split';
import { displayPath, displayReason, shortenName } from './text';
import { inflateZip, listZip, planZip, type ZipEntry } from './zip';

/** The split is part of the dataset: the same upload always splits the same way. */
const SPLIT_SEED = 1;
/** Files between progress messages and between pauses that let a cancel in. */
const PROGRESS_EVERY = 20;

export interface UploadIo {
  /** A size×size RGB thumbnail of the image; rejects when it cannot be decoded. */
  decode(bytes: Uint8Array, info: ImageInfo, size: number, fit: Fit): Promise<Uint8Array>;
  /** rejects when the browser will not store it (datasetDb.ts's StorageError) */
  save(dataset: ImageDataset, meta: { skipped: SkippedFile[]; createdAt: number }): Promise<void>;
  remove(id: string): Promise<void>;
  /** The names of the sets already stored, so that the new one gets a name of its own. */
  storedNames(): Promise<string[]>;
  post(message: DecodeFromWorker): void;
  isCancelled(): boolean;
  /** Yields to the event loop so that a queued cancel message is read. */
  pause(): Promise<void>;
  now(): number;
}

type Source = { kind: 'file'; file: File; path: string } | { kind: 'zip'; file: File; path: string; entries: ZipEntry[] };

class Cancelled extends Error {}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A file's path within the upload: folder pickers give a relative path; drops and the lead's inputs put it in the name. */
function pathOf(file: File): string {
  return file.webkitRelativePath || file.name;
}

async function readBytes(file: File): Promise<Uint8Array> {
  return new Uint8Array(await file.arrayBuffer());
}

/**
 * The whole upload: reading, unzipping, decoding, labelling, splitting,
 * saving. Resolves once its last message (done, failed or cancelled) is posted.
 */
export async function runUpload(files: readonly File[], options: DecodeOptions, io: UploadIo): Promise<void> {
  const skipped: SkippedFile[] = [];
  // names and reasons come from the files: one clean, bounded line each (text.ts)
  const skip = (name: string, reason: string) => skipped.push({ name: displayPath(name), reason: displayReason(reason) });
  let lastPhase: DecodePhase | null = null;
  let lastDone = 0;
  /** Posts progress now and then, pausing so a cancel can arrive; throws Cancelled once it has. */
  const progress = async (phase: DecodePhase, done: number, total: number, force = false) => {
    if (io.isCancelled()) throw new Cancelled();
    if (!force && phase === lastPhase && done - lastDone < PROGRESS_EVERY && done !== total) return;
    lastPhase = phase;
    lastDone = done;
    io.post({ type: 'progress', done, total, phase });
    await io.pause();
    if (io.isCancelled()) throw new Cancelled();
  };

  try {
    const problem = checkDecodeOptions(options);
    if (problem) return io.post({ type: 'failed', message: problem, skipped });

    // Reading: what is there, zips listed (not inflated), the limit applied in the given order.
    const sources: Source[] = [];
    const seen = new Set<string>();
    let considered = 0;
    let dropped = 0;
    for (let i = 0; i < files.length; i++) {
      const file = files[i];
      const path = pathOf(file);
      await progress('reading', i, files.length, isZipName(path));
      const unsafe = unsafePathReason(path, 'the upload’s folder');
      if (unsafe) {
        skip(path, unsafe);
        continue;
      }
      if (isHiddenPath(path)) continue;
      if (seen.has(path)) {
        skip(path, 'duplicate file name');
        continue;
      }
      seen.add(path);
      if (!isZipName(path)) {
        if (considered < MAX_FILES) {
          considered += 1;
          sources.push({ kind: 'file', file, path });
        } else dropped += 1;
        continue;
      }
      let entries: ZipEntry[];
      try {
        entries = listZip(await readBytes(file));
      } catch (error) {
        // a ZipError says why in the user's words; anything else (the file could not be read) is said as it came
        skip(path, messageOf(error));
        continue;
      }
      if (entries.length === 0) {
        skip(path, 'the zip is empty');
        continue;
      }
      const plan = planZip(path, entries);
      if (plan.refused) {
        skip(path, plan.refused);
        continue;
      }
      for (const s of plan.skipped) skip(s.name, s.reason);
      if (plan.entries.length === 0 && plan.skipped.length === 0) {
        skip(path, 'the zip holds only folders and hidden files (names starting with a dot, __MACOSX)');
        continue;
      }
      const room = Math.max(0, MAX_FILES - considered);
      const kept = plan.entries.slice(0, room);
      if (kept.length < plan.entries.length) {
        const left = plan.entries.length - kept.length;
        skip(
          path,
          `${left.toLocaleString('en')} of its ${plan.entries.length.toLocaleString('en')} files were not read: ` +
            `an upload reads at most ${MAX_FILES.toLocaleString('en')} files`,
        );
      }
      dropped += plan.entries.length - kept.length;
      considered += kept.length;
      if (kept.length > 0) sources.push({ kind: 'zip', file, path, entries: kept });
    }
    await progress('reading', files.length, files.length, true);

    // Decoding: one image at a time, only the thumbnail kept.
    const images: Uint8Array[] = [];
    const imagePaths: string[] = [];
    let done = 0;
    const take = async (name: string, labelPath: string, bytes: Uint8Array) => {
      const reason = await thumbnail(bytes, options, io, (rgb) => {
        images.push(rgb);
        imagePaths.push(labelPath);
      });
      if (reason) skip(name, reason);
    };

    for (const source of sources) {
      if (source.kind === 'file') {
        await progress('decoding', done, considered);
        let bytes: Uint8Array;
        try {
          bytes = await readBytes(source.file);
        } catch (error) {
          skip(source.path, `could not be read (${messageOf(error)})`);
          done += 1;
          continue;
        }
        await take(source.path, source.path, bytes);
        done += 1;
        continue;
      }

      let zipBytes: Uint8Array;
      try {
        zipBytes = await readBytes(source.file);
      } catch (error) {
        for (const entry of source.entries) skip(`${source.path}/${entry.path}`, `could not be read (${messageOf(error)})`);
        done += source.entries.length;
        continue;
      }
      const batches = inflateZip(zipBytes, source.entries);
      for (;;) {
        await progress('unzipping', done, considered, true);
        const next = batches.next();
        if (next.done) break;
        for (const item of next.value) {
          await progress('decoding', done, considered);
          const name = `${source.path}/${item.entry.path}`;
          if ('error' in item) skip(name, item.error);
          else await take(name, item.entry.path, item.bytes);
          done += 1;
        }
      }
    }
    await progress('decoding', considered, considered, true);

    if (images.length === 0) {
      const message =
        considered === 0 && skipped.length === 0
          ? 'There were no files to read (hidden files and folders are ignored). Choose image files, a folder of images, or a .zip.'
          : skipped.length === 1
            ? `None of the files could be used as an image. ${skipped[0].name}: ${skipped[0].reason}.`
            : `None of the ${skipped.length.toLocaleString('en')} files could be used as an image. ${commonReasons(skipped)}; ` +
              'the list of skipped files says why for each. Choose PNG, JPEG, GIF, WebP or BMP images, a folder of them, or a .zip of them.';
      return io.post({ type: 'failed', message, skipped });
    }

    const labelling = labelsFromPaths(imagePaths);
    const split = stratifiedSplit(labelling.labels, options.testShare, SPLIT_SEED);
    // a set the name cannot be checked against is not worth failing the upload for
    const taken = await io.storedNames().catch(() => []);
    const name = nameUpload({ given: options.name, paths: files.map(pathOf), imageCount: images.length, date: new Date(io.now()), taken });
    const dataset = buildDataset({
      id: newDatasetId(),
      name,
      imageSize: options.imageSize,
      images,
      labelling,
      split,
    });
    images.length = 0;

    await progress('saving', 0, 1, true);
    let unsaved: UnsavedDataset | undefined;
    try {
      await io.save(dataset, { skipped, createdAt: io.now() });
    } catch (error) {
      // the images are decoded: a browser that cannot keep them should not cost the user the upload
      unsaved = { dataset, warning: notSavedMessage(dataset, error) };
    }
    if (io.isCancelled()) {
      // the cancel came while saving: take it back out
      if (!unsaved) await io.remove(dataset.id).catch(() => undefined);
      throw new Cancelled();
    }
    io.post({ type: 'progress', done: 1, total: 1, phase: 'saving' });
    const truncation = dropped > 0 ? { truncatedAt: MAX_FILES, droppedCount: dropped } : undefined;
    const summary = uploadSummary(dataset, labelling, skipped, truncation);
    io.post(unsaved ? { type: 'done', summary, unsaved } : { type: 'done', summary });
  } catch (error) {
    if (error instanceof Cancelled) io.post({ type: 'cancelled' });
    else io.post({ type: 'failed', message: `The upload failed: ${messageOf(error)}`, skipped });
  }
}

/** The commonest reasons among the skipped files, as in: Most common: “not an image: text” (4 files), “empty file (0 bytes)” (2 files), and 3 other reasons. */
function commonReasons(skipped: readonly SkippedFile[], shown = 2): string {
  const counts = new Map<string, number>();
  for (const s of skipped) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  const files = (n: number) => `${n.toLocaleString('en')} file${n === 1 ? '' : 's'}`;
  const parts = sorted.slice(0, shown).map(([reason, n]) => `“${shortenName(reason, 100)}” (${files(n)})`);
  const others = sorted.length - shown;
  if (others > 0) parts.push(`and ${others} other reason${others === 1 ? '' : 's'}`);
  return `Most common: ${parts.join(', ')}`;
}

/** Checks and decodes one file; hands the thumbnail to `keep`, or returns why the file was skipped. */
async function thumbnail(
  bytes: Uint8Array,
  options: DecodeOptions,
  io: UploadIo,
  keep: (rgb: Uint8Array) => void,
): Promise<string | null> {
  if (bytes.length === 0) return 'empty file (0 bytes)';
  const info = sniffImage(bytes);
  if (!info) return describeUnreadable(bytes);
  const tooBig = checkImageSize(info);
  if (tooBig) return tooBig;
  const cut = checkImageData(bytes, info);
  if (cut) return cut;
  let rgb: Uint8Array;
  try {
    rgb = await io.decode(bytes, info, options.imageSize, options.fit);
  } catch (error) {
    return `damaged or truncated ${info.format.toUpperCase()} image (${messageOf(error)})`;
  }
  keep(rgb);
  return null;
}

// ---- the browser side -------------------------------------------------------

/** The names a new set keeps apart from: the page's sets for this visit, and the stored ones when the storage can be read. */
export async function takenNames(sessionNames: readonly string[]): Promise<string[]> {
  const stored = await listDatasets().then(({ datasets }) => datasets.map((d) => d.name), () => []);
  return [...sessionNames, ...stored];
}

let canvas: OffscreenCanvas | null = null;
let context: OffscreenCanvasRenderingContext2D | null = null;

/** Decodes with the browser (GIF: first frame) and draws the fit rectangle on a black square. */
async function decodeOnCanvas(bytes: Uint8Array, info: ImageInfo, size: number, fit: Fit): Promise<Uint8Array> {
  const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: MIME_TYPES[info.format] }));
  try {
    if (!canvas || !context || canvas.width !== size) {
      canvas = new OffscreenCanvas(size, size);
      context = canvas.getContext('2d', { willReadFrequently: true });
      if (!context) throw new Error('no 2D canvas in this worker');
    }
    // the decoded size, not the header's: the browser applies EXIF rotation
    const { src, dst } = fitRect(bitmap.width, bitmap.height, size, fit);
    context.globalCompositeOperation = 'source-over';
    context.fillStyle = '#000';
    context.fillRect(0, 0, size, size);
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, src.x, src.y, src.w, src.h, dst.x, dst.y, dst.w, dst.h);
    return rgbaToRgb(context.getImageData(0, 0, size, size).data);
  } finally {
    bitmap.close();
  }
}

function startWorker(scope: DedicatedWorkerGlobalScope): void {
  let busy = false;
  let cancelled = false;
  let sessionNames: string[] = [];
  // a set that goes to the page moves there: its buffers are transferred, not copied
  const post = (message: DecodeFromWorker) =>
    scope.postMessage(message, message.type === 'done' && message.unsaved ? datasetBuffers(message.unsaved.dataset) : []);
  // a message to ourselves queues behind a cancel already sent, without setTimeout's 4 ms clamp
  const channel = new MessageChannel();
  const pause = () =>
    new Promise<void>((resolve) => {
      channel.port1.onmessage = () => resolve();
      channel.port2.postMessage(null);
    });
  const io: UploadIo = {
    decode: decodeOnCanvas,
    save: saveDataset,
    remove: deleteDataset,
    storedNames: () => takenNames(sessionNames),
    post,
    isCancelled: () => cancelled,
    pause,
    now: () => Date.now(),
  };

  scope.onmessage = (event: MessageEvent<DecodeToWorker>) => {
    const message = event.data;
    switch (message.type) {
      case 'decode':
        if (busy) {
          post({ type: 'failed', message: 'An upload is already being processed. Wait for it, or cancel it, then try again.', skipped: [] });
          return;
        }
        if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') {
          post({
            type: 'failed',
            message: 'This browser cannot decode images off the page (it lacks OffscreenCanvas). Use a current Chrome, Edge, Firefox or Safari.',
            skipped: [],
          });
          return;
        }
        busy = true;
        cancelled = false;
        sessionNames = message.sessionNames ?? [];
        void runUpload(message.files, message.options, io).finally(() => {
          busy = false;
        });
        return;
      case 'cancel':
        // only a running upload can be cancelled; it answers 'cancelled' itself
        if (busy) cancelled = true;
        return;
      default: {
        const unknown: never = message;
        post({ type: 'failed', message: `The decoder got a message it does not know: ${JSON.stringify(unknown)}.`, skipped: [] });
      }
    }
  };
}

// only inside a worker: Node tests import runUpload from this module
if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  startWorker(globalThis as unknown as DedicatedWorkerGlobalScope);
}
