/**
 * SimCLR's augmentation operators as batched tensor programs.
 *
 * Every function is pure: images [B,H,W,C] float32 in [0, 1] (C = 1 or 3) and
 * per-image parameters as plain typed arrays in, a new tensor clipped into
 * [0, 1] out; the caller owns (and disposes) both. Nothing here is random:
 * augmentViews.ts draws all parameters on the CPU from the seeded rng, so the
 * same seed gives the same views on every backend.
 *
 * Only ops that tfjs implements on the cpu, webgl and webgpu backends are used
 * (cropAndResize, depthwiseConv2d, mirrorPad, gather, transpose, reshape,
 * matMul, where, mean, sum, clipByValue). Per-image choices are [B,1,1,1]
 * tensors: tf.where and arithmetic broadcast from the right, so a [B] mask
 * would be matched against C, not B.
 */
import * as tf from '@tensorflow/tfjs';

/** ITU-R BT.601 luma weights: gray = 0.299 R + 0.587 G + 0.114 B (torchvision's rgb_to_grayscale). */
export const LUMA: readonly [number, number, number] = [0.299, 0.587, 0.114];

/** Largest Sobel magnitude √(gx² + gy²) for pixels in [0, 1]: gx² + gy² ≤ 20 (e.g. gx = 4, gy = 2, found over all 2⁸ corner images). */
export const SOBEL_MAX = Math.sqrt(20);

function checkLength(name: string, values: ArrayLike<number>, expected: number): void {
  if (values.length !== expected) throw new Error(`${name} has ${values.length} values, expected ${expected} for this batch`);
}

/** One value per image as a [B,1,1,1] tensor, to broadcast over H, W, C. */
function perImage(values: ArrayLike<number>, batch: number): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(values), [batch, 1, 1, 1]);
}

/** Per-image switch as a bool [B,1,1,1] tensor, for tf.where. */
function perImageMask(mask: ArrayLike<number>, batch: number): tf.Tensor4D {
  return tf.tensor4d(Uint8Array.from(mask, (m) => (m ? 1 : 0)), [batch, 1, 1, 1], 'bool');
}

const clip01 = (x: tf.Tensor4D): tf.Tensor4D => tf.clipByValue(x, 0, 1);

// ---------------------------------------------------------------------------
// Geometry

/**
 * Random resized crop's resampling: each image's box, in tf.image.cropAndResize's
 * normalized [y1, x1, y2, x2] (0 ↔ centre of the first pixel, 1 ↔ of the last),
 * resized bilinearly to outputSize². The box [0, 0, 1, 1] is the
 * align-corners resize of the whole image, the identity when sizes agree.
 */
export function resizedCrop(images: tf.Tensor4D, boxes: Float32Array, outputSize: number): tf.Tensor4D {
  const B = images.shape[0];
  checkLength('resizedCrop boxes', boxes, B * 4);
  return tf.tidy(() => {
    const boxInd = tf.tensor1d(Int32Array.from({ length: B }, (_, i) => i), 'int32');
    const crops = tf.image.cropAndResize(images, tf.tensor2d(boxes, [B, 4]), boxInd, [outputSize, outputSize], 'bilinear');
    // bilinear weights are convex, so only rounding can leave [0, 1]
    return clip01(crops);
  });
}

/**
 * A per-image rearrangement of pixels as one gather over the flattened batch:
 * out[b, r, c] = x[b, source(b, r, c)]. Flips and quarter turns are such
 * permutations; one gather does a whole mixed batch exactly, where
 * reverse/transpose would compute every candidate and select with where (and
 * tfjs's cpu reverse is ~10× slower than its gather).
 */
function permutePixels(images: tf.Tensor4D, source: (b: number, r: number, c: number) => number): tf.Tensor4D {
  const [B, H, W, C] = images.shape;
  const index = new Int32Array(B * H * W);
  for (let b = 0, i = 0; b < B; b++) {
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++, i++) index[i] = b * H * W + source(b, r, c);
  }
  return tf.tidy(() => {
    const pixels = tf.reshape(images, [B * H * W, C]);
    return clip01(tf.reshape(tf.gather(pixels, tf.tensor1d(index, 'int32')), [B, H, W, C]));
  });
}

/** Mirrors left–right the images whose mask is set: out[r, c] = x[r, W−1−c]. */
export function flipHorizontal(images: tf.Tensor4D, mask: Uint8Array): tf.Tensor4D {
  const [B, , W] = images.shape;
  checkLength('flip mask', mask, B);
  return permutePixels(images, (b, r, c) => r * W + (mask[b] ? W - 1 - c : c));
}

/**
 * Rotates image b counter-clockwise by quarterTurns[b] × 90° (0..3), like
 * numpy's rot90: a pixel at (r, c) of an S×S image moves to (S−1−c, r) per
 * turn. Odd turns need square images.
 */
export function rotate90(images: tf.Tensor4D, quarterTurns: Uint8Array): tf.Tensor4D {
  const [B, H, W] = images.shape;
  checkLength('rotate quarterTurns', quarterTurns, B);
  const turns = Array.from(quarterTurns, (t) => ((t % 4) + 4) % 4);
  if (H !== W && turns.some((t) => t % 2 === 1)) {
    throw new Error(`rotate90: a 90° turn of a ${H}×${W} image changes its shape; put rotation after the crop, which makes square views`);
  }
  // the pixel that lands on (r, c) after t counter-clockwise turns
  const source = [
    (r: number, c: number) => r * W + c,
    (r: number, c: number) => c * W + (W - 1 - r),
    (r: number, c: number) => (H - 1 - r) * W + (W - 1 - c),
    (r: number, c: number) => (H - 1 - c) * W + r,
  ];
  return permutePixels(images, (b, r, c) => source[turns[b]](r, c));
}

// ---------------------------------------------------------------------------
// Colour

/** Indices of the four colour-jitter ops in an `order` permutation, as torchvision's ColorJitter numbers them. */
export const JITTER_OPS = { brightness: 0, contrast: 1, saturation: 2, hue: 3 } as const;

/**
 * NTSC YIQ: Y is the luma, (I, Q) the chroma plane. A hue shift is a rotation
 * of (I, Q) about the gray axis, which keeps Y (and every gray) fixed.
 */
const YIQ = [
  [0.299, 0.587, 0.114],
  [0.596, -0.274, -0.322],
  [0.211, -0.523, 0.312],
];

function matMul3(a: number[][], b: number[][]): number[][] {
  return a.map((row) => [0, 1, 2].map((j) => row[0] * b[0][j] + row[1] * b[1][j] + row[2] * b[2][j]));
}

function inverse3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

/**
 * Hue rotation by θ in RGB: M(θ) = YIQ⁻¹ R(θ) YIQ with R rotating (I, Q).
 * Written M = 𝟙 + (cos θ − 1)·HUE_COS + sin θ·HUE_SIN so that θ = 0 gives
 * exactly the identity in float32 (YIQ⁻¹·YIQ would be off by rounding).
 */
const YIQ_INV = inverse3(YIQ);
const HUE_COS = matMul3(matMul3(YIQ_INV, [[0, 0, 0], [0, 1, 0], [0, 0, 1]]), YIQ);
const HUE_SIN = matMul3(matMul3(YIQ_INV, [[0, 0, 0], [0, 0, -1], [0, 1, 0]]), YIQ);

/**
 * Each jitter op as one affine map per pixel, x ↦ M x + t·m·𝟏, with m the
 * image's mean luma (on C = 1, its mean):
 *   brightness  x·b                  M = b·I
 *   contrast    (x − m)·c + m        M = c·I,  t = 1 − c
 *   saturation  g + (x − g)·s        M = s·I + (1 − s)·𝟏·lumaᵀ  (g = luma, per pixel)
 *   hue         rotate hue by h      M = M_hue(θ)  (C = 3 only)
 * so a stage where every image runs a different op is still one batched matMul.
 */
function jitterMatrix(op: number, factor: number, channels: number, out: Float32Array, offset: number): number {
  const C = channels;
  for (let i = 0; i < C; i++) for (let j = 0; j < C; j++) out[offset + i * C + j] = i === j ? 1 : 0;
  if (op === JITTER_OPS.brightness || op === JITTER_OPS.contrast) {
    for (let i = 0; i < C; i++) out[offset + i * C + i] = factor;
    return op === JITTER_OPS.contrast ? 1 - factor : 0;
  }
  if (C !== 3) return 0; // saturation and hue leave a one-channel image as it is
  if (op === JITTER_OPS.saturation) {
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out[offset + i * 3 + j] = (i === j ? factor : 0) + (1 - factor) * LUMA[j];
    return 0;
  }
  // HSV's hue runs red → yellow → green; in the (I, Q) plane that is clockwise, hence the minus.
  const theta = -2 * Math.PI * factor;
  const cosM1 = Math.cos(theta) - 1;
  const sin = Math.sin(theta);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) out[offset + i * 3 + j] = (i === j ? 1 : 0) + cosM1 * HUE_COS[i][j] + sin * HUE_SIN[i][j];
  }
  return 0;
}

/** Per-image mean luma [B,1,1,1]: Σ_c luma_c · mean(x_c) (the mean of the gray image), or mean(x) when C = 1. */
function meanLuma(x: tf.Tensor4D): tf.Tensor4D {
  const channelMeans = tf.mean(x, [1, 2], true) as tf.Tensor4D;
  return x.shape[3] !== 3 ? channelMeans : lumaOf(channelMeans);
}

/**
 * SimCLR's colour distortion with torchvision ColorJitter semantics, batched:
 * brightness x·b, contrast (x − m)·c + m (m the image's mean luma), saturation
 * g + (x − g)·s (g the pixel's luma), hue rotated by h turns (h ∈ [−0.5, 0.5]).
 * Each image runs the four in its own order, order[4b..4b+3] (a permutation of
 * JITTER_OPS), clipping to [0, 1] after each as torchvision does.
 *
 * Hue: a rotation of the YIQ chroma plane rather than torchvision's shift in
 * HSV. Both fix the grays and keep colours' order round the wheel; YIQ is one
 * 3×3 matrix per image (cheap, differentiable, no branches), while HSV needs
 * max/min/mod per pixel. Unlike HSV, YIQ rotation keeps luma but can leave the
 * RGB cube, so its result is clipped. A factor b = c = s = 1, h = 0 is the
 * exact identity; on C = 1 saturation and hue are the identity.
 */
export function colorJitter(
  images: tf.Tensor4D,
  brightnessFactor: Float32Array,
  contrastFactor: Float32Array,
  saturationFactor: Float32Array,
  hueShift: Float32Array,
  order: Int32Array,
): tf.Tensor4D {
  const [B, , , C] = images.shape;
  for (const [name, v] of [['brightness', brightnessFactor], ['contrast', contrastFactor], ['saturation', saturationFactor], ['hue', hueShift]] as const) {
    checkLength(`colorJitter ${name}`, v, B);
  }
  checkLength('colorJitter order', order, B * 4);
  const factors = [brightnessFactor, contrastFactor, saturationFactor, hueShift];

  // Stage k applies, to image b, the op order[4b + k]; the four stages' matrices are built here on the CPU.
  const stages: { matrices: Float32Array; meanWeights: Float32Array }[] = [];
  for (let stage = 0; stage < 4; stage++) {
    const matrices = new Float32Array(B * C * C);
    const meanWeights = new Float32Array(B);
    let identity = true;
    for (let b = 0; b < B; b++) {
      const op = order[b * 4 + stage];
      if (!(op >= 0 && op <= 3)) throw new Error(`colorJitter order must hold a permutation of 0..3 per image, got ${op}`);
      meanWeights[b] = jitterMatrix(op, factors[op][b], C, matrices, b * C * C);
      if (meanWeights[b] !== 0) identity = false;
      for (let i = 0; i < C * C && identity; i++) if (matrices[b * C * C + i] !== (i % (C + 1) === 0 ? 1 : 0)) identity = false;
    }
    if (!identity) stages.push({ matrices, meanWeights });
  }

  return tf.tidy(() => {
    let x: tf.Tensor4D = images;
    for (const { matrices, meanWeights } of stages) {
      let y = applyChannelMatrices(x, matrices);
      if (meanWeights.some((t) => t !== 0)) y = tf.add(y, tf.mul(perImage(meanWeights, B), meanLuma(x)));
      x = clip01(y);
    }
    return clip01(x);
  });
}

/**
 * y[b, p, i] = Σ_j x[b, p, j] · M[b, i, j] for per-image C×C matrices (row-major
 * in `matrices`), as C² per-image scalings of single channels. Not a batched
 * matMul: with inner size C = 3 tfjs's webgpu matMul took ~4× longer
 * (190 vs 46 ms for 128 images of 32 px on SwiftShader), and a rank-5
 * broadcast ~100× longer. Sums are chained tf.add, not tf.addN.
 */
function applyChannelMatrices(x: tf.Tensor4D, matrices: Float32Array): tf.Tensor4D {
  const [B, , , C] = x.shape;
  const channels = C === 1 ? [x] : tf.split(x, C, 3);
  const outputs = [];
  for (let i = 0; i < C; i++) {
    let sum: tf.Tensor4D | null = null;
    for (let j = 0; j < C; j++) {
      const weights = new Float32Array(B);
      for (let b = 0; b < B; b++) weights[b] = matrices[b * C * C + i * C + j];
      const term = tf.mul(channels[j], perImage(weights, B)) as tf.Tensor4D;
      sum = sum ? (tf.add(sum, term) as tf.Tensor4D) : term;
    }
    outputs.push(sum!);
  }
  return C === 1 ? outputs[0] : (tf.concat(outputs, 3) as tf.Tensor4D);
}

/**
 * 0.299 R + 0.587 G + 0.114 B per pixel, [B, H, W, 1], as three scaled channels
 * added: tf.sum over a last axis of 3 runs one 64-thread workgroup per pixel on
 * tfjs's webgpu backend, ~30× slower (1.6 s for 128 images of 32 px on SwiftShader).
 */
function lumaOf(images: tf.Tensor4D): tf.Tensor4D {
  const [r, g, b] = tf.split(images, 3, 3);
  return tf.add(tf.add(tf.mul(r, LUMA[0]), tf.mul(g, LUMA[1])), tf.mul(b, LUMA[2])) as tf.Tensor4D;
}

/** Gray image with C equal channels: each set to the luma 0.299 R + 0.587 G + 0.114 B, for the images whose mask is set. */
export function grayscale(images: tf.Tensor4D, mask: Uint8Array): tf.Tensor4D {
  const [B, , , C] = images.shape;
  checkLength('grayscale mask', mask, B);
  return tf.tidy(() => {
    if (C !== 3) return clip01(images); // already one luma channel
    const luma = lumaOf(images);
    return clip01(tf.where(perImageMask(mask, B), tf.tile(luma, [1, 1, 1, C]), images));
  });
}

// ---------------------------------------------------------------------------
// Filters

/**
 * Gaussian blur's kernel side for an image side: SimCLR's 10% of the side,
 * made odd (the common PyTorch port: int(0.1·side), +1 if even), at least 3.
 */
export function blurKernelSize(side: number): number {
  const k = Math.floor(0.1 * side);
  return Math.max(3, k % 2 === 0 ? k + 1 : k);
}

/**
 * Separable Gaussian blur with a per-image σ (px): the kernel
 * w_i ∝ exp(−i²/2σ²), i = −r..r, r = (blurKernelSize − 1)/2, normalized to sum 1,
 * applied along rows, then columns, with reflect padding (torchvision's), so
 * borders are not darkened and a constant image stays constant.
 *
 * Each image gets its own exact kernel: the batch is folded into channels,
 * [B,H,W,C] → [1,H,W,B·C], and one depthwise conv applies channel b·C + c's
 * kernel, so there is no σ bucketing: the only error against the truncated
 * kernel above is float32 rounding, |Δ| ≲ 1e-6. (Truncating at r is SimCLR's
 * choice: at 28–32 px r = 1, so a σ = 2 blur is close to a 3×3 box blur.)
 * σ = 0, or an unset mask, leaves the image exactly as it is.
 */
export function gaussianBlur(images: tf.Tensor4D, sigmas: Float32Array, mask: Uint8Array): tf.Tensor4D {
  const [B, H, W, C] = images.shape;
  checkLength('blur sigmas', sigmas, B);
  checkLength('blur mask', mask, B);
  const apply = Uint8Array.from({ length: B }, (_, b) => (mask[b] && sigmas[b] > 0 ? 1 : 0));
  // reflect padding needs r < side
  const radius = Math.min((blurKernelSize(Math.min(H, W)) - 1) / 2, H - 1, W - 1);
  if (radius < 1 || !apply.some((a) => a)) return tf.tidy(() => clip01(tf.clone(images)));

  const k = 2 * radius + 1;
  const BC = B * C;
  // one layout serves both passes: [1,k,BC,1] and [k,1,BC,1] both index tap·BC + channel
  const taps = new Float32Array(k * BC);
  for (let b = 0; b < B; b++) {
    const w = new Float64Array(k);
    if (apply[b]) {
      const twoSigma2 = 2 * sigmas[b] * sigmas[b];
      let sum = 0;
      for (let i = 0; i < k; i++) sum += w[i] = Math.exp(-((i - radius) ** 2) / twoSigma2);
      for (let i = 0; i < k; i++) w[i] /= sum;
    } else {
      w[radius] = 1;
    }
    for (let i = 0; i < k; i++) for (let c = 0; c < C; c++) taps[i * BC + b * C + c] = w[i];
  }

  return tf.tidy(() => {
    const folded = tf.reshape(tf.transpose(images, [1, 2, 0, 3]), [1, H, W, BC]) as tf.Tensor4D;
    const padded = tf.mirrorPad(folded, [[0, 0], [radius, radius], [radius, radius], [0, 0]], 'reflect');
    const rows = tf.depthwiseConv2d(padded, tf.tensor4d(taps, [1, k, BC, 1]), 1, 'valid');
    const blurred = tf.depthwiseConv2d(rows, tf.tensor4d(taps, [k, 1, BC, 1]), 1, 'valid');
    const unfolded = tf.transpose(tf.reshape(blurred, [H, W, B, C]), [2, 0, 1, 3]) as tf.Tensor4D;
    return clip01(tf.where(perImageMask(apply, B), unfolded, images));
  });
}

/**
 * Sobel edge magnitude per channel, √(gx² + gy²) / √20 so it stays in [0, 1]
 * (SOBEL_MAX), for the images whose mask is set. Edge (replicate) padding, so a
 * constant image, borders included, gives 0.
 */
export function sobel(images: tf.Tensor4D, mask: Uint8Array): tf.Tensor4D {
  const [B, , , C] = images.shape;
  checkLength('sobel mask', mask, B);
  const gx = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
  const gy = [-1, -2, -1, 0, 0, 0, 1, 2, 1];
  /** [3,3,C,1]: the same 3×3 taps for every channel. */
  const filter = (taps: number[]) => tf.tensor4d(Float32Array.from({ length: 9 * C }, (_, i) => taps[Math.floor(i / C)]), [3, 3, C, 1]);
  return tf.tidy(() => {
    // 'symmetric' with a 1 px pad repeats the border pixel: replicate padding
    const padded = tf.mirrorPad(images, [[0, 0], [1, 1], [1, 1], [0, 0]], 'symmetric');
    const dx = tf.depthwiseConv2d(padded, filter(gx), 1, 'valid');
    const dy = tf.depthwiseConv2d(padded, filter(gy), 1, 'valid');
    const magnitude = tf.div(tf.sqrt(tf.add(tf.square(dx), tf.square(dy))), SOBEL_MAX) as tf.Tensor4D;
    return clip01(tf.where(perImageMask(mask, B), magnitude, images));
  });
}

// ---------------------------------------------------------------------------
// Occlusion and noise

/**
 * Cutout: squares[4·(b·n + j) ..] = top, left, height, width (px) of image b's
 * j-th rectangle (n = squares.length / 4B); where the mask is set, those
 * pixels are filled with the image's own mean colour (per channel, taken before
 * the cut), so the patch hides content without adding a colour the image does
 * not have (0 or 0.5 would be a constant the encoder could learn to spot).
 */
export function cutout(images: tf.Tensor4D, squares: Int32Array, mask: Uint8Array): tf.Tensor4D {
  const [B, H, W] = images.shape;
  checkLength('cutout mask', mask, B);
  if (B > 0 && squares.length % (4 * B) !== 0) throw new Error(`cutout squares must hold 4 numbers per square per image, got ${squares.length} for ${B} images`);
  const perImageCount = B > 0 ? squares.length / (4 * B) : 0;
  const covered = new Uint8Array(B * H * W);
  for (let b = 0; b < B; b++) {
    if (!mask[b]) continue;
    for (let j = 0; j < perImageCount; j++) {
      const o = 4 * (b * perImageCount + j);
      const top = Math.max(0, squares[o]), left = Math.max(0, squares[o + 1]);
      const bottom = Math.min(H, squares[o] + squares[o + 2]), right = Math.min(W, squares[o + 1] + squares[o + 3]);
      for (let r = top; r < bottom; r++) covered.fill(1, (b * H + r) * W + left, (b * H + r) * W + Math.max(left, right));
    }
  }
  return tf.tidy(() => {
    const fill = tf.mean(images, [1, 2], true);
    return clip01(tf.where(tf.tensor4d(covered, [B, H, W, 1], 'bool'), tf.broadcastTo(fill, images.shape), images));
  });
}

/**
 * Adds a noise field drawn on the CPU from the seeded rng ([B·H·W·C], already
 * scaled by σ; zeros leave an image exactly as it is), then clips to [0, 1].
 * Drawing it on the CPU, not with tf.randomNormal, keeps the views identical
 * on every backend.
 */
export function gaussianNoise(images: tf.Tensor4D, noise: Float32Array): tf.Tensor4D {
  checkLength('noise', noise, images.size);
  return tf.tidy(() => clip01(tf.add(images, tf.tensor4d(noise, images.shape))));
}
