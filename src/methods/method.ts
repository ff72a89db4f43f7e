/**
 * The seam between the one training loop (src/train/trainer.ts) and each
 * self-supervised method. A method owns what is its own: heads beyond the
 * shared encoder network, predictors, a momentum encoder, a queue, a memory
 * bank; its loss on a batch; what it updates after the optimizer step (EMA,
 * enqueue, bank write); its metrics as named numbers (named in the catalog,
 * src/core/methods.ts). The encoder f with its projection head g is shared
 * and stays in src/model: every method trains f, every probe reads f.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ExperimentConfig } from '../core/config';
import type { MethodId } from '../core/methods';
import type { TaskSnapshot } from '../core/taskSnapshot';
import type { EncoderNetwork } from '../model/encoderNetwork';

/** Which loss implementation computed a step: fused WGSL kernels or composed tfjs ops. */
export type LossPath = 'fused' | 'composed';

/** One minibatch, as every method sees it. */
export interface MethodBatch {
  /**
   * The views, as many per image as the catalog's `views` says. Two (the
   * siamese methods): 2N rows, 0…N−1 are t(x_b) and N…2N−1 are t′(x_b), in
   * the same image order. One (a pretext task): N rows t(x_b), from which the
   * method builds its task (rotations, tiles, masks).
   */
  views: tf.Tensor4D;
  /** training-split index of each x_b (the memory bank's row) */
  indices: Int32Array;
  n: number;
}

/** What a method's loss pass returns; the trainer keeps and disposes all of it. */
export interface MethodForward {
  loss: tf.Scalar;
  /** the catalog's metrics for this method measured on the batch, in the catalog's order ([] when none) */
  metrics: tf.Tensor1D | null;
  /** the online projections of both views, 2N rows (first views, then second): alignment, uniformity, collapse meter */
  z: tf.Tensor2D;
  /**
   * How z's rows are read: 'pairs' (the default) as two views of N images,
   * for alignment; 'rows' as one embedding per image, for a method with no
   * positive pairs (a pretext task): uniformity and the collapse meter only.
   */
  geometry?: 'pairs' | 'rows';
  /** h = f(x̃) of both views, when asked for (the walkthrough shows it) */
  h?: tf.Tensor2D;
  /**
   * the method's matrix for the heatmap, when asked for: SimCLR's 2N×2N
   * similarities, or its own (catalog `matrix` kind; see MethodMatrixSnapshot
   * in src/train/protocol.ts), at most METHOD_MATRIX_MAX_SIDE a side
   */
  matrix?: tf.Tensor2D;
  /** with a method's own matrix: the whole matrix's size when `matrix` is its first rows/columns, and the columns still holding a random start (1) */
  matrixInfo?: MatrixInfo;
}

export interface MatrixInfo {
  rowsTotal: number;
  columnsTotal: number;
  /** per column of `matrix`: 1 where it is a queue slot or bank entry never written (still random), else 0 */
  unwritten: Uint8Array;
}

export interface ForwardOptions {
  config: ExperimentConfig;
  /** also return the matrix (and h) */
  capture: boolean;
  /** which loss implementation to use, where the method has more than one */
  lossPath: LossPath;
}

export interface SslMethod {
  readonly id: MethodId;
  /** what the optimizer updates: the online network's variables and the method's own trained ones (a predictor) */
  readonly trainableVariables: tf.Variable[];
  /** the loss implementation the next step would use under `config` */
  lossPath(config: ExperimentConfig): LossPath;
  /**
   * The loss of a batch. Runs inside tf.variableGrads, so it must be built of
   * differentiable tfjs ops (stop-gradients are the method's business). It may
   * hold tensors for `afterUpdate` (MoCo's keys), replacing what it held.
   */
  forward(batch: MethodBatch, options: ForwardOptions): MethodForward;
  /**
   * After the optimizer step: momentum updates, enqueue, bank writes. Returns
   * metrics measured here (queue fill, drift), merged into the step's values.
   */
  afterUpdate(batch: MethodBatch, config: ExperimentConfig): Promise<Record<string, number>>;
  /** drops what `forward` held for `afterUpdate` without applying it (a loss measured without a step) */
  discardPending(): void;
  /** bytes the method holds beyond the online network (queue, bank, target network) */
  extraBytes(): number;
  /**
   * A pretext task's instrument for the batch of the last forward with
   * capture (catalog matrix kind 'task'), read back from what that forward
   * kept, which it then frees; null when nothing was captured.
   */
  taskSnapshot?(step: number): Promise<TaskSnapshot | null>;
  /**
   * f's input made from images in [0, 1] with the dataset's channels, where
   * the method changes it (colorization: the lightness channel alone). The
   * trainer applies it to every image a probe, kNN or label-efficiency run
   * reads, so they see what f was trained on; the method applies it to its
   * own views.
   */
  encoderInput?(images: tf.Tensor4D): tf.Tensor4D;
  /**
   * Trained variables the method re-initializes from time to time (DeepCluster's
   * head, each round; they are in trainableVariables too): the trainer gives
   * them an Adam state of their own and starts it afresh whenever restarts()
   * changes, as the paper builds a new optimizer for its re-initialized top
   * layer. Otherwise the old moments would push the new weights along the old
   * head's directions.
   */
  readonly restartedVariables?: { variables: tf.Variable[]; restarts(): number };
  /** batches are drawn from the first batchPool training images only (exemplar: the K surrogate classes) */
  readonly batchPool?: number;
  /**
   * What a checkpoint must hold beyond `trainableVariables` (which the trainer
   * saves with the optimizer's moments) for a resumed run to give the same
   * losses as one never interrupted: a momentum encoder, a queue and its
   * pointer, a bank and its write steps, centroids and assignments, counters,
   * the state of every random stream the method draws from. Copies: later
   * steps do not change what was returned. A method with nothing of its own
   * returns empty records (src/methods/state.ts: EMPTY_METHOD_STATE).
   */
  saveState(): Promise<MethodState>;
  /**
   * Puts back what saveState returned, into a method just built for the same
   * config and dataset. Checks every entry first (present, shape, type) and
   * throws a message naming what is wrong, changing nothing, when the state
   * is not this method's (src/methods/state.ts: MethodStateReader).
   */
  loadState(state: MethodState): void;
  dispose(): void;
}

/** A tensor or typed array in a checkpoint: plain numbers, structured-clonable and storable in IndexedDB. */
export interface StateArray {
  dtype: 'float32' | 'int32' | 'uint8';
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

/** A method's own state in a checkpoint (see SslMethod.saveState). */
export interface MethodState {
  /** tensors (queue, bank, target network, centroids) and typed arrays (assignments, write steps), by name */
  arrays: Record<string, StateArray>;
  /** counters, random-stream states, flags, by name */
  values: Record<string, number | boolean | string>;
}

export interface MethodContext {
  /** the online encoder f and projection head g, shared with the probes */
  network: EncoderNetwork;
  config: ExperimentConfig;
  /** images in the training split (the memory bank has one row per image) */
  trainCount: number;
  /** the dataset's channels (the views'): 1 grey, 3 RGB */
  channels: 1 | 3;
  /**
   * The training images on the device, [n, S₀, S₀, channels] in [0, 1] at the
   * dataset's size (resize to config.imageSize before f), row i the image of
   * training index i: for a method that reads the whole set now and then
   * (DeepCluster's k-means over h). The trainer owns it: never dispose it.
   */
  trainImages: tf.Tensor4D;
}

/** A method file's export: its id and how to build it for a run. */
export interface MethodFactory {
  id: MethodId;
  create(context: MethodContext): SslMethod;
}
