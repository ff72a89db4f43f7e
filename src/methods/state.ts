/**
 * Helpers for a method's checkpoint state (SslMethod.saveState / loadState):
 * read tensors back as plain arrays, and put them back only after every entry
 * has been checked, so a state that is not this method's changes nothing.
 */
import * as tf from '@tensorflow/tfjs';
import type { SeededRng } from '../core/random';
import type { EncoderNetwork } from '../model/encoderNetwork';
import type { MethodState, StateArray } from './method';

/** The state of a method with nothing of its own beyond its trainable variables (SimCLR, Barlow Twins). */
export const EMPTY_METHOD_STATE: MethodState = Object.freeze({ arrays: Object.freeze({}) as Record<string, StateArray>, values: Object.freeze({}) as MethodState['values'] }) as MethodState;

/** A tensor's values as a StateArray (a copy: the cpu backend's data() may hand out the tensor's own storage). */
export async function readStateArray(tensor: tf.Tensor): Promise<StateArray> {
  const values = await tensor.data();
  if (tensor.dtype === 'int32') return { dtype: 'int32', shape: [...tensor.shape], data: Int32Array.from(values as Int32Array) };
  if (tensor.dtype === 'float32') return { dtype: 'float32', shape: [...tensor.shape], data: Float32Array.from(values as Float32Array) };
  throw new Error(`readStateArray: a ${tensor.dtype} tensor cannot be saved in a checkpoint`);
}

/** A typed array kept on the CPU (write steps, assignments) as a StateArray copy. */
export function typedStateArray(data: Float32Array | Int32Array | Uint8Array, shape: number[] = [data.length]): StateArray {
  if (data instanceof Float32Array) return { dtype: 'float32', shape, data: Float32Array.from(data) };
  if (data instanceof Int32Array) return { dtype: 'int32', shape, data: Int32Array.from(data) };
  return { dtype: 'uint8', shape, data: Uint8Array.from(data) };
}

/** Every variable of an EncoderNetwork (f, g and the batch-norm running statistics), keyed `${prefix}.${i}`. */
export async function networkStateArrays(prefix: string, network: EncoderNetwork): Promise<Record<string, StateArray>> {
  const out: Record<string, StateArray> = {};
  for (const [i, v] of network.allVariables.entries()) out[`${prefix}.${i}`] = await readStateArray(v);
  return out;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Reads a MethodState for one method, checking as it goes; collects the
 * writes and applies them all in `commit()`, so that a missing or misshapen
 * entry throws before anything has changed.
 */
export class MethodStateReader {
  private readonly writes: (() => void)[] = [];

  constructor(private readonly state: MethodState, private readonly owner: string) {
    if (!state || typeof state !== 'object' || typeof state.arrays !== 'object' || typeof state.values !== 'object' || !state.arrays || !state.values) {
      throw new Error(`The checkpoint holds no state for ${owner}.`);
    }
  }

  /** The array `name`, which must have this shape (and dtype, when given). */
  array(name: string, shape: readonly number[], dtype?: StateArray['dtype']): StateArray {
    const entry = this.state.arrays[name];
    if (!entry) throw new Error(`The checkpoint lacks ${this.owner}’s “${name}”: it was saved by another method or version.`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (!sameShape(entry.shape, shape) || entry.data?.length !== size) {
      throw new Error(`${this.owner}’s “${name}” in the checkpoint is [${entry.shape?.join(', ')}], not [${shape.join(', ')}]: it was saved for another architecture or dataset.`);
    }
    if (dtype && entry.dtype !== dtype) throw new Error(`${this.owner}’s “${name}” in the checkpoint is ${entry.dtype}, not ${dtype}.`);
    return entry;
  }

  /** A number value (a counter, a step): finite, and a whole number when `integer`. */
  number(name: string, integer = true): number {
    const value = this.state.values[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      throw new Error(`The checkpoint lacks ${this.owner}’s “${name}” (a ${integer ? 'whole ' : ''}number): it was saved by another method or version.`);
    }
    return value;
  }

  boolean(name: string): boolean {
    const value = this.state.values[name];
    if (typeof value !== 'boolean') throw new Error(`The checkpoint lacks ${this.owner}’s “${name}” (true or false).`);
    return value;
  }

  /** Queues `variable.assign(saved)`, after checking the saved array fits it. */
  assignVariable(name: string, variable: tf.Variable): void {
    const entry = this.array(name, variable.shape, variable.dtype === 'int32' ? 'int32' : 'float32');
    this.writes.push(() => {
      const value = tf.tensor(entry.data as Float32Array | Int32Array, entry.shape, variable.dtype);
      variable.assign(value);
      value.dispose();
    });
  }

  /** Queues every variable of a network (see networkStateArrays). */
  assignNetwork(prefix: string, network: EncoderNetwork): void {
    network.allVariables.forEach((v, i) => this.assignVariable(`${prefix}.${i}`, v));
  }

  /** Queues a random stream's state. */
  restoreRng(name: string, rng: SeededRng): void {
    const state = this.number(name);
    if (state < 0 || state > 0xffffffff) throw new Error(`${this.owner}’s “${name}” in the checkpoint is not a random-number state.`);
    this.writes.push(() => rng.restore(state));
  }

  /** Queues any other write (a closure's counter, a typed array's contents). */
  then(write: () => void): void {
    this.writes.push(write);
  }

  /** Applies every queued write, in order. */
  commit(): void {
    for (const write of this.writes) write();
    this.writes.length = 0;
  }
}
