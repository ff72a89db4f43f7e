import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { JIGSAW_MIN_VIEW } from '../core/pretext/jigsaw';
import { RELATIVE_PATCH_MIN_VIEW } from '../core/pretext/relative-patch';
import { createRng } from '../core/random';
import {
  ENCODER_MIN_SIDE, FusionHead, JIGSAW_LAYOUT, MIN_PATCH_SIDE, RELATIVE_PATCH_LAYOUT, cellBox, composeGrid, composePermutations, cropArray, cutTiles,
  drawBoxesOnView, encoderPatches, hammingDistance, hammingPermutations, inversePermutation, jitteredBoxes, minimumPairwiseDistance,
  permuteItems, smallestGridView, tileGrid, type TileBox,
} from './tiles';

await tf.setBackend('cpu');

// first in the file, so this call pays for the search: the greedy set over all 9! permutations is computed once, on first use
describe('the jigsaw’s permutation set', () => {
  it('is chosen in well under a second for P = 100, and every smaller P is its prefix', () => {
    const started = performance.now();
    const hundred = hammingPermutations(100);
    const elapsed = performance.now() - started;
    // 0.2 to 0.4 s on one core of this machine; the bound leaves room for a loaded test runner
    expect(elapsed).toBeLessThan(1000);
    expect(hammingPermutations(30)).toEqual(hundred.slice(0, 30));
    expect(hammingPermutations(2)).toEqual(hundred.slice(0, 2));
  });

  it('holds P distinct permutations of 0…8, the identity first', () => {
    for (const p of [2, 30, 100]) {
      const set = hammingPermutations(p);
      expect(set.length).toBe(p);
      for (const sigma of set) expect([...sigma].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      expect(new Set(set.map((sigma) => sigma.join(''))).size).toBe(p);
    }
    expect(hammingPermutations(1)[0]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('keeps its permutations far apart: the least pairwise Hamming distance is 9 for P = 2, 8 for P = 10, 7 for P = 30, 6 for P = 100', () => {
    expect(minimumPairwiseDistance(hammingPermutations(2))).toBe(9);
    expect(minimumPairwiseDistance(hammingPermutations(10))).toBe(8);
    expect(minimumPairwiseDistance(hammingPermutations(30))).toBe(7);
    expect(minimumPairwiseDistance(hammingPermutations(100))).toBe(6);
  });

  it('is what the plain greedy search gives (largest minimum distance, then largest summed distance, then first) for P = 30', () => {
    // an independent enumeration of all 9! in lexicographic order (recursive), scored by direct comparison
    const all: number[][] = [];
    const extend = (prefix: number[], rest: number[]) => {
      if (rest.length === 0) all.push(prefix);
      rest.forEach((v, i) => extend([...prefix, v], [...rest.slice(0, i), ...rest.slice(i + 1)]));
    };
    extend([], [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(all.length).toBe(362880);
    const flat = Uint8Array.from(all.flat());
    const least = new Int32Array(all.length).fill(10);
    const sum = new Int32Array(all.length);
    const taken = new Uint8Array(all.length);
    const chosen: number[][] = [];
    let pick = 0;
    for (let round = 0; round < 30; round++) {
      taken[pick] = 1;
      chosen.push(all[pick]);
      const q = all[pick];
      let bestLeast = -1;
      let bestSum = -1;
      for (let c = 0; c < all.length; c++) {
        let d = 0;
        for (let i = 0; i < 9; i++) if (flat[c * 9 + i] !== q[i]) d++;
        least[c] = Math.min(least[c], d);
        sum[c] += d;
        if (taken[c]) continue;
        if (least[c] > bestLeast || (least[c] === bestLeast && sum[c] > bestSum)) {
          bestLeast = least[c];
          bestSum = sum[c];
          pick = c;
        }
      }
    }
    expect(hammingPermutations(30)).toEqual(chosen);
  });

  it('undoes each permutation with its inverse, and re-assembling shuffled tiles by the inverse restores them exactly', () => {
    const identity = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const rng = createRng(5);
    const tiles = Array.from({ length: 9 }, () => Float32Array.from({ length: 4 * 4 * 3 }, () => rng()));
    for (const sigma of hammingPermutations(100)) {
      const inverse = inversePermutation(sigma);
      expect(composePermutations(sigma, inverse)).toEqual(identity);
      expect(composePermutations(inverse, sigma)).toEqual(identity);
      const shuffled = permuteItems(tiles, sigma);
      // slot i shows tile σ[i]
      shuffled.forEach((t, i) => expect(t).toBe(tiles[sigma[i]]));
      const restored = permuteItems(shuffled, inverse);
      restored.forEach((t, j) => expect(Array.from(t)).toEqual(Array.from(tiles[j])));
    }
  });

  it('composes right to left and counts differing slots', () => {
    expect(composePermutations([1, 2, 0], [2, 0, 1])).toEqual([0, 1, 2]);
    expect(composePermutations([1, 0, 2], [0, 2, 1])).toEqual([1, 2, 0]);
    expect(hammingDistance([0, 1, 2, 3], [0, 2, 1, 3])).toBe(2);
  });

  it('refuses a count outside 1…100 with a readable message', () => {
    expect(() => hammingPermutations(0)).toThrow(/between 1 and 100/);
    expect(() => hammingPermutations(101)).toThrow(/between 1 and 100/);
    expect(() => hammingPermutations(2.5)).toThrow(/2\.5/);
  });
});

describe('the 3×3 grid of patches', () => {
  const layouts = [['relative patch', RELATIVE_PATCH_LAYOUT, RELATIVE_PATCH_MIN_VIEW], ['jigsaw', JIGSAW_LAYOUT, JIGSAW_MIN_VIEW]] as const;

  it('has no grid below the catalog’s minimum view and one at every size from it up to 64', () => {
    for (const [name, layout, minimum] of layouts) {
      expect(smallestGridView(layout), name).toBe(minimum);
      for (let s = 12; s < minimum; s++) expect(tileGrid(s, layout), `${name} at ${s}`).toBeNull();
      for (let s = minimum; s <= 64; s++) expect(tileGrid(s, layout), `${name} at ${s}`).not.toBeNull();
    }
  });

  it('keeps every patch inside the view and apart from its neighbours, for every jitter, at every size 12…64', () => {
    for (const [name, layout] of layouts) {
      for (let s = 12; s <= 64; s++) {
        const grid = tileGrid(s, layout);
        if (!grid) continue;
        expect(grid.patch).toBeGreaterThanOrEqual(MIN_PATCH_SIDE);
        const j = grid.jitter;
        for (let cell = 0; cell < 9; cell++) {
          for (let dy = -j; dy <= j; dy++) {
            for (let dx = -j; dx <= j; dx++) {
              const box = cellBox(grid, cell, dy, dx);
              expect(box.top >= 0 && box.left >= 0 && box.top + box.size <= s && box.left + box.size <= s, `${name} ${s} px cell ${cell} (${dy}, ${dx})`).toBe(true);
            }
          }
        }
        // the closest two horizontal neighbours can come: the left one moved right by j, the right one left by j
        const gapLeft = cellBox(grid, 1, 0, -j).left - (cellBox(grid, 0, 0, j).left + grid.patch);
        expect(gapLeft, `${name} at ${s}`).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('takes its proportions from the papers: at 28 px, 6 px patches 3 px apart moved by ±1 px; at 64 px, 16 px patches', () => {
    expect(tileGrid(28, RELATIVE_PATCH_LAYOUT)).toEqual({ viewSize: 28, patch: 6, gap: 3, jitter: 1, origin: 2 });
    expect(tileGrid(64, RELATIVE_PATCH_LAYOUT)).toMatchObject({ patch: 16, gap: 7, jitter: 1 });
    expect(tileGrid(64, JIGSAW_LAYOUT)).toMatchObject({ patch: 16, gap: 5, jitter: 2 });
    const grid = tileGrid(28, RELATIVE_PATCH_LAYOUT)!;
    expect(() => cellBox(grid, 9, 0, 0)).toThrow(/cell 9/);
    expect(() => cellBox(grid, 0, 2, 0)).toThrow(/jitter/);
  });

  it('draws each patch’s jitter from the seed: the same boxes for one seed, and every offset in ±j turns up', () => {
    const grid = tileGrid(64, JIGSAW_LAYOUT)!;
    const a = createRng(9);
    const b = createRng(9);
    const seen = new Set<number>();
    for (let k = 0; k < 50; k++) {
      const boxes = jitteredBoxes(grid, a);
      expect(jitteredBoxes(grid, b)).toEqual(boxes);
      boxes.forEach((box, cell) => seen.add(box.top - cellBox(grid, cell, 0, 0).top));
    }
    expect([...seen].sort((x, y) => x - y)).toEqual([-2, -1, 0, 1, 2]);
  });
});

describe('cutting the patches', () => {
  it('cuts exactly the plain-array crop of every box, image by image, in the boxes’ order', () => {
    const [n, s, c] = [3, 24, 3];
    const views = tf.tensor4d(Float32Array.from({ length: n * s * s * c }, (_, i) => i), [n, s, s, c]);
    const pixels = views.dataSync();
    const rng = createRng(2);
    for (const layout of [RELATIVE_PATCH_LAYOUT, JIGSAW_LAYOUT]) {
      const grid = tileGrid(s, layout)!;
      // each image's boxes in a different order, as the jigsaw cuts them
      const boxes = Array.from({ length: n }, (_, b) => permuteItems(jitteredBoxes(grid, rng), hammingPermutations(3)[b]));
      const cut = cutTiles(views, boxes);
      expect(cut.shape).toEqual([9 * n, grid.patch, grid.patch, c]);
      const values = cut.dataSync();
      const per = grid.patch * grid.patch * c;
      boxes.forEach((perImage, b) => perImage.forEach((box, k) => {
        const expected = cropArray(pixels.subarray(b * s * s * c, (b + 1) * s * s * c), s, c, box);
        expect(Array.from(values.subarray((9 * b + k) * per, (9 * b + k + 1) * per))).toEqual(Array.from(expected));
      }));
      cut.dispose();
    }
    expect(() => cutTiles(views, [[{ top: 20, left: 0, size: 6 }], [], []])).toThrow(/outside/);
    expect(() => cutTiles(views, [[]])).toThrow(/3 views/);
    views.dispose();
  });

  it('resizes patches under 8 px up to 8 px for f, and passes larger ones as cut', () => {
    const small = tf.randomUniform([2, 5, 5, 1]) as tf.Tensor4D;
    const large = tf.randomUniform([2, 9, 9, 3]) as tf.Tensor4D;
    const up = encoderPatches(small);
    const same = encoderPatches(large);
    expect(up.shape).toEqual([2, ENCODER_MIN_SIDE, ENCODER_MIN_SIDE, 1]);
    // align-corners resizing keeps the corner pixels
    expect(up.dataSync()[0]).toBeCloseTo(small.dataSync()[0], 6);
    expect(Array.from(same.dataSync())).toEqual(Array.from(large.dataSync()));
    tf.dispose([small, large, up, same]);
  });
});

describe('the fusion head', () => {
  it('is W₂ ReLU(W₁ x + b₁) + b₂, as a float64 reference computes it, and starts as a uniform guess (W₂ = 0)', () => {
    const [inDim, hidden, classes] = [6, 3, 5];
    const head = new FusionHead(inDim, hidden, classes, 4, 0x10);
    const rng = createRng(8);
    const x = Array.from({ length: 4 }, () => Array.from({ length: inDim }, () => 2 * rng() - 1));
    const input = tf.tensor2d(x);
    expect(head.logits(input).arraySync().flat().every((v) => v === 0)).toBe(true);
    // a trained head: W₂ and both biases non-zero, so each one's place in the formula is checked
    head.classifier.variables[0].assign(tf.randomNormal([hidden, classes], 0, 1, 'float32', 3));
    head.fusion.variables[1].assign(tf.tensor1d([0.3, -0.2, 0.1]));
    head.classifier.variables[1].assign(tf.tensor1d([0.1, 0.2, -0.3, 0.4, -0.1]));
    const [w1, b1, w2, b2] = head.variables.map((v) => v.arraySync()) as [number[][], number[], number[][], number[]];
    const logits = head.logits(input).arraySync();
    x.forEach((row, m) => {
      const h = b1.map((bias, j) => Math.max(0, bias + row.reduce((s, v, i) => s + v * w1[i][j], 0)));
      b2.forEach((bias, k) => expect(logits[m][k]).toBeCloseTo(bias + h.reduce((s, v, j) => s + v * w2[j][k], 0), 5));
    });
    expect(head.variables.length).toBe(4);
    expect(head.bytes).toBe(4 * (inDim * hidden + hidden + hidden * classes + classes));
    input.dispose();
    head.dispose();
  });
});

describe('the instruments’ pictures', () => {
  it('lays nine tiles out 3×3 with gaps of background between them', () => {
    const tiles = Array.from({ length: 9 }, (_, i) => new Float32Array(2 * 2).fill(i / 10));
    const picture = composeGrid(tiles, 2, 1, 1, 1);
    // side 3·2 + 2·1 = 8; tile 5 (row 1, column 2) starts at (3, 6)
    expect(picture.length).toBe(64);
    expect(picture[3 * 8 + 6]).toBeCloseTo(0.5);
    expect(picture[4 * 8 + 7]).toBeCloseTo(0.5);
    expect(picture[2 * 8 + 0]).toBe(1);
    expect(picture[0 * 8 + 2]).toBe(1);
    expect(() => composeGrid(tiles.slice(1), 2, 1, 1)).toThrow(/8 tiles/);
  });

  it('draws the patches on the view: each scaled by its brightness, the rest dimmed, the framed ones ringed in white', () => {
    const size = 12;
    const view = new Float32Array(size * size).fill(0.5);
    const boxes: TileBox[] = [{ top: 1, left: 1, size: 3 }, { top: 6, left: 6, size: 3 }];
    const out = drawBoxesOnView(view, size, 1, boxes, [1, 0.4], [0], 0.2);
    expect(out[2 * size + 2]).toBeCloseTo(0.5);
    expect(out[7 * size + 7]).toBeCloseTo(0.2);
    expect(out[10 * size + 10]).toBeCloseTo(0.1);
    // the ring around box 0 runs from (0, 0) to (4, 4); box 1 has none
    expect(out[0]).toBe(1);
    expect(out[4 * size + 2]).toBe(1);
    expect(out[5 * size + 6]).toBeCloseTo(0.1);
  });
});
