/**
 * How much device memory a configuration needs, estimated before it is built,
 * so that one the device cannot hold is refused with the figures instead of
 * driving the browser out of memory (batch 512 of 64 px views at width 64
 * took 13.4 GB on SwiftShader and ended with a lost device).
 *
 * The encoder (encoderNetwork.ts) runs 2N views through four blocks of
 * conv3×3 → batch norm → ReLU with w, 2w, 4w, 8w channels at S, S/2, S/4 and
 * S/8 px. A training step keeps, per block and view, about ACTIVATION_COPIES
 * tensors of the block's output size for the backward pass (the conv output,
 * the centred and normalized values, the ReLU output, the pooled output) and
 * makes the same again as gradients. The largest single tensor is the
 * lowered (im2col) input of block 2's convolution on the WebGL backend:
 * 2N · (S/2)² · 9w floats, 2.25 times block 1's output.
 */
import type { ExperimentConfig } from '../core/config';
import { CPC_GRID } from '../core/entries/cpc';
import { DEEPCLUSTER_FIT_MAX } from '../core/entries/deepcluster';
import { METHOD_CATALOG } from '../core/methods';

const FLOAT_BYTES = 4;
/** Tensors of one block's output size kept for backward, and made again as gradients. */
const ACTIVATION_COPIES = 8;

export interface MemoryEstimate {
  /** everything a training step holds at its peak */
  totalBytes: number;
  /** the largest single tensor, which must fit in one device buffer */
  largestBytes: number;
  /** what that tensor is, in words */
  largestWhat: string;
  /** 2N: the views a step runs through the encoder */
  views: number;
  parts: { activations: number; parameters: number; methodState: number; images: number };
}

type Sizing = Pick<ExperimentConfig, 'batchSize' | 'imageSize' | 'encoderWidth' | 'projectionDim' | 'projectionHead' | 'method' | 'queueSize' | 'clusterCount'>;

/** Trainable parameters of f and g (conv kernels, batch-norm γ and β, the head's dense layers). */
export function parameterCount(channels: number, width: number, projectionHead: ExperimentConfig['projectionHead'], projectionDim: number): number {
  const widths = [width, 2 * width, 4 * width, 8 * width];
  let count = 0;
  let inChannels = channels;
  for (const out of widths) {
    count += 9 * inChannels * out + 2 * out;
    inChannels = out;
  }
  const h = 8 * width;
  if (projectionHead === 'linear') count += h * projectionDim + projectionDim;
  if (projectionHead === 'mlp') count += h * h + h + h * projectionDim + projectionDim;
  return count;
}

/**
 * The estimate for `config` on a dataset of `trainCount` images of
 * `datasetImageSize` px with `channels` channels (the images sit on the
 * device as float32 for the augmentations to sample from).
 */
export function estimateTrainingMemory(config: Sizing, dataset: { trainCount: number; imageSize: number; channels: number }): MemoryEstimate {
  // the siamese methods encode 2N views; a pretext task what its catalog entry says (RotNet 4N)
  const views = Math.ceil((METHOD_CATALOG[config.method].viewsEncoded ?? 2) * config.batchSize);
  const S = config.imageSize;
  const w = config.encoderWidth;
  // f's input channels: the dataset's, unless the method fixes them (colorization and CMC: lightness only)
  const channels = METHOD_CATALOG[config.method].encoderChannels ?? dataset.channels;
  let activations = views * S * S * dataset.channels * ACTIVATION_COPIES; // the augmented views themselves
  let side = S;
  for (let block = 0; block < 4; block++) {
    activations += views * side * side * (w << block) * ACTIVATION_COPIES;
    if (block < 3) side = Math.floor(side / 2);
  }
  const half = Math.floor(S / 2);
  const im2col = views * half * half * 9 * w;
  const firstOutput = views * S * S * w;
  const params = parameterCount(channels, w, config.projectionHead, config.projectionDim);
  const zDim = config.projectionHead === 'none' ? 8 * w : config.projectionDim;
  // the weights, their gradients and Adam's two moments
  let parameters = 4 * params;
  let methodState = 0;
  // heatmap: the 2N × 2N similarity matrix, and the loss's own of the same size
  activations += 2 * views * views;
  switch (config.method) {
    case 'moco':
      // the queue of K keys, the key encoder (a copy of f and g) and its forward pass without gradients
      methodState = Math.min(config.queueSize, dataset.trainCount) * zDim + params;
      activations += activations / (2 * ACTIVATION_COPIES);
      break;
    case 'memory-bank':
      methodState = dataset.trainCount * zDim;
      break;
    case 'byol':
      // the target network, its forward pass, and the predictor
      methodState = params + 4 * (zDim * 4 * zDim);
      activations += activations / (2 * ACTIVATION_COPIES);
      break;
    case 'simsiam':
      methodState = 4 * (zDim * 4 * zDim);
      break;
    case 'pirl':
      // the memory bank, one z per training image, and the tiles' head (9 h's → d), trained
      methodState = dataset.trainCount * zDim;
      parameters += 4 * (9 * 8 * w * zDim + zDim);
      break;
    case 'cmc': {
      // the ab encoder f_ab and its head, trained as f is (its activations are in viewsEncoded's second view)
      parameters += 4 * parameterCount(2, w, config.projectionHead, config.projectionDim);
      break;
    }
    case 'cpc': {
      // the scores of every prediction (G rows · Σ_k (G − k) per image) against all G²N patch codes: scores, softmax, gradient
      const predictions = CPC_GRID * (CPC_GRID * (CPC_GRID - 1)) / 2 * config.batchSize;
      const codes = CPC_GRID * CPC_GRID * config.batchSize;
      activations += 3 * predictions * codes;
      // the context network W_c (2 · 8w → 8w) and one W_k (8w × 8w) per offset k = 1 … G − 1, trained
      const d = 8 * w;
      parameters += 4 * (2 * d * d + d + (CPC_GRID - 1) * d * d);
      break;
    }
    case 'autoencoder': {
      // the decoder: a dense layer onto g×g × 4w, transposed convolutions to 2g × 2w, 4g × w and 8g × C (4×4 kernels)
      const g = Math.ceil(S / 8);
      const maps = [[g, 4 * w], [2 * g, 2 * w], [4 * g, w], [8 * g, channels]];
      activations += views * maps.reduce((sum, [side, c]) => sum + side * side * c, 0) * ACTIVATION_COPIES;
      const cells = g * g * 4 * w;
      parameters += 4 * (8 * w * cells + cells + 16 * (4 * w * 2 * w + 2 * w * w + w * channels) + 2 * w + w + channels);
      break;
    }
    case 'deepcluster': {
      // a round holds h of every training image and whitens the fitted sample; the k-way head is trained
      const d = 8 * w;
      methodState = dataset.trainCount * d + Math.min(dataset.trainCount, DEEPCLUSTER_FIT_MAX) * d + dataset.trainCount;
      parameters += 4 * (d * config.clusterCount + config.clusterCount);
      break;
    }
    default:
      break;
  }
  const images = dataset.trainCount * dataset.imageSize * dataset.imageSize * dataset.channels;
  const largest = Math.max(im2col, firstOutput);
  parameters *= FLOAT_BYTES;
  methodState *= FLOAT_BYTES;
  activations *= FLOAT_BYTES;
  const imageBytes = images * FLOAT_BYTES;
  return {
    totalBytes: activations + parameters + methodState + imageBytes,
    largestBytes: largest * FLOAT_BYTES,
    largestWhat: largest === im2col
      ? `block 2's lowered convolution input, ${views} views × ${half}×${half} px × 9·${w} values`
      : `block 1's output, ${views} views × ${S}×${S} px × ${w} channels`,
    views,
    parts: { activations, parameters, methodState, images: imageBytes },
  };
}

/** "1.2 GB", "340 MB", "12 kB" (decimal units, as the browser's task manager). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

export interface DeviceMemoryLimits {
  /** the largest buffer the device allows (WebGPU's maxBufferSize / maxStorageBufferBindingSize) */
  maxBufferBytes: number;
  /** what this page may reasonably use in all */
  budgetBytes: number;
  /** where the budget comes from, in words */
  budgetWhy: string;
}

/**
 * Why `estimate` does not fit `limits`, in words with the figures and what to
 * change, or null when it fits.
 */
export function memoryRefusal(estimate: MemoryEstimate, limits: DeviceMemoryLimits): string | null {
  const advice = 'Lower the batch size N, the view size or the encoder width, then press Reset; the encoder you had is kept until then.';
  if (estimate.largestBytes > limits.maxBufferBytes) {
    return `This configuration does not fit the device: its largest tensor, ${estimate.largestWhat}, needs ${formatBytes(estimate.largestBytes)}, ` +
      `and this device allows at most ${formatBytes(limits.maxBufferBytes)} in one buffer (about ${formatBytes(estimate.totalBytes)} in all). ${advice}`;
  }
  if (estimate.totalBytes > limits.budgetBytes) {
    return `This configuration needs about ${formatBytes(estimate.totalBytes)} of device memory (${formatBytes(estimate.parts.activations)} of it the activations ` +
      `of ${estimate.views} views), more than the ${formatBytes(limits.budgetBytes)} ${limits.budgetWhy}. ${advice}`;
  }
  return null;
}
