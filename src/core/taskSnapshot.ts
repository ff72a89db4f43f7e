/**
 * A pretext task's instrument (catalog matrix kind 'task'): a few examples of
 * the captured batch as rows of images (the task's input, the head's answer,
 * the truth), with per-example captions and marks, and for classification
 * tasks the confusion matrix of true against predicted class over the whole
 * batch. Made by the method in the worker (src/methods), drawn by
 * src/ui/TaskPanel.tsx: plain numbers, no tfjs.
 */
import type { MethodId } from './methods';

/** One row of the instrument: example k of every row is the same example. */
export interface TaskImageRow {
  /** what the row shows ('rotated input', 'prediction', 'truth') */
  label: string;
  /** count × size × size × channels values in [0, 1] */
  images: Float32Array;
  size: number;
  channels: 1 | 3;
}

export interface TaskSnapshot {
  step: number;
  method: MethodId;
  /** examples shown (columns) */
  count: number;
  rows: TaskImageRow[];
  /** a short caption under each example ('90° · said 90°'), count of them */
  captions: string[];
  /** per example: the head was right (classification tasks), absent for regression */
  correct?: boolean[];
  /** classification tasks: K × K counts over the batch, row-major, rows the true class and columns the predicted one */
  confusion?: { labels: string[]; counts: number[] };
  /** one line with the batch's numbers (task accuracy, error against a baseline) */
  summary: string;
}

/** Most examples an instrument shows. */
export const TASK_SNAPSHOT_EXAMPLES = 8;

/** Why a snapshot cannot be drawn as it is (a message for the panel), or null. */
export function taskSnapshotProblem(s: TaskSnapshot): string | null {
  for (const row of s.rows) {
    if (row.images.length !== s.count * row.size * row.size * row.channels) {
      return `The row “${row.label}” holds ${row.images.length} values, not ${s.count} images of ${row.size}×${row.size}×${row.channels}.`;
    }
  }
  if (s.captions.length !== s.count) return `${s.captions.length} captions for ${s.count} examples.`;
  if (s.confusion) {
    const k = s.confusion.labels.length;
    if (s.confusion.counts.length !== k * k) return `A confusion matrix of ${s.confusion.counts.length} entries for ${k} classes.`;
  }
  return null;
}
