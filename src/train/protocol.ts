/**
 * The one protocol between the page and the training worker. Every message is
 * a member of a discriminated union on `type`; both sides switch on it
 * exhaustively, so adding a message without handling it is a type error.
 */
import type { AugmentPipeline, OperatorKind } from '../core/pipeline';
import type { PreviewResult } from '../augment/previewViews';
import type { ExperimentConfig } from '../core/config';
import type { DeviceInfo } from '../core/device';
import type { TaskSnapshot } from '../core/taskSnapshot';
export type { TaskSnapshot, TaskImageRow } from '../core/taskSnapshot';
import type { MethodId, MethodSettings } from '../core/methods';
import type { LossPath } from '../methods/method';
import type { TrainerState } from './checkpoint';
import type { ImageDataset } from '../data/dataset';
import type { GeneratorConfig, GeneratorKind, StoredGeneratorInfo } from '../data/generatorDb';

export type { GeneratorKind, StoredGeneratorInfo };

export type { LossPath };
import type { EncoderKernelPath } from '../model/encoderNetwork';
export type { EncoderKernelPath };

export type BackendName = 'webgpu' | 'webgl' | 'cpu';
export type RunStatus = 'loading' | 'idle' | 'running' | 'paused' | 'probing' | 'evaluating' | 'error';

/** Metrics of one optimizer step, as plain numbers. */
export interface StepMetrics {
  step: number;
  /** the method that took the step (src/core/methods.ts) */
  method: MethodId;
  /** the method's own loss (its catalog entry names it) */
  loss: number;
  /** the method's metrics by the catalog's names (SimCLR: positiveSimilarity, negativeSimilarity, contrastiveAccuracy) */
  values: Record<string, number>;
  stepMs: number;
  imagesPerSecond: number;
  batchSize: number;
  lossPath: LossPath;
  /** which kernels ran the encoder f: the project's WGSL programs or tfjs's stock ones (absent in runs saved before issue 20) */
  encoderPath?: EncoderKernelPath;
  /** live tensors and their bytes on the backend after the step: flat while training means no leak */
  tensors: number;
  tensorBytes: number;
  /** Wang & Isola 2020 on this batch's z: mean ‖ẑ₁ − ẑ₂‖² over positive pairs (0 = views agree) */
  alignment: number;
  /** log mean over pairs of exp(−2‖ẑᵢ − ẑⱼ‖²), averaged over the two views' sets (lower = more uniform on the sphere) */
  uniformity: number;
  /** collapse meter: mean over dimensions of the std of ℓ2-normalized z; 1/√d is healthy, 0 is collapse */
  collapseStd: number;
}

/** One step's 2N×2N similarity matrix for the heatmap, as plain numbers. */
export interface AffinitySnapshot {
  step: number;
  /** 2N of the batch */
  twoN: number;
  /** side of `matrix`: 2N, or less when block-averaged */
  size: number;
  /** row-major size × size; s_ij is cosine when normalized, else the dot product */
  matrix: Float32Array;
  /** ‖z_i‖ of the 2N projections: cosine ↔ dot product, s_ij = cos_ij ‖z_i‖‖z_j‖ (for the temperature lab) */
  norms: Float32Array;
  temperature: number;
  normalized: boolean;
  /** the 2N views, 2N × viewSize² × channels HWC floats in [0, 1], when small enough to send */
  views?: Float32Array;
  viewSize: number;
  channels: 1 | 3;
}

export { METHOD_MATRIX_MAX_SIDE } from '../core/methods';

/**
 * A method's own matrix for the heatmap, where it is not SimCLR's 2N×2N
 * (the catalog's `matrix` kind says which):
 * - 'query-keys' (MoCo): cosines q̂_b·k̂ before /τ, one row per query, column 0
 *   its own key k̂_b (the positive), then the queue's keys newest first: the
 *   logits of MoCo's Algorithm 1, [l_pos, l_neg];
 * - 'batch-bank' (memory bank): cosines of the 2m views of the batch's first m
 *   images (rows 0…m−1 first views, m…2m−1 second views) against those m
 *   images' bank rows; row r's positive is column r mod m;
 * - 'cross-correlation' (Barlow Twins): C = ẑ1ᵀẑ2/B over the first dimensions
 *   of z, target 1 on the diagonal, 0 off it;
 * - 'prediction-target' (BYOL, SimSiam): cos(p_b, z′_c) of the first views'
 *   predictions against the second views' targets; the loss reads only the
 *   diagonal, nothing pushes the rest down, and collapse turns it all to 1.
 */
export interface MethodMatrixSnapshot {
  step: number;
  method: MethodId;
  kind: 'query-keys' | 'batch-bank' | 'cross-correlation' | 'prediction-target';
  /** N of the batch */
  n: number;
  rows: number;
  cols: number;
  /** row-major rows × cols, exact (never block-averaged) */
  matrix: Float32Array;
  /** rows and columns of the whole matrix: MoCo N × (1 + K), the bank 2N × N, C d × d, predictions N × N; more than rows/cols when only the first are sent */
  rowsTotal: number;
  columnsTotal: number;
  /** per sent column: 1 where it still holds its random start (a queue slot or bank entry never written), else 0 */
  unwritten: Uint8Array;
  temperature: number;
}

/** Images per lecture-mode walkthrough: small enough to show every tensor. */
export const WALKTHROUGH_MIN_N = 4;
export const WALKTHROUGH_MAX_N = 8;
export const WALKTHROUGH_DEFAULT_N = 6;

/**
 * What every method's walkthrough carries (lecture mode), as plain numbers:
 * one minibatch computed with the current model, then one real optimizer
 * update on exactly this batch and these views (a step of the run), then L
 * again on the same views. Views are concatenated, not interleaved: rows
 * 0…N−1 are t(x_k), N…2N−1 are t′(x_k).
 */
interface WalkthroughCommon {
  requestId: number;
  /** N */
  n: number;
  /** the run's step count after this walkthrough's update */
  step: number;
  temperature: number;
  normalized: boolean;
  learningRate: number;
  /** images in the training split (the memory bank's n; MoCo's K is capped at it) */
  trainCount: number;
  /** T: the pipeline's enabled operators, in order, that t and t′ were drawn from */
  operators: OperatorKind[];
  /** training-split indices of x_1…x_N and their class labels (−1 when unlabelled) */
  indices: number[];
  labels: number[];
  sourceSize: number;
  channels: 1 | 3;
  /** N × sourceSize² × channels, HWC uint8: the x_k */
  originals: Uint8Array;
  viewSize: number;
  /** 2N × viewSize² × channels, HWC float in [0, 1]: t(x_k) then t′(x_k) */
  views: Float32Array;
  zDim: number;
  /** 2N × zDim, row-major: the method's z of both views (MoCo: queries q, then keys k from the key encoder) */
  z: Float32Array;
  /** L on this batch before the update (what the gradient was taken of) */
  lossBefore: number;
  /** L on the same views after the one update */
  lossAfter: number;
  /** ‖∇L‖ over all trainable weights (f, g and the method's own, e.g. a predictor) */
  gradientNorm: number;
  /** the update as a step of the run's history (its loss is L before the update, as for any step); its values include the after-update ones (queue fill, drift, bank) */
  metrics: StepMetrics;
}

/**
 * SimCLR's Algorithm 1 line by line: h, z, the 2N×2N s_ij and every anchor's
 * ℓ. The positive of row i is (i + N) mod 2N.
 */
export interface SimclrWalkthrough extends WalkthroughCommon {
  method: 'simclr';
  hDim: number;
  /** 2N × hDim, row-major: h = f(x̃) */
  h: Float32Array;
  /** 2N × 2N, row-major: s_ij (cosine when normalized, else the dot product) */
  s: Float32Array;
  /** ℓ(i, positive(i)) for each of the 2N anchors, before the update */
  anchorLoss: Float64Array;
  /** log Σ_{k≠i} exp(s_ik/τ) for each anchor: ℓ(i, pos) = this − s_{i,pos}/τ */
  logDenominator: Float64Array;
}

/**
 * Another method's Algorithm 1 (its catalog `algorithm`): the same step, with
 * the method's own matrix in place of SimCLR's s_ij.
 */
export interface MethodWalkthrough extends WalkthroughCommon {
  method: Exclude<MethodId, 'simclr'>;
  /** the method's settings in force (m, K, λ, the collapse switches), to print beside its lines */
  settings: MethodSettings;
  /** 2N × hDim h = f(x̃), when the method hands it out (none does yet); hDim 0 without it */
  hDim: number;
  h?: Float32Array;
  /** the method's own matrix of this batch, before the update (MoCo: the queue before this batch's keys join it); null for a method without one */
  ownMatrix: MethodMatrixSnapshot | null;
}

/** One minibatch walked through a method's Algorithm 1 (lecture mode). */
export type WalkthroughResult = SimclrWalkthrough | MethodWalkthrough;

export type ProbeKind = 'encoder' | 'random-init' | 'raw-pixels';

export interface ProbePoint {
  kind: ProbeKind;
  /** optimizer steps the encoder had when probed (0 for baselines) */
  step: number;
  testAccuracy: number;
  trainAccuracy: number;
  trainSize: number;
  testSize: number;
  ms: number;
  /** ‖∇‖ of the probe's objective at the end of the fit: near 0 means it converged */
  gradientNorm?: number;
}

/** Weighted kNN (InstDisc, solo-learn) on h: the k most cosine-similar training images vote with exp(s/τ). */
export interface KnnPoint {
  kind: ProbeKind;
  /** optimizer steps the encoder had (0 for baselines) */
  step: number;
  testAccuracy: number;
  k: number;
  temperature: number;
  trainSize: number;
  testSize: number;
  ms: number;
}

/**
 * Rows of the label-efficiency table (SimCLR's 1% / 10% table): what each
 * model reaches with a fraction of the labels.
 *   ssl-linear / ssl-knn: the self-supervised encoder, frozen, linear probe / kNN
 *   ssl-finetune: the self-supervised encoder trained end to end on the labels
 *   random-init / raw-pixels: the linear probe on an untrained encoder / on pixels
 *   random-init-knn / raw-pixels-knn: kNN on the same
 *   supervised: the same architecture trained from scratch on only those labels
 */
export type LabelEfficiencyModel =
  | 'ssl-linear' | 'ssl-knn' | 'ssl-finetune' | 'random-init' | 'raw-pixels' | 'random-init-knn' | 'raw-pixels-knn' | 'supervised';

export interface LabelEfficiencyRow {
  /** fraction of the labelled training images (class-balanced, fixed by the seed) */
  fraction: number;
  model: LabelEfficiencyModel;
  testAccuracy: number;
  /** labelled images used */
  labelledCount: number;
  /** the encoder's optimizer steps (0 for baselines) */
  step: number;
  ms: number;
  /** something the reader must know to read the number, e.g. that kNN used fewer neighbours than asked */
  note?: string;
}

export type FewShotModel = 'ssl' | 'random-init' | 'raw-pixels';
/** Nearest-centroid classification with k labelled images per class. */
export interface FewShotRow {
  shots: number;
  model: FewShotModel;
  testAccuracy: number;
  /** mean over `episodes` seeded draws of the support set */
  episodes: number;
}

export interface LabelEfficiencyRequest {
  requestId: number;
  fractions: number[];
  /** optimizer steps for the supervised baseline and for fine-tuning */
  supervisedSteps: number;
  shots: number[];
  /** the dataset the probes are fitted and scored on: the training dataset, or another (transfer) */
  evalDataset: string;
}

/** Which encoder's h an embedding map shows. */
export type EmbeddingEncoder = 'encoder' | 'random-init';
export type EmbeddingProjection = 'pca' | 'umap';

export interface EmbeddingRequest {
  requestId: number;
  encoder: EmbeddingEncoder;
  projection: EmbeddingProjection;
  /** images mapped: the test split of a labelled set, else (an unlabelled upload) the training images */
  count: number;
}

export interface EmbeddingResult {
  requestId: number;
  encoder: EmbeddingEncoder;
  projection: EmbeddingProjection;
  /** the encoder's optimizer steps (0 for the random-init one) */
  step: number;
  split: 'train' | 'test';
  /** n × 2, row-major */
  points: Float32Array;
  /** class of each point (−1 when unlabelled) */
  labels: Int32Array;
  /** index of each point in its split */
  indices: Int32Array;
  /** n thumbnails, n × imageSize² × channels, HWC uint8 */
  images: Uint8Array;
  imageSize: number;
  channels: 1 | 3;
  /** PCA: share of the variance on each axis */
  explained?: [number, number];
  ms: number;
}

/** h of some images, for the TensorBoard projector export (issue 21): the map's images, every dimension of h. */
export interface FeaturesExport {
  requestId: number;
  encoder: EmbeddingEncoder;
  /** the encoder's optimizer steps (0 for the random-init one) and its method */
  step: number;
  method: MethodId;
  datasetName: string;
  classNames: string[];
  split: 'train' | 'test';
  n: number;
  d: number;
  /** n × d, row-major */
  vectors: Float32Array;
  labels: Int32Array;
  indices: Int32Array;
  /** n thumbnails, n × imageSize² × channels, HWC uint8 */
  images: Uint8Array;
  imageSize: number;
  channels: 1 | 3;
}

export interface NeighbourImage {
  index: number;
  label: number;
  /** cosine similarity (by h) or Euclidean distance (by pixels) */
  score: number;
}

export interface NeighboursResult {
  requestId: number;
  step: number;
  query: NeighbourImage & { split: 'train' | 'test' };
  /** the 8 nearest training images by cosine similarity of h */
  byH: NeighbourImage[];
  /** the 8 nearest training images by Euclidean distance of the raw pixels */
  byPixels: NeighbourImage[];
  /** 17 images: the query, then byH, then byPixels; each imageSize² × channels, HWC uint8 */
  images: Uint8Array;
  imageSize: number;
  channels: 1 | 3;
  /** training images searched */
  searched: number;
}

export interface DatasetSummary {
  id: string;
  name: string;
  imageSize: number;
  channels: 1 | 3;
  classNames: string[];
  /** false for a set without class folders: training works, the probe cannot */
  labelled: boolean;
  trainCount: number;
  testCount: number;
  trainClassCounts: number[];
  credit?: string;
  /** a few training images for the gallery: count × imageSize² × channels bytes */
  galleryImages: Uint8Array;
  galleryLabels: number[];
  /** training-split index of each gallery image */
  galleryIndices: number[];
  /** per gallery image: true when it is a generated image (a mixed set's Z); absent for a set of real images only */
  galleryGenerated?: boolean[];
  /** when the training split is X ∪ Z (src/data/generatedMix.ts): where X comes from and the two sizes */
  mix?: { sourceId: string; sourceName: string; realCount: number; generatedCount: number };
}

export interface ModelSummary {
  parameterCount: number;
  hDim: number;
  zDim: number;
  /** bytes the method holds beyond f and g: MoCo's queue and key encoder, the bank, BYOL's target, a predictor */
  methodBytes: number;
}


/**
 * Issue 19: a generative model (DCGAN or VAE, src/generative) trained in the
 * worker on the active dataset's real training images, to make the generated
 * set Z of the "real + generated" experiment.
 */
export interface GeneratorSettings {
  kind: GeneratorKind;
  /** optimizer steps to take in this request (a DCGAN step is one D step and one G step) */
  steps: number;
  /** real images per step */
  batchSize: number;
  /** w: the narrowest layer's channels */
  width: number;
  /** z's length (DCGAN's zDim, the VAE's latentDim) */
  zDim: number;
  /** builds the model and draws every batch and noise vector */
  seed: number;
  /**
   * train on a real-data budget X only (realBudget(train, realFraction, seed), the same X the experiment's runs
   * at that budget train on), not the whole training split: the lecture's set-up trains the generator on X
   */
  budget?: { realFraction: number; seed: number };
}

/** Samples in the fixed-noise grid the panel redraws as training goes. */
export const GENERATOR_GRID_COUNT = 16;

/** One generator step, as plain numbers. */
export interface GeneratorStepMetrics {
  /** the generator's own step count (across requests that continue it) */
  step: number;
  kind: GeneratorKind;
  /**
   * DCGAN: discriminatorLoss, generatorLoss, realScore (mean D(x)), fakeScore (mean D(G(z)));
   * VAE: reconstruction, kl, negativeElbo (src/generative/training.ts's step results)
   */
  values: Record<string, number>;
  stepMs: number;
}

/** The fixed noise batch's samples at one step: the same z every time, so the grid shows the model changing. */
export interface GeneratorSamples {
  step: number;
  count: number;
  /** count × imageSize² × channels, HWC uint8 */
  images: Uint8Array;
  imageSize: number;
  channels: 1 | 3;
}

/** Sample quality at one step (src/eval/sampleQuality.ts), on a fixed random-init encoder's h: a proxy, not ImageNet FID. */
export interface GeneratorQualityPoint {
  step: number;
  /** Fréchet distance between Gaussians fitted to the real and generated features */
  frechet: number;
  /** k-NN precision and recall (Kynkäänniemi et al. 2019), in [0, 1] */
  precision: number;
  recall: number;
  k: number;
  generatedCount: number;
  /** held-out real images (the test split) compared */
  realCount: number;
  /** which encoder gave the features, in words (e.g. "random-init encoder, width 8, seed 0: h of 64 dimensions") */
  features: string;
  ms: number;
}

/** Whether the generator copies its data: some grid samples and their nearest real training images. */
export interface GeneratorNeighbours {
  step: number;
  /** indices into the grid of the samples shown */
  sampleIndices: number[];
  /** neighbours per sample */
  k: number;
  /** sampleIndices.length × k training-split indices, nearest first */
  neighbourIndices: number[];
  /** root-mean-square pixel difference (pixels in [0, 1]) of each neighbour from its sample */
  distances: number[];
  /** per sample: the sample, then its k neighbours; each imageSize² × channels, HWC uint8 */
  images: Uint8Array;
  imageSize: number;
  channels: 1 | 3;
}

/** The generator the worker holds now. */
export interface GeneratorState {
  datasetId: string;
  datasetName: string;
  kind: GeneratorKind;
  config: GeneratorConfig;
  /** its id in IndexedDB once saved (src/data/generatorDb.ts), else null */
  savedId: string | null;
}

/** A training set X ∪ Z built in the worker from a real budget and a saved generator (src/data/generatedMix.ts). */
export interface MixRequest {
  requestId: number;
  /** the real dataset X comes from (a config dataset id) */
  sourceDatasetId: string;
  /** share of the training split kept as X, in (0, 1] */
  realFraction: number;
  /** |Z| / |X| (0: real only) */
  ratio: number;
  /** the saved generator Z is sampled from; null: the one the worker holds now (or none needed, at ratio 0) */
  generatorId: string | null;
  /** draws the budget and Z */
  seed: number;
}

export interface MixSummary {
  requestId: number;
  /** the mixed set's id (mixed:…): the dataset the next reset trains on */
  datasetId: string;
  name: string;
  realCount: number;
  generatedCount: number;
}

/**
 * What the browser says about the device the backend runs on: WebGPU's
 * adapter.info (vendor, architecture, description), or WebGL's unmasked
 * renderer string. Any part may be missing: browsers hide some for privacy.
 */
export type { DeviceInfo };

/**
 * Something the worker is busy with that may take longer than a second (the
 * first step's kernel compilation, a probe, kNN, a label-efficiency run), for
 * the progress line: what it is, and how far along when that is known.
 */
export interface Activity {
  label: string;
  /** why it takes long, in a student's words */
  detail?: string;
  done?: number;
  total?: number;
}

/**
 * Faults on demand, for the fault tests: destroy the WebGPU device, lose the
 * WebGL context, throw an uncaught error during the next step, or hang (the
 * worker stops reading messages, as one killed or stuck would).
 */
export type InjectedFault = 'destroy-device' | 'lose-webgl-context' | 'throw-mid-step' | 'hang';

/** The part of the app a failed request came from, so that panel can point at the error banner; : 'device' a lost GPU device, 'worker' the training worker itself (crashed or silent) */
export type ErrorSource = 'settings' | 'training' | 'evaluation' | 'dataset' | 'device' | 'worker';

export type ToWorker =
  /** resumeStep: a new worker after a lost device or a crash; its fresh encoder counts steps on from there, so the charts keep the run's history */
  | { type: 'init'; config: ExperimentConfig; baseUrl: string; resumeStep?: number }
  /** the page's heartbeat: answered at once with 'pong', outside the queue */
  | { type: 'ping'; id: number }
  /** for the fault tests (InjectedFault) */
  | { type: 'inject-fault'; fault: InjectedFault }
  /** settings that apply from the next step (τ, normalization, lr, N, augmentation, probe) */
  | { type: 'configure'; config: ExperimentConfig }
  /** untilStep: pause by itself once the encoder has taken that many steps (a comparison run's exact length) */
  | { type: 'start'; untilStep?: number }
  | { type: 'pause' }
  | { type: 'step' }
  | { type: 'probe' }
  /** new random encoder (and a new backend or dataset if the config says so), metrics cleared */
  | { type: 'reset'; config: ExperimentConfig }
  /** render t(x), t′(x) for some training images; answered out of turn, between training steps */
  | { type: 'preview'; requestId: number; pipeline: AugmentPipeline; outputSize: number; seed: number; indices: number[] }
  /** lecture mode: walk N images through Algorithm 1 and apply one real update on them; queued like a step */
  | { type: 'walkthrough'; requestId: number; batchSize: number; seed: number }
  /** the label-efficiency table on the current encoder; queued like a step (training waits), cancellable */
  | { type: 'label-efficiency'; request: LabelEfficiencyRequest }
  /** stops the label-efficiency run in progress; rows already measured are kept */
  | { type: 'cancel-evaluation'; requestId: number }
  | { type: 'embedding'; request: EmbeddingRequest }
  /**
   * the encoder f and head g as safetensors under PyTorch's names (src/export/encoderWeights.ts), or as ONNX
   * (src/export/onnx.ts): f alone, or f then g
   */
  | { type: 'export-weights'; requestId: number; format: 'safetensors' | 'onnx' | 'onnx-head' }
  /** the training split's images as an ImageFolder zip (src/export/imageFolder.ts), for the exported PyTorch script */
  | { type: 'export-dataset'; requestId: number }
  /** the trainer's whole state for a checkpoint (src/train/checkpoint.ts); queued between steps */
  | { type: 'checkpoint-save'; requestId: number }
  /**
   * replaces the run with a checkpoint's: its dataset, config and state (the backend stays the one in use); when
   * it does not fit, the run in use is kept and checkpoint-error says why
   */
  | { type: 'checkpoint-load'; requestId: number; state: TrainerState }
  /** h of `count` images of the map's split, every dimension, for the TensorBoard projector export */
  | { type: 'export-features'; requestId: number; encoder: EmbeddingEncoder; count: number }
  /** the 8 nearest training images of one image, by h and by pixels */
  | { type: 'neighbours'; requestId: number; split: 'train' | 'test'; index: number }
  /** an uploaded set was renamed: the worker's copy takes the new name, so its messages and results use it */
  | { type: 'rename-dataset'; id: string; name: string }
  /**
   * an uploaded set the browser would not store, held in memory for this visit (null: let it go); sent before
   * the switch to it, its buffers transferred
   */
  | { type: 'provide-dataset'; id: string; dataset: ImageDataset | null }
  /**
   * trains the generator `steps` more steps on the active dataset's real training images (fresh: a new model from
   * the settings, else the one held goes on); queued like a step, SSL training pauses; saved to IndexedDB when done
   */
  | { type: 'generator-train'; requestId: number; settings: GeneratorSettings; fresh: boolean }
  /** stops the generator training in progress after its current step; what it learnt is kept (and saved) */
  | { type: 'generator-cancel'; requestId: number }
  /** loads a saved generator (its grid, neighbours and quality are sent as after training) */
  | { type: 'generator-load'; requestId: number; id: string }
  /** builds X ∪ Z and holds it for the next reset (the experiment runner's step before each run) */
  | { type: 'mix-dataset'; request: MixRequest };

export type FromWorker =
  | { type: 'backend'; backend: BackendName; reasons: string[]; adapter?: string; device?: DeviceInfo }
  /** null: the worker is idle or simply training step after step */
  | { type: 'activity'; activity: Activity | null }
  | { type: 'dataset-progress'; loadedBytes: number; totalBytes: number | null; phase: string }
  | { type: 'dataset-ready'; dataset: DatasetSummary }
  | { type: 'model-ready'; model: ModelSummary; config: ExperimentConfig; resumedAt?: number }
  | { type: 'pong'; id: number }
  | { type: 'status'; status: RunStatus }
  | { type: 'step'; metrics: StepMetrics }
  | { type: 'affinity'; snapshot: AffinitySnapshot }
  | { type: 'method-matrix'; snapshot: MethodMatrixSnapshot }
  /** a pretext task's instrument for the latest captured batch */
  | { type: 'task-snapshot'; snapshot: TaskSnapshot }
  | { type: 'probe'; point: ProbePoint }
  | { type: 'error'; message: string; detail?: string; source?: ErrorSource }
  /** something the user should know that did not stop training, e.g. a dataset fallback */
  /** dataset: the page should switch its setting to it; method: the worker refused the asked method for this dataset and runs this one */
  | { type: 'notice'; message: string; dataset?: string; method?: MethodId }
  | { type: 'preview'; requestId: number; result: PreviewResult }
  | { type: 'preview-error'; requestId: number; message: string }
  | { type: 'walkthrough'; result: WalkthroughResult }
  | { type: 'walkthrough-error'; requestId: number; message: string }
  | { type: 'knn'; point: KnnPoint }
  | { type: 'label-efficiency-progress'; requestId: number; done: number; total: number; phase: string }
  | { type: 'label-efficiency-row'; requestId: number; row: LabelEfficiencyRow }
  | { type: 'few-shot-row'; requestId: number; row: FewShotRow }
  /** the run ended: complete, cancelled, or stopped by `error`; `evalDatasetName` says where the numbers come from */
  | { type: 'label-efficiency-done'; requestId: number; cancelled: boolean; error?: string; evalDatasetName: string; trainDatasetName: string }
  | { type: 'embedding'; result: EmbeddingResult }
  | { type: 'embedding-progress'; requestId: number; phase: string; done: number; total: number }
  | { type: 'embedding-error'; requestId: number; message: string }
  | { type: 'features-export'; result: FeaturesExport }
  | { type: 'weights-export'; requestId: number; bytes: Uint8Array; fileName: string }
  | { type: 'weights-export-error'; requestId: number; message: string }
  | { type: 'dataset-export'; requestId: number; bytes: Uint8Array; fileName: string; count: number }
  | { type: 'dataset-export-error'; requestId: number; message: string }
  | { type: 'checkpoint-saved'; requestId: number; state: TrainerState }
  /** the checkpoint's run is in place (model-ready came before it): the page puts back its history */
  | { type: 'checkpoint-loaded'; requestId: number; step: number }
  | { type: 'checkpoint-error'; requestId: number; phase: 'save' | 'load'; message: string }
  | { type: 'features-export-error'; requestId: number; message: string }
  | { type: 'neighbours'; result: NeighboursResult }
  | { type: 'neighbours-error'; requestId: number; message: string }
  | { type: 'generator-step'; requestId: number; metrics: GeneratorStepMetrics }
  | { type: 'generator-samples'; requestId: number; samples: GeneratorSamples }
  | { type: 'generator-quality'; requestId: number; point: GeneratorQualityPoint }
  | { type: 'generator-neighbours'; requestId: number; result: GeneratorNeighbours }
  /** a generator-train or generator-load request ended; state: the generator now held (null when none); saved: its stored record, when saving worked */
  | { type: 'generator-done'; requestId: number; cancelled: boolean; error?: string; state: GeneratorState | null; saved: StoredGeneratorInfo | null; saveError?: string }
  | { type: 'mix-ready'; mix: MixSummary }
  | { type: 'mix-error'; requestId: number; message: string };

export function assertNever(x: never): never {
  throw new Error(`Unhandled message: ${JSON.stringify(x)}`);
}
