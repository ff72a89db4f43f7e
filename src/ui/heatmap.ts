/**
 * The affinity-matrix instrument's pure parts: colour map, block downsampling,
 * the anchor row's softmax, hover mapping and the pixel renderer. Numbers in,
 * numbers out; the React component in AffinityHeatmap.tsx only wires them to
 * a canvas.
 *
 * Layout convention (same as src/loss/ntxent.ts): the 2N rows are the first
 * views t(x) of images 0…N−1, then the second views t′(x) in the same image
 * order, so the positive of anchor i is positiveIndex(i) = (i + N) mod 2N.
 */

export type Rgb = [r: number, g: number, b: number];

/**
 * Viridis (Smith & van der Walt, matplotlib's default), 9 evenly spaced
 * stops. Sequential, readable for the common colour-vision deficiencies, and
 * its lightness rises from end to end, so "brighter = more similar". No stop
 * is a neutral gray, which leaves gray free for the masked diagonal.
 */
const STOPS: readonly Rgb[] = [
  [68, 1, 84],
  [71, 45, 123],
  [59, 82, 139],
  [44, 114, 142],
  [33, 145, 140],
  [40, 174, 128],
  [94, 201, 98],
  [173, 220, 48],
  [253, 231, 37],
];

/** Masked diagonal: two neutral grays (r = g = b) in a hatch, never produced by the colour map. */
export const DIAGONAL_RGB: Rgb = [148, 148, 148];
export const DIAGONAL_HATCH_RGB: Rgb = [112, 112, 112];
/** Positive-pair outline: a white ring outside a black one, visible on every colour of the map. */
export const OUTLINE_OUTER_RGB: Rgb = [255, 255, 255];
export const OUTLINE_INNER_RGB: Rgb = [0, 0, 0];
/** Drawn for a NaN entry (a diverged run), darker than any colour of the map. */
export const NAN_RGB: Rgb = [0, 0, 0];

/** The largest side, in canvas pixels, the heatmap aims for; cells are whole k×k pixel squares below it. */
export const MAX_CANVAS_PX = 512;

/** Colour-map resolution: s is quantized to 1/1023 of the domain (≈ 0.002 for cosines), far below what an eye can tell. */
const LEVELS = 1024;

/** sRGB 0..255 → linear light, per IEC 61966-2-1. */
function linear(c: number): number {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** Linear light → sRGB 0..255 (not rounded). */
function encode(v: number): number {
  return 255 * (v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055);
}

/**
 * The colour map as a table of LEVELS 0..255 RGB triples. Stops are
 * interpolated in linear light, where luminance is linear, so it rises
 * steadily between stops of rising luminance; an entry that rounding to
 * integers left a hair darker than its predecessor repeats the predecessor,
 * so luminance never decreases along the table.
 */
const TABLE: Uint8ClampedArray = (() => {
  const table = new Uint8ClampedArray(3 * LEVELS);
  let previous = -Infinity;
  for (let k = 0; k < LEVELS; k++) {
    const x = (k / (LEVELS - 1)) * (STOPS.length - 1);
    const s = Math.min(STOPS.length - 2, Math.floor(x));
    const f = x - s;
    const rgb: Rgb = [0, 0, 0];
    for (let c = 0; c < 3; c++) {
      rgb[c] = Math.round(encode(linear(STOPS[s][c]) * (1 - f) + linear(STOPS[s + 1][c]) * f));
    }
    const y = luminance(rgb);
    if (y < previous) table.copyWithin(3 * k, 3 * (k - 1), 3 * k);
    else {
      table.set(rgb, 3 * k);
      previous = y;
    }
  }
  return table;
})();

/** Table entry of s on [lo, hi], or −1 for NaN. Out-of-domain values clamp to the ends. */
function level(s: number, lo: number, hi: number): number {
  if (Number.isNaN(s)) return -1;
  const span = hi - lo;
  const t = span > 0 ? (s - lo) / span : 0.5;
  return t <= 0 ? 0 : t >= 1 ? LEVELS - 1 : Math.round(t * (LEVELS - 1));
}

/**
 * Colour of similarity s on the domain [lo, hi] as 0..255 integers (the exact
 * colour the heatmap's pixels get); its luminance never decreases as s grows.
 * Out-of-domain values clamp to the ends; NaN maps to NAN_RGB (black).
 */
export function colourFor(s: number, lo: number, hi: number): Rgb {
  const k = level(s, lo, hi);
  return k < 0 ? [...NAN_RGB] : [TABLE[3 * k], TABLE[3 * k + 1], TABLE[3 * k + 2]];
}

/** CSS colour string of {@link colourFor}. */
export function cssColour([r, g, b]: Rgb): string {
  return `rgb(${r} ${g} ${b})`;
}

/** CSS linear-gradient of the colour scale on [lo, hi], left to right, in `stops` steps (the colour bars). */
export function colourBarGradient(lo: number, hi: number, stops = 32): string {
  const parts = Array.from({ length: stops + 1 }, (_, s) => {
    const t = s / stops;
    return `${cssColour(colourFor(lo + (hi - lo) * t, lo, hi))} ${(t * 100).toFixed(1)}%`;
  });
  return `linear-gradient(to right, ${parts.join(', ')})`;
}

/** Relative luminance Y = 0.2126 R + 0.7152 G + 0.0722 B of linear-light sRGB (WCAG 2), in [0, 1]. */
export function luminance([r, g, b]: Rgb): number {
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/**
 * The colour scale's domain: [−1, 1] for cosine similarities; for raw dot
 * products, symmetric around 0 at ±max |s_ij| over i ≠ j (the diagonal holds
 * ‖z_i‖², which would wash everything else out). Falls back to ±1 when every
 * off-diagonal entry is 0 or not finite.
 */
export function colourDomain(matrix: Float32Array, size: number, normalized: boolean): { lo: number; hi: number } {
  if (normalized) return { lo: -1, hi: 1 };
  let m = 0;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const v = Math.abs(matrix[i * size + j]);
      if (i !== j && Number.isFinite(v) && v > m) m = v;
    }
  }
  return m > 0 ? { lo: -m, hi: m } : { lo: -1, hi: 1 };
}

/** Positive partner of view i among 2N views: the other view of the same image, (i + N) mod 2N. */
export function positiveIndex(i: number, twoN: number): number {
  if (!Number.isInteger(twoN) || twoN < 2 || twoN % 2 !== 0) {
    throw new Error(`positiveIndex: 2N must be an even number ≥ 2, got ${twoN}.`);
  }
  if (!Number.isInteger(i) || i < 0 || i >= twoN) throw new Error(`positiveIndex: view ${i} is outside 0…${twoN - 1}.`);
  const n = twoN / 2;
  return (i + n) % twoN;
}

/**
 * First original index of block I when n indices are split into `size`
 * contiguous blocks: floor(I·n / size). Block I covers
 * blockStart(I) … blockStart(I + 1) − 1; with size = n every block is one index.
 */
export function blockStart(I: number, n: number, size: number): number {
  return Math.floor((I * n) / size);
}

/** The block that holds original index j (inverse of {@link blockStart}): ceil((j + 1)·size / n) − 1. */
export function blockOf(j: number, n: number, size: number): number {
  return Math.ceil(((j + 1) * size) / n) - 1;
}

/**
 * Side of the downsampled matrix for an n×n matrix and a target side: n when
 * n ≤ target; otherwise n / b for the smallest b ≥ n / target that divides n
 * with an even quotient (equal blocks, and the t(x) | t′(x) boundary falls on
 * a block edge), or `target` rounded down to even, with uneven blocks, when no
 * such divisor keeps at least half the target's resolution.
 */
export function downsampledSize(n: number, target: number): number {
  if (n <= target) return n;
  const t = Math.max(1, Math.floor(target));
  for (let b = Math.ceil(n / t); n / b >= t / 2; b++) {
    if (n % b === 0 && (n / b) % 2 === 0) return n / b;
  }
  return Math.max(1, t - (t % 2));
}

/**
 * Block-mean downsampling of a row-major n×n matrix to at most `target` per
 * side: cell (I, J) is the mean of the entries in rows blockStart(I)… and
 * columns blockStart(J)… (see {@link downsampledSize} for the side). Exact (a
 * copy of the input) when n ≤ target. Every entry counts, the diagonal too.
 */
export function downsampleMatrix(matrix: Float32Array, n: number, target: number): { matrix: Float32Array; size: number } {
  if (matrix.length < n * n) throw new Error(`downsampleMatrix: expected ${n}×${n} = ${n * n} values, got ${matrix.length}.`);
  const size = downsampledSize(n, target);
  if (size === n) return { matrix: matrix.slice(0, n * n), size };
  const out = new Float32Array(size * size);
  for (let I = 0; I < size; I++) {
    const r0 = blockStart(I, n, size);
    const r1 = blockStart(I + 1, n, size);
    for (let J = 0; J < size; J++) {
      const c0 = blockStart(J, n, size);
      const c1 = blockStart(J + 1, n, size);
      let sum = 0;
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) sum += matrix[r * n + c];
      }
      out[I * size + J] = sum / ((r1 - r0) * (c1 - c0));
    }
  }
  return { matrix: out, size };
}

/**
 * The anchor's distribution over its candidates at temperature τ, as in
 * NT-Xent: p_j = exp(s_ij/τ) / Σ_{k≠i} exp(s_ik/τ) for j ≠ i, and p_i = 0.
 * Max-subtracted (over j ≠ i) so large s/τ cannot overflow. All zeros when
 * there is no candidate (size 1).
 */
export function rowSoftmax(matrix: Float32Array, size: number, row: number, temperature: number): Float32Array {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new Error(`rowSoftmax: temperature τ must be a finite number > 0, got ${temperature}.`);
  }
  if (!Number.isInteger(row) || row < 0 || row >= size) throw new Error(`rowSoftmax: row ${row} is outside 0…${size - 1}.`);
  const p = new Float32Array(size);
  const base = row * size;
  let max = -Infinity;
  for (let j = 0; j < size; j++) if (j !== row && matrix[base + j] > max) max = matrix[base + j];
  if (max === -Infinity) return p;
  let total = 0;
  const e = new Float64Array(size);
  for (let j = 0; j < size; j++) {
    if (j === row) continue;
    e[j] = Math.exp((matrix[base + j] - max) / temperature);
    total += e[j];
  }
  for (let j = 0; j < size; j++) p[j] = e[j] / total;
  return p;
}

/**
 * The cell under the point (x, y), in CSS pixels from the top-left corner of
 * a square canvas displayed `canvasSize` pixels wide holding size×size cells;
 * null outside it. i is the row (from y), j the column (from x).
 */
export function cellAt(x: number, y: number, canvasSize: number, size: number): { i: number; j: number } | null {
  if (!(canvasSize > 0) || size < 1 || x < 0 || y < 0 || x >= canvasSize || y >= canvasSize) return null;
  const i = Math.min(size - 1, Math.floor((y / canvasSize) * size));
  const j = Math.min(size - 1, Math.floor((x / canvasSize) * size));
  return { i, j };
}

/** Canvas pixels per cell side: the largest k with size·k ≤ MAX_CANVAS_PX, at least 1. */
export function cellPixels(size: number): number {
  return Math.max(1, Math.floor(MAX_CANVAS_PX / Math.max(1, size)));
}

/**
 * positive[I·size + J] = 1 when block (I, J) of a size×size view of the 2N×2N
 * matrix contains a positive pair (i, positiveIndex(i)). With size = 2N these
 * are exactly the cells with |I − J| = N.
 */
export function positiveBlocks(size: number, twoN: number): Uint8Array {
  const mask = new Uint8Array(size * size);
  if (twoN < 2 || twoN % 2 !== 0) return mask;
  for (let i = 0; i < twoN; i++) {
    const I = blockOf(i, twoN, size);
    const J = blockOf(positiveIndex(i, twoN), twoN, size);
    if (I >= 0 && I < size && J >= 0 && J < size) mask[I * size + J] = 1;
  }
  return mask;
}

/**
 * RGBA pixels of the heatmap: a (size·k)² image, k = cellPixels(size), cell
 * (i, j) the k×k square at x = j·k, y = i·k. Off-diagonal cells are
 * colourFor(s_ij, lo, hi) (their centre pixel always is); diagonal cells are a
 * neutral gray hatch; cells holding a positive pair get a ring inside their
 * border (1 px when k ≥ 3, white-then-black 2 px when k ≥ 6) that never
 * reaches the centre pixel.
 */
export function renderHeatmapPixels(
  matrix: Float32Array,
  size: number,
  twoN: number,
  lo: number,
  hi: number,
): { data: Uint8ClampedArray<ArrayBuffer>; width: number; cell: number } {
  const k = cellPixels(size);
  const width = size * k;
  const data = new Uint8ClampedArray(new ArrayBuffer(width * width * 4));
  const px = new Uint32Array(data.buffer);
  const packed = packedTable();
  const nan = pack(NAN_RGB);
  const gray = pack(DIAGONAL_RGB);
  const hatch = pack(DIAGONAL_HATCH_RGB);
  const outer = pack(OUTLINE_OUTER_RGB);
  const inner = pack(OUTLINE_INNER_RGB);
  const positive = positiveBlocks(size, twoN);

  for (let i = 0; i < size; i++) {
    const y0 = i * k;
    for (let j = 0; j < size; j++) {
      const x0 = j * k;
      if (i === j) {
        // diagonal hatch: stripes where (x + y) mod 4 = 0, only when a cell is big enough to show them
        for (let y = 0; y < k; y++) {
          const row = (y0 + y) * width + x0;
          for (let x = 0; x < k; x++) px[row + x] = k >= 4 && (x + y) % 4 === 0 ? hatch : gray;
        }
        continue;
      }
      const l = level(matrix[i * size + j], lo, hi);
      const colour = l < 0 ? nan : packed[l];
      if (k === 1) px[y0 * width + x0] = colour;
      else for (let y = 0; y < k; y++) px.fill(colour, (y0 + y) * width + x0, (y0 + y) * width + x0 + k);
      if (k >= 3 && positive[i * size + j]) {
        const light = l >= 0 && luminance([TABLE[3 * l], TABLE[3 * l + 1], TABLE[3 * l + 2]]) > 0.25;
        ring(px, width, x0, y0, k, 0, k >= 6 || !light ? outer : inner);
        if (k >= 6) ring(px, width, x0, y0, k, 1, inner);
      }
    }
  }
  return { data, width, cell: k };
}

/** A one-pixel square ring `inset` pixels inside the k×k cell at (x0, y0). */
function ring(px: Uint32Array, width: number, x0: number, y0: number, k: number, inset: number, colour: number): void {
  const a = inset;
  const b = k - 1 - inset;
  px.fill(colour, (y0 + a) * width + x0 + a, (y0 + a) * width + x0 + b + 1);
  px.fill(colour, (y0 + b) * width + x0 + a, (y0 + b) * width + x0 + b + 1);
  for (let y = a + 1; y < b; y++) {
    px[(y0 + y) * width + x0 + a] = colour;
    px[(y0 + y) * width + x0 + b] = colour;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Opaque RGBA packed into one Uint32 in the platform's byte order, for Uint32Array writes into ImageData. */
function pack([r, g, b]: Rgb): number {
  return LITTLE_ENDIAN ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
}

let PACKED: Uint32Array | null = null;
/** TABLE packed for the renderer, built on first use. */
function packedTable(): Uint32Array {
  if (!PACKED) {
    PACKED = new Uint32Array(LEVELS);
    for (let k = 0; k < LEVELS; k++) PACKED[k] = pack([TABLE[3 * k], TABLE[3 * k + 1], TABLE[3 * k + 2]]);
  }
  return PACKED;
}
