/**
 * What the pretext tasks' methods share: a K-way linear classifier head on
 * h (logits = h W + b), and the instrument's reading of a classification
 * batch (predictions, confusion matrix). The head is linear on purpose: the
 * task can then only be solved by what f puts into h, which is what the
 * probes read afterwards.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, normal } from '../core/random';
import type { MethodState, SslMethod } from './method';
import { MethodStateReader } from './state';

export class ClassifierHead {
  readonly variables: tf.Variable[];

  /** Glorot-normal weights from the run's seed (offset per task by `salt`), zero bias. */
  constructor(readonly inDim: number, readonly classes: number, seed: number, salt: number) {
    const rng = createRng((seed ^ salt) >>> 0);
    const scale = Math.sqrt(2 / (inDim + classes));
    this.variables = tf.tidy(() => [
      tf.variable(tf.tensor2d(Float32Array.from({ length: inDim * classes }, () => normal(rng) * scale), [inDim, classes])),
      tf.variable(tf.zeros([classes])),
    ]);
  }

  logits(h: tf.Tensor2D): tf.Tensor2D {
    const [w, b] = this.variables;
    return tf.tidy(() => tf.add(tf.matMul(h, w as tf.Tensor2D), b) as tf.Tensor2D);
  }

  get bytes(): number {
    return 4 * this.variables.reduce((sum, v) => sum + v.size, 0);
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}

/**
 * Tensors a captured forward keeps for the instrument, freed by the next
 * capture, by `take` or by dispose: whatever happens to the step, nothing leaks.
 */
export class CaptureSlot<T extends Record<string, tf.Tensor>> {
  private held: T | null = null;

  /** keeps these (tf.keep: they outlive the forward's tidy scope), freeing what was held */
  hold(tensors: T): void {
    this.clear();
    for (const t of Object.values(tensors)) tf.keep(t);
    this.held = tensors;
  }

  /** hands the held tensors over (the caller disposes them) */
  take(): T | null {
    const held = this.held;
    this.held = null;
    return held;
  }

  clear(): void {
    if (this.held) tf.dispose(Object.values(this.held));
    this.held = null;
  }
}

/** What a pretext task owns beyond f: its head or decoder. */
interface Owned {
  readonly bytes: number;
  dispose(): void;
}

/**
 * The members every pretext task has alike: nothing to update after the
 * optimizer step, the capture dropped when a step is discarded, the bytes of
 * what it owns, and everything freed on dispose. Spread into the method;
 * a task with after-step metrics (exemplar) overrides afterUpdate.
 */
export function pretextLifecycle(captured: { clear(): void }, owned: Owned[]): Pick<SslMethod, 'afterUpdate' | 'discardPending' | 'extraBytes' | 'dispose'> {
  return {
    async afterUpdate() {
      return {};
    },
    discardPending() {
      captured.clear();
    },
    extraBytes() {
      return owned.reduce((sum, o) => sum + o.bytes, 0);
    },
    dispose() {
      captured.clear();
      for (const o of owned) o.dispose();
    },
  };
}

/**
 * Reads what a captured forward held, for the instrument: null when nothing
 * was held; the held tensors are freed however the reading ends.
 */
export async function readCapture<T extends Record<string, tf.Tensor>, R>(slot: CaptureSlot<T>, read: (held: T) => Promise<R>): Promise<R | null> {
  const held = slot.take();
  if (!held) return null;
  try {
    return await read(held);
  } finally {
    tf.dispose(Object.values(held));
  }
}

/**
 * The checkpoint reader of a pretext task (see MethodStateReader), after
 * refusing any entry the task does not save. A task keeps little or nothing
 * of its own (a random stream, a counter), so without this check a task
 * with nothing to read would take another method's queue or bank without a
 * word; here the first entry that is not its own is named, and nothing has
 * changed.
 */
export function pretextStateReader(state: MethodState, owner: string, own: { arrays?: readonly string[]; values?: readonly string[] } = {}): MethodStateReader {
  const reader = new MethodStateReader(state, owner);
  const foreign = [
    ...Object.keys(state.arrays).filter((name) => !own.arrays?.includes(name)),
    ...Object.keys(state.values).filter((name) => !own.values?.includes(name)),
  ];
  if (foreign.length > 0) {
    throw new Error(`The checkpoint holds “${foreign[0]}”, which ${owner} does not keep: it was saved by another method or version.`);
  }
  return reader;
}
