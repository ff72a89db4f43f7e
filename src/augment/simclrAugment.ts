/**
 * SimCLR data augmentation (Chen et al. 2020, "A Simple Framework for
 * Contrastive Learning of Visual Representations", Appendix A), batched.
 *
 * This file implements the subset used here: random resized crop (with
 * resize back to a fixed output size), random horizontal flip and colour
 * jitter restricted to brightness and contrast, applied in random order.
 *
 * Design: every random decision is drawn on the CPU from the seeded rng into
 * plain typed arrays (`ViewParams`); `applyViews` is then a pure, batched
 * tensor program of ops that exist on the cpu, webgl and webgpu backends
 * (cropAndResize, reverse, where, mul, add, mean, clipByValue). That keeps a
 * run reproducible from its seed whatever the backend, and lets tests check
 * the sampled parameters directly.
 */
import * as tf from '@tensorflow/tfjs';
import { uniform, type Rng } from './random';

export interface AugmentConfig {
  /** Side of the square output view in px. */
  outputSize: number;
  /** Range of the crop's area as a fraction of the source area. SimCLR uses [0.08, 1]. */
  cropScale: [number, number];
  /** Range of the crop's aspect ratio w/h, sampled log-uniformly. */
  cropRatio: [number, number];
  /** Probability that a view is mirrored left–right. */
  flipProbability: number;
  /** Brightness strength: factor b ~ U[max(0, 1-brightness), 1+brightness], x' = x·b. */
  brightness: number;
  /** Contrast strength: factor c ~ U[max(0, 1-contrast), 1+contrast], x' = (x-m)·c + m, m the per-image mean. */
  contrast: number;
  /** Probability that colour jitter is applied to a view at all (SimCLR: 0.8). */
  jitterProbability: number;
}

export const DEFAULT_AUGMENT: AugmentConfig = {
  outputSize: 32,
  // SimCLR's 0.08 lower bound is tuned for 224px ImageNet; for tiny images a
  // crop of 8% of the area keeps too little of the object, so we start at 0.2.
  cropScale: [0.2, 1],
  cropRatio: [3 / 4, 4 / 3],
  flipProbability: 0.5,
  brightness: 0.4,
  contrast: 0.4,
  jitterProbability: 0.8,
};

/** Plain numbers describing one batch of views: everything random is drawn here, on the CPU, from the seeded rng. */
export interface ViewParams {
  /** [B*4] y1,x1,y2,x2 normalized, as tf.image.cropAndResize wants (0 ↔ first pixel centre, 1 ↔ last). */
  boxes: Float32Array;
  /** [B] 1 = mirror this view left–right. */
  flip: Uint8Array;
  /** [B] brightness factor b (1 when jitter is not applied). */
  brightnessFactor: Float32Array;
  /** [B] contrast factor c (1 when jitter is not applied). */
  contrastFactor: Float32Array;
  /** [B] 1 = brightness then contrast, 0 = contrast then brightness. */
  jitterOrderBrightnessFirst: Uint8Array;
}

/** A crop in integer pixel coordinates: rows top..top+height-1, columns left..left+width-1. */
export interface PixelCrop {
  top: number;
  left: number;
  height: number;
  width: number;
  /** True when all attempts failed and the central fallback crop was used. */
  fallback: boolean;
}

/** Number of tries before RandomResizedCrop falls back to the central crop (torchvision uses 10). */
const CROP_ATTEMPTS = 10;

/**
 * torchvision RandomResizedCrop.get_params: draw an area fraction s ~ U(cropScale)
 * and a log-uniform aspect ratio r, so w = round(√(s·H·W·r)), h = round(√(s·H·W/r));
 * accept the first box that fits, at a uniformly random position. After
 * `CROP_ATTEMPTS` failures use the whole image, clipped to the ratio range, centred.
 */
export function sampleCropBox(
  rng: Rng,
  sourceHeight: number,
  sourceWidth: number,
  cropScale: [number, number],
  cropRatio: [number, number],
): PixelCrop {
  const H = sourceHeight;
  const W = sourceWidth;
  const area = H * W;
  const logRatioMin = Math.log(cropRatio[0]);
  const logRatioMax = Math.log(cropRatio[1]);
  for (let attempt = 0; attempt < CROP_ATTEMPTS; attempt++) {
    const targetArea = area * uniform(rng, cropScale[0], cropScale[1]);
    const aspect = Math.exp(uniform(rng, logRatioMin, logRatioMax));
    const w = Math.round(Math.sqrt(targetArea * aspect));
    const h = Math.round(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= W && h > 0 && h <= H) {
      // randint(0, H-h) inclusive, as torch.randint(0, H-h+1).
      const top = Math.min(H - h, Math.floor(rng() * (H - h + 1)));
      const left = Math.min(W - w, Math.floor(rng() * (W - w + 1)));
      return { top, left, height: h, width: w, fallback: false };
    }
  }
  // Fallback: central crop of the whole image with its aspect ratio clipped to cropRatio.
  const inRatio = W / H;
  let w: number;
  let h: number;
  if (inRatio < cropRatio[0]) {
    w = W;
    h = Math.max(1, Math.min(H, Math.round(w / cropRatio[0])));
  } else if (inRatio > cropRatio[1]) {
    h = H;
    w = Math.max(1, Math.min(W, Math.round(h * cropRatio[1])));
  } else {
    w = W;
    h = H;
  }
  return {
    top: Math.floor((H - h) / 2),
    left: Math.floor((W - w) / 2),
    height: h,
    width: w,
    fallback: true,
  };
}

/**
 * Pixel crop → normalized cropAndResize box. cropAndResize samples
 * y = y1·(H-1) + i·(y2-y1)·(H-1)/(outH-1), i.e. 0 and 1 are the centres of the
 * first and last pixel, so rows top..top+h-1 map to [top/(H-1), (top+h-1)/(H-1)].
 * With the full image and outH = H this is the identity resampling.
 */
export function pixelCropToBox(crop: PixelCrop, sourceHeight: number, sourceWidth: number): [number, number, number, number] {
  const dy = Math.max(sourceHeight - 1, 1);
  const dx = Math.max(sourceWidth - 1, 1);
  return [
    crop.top / dy,
    crop.left / dx,
    (crop.top + crop.height - 1) / dy,
    (crop.left + crop.width - 1) / dx,
  ];
}

/** Factor ~ U[max(0, 1-strength), 1+strength], as torchvision ColorJitter. */
function jitterFactor(rng: Rng, strength: number): number {
  return uniform(rng, Math.max(0, 1 - strength), 1 + strength);
}

export function sampleViewParams(
  rng: Rng,
  batchSize: number,
  sourceHeight: number,
  sourceWidth: number,
  config: AugmentConfig,
): ViewParams {
  const problems = validateAugmentConfig(config);
  if (problems.length > 0) throw new Error(`Invalid augment config: ${problems.join('; ')}`);
  if (!Number.isInteger(batchSize) || batchSize < 0) throw new Error(`batchSize must be a non-negative integer, got ${batchSize}`);
  if (!Number.isInteger(sourceHeight) || sourceHeight < 1 || !Number.isInteger(sourceWidth) || sourceWidth < 1) {
    throw new Error(`source size must be positive integers, got ${sourceHeight}x${sourceWidth}`);
  }
  const boxes = new Float32Array(batchSize * 4);
  const flip = new Uint8Array(batchSize);
  const brightnessFactor = new Float32Array(batchSize);
  const contrastFactor = new Float32Array(batchSize);
  const jitterOrderBrightnessFirst = new Uint8Array(batchSize);
  for (let i = 0; i < batchSize; i++) {
    const crop = sampleCropBox(rng, sourceHeight, sourceWidth, config.cropScale, config.cropRatio);
    boxes.set(pixelCropToBox(crop, sourceHeight, sourceWidth), i * 4);
    flip[i] = rng() < config.flipProbability ? 1 : 0;
    // Always draw the same number of values per view, so whether jitter fires
    // for one view does not shift the random stream of the views after it.
    const applyJitter = rng() < config.jitterProbability;
    const b = jitterFactor(rng, config.brightness);
    const c = jitterFactor(rng, config.contrast);
    const brightnessFirst = rng() < 0.5;
    brightnessFactor[i] = applyJitter ? b : 1;
    contrastFactor[i] = applyJitter ? c : 1;
    jitterOrderBrightnessFirst[i] = brightnessFirst ? 1 : 0;
  }
  return { boxes, flip, brightnessFactor, contrastFactor, jitterOrderBrightnessFirst };
}

/** ITU-R 601 luma weights, as torchvision's rgb_to_grayscale used by adjust_contrast. */
const LUMA = [0.299, 0.587, 0.114];

/** Per-image mean [B,1,1,1]: of the grayscale image when C = 3, else of all channels. */
function perImageMean(x: tf.Tensor4D): tf.Tensor4D {
  const channels = x.shape[3];
  if (channels === 3) {
    const gray = tf.sum(tf.mul(x, tf.tensor1d(LUMA)), 3, true);
    return tf.mean(gray, [1, 2, 3], true) as tf.Tensor4D;
  }
  return tf.mean(x, [1, 2, 3], true) as tf.Tensor4D;
}

export function applyViews(images: tf.Tensor4D, params: ViewParams, outputSize: number): tf.Tensor4D {
  const [B] = images.shape;
  if (images.rank !== 4) throw new Error(`images must be [B,H,W,C], got rank ${images.rank}`);
  if (
    params.boxes.length !== B * 4 ||
    params.flip.length !== B ||
    params.brightnessFactor.length !== B ||
    params.contrastFactor.length !== B ||
    params.jitterOrderBrightnessFirst.length !== B
  ) {
    throw new Error(`ViewParams do not match batch size ${B}`);
  }
  if (!Number.isInteger(outputSize) || outputSize < 1) throw new Error(`outputSize must be a positive integer, got ${outputSize}`);

  // Colour jitter as two stages, each an affine per-image map followed by a clip:
  //   brightness: x·b            → scale b, shift 0
  //   contrast:   (x-m)·c + m    → scale c, shift (1-c)·m   (m = per-image mean of the stage input)
  // Writing both as x·s + k·m lets one batched program apply either op at
  // either stage: for brightness k = 0, for contrast k = 1-c. The per-image
  // order only decides which (s, k) goes to which stage.
  const scale1 = new Float32Array(B);
  const meanWeight1 = new Float32Array(B);
  const scale2 = new Float32Array(B);
  const meanWeight2 = new Float32Array(B);
  let anyJitter = false;
  for (let i = 0; i < B; i++) {
    const b = params.brightnessFactor[i];
    const c = params.contrastFactor[i];
    if (b !== 1 || c !== 1) anyJitter = true;
    if (params.jitterOrderBrightnessFirst[i]) {
      scale1[i] = b;
      meanWeight1[i] = 0;
      scale2[i] = c;
      meanWeight2[i] = 1 - c;
    } else {
      scale1[i] = c;
      meanWeight1[i] = 1 - c;
      scale2[i] = b;
      meanWeight2[i] = 0;
    }
  }
  const anyFlip = params.flip.some((f) => f !== 0);

  return tf.tidy(() => {
    if (B === 0) return tf.zeros([0, outputSize, outputSize, images.shape[3]]) as tf.Tensor4D;
    // Random resized crop: bilinear resampling of each box to outputSize².
    const boxInd = tf.tensor1d(Int32Array.from({ length: B }, (_, i) => i), 'int32');
    let x = tf.image.cropAndResize(
      images,
      tf.tensor2d(params.boxes, [B, 4]),
      boxInd,
      [outputSize, outputSize],
      'bilinear',
    );

    // Horizontal flip: mirror along width where the per-image mask is set.
    if (anyFlip) {
      const mask = tf.tensor4d(params.flip, [B, 1, 1, 1], 'bool');
      x = tf.where(mask, tf.reverse(x, 2), x);
    }

    if (anyJitter) {
      const stage = (input: tf.Tensor4D, scale: Float32Array, meanWeight: Float32Array): tf.Tensor4D => {
        const s = tf.tensor4d(scale, [B, 1, 1, 1]);
        const k = tf.tensor4d(meanWeight, [B, 1, 1, 1]);
        const shift = tf.mul(k, perImageMean(input));
        return tf.clipByValue(tf.add(tf.mul(input, s), shift), 0, 1) as tf.Tensor4D;
      };
      x = stage(x, scale1, meanWeight1);
      x = stage(x, scale2, meanWeight2);
    }
    // Bilinear interpolation of [0,1] data stays in [0,1] up to rounding; clip anyway.
    return tf.clipByValue(x, 0, 1);
  });
}

/** Convenience: sampleViewParams + applyViews. */
export function augmentBatch(images: tf.Tensor4D, rng: Rng, config: AugmentConfig): tf.Tensor4D {
  const [B, H, W] = images.shape;
  const params = sampleViewParams(rng, B, H, W, config);
  return applyViews(images, params, config.outputSize);
}

/** Human-readable problems with a config; [] if it is fine. */
export function validateAugmentConfig(config: AugmentConfig): string[] {
  const problems: string[] = [];
  const finite = (v: number) => typeof v === 'number' && Number.isFinite(v);

  if (!Number.isInteger(config.outputSize) || config.outputSize < 8 || config.outputSize > 128) {
    problems.push(`outputSize must be an integer in [8, 128], got ${config.outputSize}`);
  }

  const [sMin, sMax] = config.cropScale ?? [];
  if (!finite(sMin) || !finite(sMax)) {
    problems.push('cropScale must be two finite numbers');
  } else {
    if (sMin > sMax) problems.push(`cropScale min (${sMin}) is greater than max (${sMax})`);
    if (sMin <= 0 || sMin > 1 || sMax <= 0 || sMax > 1) problems.push(`cropScale must lie in (0, 1], got [${sMin}, ${sMax}]`);
  }

  const [rMin, rMax] = config.cropRatio ?? [];
  if (!finite(rMin) || !finite(rMax)) {
    problems.push('cropRatio must be two finite numbers');
  } else {
    if (rMin > rMax) problems.push(`cropRatio min (${rMin}) is greater than max (${rMax})`);
    if (rMin <= 0 || rMax <= 0) problems.push(`cropRatio must be positive, got [${rMin}, ${rMax}]`);
  }

  for (const key of ['flipProbability', 'jitterProbability'] as const) {
    const p = config[key];
    if (!finite(p) || p < 0 || p > 1) problems.push(`${key} must be in [0, 1], got ${p}`);
  }
  for (const key of ['brightness', 'contrast'] as const) {
    const v = config[key];
    if (!finite(v) || v < 0) problems.push(`${key} must be a non-negative number, got ${v}`);
  }
  return problems;
}
