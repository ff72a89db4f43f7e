/**
 * t ~ T: a batch of SimCLR views x̃ = t(x) from an augmentation pipeline.
 * The previewer and the training step both call `augmentViews`, so what the
 * user sees is what trains.
 *
 * Two halves:
 *   sampleViewParams: every random choice (which operators fire, crop boxes,
 *     jitter factors, σ, noise fields…) drawn on the CPU from the seeded rng
 *     into plain typed arrays, so a seed gives the same views on every backend
 *     and tests can read the choices directly;
 *   applyViews: a pure, batched tensor program (operators.ts) that applies them.
 *
 * Randomness is split per operator kind: each call takes exactly one 32-bit
 * seed per kind from `rng` (OPERATOR_KINDS order, whether the kind is in the
 * pipeline or not) and draws that operator's values from its own stream. So
 * switching an operator on or off, changing its settings or moving it in the
 * list never changes what the other operators draw for a given seed, and `rng`
 * always advances by the same amount. Within an operator every image takes a
 * fixed number of draws whether or not the operator fires for it.
 */
import * as tf from '@tensorflow/tfjs';
import {
  colorJitter, cutout, flipHorizontal, gaussianBlur, gaussianNoise, grayscale, resizedCrop, rotate90, sobel,
} from './operators';
import { MAX_CUTOUT_COUNT, OPERATOR_KINDS, validatePipeline, type AugmentPipeline, type OperatorKind } from '../core/pipeline';
import { createRng, uniform, type Rng } from '../core/random';

/** One operator's choices for a batch; arrays are per image unless said otherwise. Disabled operators hold identity values. */
export type ViewStep =
  | {
      kind: 'crop'; enabled: boolean;
      /** [B·4] y1, x1, y2, x2 for tf.image.cropAndResize (0 ↔ centre of the first pixel, 1 ↔ of the last); the whole image when disabled */
      boxes: Float32Array;
      /** [B·4] the same crop in source pixels: top, left, height, width */
      crops: Int32Array;
    }
  | { kind: 'flip'; enabled: boolean; mask: Uint8Array }
  | {
      kind: 'colorJitter'; enabled: boolean; mask: Uint8Array;
      /** factors in force: 1, 1, 1, 0 where the jitter does not fire */
      brightness: Float32Array; contrast: Float32Array; saturation: Float32Array;
      /** hue shift h in turns */
      hue: Float32Array;
      /** [B·4] per image, a permutation of 0 brightness, 1 contrast, 2 saturation, 3 hue */
      order: Int32Array;
    }
  | { kind: 'grayscale'; enabled: boolean; mask: Uint8Array }
  | { kind: 'blur'; enabled: boolean; mask: Uint8Array; /** σ in px, drawn for every image; used where mask is set */ sigma: Float32Array }
  | { kind: 'rotate'; enabled: boolean; /** counter-clockwise quarter turns 0..3 (0 where it does not fire) */ quarterTurns: Uint8Array }
  | {
      kind: 'cutout'; enabled: boolean; mask: Uint8Array;
      /** [B·count·4] top, left, height, width (px) of each square, inside the image */
      squares: Int32Array;
    }
  | {
      kind: 'noise'; enabled: boolean; mask: Uint8Array;
      /** [B·H·W·C] σ·z, zero where it does not fire; null when nothing fires */
      noise: Float32Array | null;
    }
  | { kind: 'sobel'; enabled: boolean; mask: Uint8Array };

/** Everything random about one batch of views, as plain numbers (structured-clonable, e.g. to show in the previewer). */
export interface ViewParams {
  batchSize: number;
  sourceHeight: number;
  sourceWidth: number;
  channels: number;
  outputSize: number;
  /** one per operator, in pipeline order */
  steps: ViewStep[];
}

/** Tries before RandomResizedCrop falls back to the central crop (torchvision: 10). */
const CROP_ATTEMPTS = 10;

/** A crop in source pixels: rows top..top+height−1, columns left..left+width−1. */
export interface PixelCrop {
  top: number;
  left: number;
  height: number;
  width: number;
  /** all attempts failed and the central fallback crop was used */
  fallback: boolean;
}

/**
 * torchvision RandomResizedCrop.get_params: area fraction s ~ U(scale), aspect
 * ratio r log-uniform in `ratio`, w = round(√(s·H·W·r)), h = round(√(s·H·W/r));
 * the first of CROP_ATTEMPTS boxes that fits is placed uniformly at random;
 * if none fits, the whole image clipped to the ratio range, centred.
 * Always takes 2·CROP_ATTEMPTS + 2 draws, so the next image's crop does not
 * depend on how many attempts this one needed.
 */
export function sampleCropBox(
  rng: Rng,
  sourceHeight: number,
  sourceWidth: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
): PixelCrop {
  const H = sourceHeight;
  const W = sourceWidth;
  const draws = Float64Array.from({ length: 2 * CROP_ATTEMPTS + 2 }, () => rng());
  const [u, v] = [draws[2 * CROP_ATTEMPTS], draws[2 * CROP_ATTEMPTS + 1]];
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < CROP_ATTEMPTS; attempt++) {
    const targetArea = H * W * (scale[0] + (scale[1] - scale[0]) * draws[2 * attempt]);
    const aspect = Math.exp(logRatio[0] + (logRatio[1] - logRatio[0]) * draws[2 * attempt + 1]);
    const w = Math.round(Math.sqrt(targetArea * aspect));
    const h = Math.round(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= W && h > 0 && h <= H) {
      // randint(0, H − h) inclusive, as torch.randint(0, H − h + 1)
      const top = Math.min(H - h, Math.floor(u * (H - h + 1)));
      const left = Math.min(W - w, Math.floor(v * (W - w + 1)));
      return { top, left, height: h, width: w, fallback: false };
    }
  }
  const inRatio = W / H;
  let w = W;
  let h = H;
  if (inRatio < ratio[0]) h = Math.max(1, Math.min(H, Math.round(w / ratio[0])));
  else if (inRatio > ratio[1]) w = Math.max(1, Math.min(W, Math.round(h * ratio[1])));
  return { top: Math.floor((H - h) / 2), left: Math.floor((W - w) / 2), height: h, width: w, fallback: true };
}

/**
 * Pixel crop → cropAndResize box. cropAndResize samples
 * y = y1·(H−1) + i·(y2−y1)·(H−1)/(outH−1), so 0 and 1 are the centres of the
 * first and last pixel and rows top..top+h−1 map to [top/(H−1), (top+h−1)/(H−1)].
 * The whole image at outH = H is then the identity resampling.
 */
export function pixelCropToBox(crop: PixelCrop, sourceHeight: number, sourceWidth: number): [number, number, number, number] {
  const dy = Math.max(sourceHeight - 1, 1);
  const dx = Math.max(sourceWidth - 1, 1);
  return [crop.top / dy, crop.left / dx, (crop.top + crop.height - 1) / dy, (crop.left + crop.width - 1) / dx];
}

/** Box–Muller, both outputs: n values σ·z into out[offset..], from ⌈n/2⌉ pairs of draws. */
function fillNormal(rng: Rng, out: Float32Array, offset: number, n: number, sigma: number): void {
  for (let i = 0; i < n; i += 2) {
    const radius = sigma * Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12)));
    const angle = 2 * Math.PI * rng();
    out[offset + i] = radius * Math.cos(angle);
    if (i + 1 < n) out[offset + i + 1] = radius * Math.sin(angle);
  }
}

/** [B·4] boxes of the whole image. */
function wholeImageBoxes(batchSize: number): Float32Array {
  const boxes = new Float32Array(batchSize * 4);
  for (let b = 0; b < batchSize; b++) boxes.set([0, 0, 1, 1], b * 4);
  return boxes;
}

/**
 * Draws every operator's parameters for a batch of B views of B source images
 * (sourceHeight × sourceWidth × channels) resized to outputSize². Operators
 * before the crop act on the source image, those after it on the view; with
 * no crop operator the resize comes first. Throws on an invalid pipeline
 * (run validatePipeline first to get messages per field).
 */
export function sampleViewParams(
  rng: Rng,
  batchSize: number,
  sourceHeight: number,
  sourceWidth: number,
  channels: number,
  pipeline: AugmentPipeline,
  outputSize: number,
): ViewParams {
  const { pipeline: valid, errors } = validatePipeline(pipeline);
  if (!valid) throw new Error(`Invalid augmentation pipeline: ${errors.map((e) => e.message).join(' ')}`);
  const B = batchSize;
  for (const [name, v] of [['batchSize', B], ['sourceHeight', sourceHeight], ['sourceWidth', sourceWidth], ['channels', channels], ['outputSize', outputSize]] as const) {
    if (!Number.isInteger(v) || v < (name === 'batchSize' ? 0 : 1)) throw new Error(`${name} must be a ${name === 'batchSize' ? 'non-negative' : 'positive'} integer, got ${v}`);
  }

  const streamSeed = new Map<OperatorKind, number>();
  for (const kind of OPERATOR_KINDS) streamSeed.set(kind, Math.floor(rng() * 2 ** 32));

  const hasCrop = valid.operators.some((op) => op.kind === 'crop');
  let [height, width] = hasCrop ? [sourceHeight, sourceWidth] : [outputSize, outputSize];
  const steps: ViewStep[] = [];
  for (const op of valid.operators) {
    const r = createRng(streamSeed.get(op.kind)!);
    const on = op.enabled;
    /** One draw per image: does the operator fire? Drawn even when it cannot, so p and the switch do not shift the other draws. */
    const fires = (p: number): number => {
      const u = r();
      return on && u < p ? 1 : 0;
    };
    switch (op.kind) {
      case 'crop': {
        const boxes = wholeImageBoxes(B);
        const crops = new Int32Array(B * 4);
        for (let b = 0; b < B; b++) {
          const crop = on ? sampleCropBox(r, height, width, op.scale, op.ratio) : { top: 0, left: 0, height, width, fallback: false };
          crops.set([crop.top, crop.left, crop.height, crop.width], b * 4);
          boxes.set(pixelCropToBox(crop, height, width), b * 4);
        }
        steps.push({ kind: 'crop', enabled: on, boxes, crops });
        [height, width] = [outputSize, outputSize];
        break;
      }
      case 'flip':
      case 'grayscale':
      case 'sobel': {
        steps.push({ kind: op.kind, enabled: on, mask: Uint8Array.from({ length: B }, () => fires(op.p)) });
        break;
      }
      case 'colorJitter': {
        // SimCLR: brightness, contrast, saturation 0.8s, hue 0.2s (torchvision caps hue at ½ turn)
        const spread = 0.8 * op.strength;
        const hueMax = Math.min(0.5, 0.2 * op.strength);
        const mask = new Uint8Array(B);
        const brightness = new Float32Array(B).fill(1);
        const contrast = new Float32Array(B).fill(1);
        const saturation = new Float32Array(B).fill(1);
        const hue = new Float32Array(B);
        const order = new Int32Array(B * 4);
        for (let b = 0; b < B; b++) {
          mask[b] = fires(op.p);
          const factors = [0, 1, 2].map(() => uniform(r, Math.max(0, 1 - spread), 1 + spread));
          const h = uniform(r, -hueMax, hueMax);
          // Fisher–Yates on 4 (three draws), as torch.randperm(4)
          const perm = [0, 1, 2, 3];
          for (let i = 3; i > 0; i--) {
            const j = Math.floor(r() * (i + 1));
            [perm[i], perm[j]] = [perm[j], perm[i]];
          }
          order.set(perm, b * 4);
          if (mask[b]) [brightness[b], contrast[b], saturation[b], hue[b]] = [...factors, h];
        }
        steps.push({ kind: 'colorJitter', enabled: on, mask, brightness, contrast, saturation, hue, order });
        break;
      }
      case 'blur': {
        const mask = new Uint8Array(B);
        const sigma = new Float32Array(B);
        for (let b = 0; b < B; b++) {
          mask[b] = fires(op.p);
          sigma[b] = uniform(r, op.sigma[0], op.sigma[1]);
        }
        steps.push({ kind: 'blur', enabled: on, mask, sigma });
        break;
      }
      case 'rotate': {
        const quarterTurns = new Uint8Array(B);
        for (let b = 0; b < B; b++) {
          const fired = fires(op.p);
          // 90°, 180° or 270° when it fires, so p is the chance the view is turned at all
          let turns = 1 + Math.min(2, Math.floor(r() * 3));
          // a quarter turn of a non-square source (rotation before the crop) would change its shape: turn it half way
          if (height !== width && turns % 2 === 1) turns = 2;
          quarterTurns[b] = fired ? turns : 0;
        }
        steps.push({ kind: 'rotate', enabled: on, quarterTurns });
        break;
      }
      case 'cutout': {
        const mask = new Uint8Array(B);
        const squares = new Int32Array(B * op.count * 4);
        const side = Math.max(1, Math.round(op.size * Math.min(height, width)));
        const [sideH, sideW] = [Math.min(side, height), Math.min(side, width)];
        for (let b = 0; b < B; b++) {
          mask[b] = fires(op.p);
          // positions for all MAX_CUTOUT_COUNT squares are drawn, so changing count keeps the first squares in place
          for (let j = 0; j < MAX_CUTOUT_COUNT; j++) {
            const top = Math.min(height - sideH, Math.floor(r() * (height - sideH + 1)));
            const left = Math.min(width - sideW, Math.floor(r() * (width - sideW + 1)));
            if (j < op.count) squares.set([top, left, sideH, sideW], (b * op.count + j) * 4);
          }
        }
        steps.push({ kind: 'cutout', enabled: on, mask, squares });
        break;
      }
      case 'noise': {
        // the noise field has its own stream: a fired image's field does not depend on p
        const fieldSeed = Math.floor(r() * 2 ** 32);
        const mask = Uint8Array.from({ length: B }, () => fires(op.sigma > 0 ? op.p : 0));
        let noise: Float32Array | null = null;
        if (mask.some((m) => m)) {
          const perImage = height * width * channels;
          const field = createRng(fieldSeed);
          noise = new Float32Array(B * perImage);
          // fields are drawn only for the images that fire: σ·z for B·H·W·C pixels is the one costly draw here
          for (let b = 0; b < B; b++) if (mask[b]) fillNormal(field, noise, b * perImage, perImage, op.sigma);
        }
        steps.push({ kind: 'noise', enabled: on, mask, noise });
        break;
      }
    }
  }
  return { batchSize: B, sourceHeight, sourceWidth, channels, outputSize, steps };
}

/**
 * Applies sampled parameters: [B, H, W, C] in [0, 1] → views [B, S, S, C] in
 * [0, 1], S = params.outputSize, running the enabled operators in pipeline
 * order and skipping those that fire for no image. A disabled crop is a plain
 * align-corners bilinear resize of the whole image (none at all when the sizes
 * agree), so the `none` preset at S = H = W returns the images unchanged.
 */
export function applyViews(images: tf.Tensor4D, params: ViewParams): tf.Tensor4D {
  const [B, H, W, C] = images.shape;
  const S = params.outputSize;
  if (B !== params.batchSize || H !== params.sourceHeight || W !== params.sourceWidth || C !== params.channels) {
    throw new Error(
      `ViewParams were drawn for ${params.batchSize} images of ${params.sourceHeight}×${params.sourceWidth}×${params.channels}, ` +
        `but the batch is ${B} of ${H}×${W}×${C}: sample them again for this batch`,
    );
  }
  return tf.tidy(() => {
    if (B === 0) return tf.zeros([0, S, S, C]) as tf.Tensor4D;
    const any = (a: ArrayLike<number>) => Array.prototype.some.call(a, (v: number) => v !== 0);
    /** Resize the whole image to S² unless it already is. */
    const resizeWhole = (x: tf.Tensor4D) => (x.shape[1] === S && x.shape[2] === S ? x : resizedCrop(x, wholeImageBoxes(B), S));

    let x: tf.Tensor4D = images;
    /** Moves on to the next stage's tensor, freeing the previous one now rather than at the end of the tidy. */
    const advance = (next: tf.Tensor4D) => {
      if (x !== images && x !== next) x.dispose();
      x = next;
    };
    if (!params.steps.some((s) => s.kind === 'crop')) advance(resizeWhole(x));
    for (const step of params.steps) {
      if (step.kind === 'crop') {
        advance(step.enabled ? resizedCrop(x, step.boxes, S) : resizeWhole(x));
        continue;
      }
      if (!step.enabled) continue;
      switch (step.kind) {
        case 'flip':
          if (any(step.mask)) advance(flipHorizontal(x, step.mask));
          break;
        case 'colorJitter':
          if (any(step.mask)) advance(colorJitter(x, step.brightness, step.contrast, step.saturation, step.hue, step.order));
          break;
        case 'grayscale':
          if (any(step.mask)) advance(grayscale(x, step.mask));
          break;
        case 'blur':
          if (step.sigma.some((s, b) => s > 0 && step.mask[b])) advance(gaussianBlur(x, step.sigma, step.mask));
          break;
        case 'rotate':
          if (any(step.quarterTurns)) advance(rotate90(x, step.quarterTurns));
          break;
        case 'cutout':
          if (any(step.mask)) advance(cutout(x, step.squares, step.mask));
          break;
        case 'noise':
          if (step.noise) advance(gaussianNoise(x, step.noise));
          break;
        case 'sobel':
          if (any(step.mask)) advance(sobel(x, step.mask));
          break;
      }
    }
    return tf.clipByValue(x, 0, 1) as tf.Tensor4D;
  });
}

/** t(x) for a batch: sampleViewParams from `rng`, then applyViews. Views are outputSize × outputSize. */
export function augmentViews(images: tf.Tensor4D, rng: Rng, pipeline: AugmentPipeline, outputSize: number): tf.Tensor4D {
  const [B, H, W, C] = images.shape;
  return applyViews(images, sampleViewParams(rng, B, H, W, C, pipeline, outputSize));
}
