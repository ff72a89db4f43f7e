/**
 * The pure parts of the method-matrix instrument (MoCo's queries against
 * their keys and the queue, the memory bank's views against their bank rows,
 * Barlow Twins' cross-correlation C, BYOL's and SimSiam's predictions against
 * targets): where each row's positive sits, the
 * numbers the summary line reports, the pixel renderer, hover mapping and the
 * inspector's words. Numbers in, numbers and text out; MethodMatrixPanel.tsx
 * only wires them to a canvas.
 *
 * Layouts (MethodMatrixSnapshot in src/train/protocol.ts), all entries
 * cosines or correlations in [−1, 1]:
 * - 'query-keys': row b is the query q̂_b of image b, column 0 its own key k̂_b,
 *   columns 1… the queue's keys, newest first;
 * - 'batch-bank': rows 0…m−1 are t(x) of images 0…m−1, rows m…2m−1 their
 *   t′(x); column j is the bank row of image j;
 * - 'cross-correlation': C_ij over dimension i of ẑ1 and dimension j of ẑ2;
 * - 'prediction-target': cos(p_b, z′_c), the prediction from t(x) of image b
 *   against the target of t′(x) of image c; the loss reads only b = c.
 */
import type { MethodMatrixSnapshot } from '../train/protocol';
import { fixed } from './format';
import {
  MAX_CANVAS_PX,
  OUTLINE_INNER_RGB,
  OUTLINE_OUTER_RGB,
  colourFor,
  luminance,
  type Rgb,
} from './heatmap';

export type MethodMatrixKind = MethodMatrixSnapshot['kind'];

/** Colour domain of every kind: cosines and correlations live in [−1, 1]. */
export const MATRIX_LO = -1;
export const MATRIX_HI = 1;

/**
 * A column still holding its random start is faded toward white by this
 * share: c' = round((1 − f)·c + f·255), so it reads as "not real yet" while
 * its value stays visible.
 */
export const UNWRITTEN_FADE = 0.5;
/** Stripes over a never-written column, where (x + y) mod 4 = 0 in canvas pixels: a neutral gray (r = g = b) the colour map never produces. */
export const UNWRITTEN_HATCH_RGB: Rgb = [90, 90, 90];
/** Mean cosine above which both the diagonal and the rest of a prediction-target matrix read as collapse. */
export const COLLAPSE_COSINE = 0.9;
/** Below this luminance a cell is dark and its one-pixel positive ring is white, else black. */
const DARK_CELL_LUMINANCE = 0.25;

/**
 * The column of row `row`'s positive (its target):
 * - 'query-keys': 0, the query's own key k̂;
 * - 'batch-bank': row mod m with m = rows/2 (both views of image b score against bank row b);
 * - 'cross-correlation': row, the diagonal C_ii (target 1); −1 when row ≥ cols;
 * - 'prediction-target': row, the prediction's own image's target; −1 when row ≥ cols.
 * −1 as well when the layout has no such column (an odd row count for the bank).
 */
export function positiveColumn(snapshot: MethodMatrixSnapshot, row: number): number {
  const { kind, rows, cols } = snapshot;
  if (!Number.isInteger(row) || row < 0 || row >= rows) {
    throw new Error(`positiveColumn: row ${row} is outside 0…${rows - 1}.`);
  }
  let column: number;
  switch (kind) {
    case 'query-keys':
      column = 0;
      break;
    case 'batch-bank': {
      const m = rows / 2;
      column = Number.isInteger(m) ? row % m : -1;
      break;
    }
    case 'cross-correlation':
    case 'prediction-target':
      column = row;
      break;
  }
  return column < cols ? column : -1;
}

/** What the summary line reports for MoCo, the bank, BYOL and SimSiam: does each row find its own column? */
export interface RetrievalSummary {
  kind: 'retrieval';
  /** foundRows / rowsCounted: rows whose positive is finite and strictly larger than every other finite entry (a collapsed encoder's ties do not count, as in src/loss/infoNce.ts); NaN when no row has a finite entry */
  found: number;
  foundRows: number;
  /** rows with at least one finite entry and a positive column */
  rowsCounted: number;
  /** mean of the finite positive entries; NaN when there are none */
  meanPositive: number;
  /** mean of the finite other entries (the negatives); NaN when there are none */
  meanNegative: number;
  /** entries left out because they are NaN or ±∞ */
  nonFinite: number;
}

/** What the summary line reports for Barlow Twins, over the block that was sent. */
export interface CorrelationSummary {
  kind: 'correlation';
  /** mean of the finite C_ii; NaN when none is finite */
  meanDiagonal: number;
  /** √(mean of C_ij², i ≠ j, over the finite ones); NaN when none is finite */
  rmsOffDiagonal: number;
  /** Σ_i (1 − C_ii)² over the finite C_ii; NaN when the block has a diagonal but none of it is finite */
  invarianceTerm: number;
  /** Σ_{i≠j} C_ij² over the finite ones (before λ); NaN when the block has off-diagonal entries but none is finite */
  redundancyTerm: number;
  nonFinite: number;
}

export type MatrixSummary = RetrievalSummary | CorrelationSummary;

/**
 * The summary line's numbers. Non-finite entries (a diverged run) are left
 * out and counted in `nonFinite`, so a few NaNs never turn the summary into
 * NaN; only when nothing a number needs is finite is it NaN, for the UI to say so.
 */
export function matrixSummary(snapshot: MethodMatrixSnapshot): MatrixSummary {
  return snapshot.kind === 'cross-correlation' ? correlationSummary(snapshot) : retrievalSummary(snapshot);
}

function retrievalSummary(snapshot: MethodMatrixSnapshot): RetrievalSummary {
  const { rows, cols, matrix } = snapshot;
  let foundRows = 0;
  let rowsCounted = 0;
  let positiveSum = 0;
  let positives = 0;
  let negativeSum = 0;
  let negatives = 0;
  let nonFinite = 0;
  for (let i = 0; i < rows; i++) {
    const p = positiveColumn(snapshot, i);
    const base = i * cols;
    let finite = 0;
    let bestOther = -Infinity;
    for (let j = 0; j < cols; j++) {
      const v = matrix[base + j];
      if (!Number.isFinite(v)) {
        nonFinite++;
        continue;
      }
      finite++;
      if (j === p) continue;
      negativeSum += v;
      negatives++;
      if (v > bestOther) bestOther = v;
    }
    if (p < 0 || finite === 0) continue;
    rowsCounted++;
    const positive = matrix[base + p];
    if (!Number.isFinite(positive)) continue;
    positiveSum += positive;
    positives++;
    if (positive > bestOther) foundRows++;
  }
  return {
    kind: 'retrieval',
    found: rowsCounted > 0 ? foundRows / rowsCounted : NaN,
    foundRows,
    rowsCounted,
    meanPositive: positives > 0 ? positiveSum / positives : NaN,
    meanNegative: negatives > 0 ? negativeSum / negatives : NaN,
    nonFinite,
  };
}

function correlationSummary(snapshot: MethodMatrixSnapshot): CorrelationSummary {
  const { rows, cols, matrix } = snapshot;
  let diagonalSum = 0;
  let invariance = 0;
  let diagonal = 0;
  let offSquares = 0;
  let off = 0;
  let nonFinite = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const c = matrix[i * cols + j];
      if (!Number.isFinite(c)) {
        nonFinite++;
        continue;
      }
      if (i === j) {
        diagonalSum += c;
        invariance += (1 - c) ** 2;
        diagonal++;
      } else {
        offSquares += c * c;
        off++;
      }
    }
  }
  const diagonalCells = Math.min(rows, cols);
  const offCells = rows * cols - diagonalCells;
  return {
    kind: 'correlation',
    meanDiagonal: diagonal > 0 ? diagonalSum / diagonal : NaN,
    rmsOffDiagonal: off > 0 ? Math.sqrt(offSquares / off) : NaN,
    // an empty sum is 0; a sum whose every term is NaN is not
    invarianceTerm: diagonal > 0 || diagonalCells === 0 ? invariance : NaN,
    redundancyTerm: off > 0 || offCells === 0 ? offSquares : NaN,
    nonFinite,
  };
}

/** The number the summary line's data-value carries: `found` for MoCo, the bank, BYOL and SimSiam, `meanDiagonal` for C. */
export function summaryValue(summary: MatrixSummary): number {
  return summary.kind === 'retrieval' ? summary.found : summary.meanDiagonal;
}

/** Canvas pixels per cell side: the largest k with max(rows, cols)·k ≤ MAX_CANVAS_PX, at least 1. */
export function methodCellPixels(rows: number, cols: number): number {
  return Math.max(1, Math.floor(MAX_CANVAS_PX / Math.max(1, rows, cols)));
}

/**
 * The cell under (x, y), in CSS pixels from the top-left corner of a canvas
 * drawn widthPx × heightPx holding rows × cols cells: i = ⌊y/heightPx · rows⌋,
 * j = ⌊x/widthPx · cols⌋; null outside it.
 */
export function methodCellAt(
  x: number, y: number, widthPx: number, heightPx: number, rows: number, cols: number,
): { i: number; j: number } | null {
  if (!(widthPx > 0) || !(heightPx > 0) || rows < 1 || cols < 1) return null;
  if (!(x >= 0 && y >= 0 && x < widthPx && y < heightPx)) return null;
  return {
    i: Math.min(rows - 1, Math.floor((y / heightPx) * rows)),
    j: Math.min(cols - 1, Math.floor((x / widthPx) * cols)),
  };
}

/** A colour faded toward white by UNWRITTEN_FADE: round((1 − f)·c + f·255) per channel. */
export function fadedColour([r, g, b]: Rgb): Rgb {
  const fade = (c: number) => Math.round((1 - UNWRITTEN_FADE) * c + UNWRITTEN_FADE * 255);
  return [fade(r), fade(g), fade(b)];
}

/**
 * RGBA pixels of the matrix: a (cols·k) × (rows·k) image, entry (i, j) the
 * k×k square at x = j·k, y = i·k, coloured colourFor(v, −1, 1) (NaN: its NAN_RGB).
 * A column flagged in `unwritten` is faded (fadedColour) and striped with
 * UNWRITTEN_HATCH_RGB where (x + y) mod 4 = 0, so the stripes run across a
 * run of such columns. When k ≥ 3, each row's positive cell gets a ring
 * inside its border: one pixel, white on a dark cell and black on a light
 * one (k < 6), or white then black (k ≥ 6); it never covers the centre.
 */
export function renderMethodMatrixPixels(
  snapshot: MethodMatrixSnapshot,
  cellPx: number,
): { data: Uint8ClampedArray<ArrayBuffer>; width: number; height: number } {
  const { rows, cols, matrix, unwritten } = snapshot;
  const k = Math.max(1, Math.floor(cellPx));
  const width = cols * k;
  const height = rows * k;
  const data = new Uint8ClampedArray(new ArrayBuffer(width * height * 4));
  const put = (x: number, y: number, [r, g, b]: Rgb) => {
    const o = (y * width + x) * 4;
    data[o] = r;
    data[o + 1] = g;
    data[o + 2] = b;
    data[o + 3] = 255;
  };
  for (let i = 0; i < rows; i++) {
    const positive = positiveColumn(snapshot, i);
    for (let j = 0; j < cols; j++) {
      const v = matrix[i * cols + j];
      const stale = unwritten[j] === 1;
      const base = colourFor(v, MATRIX_LO, MATRIX_HI);
      const fill = stale ? fadedColour(base) : base;
      const x0 = j * k;
      const y0 = i * k;
      for (let y = y0; y < y0 + k; y++) {
        for (let x = x0; x < x0 + k; x++) put(x, y, stale && (x + y) % 4 === 0 ? UNWRITTEN_HATCH_RGB : fill);
      }
      if (k >= 3 && j === positive) {
        const dark = luminance(fill) <= DARK_CELL_LUMINANCE;
        ring(put, x0, y0, k, 0, k >= 6 || dark ? OUTLINE_OUTER_RGB : OUTLINE_INNER_RGB);
        if (k >= 6) ring(put, x0, y0, k, 1, OUTLINE_INNER_RGB);
      }
    }
  }
  return { data, width, height };
}

/** A one-pixel square ring `inset` pixels inside the k×k cell at (x0, y0). */
function ring(put: (x: number, y: number, rgb: Rgb) => void, x0: number, y0: number, k: number, inset: number, colour: Rgb): void {
  const a = inset;
  const b = k - 1 - inset;
  for (let t = a; t <= b; t++) {
    put(x0 + t, y0 + a, colour);
    put(x0 + t, y0 + b, colour);
    put(x0 + a, y0 + t, colour);
    put(x0 + b, y0 + t, colour);
  }
}

/**
 * Rank of row `row`'s positive among its finite entries: 1 + the number of
 * other finite entries ≥ it (a tie ranks behind, as a collapsed encoder
 * should), so rank 1 is exactly a row the summary counts as found. NaN when
 * the positive is not finite or the row has none.
 */
export function positiveRank(snapshot: MethodMatrixSnapshot, row: number): number {
  const p = positiveColumn(snapshot, row);
  const { cols, matrix } = snapshot;
  const positive = p >= 0 ? matrix[row * cols + p] : NaN;
  if (!Number.isFinite(positive)) return NaN;
  let rank = 1;
  for (let j = 0; j < cols; j++) {
    const v = matrix[row * cols + j];
    if (j !== p && Number.isFinite(v) && v >= positive) rank++;
  }
  return rank;
}

/** "0.62", "−0.05": fixed digits with a true minus sign; "NaN" / "Infinity" as such. */
export function signed(x: number, digits = 2): string {
  const text = fixed(x, digits);
  return text.startsWith('-') ? `−${text.slice(1)}` : text;
}

/** Three significant digits with a true minus sign: 10.9, 0.0123, 1230. */
function sig(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const text = String(Number(x.toPrecision(3)));
  return text.startsWith('-') ? `−${text.slice(1)}` : text;
}

const count = (n: number) => n.toLocaleString('en-US');

/** "0…127", or "0" when the range holds one index. */
export function indexRange(first: number, last: number): string {
  return first === last ? `${first}` : `${first}…${last}`;
}

/** The inspector's words for one cell. */
export interface CellDescription {
  /** what row i is */
  row: string;
  /** what column j is, with its status (positive, random start) */
  column: string;
  /** the entry: "cos 0.62" or "C₍3,7₎ = 0.71" */
  value: string;
  /** MoCo and the bank: the logit cos/τ the softmax sees; null for the others or without a valid τ */
  logit: string | null;
  /** what the loss does with this cell, in one or two sentences */
  role: string;
  positive: boolean;
  unwritten: boolean;
}

/** Plain-language description of cell (i, j) for the inspector. */
export function describeCell(snapshot: MethodMatrixSnapshot, i: number, j: number): CellDescription {
  const { kind, rows, cols, matrix, temperature } = snapshot;
  if (!Number.isInteger(i) || !Number.isInteger(j) || i < 0 || j < 0 || i >= rows || j >= cols) {
    throw new Error(`describeCell: cell (${i}, ${j}) is outside the ${rows}×${cols} matrix.`);
  }
  const v = matrix[i * cols + j];
  const positive = positiveColumn(snapshot, i) === j;
  const unwritten = snapshot.unwritten[j] === 1;
  const finite = Number.isFinite(v);
  const broken = finite ? '' : 'This entry is not a number: the run has diverged (Reset, then try a lower learning rate). ';
  const softmax = kind === 'query-keys' || kind === 'batch-bank';
  const logit = softmax && finite && temperature > 0 && Number.isFinite(temperature)
    ? `logit cos/τ = ${signed(v / temperature)} at τ = ${temperature}`
    : null;

  switch (kind) {
    case 'query-keys':
      return {
        row: `query ${i} (t(x) of image ${i})`,
        column: j === 0
          ? 'its own key k̂ from the momentum encoder (positive)'
          : `queue key ${j} (newest first; ${unwritten ? 'still a random start' : 'a key from an earlier batch'})`,
        value: `cos ${signed(v)}`,
        logit,
        role: broken + (positive
          ? `The answer of the (1 + K)-way softmax: k̂ is t′(x) of image ${i} through the momentum encoder, and the loss raises this logit above every queue key.`
          : unwritten
            ? 'A negative that is still random noise: no batch has reached this queue slot yet, so it teaches nothing until a real key replaces it.'
            : 'A negative: a key of another image from an earlier batch. The loss lowers this logit relative to column 0.'),
        positive,
        unwritten,
      };
    case 'batch-bank': {
      const m = rows / 2;
      const image = i % m;
      return {
        row: i < m ? `view ${i}: t(x) of image ${i}` : `view ${i}: t′(x) of image ${image}`,
        column: `bank row of image ${j} (${positive ? 'positive' : 'negative'}; ${unwritten ? 'never written: random start' : 'written at an earlier step'})`,
        value: `cos ${signed(v)}`,
        logit,
        role: broken + (positive
          ? unwritten
            ? `The view's own bank entry, but never written yet: it is still a random vector, so the view cannot find it until image ${j} is stored.`
            : `The view's own bank entry, stored when image ${j} was last in a batch: the softmax over all n entries must pick this one.`
          : unwritten
            ? 'Another image’s entry, still a random start: a negative that carries no information yet.'
            : 'Another image’s entry: a negative. The loss lowers this logit.'),
        positive,
        unwritten,
      };
    }
    case 'cross-correlation':
      return {
        row: `dimension ${i} of ẑ1`,
        column: `dimension ${j} of ẑ2`,
        value: `C(${i},${j}) = ${signed(v)}`,
        logit: null,
        role: broken + (i === j
          ? `On the diagonal, target 1 (invariance): feature ${i} should agree across the two views. It adds (1 − C_ii)² = ${finite ? sig((1 - v) ** 2) : 'NaN'} to the loss.`
          : `Off the diagonal, target 0 (redundancy reduction): features ${i} and ${j} should be decorrelated. It adds C_ij² = ${finite ? sig(v * v) : 'NaN'}, times λ, to the loss.`),
        positive,
        unwritten,
      };
    case 'prediction-target':
      return {
        row: `prediction p of view t(x) of image ${i}`,
        column: `target z′ of view t′(x) of image ${j}${positive ? ' (its own image: positive)' : ' (another image: the loss ignores it)'}`,
        value: `cos ${signed(v)}`,
        logit: null,
        role: broken + (positive
          ? `The loss reads only these cells: it raises cos(p, z′) of the two views of image ${i}.`
          : 'No term of the loss touches this cell: with no negatives, only the predictor and the target branch (stop-gradient or moving average) keep it from rising to 1, which would be collapse.'),
        positive,
        unwritten,
      };
  }
}

/** Why the snapshot cannot be drawn, in the user's words, or null when it can. */
export function snapshotProblem(snapshot: MethodMatrixSnapshot): string | null {
  const { kind, rows, cols, matrix, unwritten } = snapshot;
  if (!Number.isInteger(rows) || rows < 1) return `The matrix has ${rows} rows; it needs at least 1.`;
  if (!Number.isInteger(cols) || cols < 1) return `The matrix has ${cols} columns; it needs at least 1.`;
  if (matrix.length < rows * cols) return `The matrix holds ${matrix.length} values; ${rows}×${cols} needs ${rows * cols}.`;
  if (unwritten.length !== cols) return `The random-start flags cover ${unwritten.length} columns; the matrix has ${cols}.`;
  if (kind === 'batch-bank' && rows !== 2 * cols) return `The bank matrix has ${rows} rows for ${cols} images; it needs two views per image, ${2 * cols} rows.`;
  return null;
}

/** What part of the whole matrix is shown, when only its first rows or columns were sent; null when all of it is. */
export function shownNote(snapshot: MethodMatrixSnapshot): string | null {
  const { kind, rows, cols } = snapshot;
  const rowsTotal = Math.max(rows, snapshot.rowsTotal);
  const columnsTotal = Math.max(cols, snapshot.columnsTotal);
  if (rowsTotal === rows && columnsTotal === cols) return null;
  switch (kind) {
    case 'query-keys': {
      const parts: string[] = [];
      if (rowsTotal > rows) parts.push(`the first ${count(rows)} of ${count(rowsTotal)} queries`);
      if (columnsTotal > cols) parts.push(`the newest ${count(cols - 1)} of ${count(columnsTotal - 1)} queue keys`);
      return `Shown: ${parts.join(', against ')}.`;
    }
    case 'batch-bank':
      return `Shown: the first ${count(cols)} of ${count(columnsTotal)} images (both views of each: ${count(rows)} of ${count(rowsTotal)} rows).`;
    case 'cross-correlation':
      return rows === cols && rowsTotal === columnsTotal
        ? `Shown: dimensions ${indexRange(0, rows - 1)} of ${count(rowsTotal)}, the top-left ${rows}×${cols} block of C; the summary covers this block.`
        : `Shown: dimensions ${indexRange(0, rows - 1)} of ${count(rowsTotal)} of ẑ1 against ${indexRange(0, cols - 1)} of ${count(columnsTotal)} of ẑ2; the summary covers this block.`;
    case 'prediction-target':
      return `Shown: the first ${count(rows)} of ${count(rowsTotal)} predictions against the first ${count(cols)} of ${count(columnsTotal)} targets.`;
  }
}

/** The summary line in words; says plainly when the headline number is not finite. */
export function summaryText(snapshot: MethodMatrixSnapshot, summary: MatrixSummary): string {
  const left = summary.nonFinite > 0 ? ` (${count(summary.nonFinite)} non-finite ${summary.nonFinite === 1 ? 'entry' : 'entries'} left out)` : '';
  const diverged = 'the run has diverged. Reset, then try a lower learning rate.';
  if (summary.kind === 'retrieval') {
    if (!Number.isFinite(summary.found)) return `No finite similarity this step (every entry is NaN): ${diverged}`;
    if (snapshot.kind === 'prediction-target') {
      const off = Number.isFinite(summary.meanNegative) ? ` vs ${signed(summary.meanNegative)} off it` : '';
      // every cosine near 1, off the diagonal too: all images map to one point
      const collapsed = summary.meanNegative >= COLLAPSE_COSINE && summary.meanPositive >= COLLAPSE_COSINE
        ? ' Every cell is near 1: the encoder has collapsed to one point.'
        : '';
      return `${count(summary.foundRows)} of ${count(summary.rowsCounted)} predictions score highest on their own image’s target (nothing in the loss asks for this); mean cos ${signed(summary.meanPositive)} on the diagonal${off}${left}.${collapsed}`;
    }
    const queryKeys = snapshot.kind === 'query-keys';
    const truncated = snapshot.columnsTotal > snapshot.cols;
    const rowsWord = queryKeys ? 'queries' : 'views';
    const target = queryKeys ? 'their own key' : 'their own image’s bank row';
    // the bank's loss ranks among all n entries; the matrix holds only the batch's own rows
    const among = queryKeys
      ? truncated ? ` among the ${count(snapshot.cols - 1)} queue ${snapshot.cols === 2 ? 'key' : 'keys'} shown` : ''
      : ` among these ${count(snapshot.cols)} images’ rows`;
    const negatives = queryKeys ? 'the queue' : 'the other images’ rows';
    const negative = Number.isFinite(summary.meanNegative)
      ? ` vs ${signed(summary.meanNegative)} for ${negatives}`
      : queryKeys ? ' (no queue key shown)' : ' (no other image shown)';
    return `${count(summary.foundRows)} of ${count(summary.rowsCounted)} ${rowsWord} rank ${target} first${among}; mean positive cos ${signed(summary.meanPositive)}${negative}${left}.`;
  }
  if (!Number.isFinite(summary.meanDiagonal)) return `The diagonal of C is not finite this step (NaN): ${diverged}`;
  const block = snapshot.rowsTotal > snapshot.rows || snapshot.columnsTotal > snapshot.cols
    ? ` over dimensions ${indexRange(0, Math.min(snapshot.rows, snapshot.cols) - 1)} of ${count(snapshot.rowsTotal)}`
    : '';
  const rms = Number.isFinite(summary.rmsOffDiagonal) ? `rms off-diagonal ${signed(summary.rmsOffDiagonal)} (target 0)` : 'no finite off-diagonal entry';
  return `mean diagonal ${signed(summary.meanDiagonal)} (target 1), ${rms}; invariance term ${sig(summary.invarianceTerm)}, redundancy term ${sig(summary.redundancyTerm)}${block}${left}.`;
}
