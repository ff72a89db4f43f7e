/**
 * What the two tile-based pretext tasks share (relative patch location,
 * Doersch et al. 2015; jigsaw puzzles, Noroozi & Favaro 2016): the 3×3 grid
 * of patches cut from a view, with gaps between them and a random jitter of
 * each patch, so that no line or texture runs from one patch into the next
 * and the network must know what it sees to place it; the cut itself (one
 * gather, exact); the pictures the instruments compose on plain arrays; and
 * the jigsaw's permutation set, chosen greedily for large Hamming distances.
 *
 * Cells are numbered row by row, 0 … 8 (4 is the centre). A permutation σ of
 * the 9 tiles is read "slot i shows tile σ[i]".
 */
import * as tf from '@tensorflow/tfjs';
import { JIGSAW_MAX_PERMUTATIONS } from '../core/pretext/jigsaw';
import type { Rng } from '../core/random';
import { ClassifierHead } from './pretextHead';

/** The grid's proportions, as fractions of the pitch S / 3 (one cell of the view). */
export interface GridLayout {
  /** nominal gap between neighbouring patches */
  gapFraction: number;
  /** most a patch moves each way, in x and in y independently */
  jitterFraction: number;
}

/** Doersch et al.: 96 px patches 48 px apart on a 144 px pitch, each moved by up to 7 px. */
export const RELATIVE_PATCH_LAYOUT: GridLayout = { gapFraction: 48 / 144, jitterFraction: 7 / 144 };

/**
 * Noroozi & Favaro: a 64 px tile at a random place in each 75 px cell: an
 * 11 px gap on average, each tile moved by up to ±5.5 px.
 */
export const JIGSAW_LAYOUT: GridLayout = { gapFraction: 11 / 75, jitterFraction: 5.5 / 75 };

/** Smallest patch side cut from a view: below 4 px a patch holds too little to be placed. */
export const MIN_PATCH_SIDE = 4;

/**
 * f's three 2×2 max-pools halve the map three times: 8 px is the smallest
 * side at which each block still sees a map of its own (8 → 4 → 2 → 1) rather
 * than a padded copy of one pixel. Smaller patches are resized up to it.
 */
export const ENCODER_MIN_SIDE = 8;

/** The nominal 3×3 layout in a view of side S: patch side p, gap g, jitter j, all in whole pixels. */
export interface TileGrid {
  viewSize: number;
  patch: number;
  gap: number;
  jitter: number;
  /** top-left corner of cell 0 before jitter (the grid is centred) */
  origin: number;
}

/** One patch: its top-left corner and side, in pixels of the view. */
export interface TileBox {
  top: number;
  left: number;
  size: number;
}

/**
 * The grid for views of side S, or null when a patch would be under
 * MIN_PATCH_SIDE. j = max(1, round(jitterFraction · S/3)); g = max(2j + 1,
 * round(gapFraction · S/3)), so jittered neighbours keep at least 1 px
 * between them; p = ⌊(S − 2g − 2j) / 3⌋, so the 3p + 2g grid plus j of margin
 * on each side fits, centred.
 */
export function tileGrid(viewSize: number, layout: GridLayout): TileGrid | null {
  const pitch = viewSize / 3;
  const jitter = Math.max(1, Math.round(layout.jitterFraction * pitch));
  const gap = Math.max(2 * jitter + 1, Math.round(layout.gapFraction * pitch));
  const patch = Math.floor((viewSize - 2 * gap - 2 * jitter) / 3);
  if (patch < MIN_PATCH_SIDE) return null;
  // the slack S − 3p − 2g is at least 2j, so half of it leaves j on either side
  const origin = Math.floor((viewSize - 3 * patch - 2 * gap) / 2);
  return { viewSize, patch, gap, jitter, origin };
}

/** The smallest view side from which every larger one up to `upTo` has a grid (the fit rules' minimum). */
export function smallestGridView(layout: GridLayout, upTo = 256): number {
  let smallest = upTo + 1;
  for (let s = upTo; s >= 1 && tileGrid(s, layout) !== null; s--) smallest = s;
  return smallest;
}

/** Cell `cell`'s patch moved by (dy, dx), each in [−j, j]. */
export function cellBox(grid: TileGrid, cell: number, dy: number, dx: number): TileBox {
  if (!Number.isInteger(cell) || cell < 0 || cell > 8) throw new Error(`cellBox: cell ${cell} outside 0…8`);
  if (Math.abs(dy) > grid.jitter || Math.abs(dx) > grid.jitter) throw new Error(`cellBox: jitter (${dy}, ${dx}) beyond ±${grid.jitter}`);
  const pitch = grid.patch + grid.gap;
  return {
    top: grid.origin + Math.floor(cell / 3) * pitch + dy,
    left: grid.origin + (cell % 3) * pitch + dx,
    size: grid.patch,
  };
}

/** An integer uniform in [−j, j]. */
function jitterDraw(rng: Rng, jitter: number): number {
  return Math.floor(rng() * (2 * jitter + 1)) - jitter;
}

/** The 9 patches of one view, each moved by its own jitter (y then x drawn per cell, cell 0 first). */
export function jitteredBoxes(grid: TileGrid, rng: Rng): TileBox[] {
  return Array.from({ length: 9 }, (_, cell) => {
    const dy = jitterDraw(rng, grid.jitter);
    const dx = jitterDraw(rng, grid.jitter);
    return cellBox(grid, cell, dy, dx);
  });
}

/**
 * The patches cut from the views, [Σ boxes, p, p, c]: `boxes[b]` are image
 * b's boxes, in the order the rows come out. One gather over the flattened
 * pixels: exact, with no interpolation, and a single kernel for the whole
 * batch rather than one slice per patch.
 */
export function cutTiles(views: tf.Tensor4D, boxes: TileBox[][]): tf.Tensor4D {
  const [n, height, width, channels] = views.shape;
  if (boxes.length !== n) throw new Error(`cutTiles: boxes for ${boxes.length} images, but ${n} views`);
  const all = boxes.flat();
  if (all.length === 0) throw new Error('cutTiles: no boxes');
  const side = all[0].size;
  const indices = new Int32Array(all.length * side * side);
  let k = 0;
  boxes.forEach((perImage, b) => {
    for (const box of perImage) {
      if (box.size !== side) throw new Error(`cutTiles: boxes of ${box.size} and ${side} px in one batch`);
      if (box.top < 0 || box.left < 0 || box.top + side > height || box.left + side > width) {
        throw new Error(`cutTiles: box at (${box.top}, ${box.left}) of ${side} px outside a ${height}×${width} view`);
      }
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) indices[k++] = (b * height + box.top + y) * width + box.left + x;
      }
    }
  });
  return tf.tidy(() => {
    const pixels = tf.reshape(views, [n * height * width, channels]);
    const picked = tf.gather(pixels, tf.tensor1d(indices, 'int32'));
    return tf.reshape(picked, [all.length, side, side, channels]) as tf.Tensor4D;
  });
}

/** Patches as f's input: resized (bilinear) up to ENCODER_MIN_SIDE when smaller, else as cut (a copy). */
export function encoderPatches(patches: tf.Tensor4D): tf.Tensor4D {
  const side = patches.shape[1];
  return tf.tidy(() => (side >= ENCODER_MIN_SIDE ? tf.clone(patches) : tf.image.resizeBilinear(patches, [ENCODER_MIN_SIDE, ENCODER_MIN_SIDE], true)));
}

/**
 * The head on the patches' features laid side by side (the centre and a
 * neighbour, or the 9 shuffled tiles), as the papers fuse them (their fc7
 * after the concatenation, then fc8): logits = W₂ ReLU(W₁ x + b₁) + b₂. A
 * linear head could only add up evidence from each patch on its own ("where
 * in an image does this patch usually sit"); the hidden layer lets it weigh
 * patches against each other ("these three belong in one row"). W₂ starts at
 * zero: the head starts as a uniform guess, log K exactly, the loss chart's
 * line, where a random W₂ would start above it by about half the logits'
 * variance, the more so the more classes.
 */
export class FusionHead {
  readonly fusion: ClassifierHead;
  readonly classifier: ClassifierHead;

  constructor(inDim: number, hidden: number, classes: number, seed: number, salt: number) {
    this.fusion = new ClassifierHead(inDim, hidden, seed, salt);
    this.classifier = new ClassifierHead(hidden, classes, seed, salt + 1);
    const [w2] = this.classifier.variables;
    tf.tidy(() => w2.assign(tf.zerosLike(w2)));
  }

  get variables(): tf.Variable[] {
    return [...this.fusion.variables, ...this.classifier.variables];
  }

  logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.classifier.logits(tf.relu(this.fusion.logits(x)) as tf.Tensor2D));
  }

  get bytes(): number {
    return this.fusion.bytes + this.classifier.bytes;
  }

  dispose(): void {
    this.fusion.dispose();
    this.classifier.dispose();
  }
}

// ---------------------------------------------------------------------------
// Plain arrays (HWC, values in [0, 1]): the instruments' pictures and the tests' references

/** The box's pixels of one image, [p, p, c]. */
export function cropArray(pixels: ArrayLike<number>, size: number, channels: number, box: TileBox): Float32Array {
  const out = new Float32Array(box.size * box.size * channels);
  for (let y = 0; y < box.size; y++) {
    for (let x = 0; x < box.size; x++) {
      for (let c = 0; c < channels; c++) out[(y * box.size + x) * channels + c] = pixels[((box.top + y) * size + box.left + x) * channels + c];
    }
  }
  return out;
}

/** Side of a 3×3 picture of tiles of side t with `gap` px between them. */
export const gridPictureSize = (tile: number, gap: number): number => 3 * tile + 2 * gap;

/** The gap the instruments draw between tiles: a tenth of a tile, at least 1 px. */
export const pictureGap = (tile: number): number => Math.max(1, Math.round(tile / 10));

/**
 * Nine tiles of side t laid out 3×3, tile i in cell i, with `gap` px of
 * `background` between them: side 3t + 2·gap.
 */
export function composeGrid(tiles: ArrayLike<number>[], tile: number, channels: number, gap: number, background = 1): Float32Array {
  if (tiles.length !== 9) throw new Error(`composeGrid: ${tiles.length} tiles, not 9`);
  const side = gridPictureSize(tile, gap);
  const out = new Float32Array(side * side * channels).fill(background);
  tiles.forEach((pixels, i) => {
    const top = Math.floor(i / 3) * (tile + gap);
    const left = (i % 3) * (tile + gap);
    for (let y = 0; y < tile; y++) {
      for (let x = 0; x < tile; x++) {
        for (let c = 0; c < channels; c++) out[((top + y) * side + left + x) * channels + c] = pixels[(y * tile + x) * channels + c];
      }
    }
  });
  return out;
}

/**
 * The view with its patches drawn where they were cut: everything outside
 * the patches dimmed to `outside`, each patch scaled by its `brightness`, and
 * a 1 px frame of white just outside each patch listed in `framed` (it lies
 * in the gap, so it hides nothing of the patches).
 */
export function drawBoxesOnView(
  view: ArrayLike<number>, size: number, channels: number, boxes: TileBox[],
  brightness: number[], framed: number[], outside = 0.2,
): Float32Array {
  const out = new Float32Array(size * size * channels);
  for (let i = 0; i < out.length; i++) out[i] = view[i] * outside;
  boxes.forEach((box, k) => {
    for (let y = box.top; y < box.top + box.size; y++) {
      for (let x = box.left; x < box.left + box.size; x++) {
        for (let c = 0; c < channels; c++) out[(y * size + x) * channels + c] = view[(y * size + x) * channels + c] * brightness[k];
      }
    }
  });
  for (const k of framed) {
    const { top, left, size: p } = boxes[k];
    for (let y = top - 1; y <= top + p; y++) {
      for (let x = left - 1; x <= left + p; x++) {
        const onRing = y === top - 1 || y === top + p || x === left - 1 || x === left + p;
        if (!onRing || y < 0 || x < 0 || y >= size || x >= size) continue;
        for (let c = 0; c < channels; c++) out[(y * size + x) * channels + c] = 1;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Permutations of the 9 tiles

/** σ⁻¹: σ⁻¹[σ[i]] = i. */
export function inversePermutation(sigma: ArrayLike<number>): number[] {
  const inverse = new Array<number>(sigma.length);
  for (let i = 0; i < sigma.length; i++) inverse[sigma[i]] = i;
  return inverse;
}

/** (a ∘ b)[i] = a[b[i]]: apply b, then a. */
export function composePermutations(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  return Array.from({ length: b.length }, (_, i) => a[b[i]]);
}

/** Slot i gets item σ[i]: the shuffle of the tiles, and (with σ⁻¹) its undoing. */
export function permuteItems<T>(items: readonly T[], sigma: ArrayLike<number>): T[] {
  return Array.from({ length: sigma.length }, (_, i) => items[sigma[i]]);
}

/** Positions at which two permutations differ. */
export function hammingDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

const TILES = 9;
/** 9! */
const ALL_PERMUTATIONS = 362880;
/** 8!: permutations with a given tile in a given slot */
const PER_SLOT_VALUE = 40320;

/** All 9! permutations of 0…8 in lexicographic order, 9 bytes each (the next-permutation walk). */
function allPermutations(): Uint8Array {
  const out = new Uint8Array(ALL_PERMUTATIONS * TILES);
  const a = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const swap = (i: number, j: number) => {
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  };
  for (let k = 0; k < ALL_PERMUTATIONS; k++) {
    out.set(a, k * TILES);
    let i = TILES - 2;
    while (i >= 0 && a[i] >= a[i + 1]) i--;
    if (i < 0) break;
    let j = TILES - 1;
    while (a[j] <= a[i]) j--;
    swap(i, j);
    for (let l = i + 1, r = TILES - 1; l < r; l++, r--) swap(l, r);
  }
  return out;
}

let greedySequence: number[][] | null = null;

/** A chosen candidate's rank: above every other. */
const TAKEN = 0xffff;

/**
 * The greedy maximal-Hamming-distance sequence over all 9! permutations,
 * `count` long; any P takes its first P (each pick depends only on the ones
 * before it). The first is the identity; each next one is the candidate
 * farthest from the chosen set: largest minimum Hamming distance to it, then
 * largest summed distance (Noroozi & Favaro's 1ᵀD), then the first in
 * lexicographic order. Ranking by the sum alone, as the paper's Algorithm 1
 * writes it, lets a candidate two swaps from a chosen one win on its distance
 * to all the others (a minimum of 2 at P = 10); the minimum first keeps every
 * pair at least 7 apart for P ≤ 30 and 6 for P ≤ 100.
 *
 * Counting shared slots rather than differing ones makes it fast: the
 * candidates that agree with the newest pick q in slot i are the 8! with q[i]
 * there, listed once, so a pick touches 9 · 8! entries instead of comparing
 * all 9! candidates slot by slot. A candidate's rank packs both criteria,
 * most·1024 + total: `most` the slots it shares with its closest chosen
 * permutation (9 − minimum distance), `total` its shared slots summed over
 * them (9·|chosen| − summed distance, at most 9 · 100 < 1024); the pick is the
 * lowest rank, the first on ties.
 */
function computeGreedySequence(count: number): number[][] {
  const perms = allPermutations();
  // candidates with tile v in slot i: bySlotValue[(i·9 + v)·8! …]
  const bySlotValue = new Int32Array(TILES * TILES * PER_SLOT_VALUE);
  const filled = new Int32Array(TILES * TILES);
  for (let c = 0; c < ALL_PERMUTATIONS; c++) {
    for (let i = 0; i < TILES; i++) {
      const list = i * TILES + perms[c * TILES + i];
      bySlotValue[list * PER_SLOT_VALUE + filled[list]++] = c;
    }
  }
  const rank = new Uint16Array(ALL_PERMUTATIONS);
  // slots each candidate shares with the newest pick, and the candidates that share any
  const sharedNow = new Uint8Array(ALL_PERMUTATIONS);
  const touched = new Int32Array(ALL_PERMUTATIONS);
  const chosen: number[][] = [];
  let pick = 0; // the identity
  for (let round = 0; round < count; round++) {
    rank[pick] = TAKEN;
    chosen.push(Array.from(perms.subarray(pick * TILES, (pick + 1) * TILES)));
    if (round === count - 1) break;
    let touchedCount = 0;
    for (let i = 0; i < TILES; i++) {
      const start = (i * TILES + perms[pick * TILES + i]) * PER_SLOT_VALUE;
      for (let k = start; k < start + PER_SLOT_VALUE; k++) {
        const c = bySlotValue[k];
        if (sharedNow[c]++ === 0) touched[touchedCount++] = c;
      }
    }
    for (let t = 0; t < touchedCount; t++) {
      const c = touched[t];
      const shared = sharedNow[c];
      sharedNow[c] = 0;
      const r = rank[c];
      if (r === TAKEN) continue;
      rank[c] = Math.max(r >> 10, shared) * 1024 + (r & 1023) + shared;
    }
    let best = TAKEN;
    for (let c = 0; c < ALL_PERMUTATIONS; c++) {
      if (rank[c] < best) {
        best = rank[c];
        pick = c;
      }
    }
  }
  return chosen;
}

/**
 * P permutations of the 9 tiles, far apart in Hamming distance (see
 * computeGreedySequence): computed once, on first use (0.2 to 0.4 s), and kept.
 */
export function hammingPermutations(count: number): number[][] {
  if (!Number.isInteger(count) || count < 1 || count > JIGSAW_MAX_PERMUTATIONS) {
    throw new Error(`The jigsaw chooses between 1 and ${JIGSAW_MAX_PERMUTATIONS} permutations; ${count} was asked for.`);
  }
  greedySequence ??= computeGreedySequence(JIGSAW_MAX_PERMUTATIONS);
  return greedySequence.slice(0, count).map((p) => [...p]);
}

/** Smallest Hamming distance between two permutations of the set. */
export function minimumPairwiseDistance(set: ArrayLike<number>[]): number {
  let least = Infinity;
  for (let a = 0; a < set.length; a++) for (let b = a + 1; b < set.length; b++) least = Math.min(least, hammingDistance(set[a], set[b]));
  return least;
}
