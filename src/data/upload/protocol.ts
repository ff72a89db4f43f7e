/**
 * Messages between the page and the decode worker (decodeWorker.ts), which
 * turns uploaded files into a stored dataset. Every message is a member of a
 * discriminated union; both sides switch on `type` exhaustively.
 */
import type { ImageDataset } from '../dataset';
import type { Fit } from './resize';

/** The first this many files (zip entries counted one by one) are considered; the rest are dropped. */
export const MAX_FILES = 20_000;

export const IMAGE_SIZES = [16, 32, 64] as const;
export type UploadImageSize = (typeof IMAGE_SIZES)[number];

export const TEST_SHARE_MIN = 0.05;
export const TEST_SHARE_MAX = 0.5;

export interface DecodeOptions {
  imageSize: UploadImageSize;
  fit: Fit;
  /** share of each class held out for testing, in [TEST_SHARE_MIN, TEST_SHARE_MAX] */
  testShare: number;
  /**
   * a name the user chose, plain text; absent or blank: the set is named
   * from its files (datasetName.ts). Either way it is cleaned and kept apart
   * from the names of the other stored sets.
   */
  name?: string;
}

export interface SkippedFile {
  /**
   * the file's path as shown (for a zip entry, `archive.zip/path/inside`):
   * one line of plain text, control and bidi characters removed, at most
   * DISPLAY_PATH_MAX characters (text.ts displayPath)
   */
  name: string;
  /** why, in the user's words: one line of plain text, at most DISPLAY_REASON_MAX characters */
  reason: string;
}

export interface UploadSummary {
  /** the stored dataset's id (letters, digits and '-') */
  id: string;
  name: string;
  imageCount: number;
  trainCount: number;
  testCount: number;
  /** empty when unlabelled */
  classNames: string[];
  /** images per class over train and test; empty when unlabelled */
  classCounts: number[];
  labelled: boolean;
  /** why the set has no labels */
  unlabelledReason?: string;
  skipped: SkippedFile[];
  /** set when there were more files than MAX_FILES: only this many were considered */
  truncatedAt?: number;
  /** how many files were dropped over the limit (set with truncatedAt) */
  droppedCount?: number;
}

export type DecodePhase = 'reading' | 'unzipping' | 'decoding' | 'saving';

export type DecodeToWorker =
  /** sessionNames: the sets the page holds for this visit only (not saved), whose names a new set keeps apart from too */
  | { type: 'decode'; files: File[]; options: DecodeOptions; sessionNames?: string[] }
  | { type: 'cancel' };

/**
 * A decoded set the browser would not store (no IndexedDB, storage full, the
 * write failed): the page keeps it for this visit and hands it to the
 * training worker. `warning` is the one message that says what was not saved
 * and why. Its buffers are transferred, not copied.
 */
export interface UnsavedDataset {
  dataset: ImageDataset;
  warning: string;
}

export type DecodeFromWorker =
  | { type: 'progress'; done: number; total: number; phase: DecodePhase }
  /** unsaved: present when the set could not be stored (summary.id is still its id) */
  | { type: 'done'; summary: UploadSummary; unsaved?: UnsavedDataset }
  | { type: 'failed'; message: string; skipped: SkippedFile[] }
  | { type: 'cancelled' };

/** Null when the options are usable, or what is wrong with them. */
export function checkDecodeOptions(options: DecodeOptions): string | null {
  if (!IMAGE_SIZES.includes(options.imageSize)) {
    return `The image size must be one of ${IMAGE_SIZES.join(', ')} pixels, got ${String(options.imageSize)}.`;
  }
  if (options.fit !== 'crop' && options.fit !== 'letterbox') return `The fit must be "crop" or "letterbox", got "${String(options.fit)}".`;
  if (!(options.testShare >= TEST_SHARE_MIN && options.testShare <= TEST_SHARE_MAX)) {
    return `The test share must be between ${TEST_SHARE_MIN} and ${TEST_SHARE_MAX}, got ${String(options.testShare)}.`;
  }
  return null;
}
