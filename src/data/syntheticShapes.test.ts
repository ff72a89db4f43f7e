import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { classCounts, type ImageDataset, type ImageSplit } from './dataset';
import {
  DEFAULT_SYNTHETIC_SHAPES_OPTIONS,
  SHAPE_CLASSES,
  SHAPE_ROTATION,
  SHAPE_TYPICAL_HUES,
  generateSyntheticShapes,
  hsvToRgb,
  renderShapeImage,
  sampleShapeParams,
  type ShapeImageParams,
} from './syntheticShapes';

const K = SHAPE_CLASSES.length;

/** Byte equality without Vitest's slow deep diff of a megabyte array. */
function sameBytes(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Small enough to be quick, big enough for per-class statistics; both splits share the colour shortcut. */
function small(seed: number, colourShortcut: number): ImageDataset {
  return generateSyntheticShapes({ seed, colourShortcut, testColourShortcut: colourShortcut, trainPerClass: 200, testPerClass: 100 });
}

/**
 * A pixel belongs to the shape when its brightest channel is ≥ 128: shapes
 * have HSV value ≥ 0.75 (≥ 191), backgrounds ≤ 0.3 (≤ 77).
 */
const SHAPE_THRESHOLD = 128;

function isShapePixel(images: Uint8Array, o: number): boolean {
  return Math.max(images[o], images[o + 1], images[o + 2]) >= SHAPE_THRESHOLD;
}

/** 4×4×4-bin RGB histogram of image i's shape pixels, normalised to sum 1. */
function shapeColourHistogram(split: ImageSplit, i: number, imageSize: number): Float64Array {
  const B = 4;
  const h = new Float64Array(B * B * B);
  const n = imageSize * imageSize;
  let total = 0;
  for (let p = 0; p < n; p++) {
    const o = (i * n + p) * 3;
    if (!isShapePixel(split.images, o)) continue;
    const r = (split.images[o] * B) >> 8;
    const g = (split.images[o + 1] * B) >> 8;
    const b = (split.images[o + 2] * B) >> 8;
    h[(r * B + g) * B + b]++;
    total++;
  }
  for (let k = 0; k < h.length; k++) h[k] /= Math.max(total, 1);
  return h;
}

/**
 * The teaching point in numbers: a nearest-class-mean classifier that sees
 * only colour (no shape at all), fitted on train and scored on test.
 */
function colourOnlyAccuracy(ds: ImageDataset): number {
  const S = ds.imageSize;
  const means = Array.from({ length: K }, () => new Float64Array(64));
  const counts = classCounts(ds.train, K);
  for (let i = 0; i < ds.train.count; i++) {
    const h = shapeColourHistogram(ds.train, i, S);
    const m = means[ds.train.labels[i]];
    for (let k = 0; k < 64; k++) m[k] += h[k] / counts[ds.train.labels[i]];
  }
  let correct = 0;
  for (let i = 0; i < ds.test.count; i++) {
    const h = shapeColourHistogram(ds.test, i, S);
    let best = -1;
    let bestD = Infinity;
    for (let c = 0; c < K; c++) {
      let d = 0;
      for (let k = 0; k < 64; k++) d += (h[k] - means[c][k]) ** 2;
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    if (best === ds.test.labels[i]) correct++;
  }
  return correct / ds.test.count;
}

/** Mean RGB (0..255) of the shape pixels of each class in the training split. */
function classMeanColours(ds: ImageDataset): number[][] {
  const n = ds.imageSize * ds.imageSize;
  const sums = Array.from({ length: K }, () => [0, 0, 0, 0]);
  for (let i = 0; i < ds.train.count; i++) {
    const s = sums[ds.train.labels[i]];
    for (let p = 0; p < n; p++) {
      const o = (i * n + p) * 3;
      if (!isShapePixel(ds.train.images, o)) continue;
      s[0] += ds.train.images[o];
      s[1] += ds.train.images[o + 1];
      s[2] += ds.train.images[o + 2];
      s[3]++;
    }
  }
  return sums.map(([r, g, b, count]) => [r / count, g / count, b / count]);
}

function pairwiseDistances(points: number[][]): number[] {
  const out: number[] = [];
  for (let a = 0; a < points.length; a++) {
    for (let b = a + 1; b < points.length; b++) out.push(Math.hypot(...points[a].map((v, j) => v - points[b][j])));
  }
  return out;
}

/** A shape in white on a flat black background, for geometry checks. */
function plainParams(classIndex: number, rotationDeg: number, radius = 14, centre = 16): ShapeImageParams {
  return {
    classIndex,
    colour: [1, 1, 1],
    centreX: centre,
    centreY: centre,
    radius,
    rotationDeg,
    background: { texture: 'checker', colourA: [0, 0, 0], colourB: [0, 0, 0], angle: 0, period: 4, phase: 0 },
  };
}

/** Per-pixel coverage in [0, 1] of a plainParams image. */
function coverage(params: ShapeImageParams, size = 32): Float64Array {
  const img = new Uint8Array(size * size * 3);
  renderShapeImage(params, size, img);
  const c = new Float64Array(size * size);
  for (let p = 0; p < c.length; p++) c[p] = img[p * 3] / 255;
  return c;
}

describe('generateSyntheticShapes', () => {
  const ds = generateSyntheticShapes({ seed: 7, trainPerClass: 50, testPerClass: 20 });

  it('describes itself as the built-in coloured-shapes dataset', () => {
    expect(ds.id).toBe('synthetic-shapes');
    expect(ds.name).toBe('Coloured shapes (synthetic)');
    expect(ds.channels).toBe(3);
    expect(ds.imageSize).toBe(32);
    expect(ds.classNames).toEqual([...SHAPE_CLASSES]);
    expect(ds.credit).toMatch(/^Generated in your browser from a seed\. The linear probe is fitted and scored on shapes of random colours/);
    expect(new Set(SHAPE_CLASSES).size).toBe(10);
    expect(SHAPE_TYPICAL_HUES).toHaveLength(10);
    expect(SHAPE_ROTATION).toHaveLength(10);
  });

  it('has the right shapes and dtypes', () => {
    for (const [split, count] of [
      [ds.train, 500],
      [ds.test, 200],
    ] as const) {
      expect(split.count).toBe(count);
      expect(split.images).toBeInstanceOf(Uint8Array);
      expect(split.labels).toBeInstanceOf(Int32Array);
      expect(split.images.length).toBe(count * 32 * 32 * 3);
      expect(split.labels.length).toBe(count);
    }
  });

  it('uses the documented defaults', () => {
    const d = generateSyntheticShapes();
    expect(d.train.count).toBe(DEFAULT_SYNTHETIC_SHAPES_OPTIONS.trainPerClass * 10);
    expect(d.test.count).toBe(DEFAULT_SYNTHETIC_SHAPES_OPTIONS.testPerClass * 10);
    expect(d.imageSize).toBe(32);
  });

  it('honours imageSize', () => {
    const d = generateSyntheticShapes({ seed: 1, imageSize: 20, trainPerClass: 2, testPerClass: 1 });
    expect(d.imageSize).toBe(20);
    expect(d.train.images.length).toBe(20 * 20 * 3 * 20);
    expect(d.test.images.length).toBe(20 * 20 * 3 * 10);
  });

  it('is exactly class-balanced in both splits, with classes interleaved', () => {
    expect(classCounts(ds.train, K)).toEqual(new Array(K).fill(50));
    expect(classCounts(ds.test, K)).toEqual(new Array(K).fill(20));
    // Shuffled, not sorted or cycled: a label differs from the previous one about 90% of the time.
    let changes = 0;
    for (let i = 1; i < ds.train.count; i++) if (ds.train.labels[i] !== ds.train.labels[i - 1]) changes++;
    expect(changes / (ds.train.count - 1)).toBeGreaterThan(0.8);
    const firstTen = Array.from(ds.train.labels.subarray(0, 10));
    expect(firstTen).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('is deterministic: same seed, byte-identical; different seed, different', () => {
    const a = generateSyntheticShapes({ seed: 7, trainPerClass: 50, testPerClass: 20 });
    expect(sameBytes(a.train.images, ds.train.images)).toBe(true);
    expect(sameBytes(a.train.labels, ds.train.labels)).toBe(true);
    expect(sameBytes(a.test.images, ds.test.images)).toBe(true);
    expect(sameBytes(a.test.labels, ds.test.labels)).toBe(true);

    const b = generateSyntheticShapes({ seed: 8, trainPerClass: 50, testPerClass: 20 });
    expect(sameBytes(b.train.labels, ds.train.labels)).toBe(false);
    let differing = 0;
    for (let i = 0; i < b.train.images.length; i++) if (b.train.images[i] !== ds.train.images[i]) differing++;
    expect(differing / b.train.images.length).toBeGreaterThan(0.5);
    // Train and test come from separate streams: not copies of each other.
    expect(sameBytes(ds.test.images.subarray(0, 3072), ds.train.images.subarray(0, 3072))).toBe(false);
  });

  it('leaves the training set unchanged when only the test size changes', () => {
    const other = generateSyntheticShapes({ seed: 7, trainPerClass: 50, testPerClass: 5 });
    expect(sameBytes(other.train.images, ds.train.images)).toBe(true);
    expect(sameBytes(other.train.labels, ds.train.labels)).toBe(true);
  });

  it('draws visible shapes on textured, darkish backgrounds', () => {
    const n = 32 * 32;
    for (let i = 0; i < ds.train.count; i++) {
      const img = ds.train.images.subarray(i * n * 3, (i + 1) * n * 3);
      let shape = 0;
      let minV = 255;
      let maxV = 0;
      let bgMin = 255;
      let bgMax = 0;
      for (let p = 0; p < n; p++) {
        const v = Math.max(img[p * 3], img[p * 3 + 1], img[p * 3 + 2]);
        minV = Math.min(minV, v);
        maxV = Math.max(maxV, v);
        if (v >= SHAPE_THRESHOLD) shape++;
        else if (v < 80) {
          bgMin = Math.min(bgMin, v);
          bgMax = Math.max(bgMax, v);
        }
      }
      // Smallest shape: a 0.35·32-pixel star covers ≈ 12 px; largest: ≤ 45% of the image.
      expect(shape, `image ${i} (${SHAPE_CLASSES[ds.train.labels[i]]})`).toBeGreaterThan(8);
      expect(shape).toBeLessThan(0.5 * n);
      expect(maxV).toBeGreaterThanOrEqual(180);
      expect(minV).toBeLessThanOrEqual(75);
      // The texture's two colours differ by ≥ 0.05 in value (≈ 13 levels); the shape may hide some of it.
      expect(bgMax - bgMin, `image ${i} background is flat`).toBeGreaterThanOrEqual(6);
    }
  });

  it('rejects bad options with a message saying what is allowed', () => {
    expect(() => generateSyntheticShapes({ colourShortcut: 1.5 })).toThrow(/colour shortcut.*0 to 1.*1\.5/);
    expect(() => generateSyntheticShapes({ colourShortcut: NaN })).toThrow(/colour shortcut/);
    expect(() => generateSyntheticShapes({ testColourShortcut: -0.1 })).toThrow(/test split's colour shortcut/);
    expect(() => generateSyntheticShapes({ probePerClass: -1 })).toThrow(/probe images per class/);
    expect(() => generateSyntheticShapes({ trainPerClass: 0 })).toThrow(/training images per class/);
    expect(() => generateSyntheticShapes({ testPerClass: 2.5 })).toThrow(/test images per class/);
    expect(() => generateSyntheticShapes({ imageSize: 4 })).toThrow(/image size.*8 to 256/);
    expect(() => generateSyntheticShapes({ seed: 0.5 })).toThrow(/seed/);
  });

  it('generates the default 6,000 images quickly', () => {
    const t0 = performance.now();
    const d = generateSyntheticShapes({ seed: 3 });
    const ms = performance.now() - t0;
    expect(d.train.count + d.test.count).toBe(6000);
    expect(ms).toBeLessThan(5000);
  });
});

describe('colour shortcut', () => {
  const always = small(11, 1);
  const never = small(11, 0);
  const usual = small(11, DEFAULT_SYNTHETIC_SHAPES_OPTIONS.colourShortcut);

  it('with colourShortcut = 1, each class has its own colour; with 0, all classes look alike', () => {
    const apart = pairwiseDistances(classMeanColours(always));
    const alike = pairwiseDistances(classMeanColours(never));
    // Neighbouring typical hues are 36° apart: ≈ 70 RGB units between class means.
    // With random hues every class mean is ≈ the same grey; what is left is sampling noise.
    expect(Math.min(...apart)).toBeGreaterThan(50);
    expect(Math.max(...alike)).toBeLessThan(40);
    expect(Math.min(...apart)).toBeGreaterThan(1.5 * Math.max(...alike));
  });

  it('lets a colour-only classifier name the shape with the shortcut, and not without it', () => {
    const withShortcut = colourOnlyAccuracy(always);
    const without = colourOnlyAccuracy(never);
    const usualAcc = colourOnlyAccuracy(usual);
    expect(withShortcut).toBeGreaterThan(0.85); // ≈ 0.92
    expect(without).toBeLessThan(0.2); // chance is 0.1
    expect(usualAcc).toBeGreaterThan(0.6); // ≈ 0.75 at the default 0.8
    expect(usualAcc).toBeLessThan(withShortcut);
  });

  it('by default keeps the shortcut out of the test split, so the probe is scored on shape', () => {
    // Colour means learnt on the (shortcut) training split; scored on the default, colour-neutral test split.
    const defaults = generateSyntheticShapes({ seed: 11, trainPerClass: 200, testPerClass: 100 });
    const acc = colourOnlyAccuracy(defaults);
    expect(acc).toBeLessThan(0.2); // chance is 0.1; with the shortcut on the test split it is ≈ 0.75
    // The training split is the one with the shortcut, unchanged by the test option.
    expect(sameBytes(defaults.train.images, usual.train.images)).toBe(true);
    // The probe is fitted on a colour-neutral labelled set: colour means learnt there name no shape either.
    const probe = defaults.probeTrain!;
    expect(probe.count).toBe(200 * K);
    expect(classCounts(probe, K)).toEqual(Array(K).fill(200));
    expect(colourOnlyAccuracy({ ...defaults, train: probe, test: usual.test })).toBeLessThan(0.2);
    // without a probe set the probe falls back to the training split
    expect(generateSyntheticShapes({ seed: 11, trainPerClass: 20, testPerClass: 5, probePerClass: 0 }).probeTrain).toBeUndefined();
  });

  it("draws the class's typical hue within ±10° when the shortcut applies", () => {
    const rng = createRng(5);
    for (let c = 0; c < K; c++) {
      for (let j = 0; j < 50; j++) {
        const p = sampleShapeParams(rng, c, 32, 1);
        const [r, g, b] = p.colour;
        const max = Math.max(r, g, b);
        const d = max - Math.min(r, g, b);
        const h6 = max === r ? ((g - b) / d + 6) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
        const diff = Math.abs(((h6 * 60 - SHAPE_TYPICAL_HUES[c] + 540) % 360) - 180);
        expect(diff).toBeLessThanOrEqual(10 + 1e-9);
      }
    }
  });
});

describe('nuisance factors', () => {
  const rng = createRng(99);
  const samples = Array.from({ length: 4000 }, (_, i) => sampleShapeParams(rng, i % K, 32, 0.8));

  it('keeps every shape inside the image at 35–75% of its side', () => {
    for (const p of samples) {
      expect(p.radius).toBeGreaterThanOrEqual(0.35 * 16);
      expect(p.radius).toBeLessThanOrEqual(0.75 * 16);
      expect(p.centreX - p.radius).toBeGreaterThanOrEqual(0);
      expect(p.centreX + p.radius).toBeLessThanOrEqual(32);
      expect(p.centreY - p.radius).toBeGreaterThanOrEqual(0);
      expect(p.centreY + p.radius).toBeLessThanOrEqual(32);
    }
  });

  it('keeps squares near upright and diamonds near 45°, and turns the rest freely', () => {
    const byClass = (name: string) =>
      samples.filter((p) => p.classIndex === SHAPE_CLASSES.indexOf(name)).map((p) => p.rotationDeg);
    for (const a of byClass('square')) expect(Math.abs(a)).toBeLessThanOrEqual(10);
    for (const a of byClass('diamond')) expect(Math.abs(a - 45)).toBeLessThanOrEqual(10);
    const stars = byClass('star');
    expect(Math.max(...stars) - Math.min(...stars)).toBeGreaterThan(300);
  });

  it('varies the background texture and colours', () => {
    const textures = new Set(samples.map((p) => p.background.texture));
    expect([...textures].sort()).toEqual(['checker', 'gradient', 'stripes']);
    for (const p of samples) {
      for (const c of [p.background.colourA, p.background.colourB]) expect(Math.max(...c)).toBeLessThanOrEqual(0.3 + 1e-9);
      expect(Math.max(...p.background.colourB) - Math.max(...p.background.colourA)).toBeGreaterThanOrEqual(0.05 - 1e-9);
      expect(Math.max(...p.colour)).toBeGreaterThanOrEqual(0.75 - 1e-9);
    }
  });
});

describe('renderShapeImage', () => {
  it('anti-aliases: a disc covers π r² pixels, with partial pixels along its edge', () => {
    const c = coverage(plainParams(SHAPE_CLASSES.indexOf('circle'), 0, 10.3, 15.7));
    const area = c.reduce((s, v) => s + v, 0);
    expect(Math.abs(area - Math.PI * 10.3 * 10.3) / (Math.PI * 10.3 * 10.3)).toBeLessThan(0.01);
    const partial = c.filter((v) => v > 0.05 && v < 0.95).length;
    expect(partial).toBeGreaterThan(2 * Math.PI * 10.3 * 0.5); // most edge pixels are partial
  });

  it('draws the square at the area its geometry says', () => {
    // Square half-side 0.7 of the radius: area (1.4 r)², at any angle. 4×4 samples can
    // misplace an axis-aligned edge by up to 1/8 px: ≤ 67 px of edge × 1/8 ≈ 3% of 282 px².
    for (const deg of [0, 7, 45]) {
      const area = coverage(plainParams(SHAPE_CLASSES.indexOf('square'), deg, 12)).reduce((s, v) => s + v, 0);
      expect(Math.abs(area - (1.4 * 12) ** 2) / (1.4 * 12) ** 2).toBeLessThan(0.03);
    }
  });

  it('keeps every pair of classes distinct under their allowed rotations', () => {
    // For each class, masks at every 5° of its allowed range; for each pair the best
    // overlap (soft IoU) over all angle pairs. Square vs diamond, 25° apart at closest, is ≈ 0.75.
    const masks = SHAPE_ROTATION.map(({ centre, halfRange }, k) => {
      const step = halfRange >= 180 ? 10 : 5;
      const out: Float64Array[] = [];
      for (let d = -halfRange; d <= halfRange; d += step) out.push(coverage(plainParams(k, centre + d)));
      return out;
    });
    const iou = (a: Float64Array, b: Float64Array): number => {
      let inter = 0;
      let union = 0;
      for (let p = 0; p < a.length; p++) {
        inter += Math.min(a[p], b[p]);
        union += Math.max(a[p], b[p]);
      }
      return inter / union;
    };
    for (let a = 0; a < K; a++) {
      for (let b = a + 1; b < K; b++) {
        let best = 0;
        for (const x of masks[a]) for (const y of masks[b]) best = Math.max(best, iou(x, y));
        expect(best, `${SHAPE_CLASSES[a]} vs ${SHAPE_CLASSES[b]}`).toBeLessThan(0.8);
      }
    }
  });

  it('writes at the given offset and nowhere else', () => {
    const out = new Uint8Array(3 * 16 * 16 * 3).fill(7);
    renderShapeImage(plainParams(0, 0, 6, 8), 16, out, 16 * 16 * 3);
    expect(out.subarray(0, 768).every((v) => v === 7)).toBe(true);
    expect(out.subarray(1536).every((v) => v === 7)).toBe(true);
    expect(out.subarray(768, 1536).some((v) => v === 255)).toBe(true);
  });
});

describe('hsvToRgb', () => {
  it('maps the primary hues', () => {
    expect(hsvToRgb(0, 1, 1)).toEqual([1, 0, 0]);
    expect(hsvToRgb(120, 1, 1)).toEqual([0, 1, 0]);
    expect(hsvToRgb(240, 1, 1)).toEqual([0, 0, 1]);
    expect(hsvToRgb(360 + 60, 1, 0.5)).toEqual([0.5, 0.5, 0]);
    expect(hsvToRgb(-60, 1, 1)).toEqual([1, 0, 1]);
    expect(hsvToRgb(200, 0, 0.3)).toEqual([0.3, 0.3, 0.3]);
  });
});
