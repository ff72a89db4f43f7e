import * as tf from '@tensorflow/tfjs';
await tf.setBackend('cpu');

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LUMA, SOBEL_MAX, blurKernelSize, colorJitter, cutout, flipHorizontal, gaussianBlur, gaussianNoise, grayscale,
  resizedCrop, rotate90, sobel,
} from './operators';
import { createRng, normal, permutation } from '../core/random';

/** Seeded images in [0,1], [B,H,W,C]. */
function randomImages(B: number, H: number, W: number, C: number, seed = 1): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: B * H * W * C }, () => rng()), [B, H, W, C]);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

function range(x: tf.Tensor): [number, number] {
  return tf.tidy(() => [tf.min(x).dataSync()[0], tf.max(x).dataSync()[0]]);
}

/** Runs op, disposes its output and returns its values. */
function run(op: () => tf.Tensor): Float32Array {
  const out = op();
  const values = out.dataSync() as Float32Array;
  out.dispose();
  return values;
}

const ones = (n: number) => new Uint8Array(n).fill(1);
const fill = (n: number, v: number) => new Float32Array(n).fill(v);
/** The identity order 0,1,2,3 for every image. */
const identityOrder = (B: number) => Int32Array.from({ length: B * 4 }, (_, i) => i % 4);

// Every test checks that the operators leave no tensor behind.
let tensorsBefore = 0;
let images: tf.Tensor4D;
beforeEach(() => {
  images = randomImages(3, 8, 8, 3);
  tensorsBefore = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  images.dispose();
});

describe('resizedCrop', () => {
  it('the whole-image box at the same size is the identity', () => {
    const boxes = Float32Array.from([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]);
    const out = resizedCrop(images, boxes, 8);
    expect(maxAbsDiff(out, images)).toBe(0);
    out.dispose();
  });

  it('a known pixel box picks exactly those pixels', () => {
    // rows 2..5, columns 1..4 of an 8×8 image: box [2/7, 1/7, 5/7, 4/7] at output size 4
    const boxes = new Float32Array(12);
    for (let b = 0; b < 3; b++) boxes.set([2 / 7, 1 / 7, 5 / 7, 4 / 7], b * 4);
    const out = resizedCrop(images, boxes, 4);
    expect(out.shape).toEqual([3, 4, 4, 3]);
    const expected = tf.slice(images, [0, 2, 1, 0], [3, 4, 4, 3]);
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-6);
    tf.dispose([out, expected]);
  });
});

describe('flipHorizontal', () => {
  it('mirrors only the masked images, and flipping twice is the identity', () => {
    const mask = Uint8Array.from([1, 0, 1]);
    const once = flipHorizontal(images, mask);
    const twice = flipHorizontal(once, mask);
    expect(maxAbsDiff(twice, images)).toBe(0);
    const [x, y] = [images.arraySync(), once.arraySync()];
    expect(y[0][3][0]).toEqual(x[0][3][7]);
    expect(y[1]).toEqual(x[1]);
    expect(y[2][5][2]).toEqual(x[2][5][5]);
    tf.dispose([once, twice]);
  });
});

describe('rotate90', () => {
  it('four quarter turns are the identity, and so are 0 turns', () => {
    let x = tf.clone(images);
    const turn = Uint8Array.from([1, 1, 1]);
    for (let i = 0; i < 4; i++) {
      const next = rotate90(x, turn);
      x.dispose();
      x = next;
    }
    expect(maxAbsDiff(x, images)).toBe(0);
    const zero = rotate90(images, new Uint8Array(3));
    expect(maxAbsDiff(zero, images)).toBe(0);
    tf.dispose([x, zero]);
  });

  it('moves a marked pixel counter-clockwise: (r, c) → (S−1−c, r) per turn, each image by its own count', () => {
    const S = 6;
    const [r, c] = [1, 4];
    const marked = new Float32Array(4 * S * S);
    for (let b = 0; b < 4; b++) marked[b * S * S + r * S + c] = 1;
    const x = tf.tensor4d(marked, [4, S, S, 1]);
    const out = tf.tidy(() => rotate90(x, Uint8Array.from([0, 1, 2, 3])).arraySync());
    const where = (img: number[][][]) => {
      for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) if (img[i][j][0] === 1) return [i, j];
      return null;
    };
    expect(where(out[0])).toEqual([r, c]);
    expect(where(out[1])).toEqual([S - 1 - c, r]); // top-right area → top-left area
    expect(where(out[2])).toEqual([S - 1 - r, S - 1 - c]);
    expect(where(out[3])).toEqual([c, S - 1 - r]);
    x.dispose();
  });

  it('refuses a quarter turn of a non-square image, allows a half turn', () => {
    const x = randomImages(1, 4, 6, 1);
    expect(() => rotate90(x, Uint8Array.from([1]))).toThrow(/square/);
    const half = rotate90(x, Uint8Array.from([2]));
    expect(half.arraySync()[0][0][0]).toEqual(x.arraySync()[0][3][5]);
    tf.dispose([x, half]);
  });
});

describe('grayscale', () => {
  it('gives equal channels equal to the ITU-R 601 luma, only where masked, and is idempotent', () => {
    const mask = Uint8Array.from([1, 0, 1]);
    const gray = grayscale(images, mask);
    const again = grayscale(gray, mask);
    expect(maxAbsDiff(again, gray)).toBeLessThan(1e-6);
    const [x, g] = [images.arraySync(), gray.arraySync()];
    const px = x[0][2][3];
    const luma = LUMA[0] * px[0] + LUMA[1] * px[1] + LUMA[2] * px[2];
    for (const v of g[0][2][3]) expect(v).toBeCloseTo(luma, 6);
    expect(g[1]).toEqual(x[1]);
    for (const row of g[2]) for (const p of row) expect(p[0] === p[1] && p[1] === p[2]).toBe(true);
    tf.dispose([gray, again]);
  });

  it('leaves one-channel images as they are', () => {
    const x = randomImages(2, 5, 5, 1);
    const out = grayscale(x, ones(2));
    expect(maxAbsDiff(out, x)).toBe(0);
    tf.dispose([x, out]);
  });
});

describe('colorJitter', () => {
  const B = 3;
  const jitter = (x: tf.Tensor4D, b: number, c: number, s: number, h: number, order = identityOrder(x.shape[0])) => {
    const n = x.shape[0];
    return colorJitter(x, fill(n, b), fill(n, c), fill(n, s), fill(n, h), order);
  };

  it('unit factors, zero hue shift are the exact identity in any order', () => {
    const out = jitter(images, 1, 1, 1, 0, Int32Array.from([3, 2, 1, 0, 1, 3, 0, 2, 2, 0, 3, 1]));
    expect(maxAbsDiff(out, images)).toBe(0);
    out.dispose();
  });

  it('brightness is x·b and contrast (x − m)·c + m with m the mean luma, clipped', () => {
    const bright = jitter(images, 1.5, 1, 1, 0);
    const expectBright = tf.tidy(() => tf.clipByValue(tf.mul(images, 1.5), 0, 1));
    expect(maxAbsDiff(bright, expectBright)).toBeLessThan(1e-6);

    const contrast = jitter(images, 1, 0.5, 1, 0);
    const expectContrast = tf.tidy(() => {
      const luma = tf.sum(tf.mul(images, tf.tensor1d([...LUMA])), 3, true);
      const m = tf.mean(luma, [1, 2, 3], true);
      return tf.clipByValue(tf.add(tf.mul(tf.sub(images, m), 0.5), m), 0, 1);
    });
    expect(maxAbsDiff(contrast, expectContrast)).toBeLessThan(1e-6);
    tf.dispose([bright, expectBright, contrast, expectContrast]);
  });

  it('saturation 0 equals grayscale; saturation 1 and hue 0 are the identity', () => {
    const desaturated = jitter(images, 1, 1, 0, 0);
    const gray = grayscale(images, ones(B));
    expect(maxAbsDiff(desaturated, gray)).toBeLessThan(1e-6);
    tf.dispose([desaturated, gray]);
  });

  it('hue: keeps grays and luma, turns red towards yellow for h > 0, and ±½ turn agree', () => {
    // a gray, a muted red and a muted blue: far enough inside the RGB cube that a small turn is not clipped
    const x = tf.tensor4d([0.4, 0.4, 0.4, 0.7, 0.3, 0.3, 0.3, 0.35, 0.6], [3, 1, 1, 3]);
    const turned = jitter(x, 1, 1, 1, 0.05);
    const [[[gray]], [[red]], [[blue]]] = turned.arraySync();
    gray.forEach((v) => expect(v).toBeCloseTo(0.4, 6));
    const luma = (p: number[]) => LUMA[0] * p[0] + LUMA[1] * p[1] + LUMA[2] * p[2];
    expect(luma(red)).toBeCloseTo(luma([0.7, 0.3, 0.3]), 5);
    expect(luma(blue)).toBeCloseTo(luma([0.3, 0.35, 0.6]), 5);
    expect(red[1] - 0.3).toBeGreaterThan(red[2] - 0.3); // green grows faster than blue: red → orange
    const plusHalf = jitter(images, 1, 1, 1, 0.5);
    const minusHalf = jitter(images, 1, 1, 1, -0.5);
    expect(maxAbsDiff(plusHalf, minusHalf)).toBeLessThan(1e-5);
    tf.dispose([x, turned, plusHalf, minusHalf]);
  });

  it('runs each image through its own order of the four ops (checked against a per-pixel reference)', () => {
    const x = randomImages(4, 5, 5, 3, 9);
    const rng = createRng(3);
    const b = Float32Array.from({ length: 4 }, () => 0.6 + 0.8 * rng());
    const c = Float32Array.from({ length: 4 }, () => 0.6 + 0.8 * rng());
    const s = Float32Array.from({ length: 4 }, () => 0.6 + 0.8 * rng());
    const h = new Float32Array(4); // hue is checked above; here b, c, s against plain arithmetic
    const order = new Int32Array(16);
    for (let i = 0; i < 4; i++) order.set(permutation(rng, 4), i * 4);
    const out = run(() => colorJitter(x, b, c, s, h, order));
    const src = x.dataSync();
    const P = 25;
    const clamp = (v: number) => Math.min(1, Math.max(0, v));
    for (let img = 0; img < 4; img++) {
      const px = Array.from(src.subarray(img * P * 3, (img + 1) * P * 3));
      for (let k = 0; k < 4; k++) {
        const op = order[img * 4 + k];
        const lumaOf = (i: number) => LUMA[0] * px[3 * i] + LUMA[1] * px[3 * i + 1] + LUMA[2] * px[3 * i + 2];
        if (op === 0) for (let i = 0; i < px.length; i++) px[i] = clamp(px[i] * b[img]);
        if (op === 1) {
          let m = 0;
          for (let i = 0; i < P; i++) m += lumaOf(i) / P;
          for (let i = 0; i < px.length; i++) px[i] = clamp((px[i] - m) * c[img] + m);
        }
        if (op === 2) {
          for (let i = 0; i < P; i++) {
            const g = lumaOf(i);
            for (let ch = 0; ch < 3; ch++) px[3 * i + ch] = clamp(g + (px[3 * i + ch] - g) * s[img]);
          }
        }
      }
      for (let i = 0; i < px.length; i++) expect(Math.abs(out[img * P * 3 + i] - px[i])).toBeLessThan(1e-5);
    }
    x.dispose();
  });

  it('on one channel, saturation and hue are the identity and brightness still applies', () => {
    const x = randomImages(2, 4, 4, 1);
    const same = colorJitter(x, fill(2, 1), fill(2, 1), fill(2, 0), fill(2, 0.3), identityOrder(2));
    expect(maxAbsDiff(same, x)).toBe(0);
    const darker = colorJitter(x, fill(2, 0.5), fill(2, 1), fill(2, 1), fill(2, 0), identityOrder(2));
    const expected = tf.mul(x, 0.5);
    expect(maxAbsDiff(darker, expected)).toBeLessThan(1e-6);
    tf.dispose([x, same, darker, expected]);
  });
});

describe('gaussianBlur', () => {
  it('uses SimCLR’s kernel side: 10% of the side, odd, at least 3', () => {
    expect([8, 28, 32, 64, 96, 224].map(blurKernelSize)).toEqual([3, 3, 3, 7, 9, 23]);
  });

  it('σ = 0 or an unset mask is the exact identity', () => {
    const out = gaussianBlur(images, Float32Array.from([0, 1.5, 0]), Uint8Array.from([1, 0, 0]));
    expect(maxAbsDiff(out, images)).toBe(0);
    out.dispose();
  });

  it('keeps a constant image constant (borders too) and lowers the variance of noise', () => {
    const constant = tf.fill([1, 32, 32, 3], 0.3) as tf.Tensor4D;
    const blurredConstant = gaussianBlur(constant, fill(1, 2), ones(1));
    expect(maxAbsDiff(blurredConstant, constant)).toBeLessThan(1e-6);

    const rng = createRng(5);
    const noise = tf.tensor4d(Float32Array.from({ length: 64 * 64 }, () => 0.5 + 0.1 * normal(rng)), [1, 64, 64, 1]);
    const blurred = gaussianBlur(noise, fill(1, 1.5), ones(1));
    const variance = (t: tf.Tensor) => tf.tidy(() => tf.moments(t).variance.dataSync()[0]);
    const meanOf = (t: tf.Tensor) => tf.tidy(() => tf.mean(t).dataSync()[0]);
    expect(variance(blurred)).toBeLessThan(0.3 * variance(noise));
    expect(meanOf(blurred)).toBeCloseTo(meanOf(noise), 2);
    tf.dispose([constant, blurredConstant, noise, blurred]);
  });

  it('gives each image its own σ: a batch equals its images blurred one by one, and a reference convolution', () => {
    const x = randomImages(3, 20, 20, 2, 4);
    const sigmas = Float32Array.from([0.5, 1, 3]);
    const batched = gaussianBlur(x, sigmas, ones(3));
    for (let b = 0; b < 3; b++) {
      const single = tf.slice(x, [b, 0, 0, 0], [1, 20, 20, 2]);
      const alone = gaussianBlur(single, sigmas.subarray(b, b + 1), ones(1));
      const part = tf.slice(batched, [b, 0, 0, 0], [1, 20, 20, 2]);
      expect(maxAbsDiff(part, alone)).toBeLessThan(1e-6);
      tf.dispose([single, alone, part]);
    }
    // reference: 3-tap kernel (side 20 → k = 3), reflect padding, image 2, channel 1, pixel (0, 7)
    const w = [Math.exp(-1 / 18), 1, Math.exp(-1 / 18)];
    const sum = w[0] + w[1] + w[2];
    const src = x.arraySync()[2];
    const at = (r: number, c: number) => src[r < 0 ? -r : r > 19 ? 38 - r : r][c < 0 ? -c : c > 19 ? 38 - c : c][1];
    let expected = 0;
    for (let i = -1; i <= 1; i++) for (let j = -1; j <= 1; j++) expected += (w[i + 1] * w[j + 1] * at(0 + i, 7 + j)) / (sum * sum);
    expect(batched.arraySync()[2][0][7][1]).toBeCloseTo(expected, 5);
    tf.dispose([x, batched]);
  });
});

describe('sobel', () => {
  it('is zero on a constant image', () => {
    const constant = tf.fill([2, 10, 10, 3], 0.7) as tf.Tensor4D;
    const edges = sobel(constant, ones(2));
    expect(range(edges)[1]).toBeLessThan(1e-6);
    tf.dispose([constant, edges]);
  });

  it('is largest on a vertical step edge, 4/√20 there, zero away from it', () => {
    const S = 10;
    const step = tf.tensor4d(Float32Array.from({ length: S * S }, (_, i) => (i % S >= 5 ? 1 : 0)), [1, S, S, 1]);
    const edges = tf.tidy(() => sobel(step, ones(1)).arraySync()[0]);
    for (const row of edges) {
      expect(row[4][0]).toBeCloseTo(4 / SOBEL_MAX, 5);
      expect(row[5][0]).toBeCloseTo(4 / SOBEL_MAX, 5);
      for (const c of [0, 1, 2, 3, 6, 7, 8, 9]) expect(row[c][0]).toBeLessThan(1e-6);
    }
    step.dispose();
  });

  it('stays in [0, 1] on the worst case (gx² + gy² = 20) and on noise, and leaves unmasked images alone', () => {
    const corner = tf.tensor4d([0, 0, 1, 0, 0, 1, 0, 1, 1], [1, 3, 3, 1]);
    const edges = sobel(corner, ones(1));
    expect(range(edges)[1]).toBeLessThanOrEqual(1);
    const noisy = sobel(images, Uint8Array.from([1, 0, 1]));
    const [lo, hi] = range(noisy);
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    expect(noisy.arraySync()[1]).toEqual(images.arraySync()[1]);
    tf.dispose([corner, edges, noisy]);
  });
});

describe('cutout', () => {
  it('fills exactly the given squares with the image’s mean colour and leaves the rest alone', () => {
    const squares = Int32Array.from([
      1, 2, 3, 3, /**/ 5, 5, 3, 3, // image 0: two squares
      0, 0, 4, 4, /**/ 4, 4, 4, 4, // image 1: not masked
      6, 0, 2, 2, /**/ 0, 6, 2, 2, // image 2
    ]);
    const mask = Uint8Array.from([1, 0, 1]);
    const out = tf.tidy(() => cutout(images, squares, mask).arraySync());
    const x = images.arraySync();
    const means = tf.tidy(() => tf.mean(images, [1, 2]).arraySync() as number[][]);
    for (let b = 0; b < 3; b++) {
      for (let r = 0; r < 8; r++) {
        for (let c = 0; c < 8; c++) {
          const inside = [0, 1].some((j) => {
            const [top, left, h, w] = squares.subarray((b * 2 + j) * 4, (b * 2 + j + 1) * 4);
            return r >= top && r < top + h && c >= left && c < left + w;
          });
          for (let ch = 0; ch < 3; ch++) {
            if (mask[b] && inside) expect(out[b][r][c][ch]).toBeCloseTo(means[b][ch], 6);
            else expect(out[b][r][c][ch]).toBe(x[b][r][c][ch]);
          }
        }
      }
    }
  });
});

describe('gaussianNoise', () => {
  it('zero noise is the identity; noise is added and clipped into [0, 1]', () => {
    const same = gaussianNoise(images, new Float32Array(images.size));
    expect(maxAbsDiff(same, images)).toBe(0);
    const rng = createRng(2);
    const noise = Float32Array.from({ length: images.size }, () => 0.5 * normal(rng));
    const noisy = gaussianNoise(images, noise);
    const [lo, hi] = range(noisy);
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    const x = images.dataSync();
    const y = noisy.dataSync();
    for (let i = 0; i < 50; i++) expect(y[i]).toBeCloseTo(Math.min(1, Math.max(0, x[i] + noise[i])), 6);
    expect(() => gaussianNoise(images, new Float32Array(3))).toThrow(/noise/);
    tf.dispose([same, noisy]);
  });
});

describe('all operators', () => {
  it('keep random inputs in [0, 1] under strong settings', () => {
    const B = 3;
    const outputs = [
      resizedCrop(images, Float32Array.from([0.1, 0.2, 0.9, 0.6, 0, 0, 1, 1, 0.5, 0.5, 0.6, 0.7]), 5),
      flipHorizontal(images, ones(B)),
      rotate90(images, Uint8Array.from([1, 2, 3])),
      colorJitter(images, fill(B, 2), fill(B, 3), fill(B, 4), fill(B, 0.37), Int32Array.from([3, 0, 1, 2, 2, 3, 0, 1, 1, 2, 3, 0])),
      grayscale(images, ones(B)),
      gaussianBlur(images, fill(B, 5), ones(B)),
      sobel(images, ones(B)),
      cutout(images, Int32Array.from([0, 0, 8, 8, 2, 2, 3, 3, 7, 7, 1, 1]), ones(B)),
    ];
    for (const out of outputs) {
      const [lo, hi] = range(out);
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
    }
    tf.dispose(outputs);
  });

  it('refuse parameters for the wrong batch size', () => {
    expect(() => flipHorizontal(images, ones(2))).toThrow(/3/);
    expect(() => colorJitter(images, fill(3, 1), fill(3, 1), fill(3, 1), fill(3, 0), new Int32Array(4))).toThrow(/order/);
    expect(() => gaussianBlur(images, fill(2, 1), ones(3))).toThrow(/sigma/);
  });
});
