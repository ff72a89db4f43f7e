import { describe, expect, it } from 'vitest';
import type { MethodMatrixSnapshot } from '../train/protocol';
import { MAX_CANVAS_PX, NAN_RGB, OUTLINE_INNER_RGB, OUTLINE_OUTER_RGB, colourFor, luminance, type Rgb } from './heatmap';
import {
  UNWRITTEN_HATCH_RGB,
  describeCell,
  fadedColour,
  matrixSummary,
  methodCellAt,
  methodCellPixels,
  positiveColumn,
  positiveRank,
  renderMethodMatrixPixels,
  shownNote,
  snapshotProblem,
  summaryText,
  summaryValue,
  type CorrelationSummary,
  type RetrievalSummary,
} from './methodMatrix';

const METHOD_OF = {
  'query-keys': 'moco',
  'batch-bank': 'memory-bank',
  'cross-correlation': 'barlow-twins',
  'prediction-target': 'byol',
} as const;

/** A snapshot of `rows` × `cols` entries (row-major), nothing truncated and nothing unwritten unless told. */
function snap(
  kind: MethodMatrixSnapshot['kind'],
  rows: number,
  cols: number,
  values: number[],
  extra: Partial<MethodMatrixSnapshot> = {},
): MethodMatrixSnapshot {
  return {
    step: 7,
    method: METHOD_OF[kind],
    kind,
    n: kind === 'batch-bank' ? cols : rows,
    rows,
    cols,
    matrix: Float32Array.from(values),
    rowsTotal: rows,
    columnsTotal: cols,
    unwritten: new Uint8Array(cols),
    temperature: 0.2,
    ...extra,
  };
}

/** The RGB of canvas pixel (x, y), and that it is opaque. */
function pixel(img: { data: Uint8ClampedArray; width: number }, x: number, y: number): Rgb {
  const o = (y * img.width + x) * 4;
  expect(img.data[o + 3]).toBe(255);
  return [img.data[o], img.data[o + 1], img.data[o + 2]];
}

const retrieval = (s: MethodMatrixSnapshot) => matrixSummary(s) as RetrievalSummary;
const correlation = (s: MethodMatrixSnapshot) => matrixSummary(s) as CorrelationSummary;

describe('positiveColumn', () => {
  it('is column 0, the own key, for every MoCo query', () => {
    const s = snap('query-keys', 3, 5, Array(15).fill(0));
    expect([0, 1, 2].map((i) => positiveColumn(s, i))).toEqual([0, 0, 0]);
  });

  it('is row mod m for the bank: both views of image b score against bank row b', () => {
    const s = snap('batch-bank', 6, 3, Array(18).fill(0));
    expect([0, 1, 2, 3, 4, 5].map((i) => positiveColumn(s, i))).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('is the diagonal for C and for predictions against targets, −1 below a non-square block', () => {
    const c = snap('cross-correlation', 3, 2, Array(6).fill(0));
    expect([0, 1, 2].map((i) => positiveColumn(c, i))).toEqual([0, 1, -1]);
    const p = snap('prediction-target', 4, 4, Array(16).fill(0));
    expect([0, 1, 2, 3].map((i) => positiveColumn(p, i))).toEqual([0, 1, 2, 3]);
  });

  it('is −1 for a bank with an odd row count, and refuses a row outside the matrix', () => {
    expect(positiveColumn(snap('batch-bank', 3, 2, Array(6).fill(0)), 1)).toBe(-1);
    expect(() => positiveColumn(snap('query-keys', 2, 2, [0, 0, 0, 0]), 2)).toThrow(/outside/);
  });
});

describe('matrixSummary', () => {
  it('MoCo: found counts rows whose own key beats every queue key strictly; means split positives from the queue', () => {
    const s = snap('query-keys', 3, 3, [
      0.9, 0.1, -0.2, // found
      0.3, 0.5, 0.0, // a queue key wins
      0.4, 0.4, -1, // a tie is not found (a collapsed encoder ties everything)
    ]);
    const out = retrieval(s);
    expect(out.kind).toBe('retrieval');
    expect(out.foundRows).toBe(1);
    expect(out.rowsCounted).toBe(3);
    expect(out.found).toBeCloseTo(1 / 3, 10);
    expect(out.meanPositive).toBeCloseTo((0.9 + 0.3 + 0.4) / 3, 6); // 0.5333
    expect(out.meanNegative).toBeCloseTo((0.1 - 0.2 + 0.5 + 0 + 0.4 - 1) / 6, 6); // −0.0333
    expect(out.nonFinite).toBe(0);
    expect(summaryValue(out)).toBeCloseTo(1 / 3, 10);
  });

  it('bank: positives on the two stacked diagonals', () => {
    const s = snap('batch-bank', 4, 2, [
      0.8, 0.2, // t(x) of image 0: found
      0.6, 0.5, // t(x) of image 1: image 0's row wins
      0.3, 0.1, // t′(x) of image 0: found
      -0.1, 0.7, // t′(x) of image 1: found
    ]);
    const out = retrieval(s);
    expect(out.foundRows).toBe(3);
    expect(out.found).toBe(0.75);
    expect(out.meanPositive).toBeCloseTo((0.8 + 0.5 + 0.3 + 0.7) / 4, 6); // 0.575
    expect(out.meanNegative).toBeCloseTo((0.2 + 0.6 + 0.1 - 0.1) / 4, 6); // 0.2
  });

  it('leaves NaN entries out instead of turning the summary into NaN', () => {
    const s = snap('query-keys', 3, 3, [
      NaN, 0.2, 0.1, // positive NaN: the row counts but is not found
      0.7, NaN, 0.1, // found among its finite entries
      NaN, NaN, NaN, // no finite entry: not counted
    ]);
    const out = retrieval(s);
    expect(out.rowsCounted).toBe(2);
    expect(out.foundRows).toBe(1);
    expect(out.found).toBe(0.5);
    expect(out.meanPositive).toBeCloseTo(0.7, 6);
    expect(out.meanNegative).toBeCloseTo((0.2 + 0.1 + 0.1) / 3, 6);
    expect(out.nonFinite).toBe(5);
    expect(summaryText(s, out)).toMatch(/5 non-finite entries left out/);
  });

  it('is NaN, and says so, when every entry is NaN', () => {
    const s = snap('query-keys', 2, 3, Array(6).fill(NaN));
    const out = retrieval(s);
    expect(out.found).toBeNaN();
    expect(out.meanPositive).toBeNaN();
    expect(out.meanNegative).toBeNaN();
    expect(out.rowsCounted).toBe(0);
    expect(out.nonFinite).toBe(6);
    expect(summaryText(s, out)).toMatch(/every entry is NaN.*diverged/);
  });

  it('C: mean diagonal, rms off-diagonal and the two loss terms by hand', () => {
    const out = correlation(snap('cross-correlation', 2, 2, [0.8, 0.3, -0.1, 0.6]));
    expect(out.kind).toBe('correlation');
    expect(out.meanDiagonal).toBeCloseTo(0.7, 6);
    expect(out.invarianceTerm).toBeCloseTo(0.2 ** 2 + 0.4 ** 2, 6); // 0.2
    expect(out.redundancyTerm).toBeCloseTo(0.3 ** 2 + 0.1 ** 2, 6); // 0.1
    expect(out.rmsOffDiagonal).toBeCloseTo(Math.sqrt(0.1 / 2), 6); // 0.2236
    expect(summaryValue(out)).toBeCloseTo(0.7, 6);
  });

  it('C: the identity scores a perfect 1 and 0s', () => {
    const out = correlation(snap('cross-correlation', 3, 3, [1, 0, 0, 0, 1, 0, 0, 0, 1]));
    expect([out.meanDiagonal, out.invarianceTerm, out.redundancyTerm, out.rmsOffDiagonal]).toEqual([1, 0, 0, 0]);
  });

  it('C: NaN entries are left out; all-NaN gives NaN', () => {
    const out = correlation(snap('cross-correlation', 2, 2, [0.8, NaN, -0.1, NaN]));
    expect(out.meanDiagonal).toBeCloseTo(0.8, 6);
    expect(out.invarianceTerm).toBeCloseTo(0.04, 6);
    expect(out.redundancyTerm).toBeCloseTo(0.01, 6);
    expect(out.rmsOffDiagonal).toBeCloseTo(0.1, 6);
    expect(out.nonFinite).toBe(2);

    const s = snap('cross-correlation', 2, 2, [NaN, NaN, NaN, NaN]);
    const none = correlation(s);
    expect(none.meanDiagonal).toBeNaN();
    expect(none.invarianceTerm).toBeNaN();
    expect(none.redundancyTerm).toBeNaN();
    expect(none.rmsOffDiagonal).toBeNaN();
    expect(summaryText(s, none)).toMatch(/not finite.*diverged/);
  });

  it('C of one dimension: an empty off-diagonal sum is 0, its rms undefined', () => {
    const out = correlation(snap('cross-correlation', 1, 1, [0.5]));
    expect(out.invarianceTerm).toBeCloseTo(0.25, 10);
    expect(out.redundancyTerm).toBe(0);
    expect(out.rmsOffDiagonal).toBeNaN();
  });
});

describe('positiveRank', () => {
  it('is 1 + the other finite entries at least as large as the positive', () => {
    const s = snap('query-keys', 4, 3, [0.9, 0.1, -0.2, 0.3, 0.5, 0.0, 0.4, 0.4, -1, NaN, 0.2, 0.1]);
    expect([0, 1, 2].map((i) => positiveRank(s, i))).toEqual([1, 2, 2]);
    expect(positiveRank(s, 3)).toBeNaN();
  });
});

describe('summaryText', () => {
  it('MoCo: how many queries rank their own key first, and the two mean cosines', () => {
    const s = snap('query-keys', 3, 3, [0.9, 0.1, -0.2, 0.3, 0.5, 0.0, 0.4, 0.4, -1]);
    expect(summaryText(s, matrixSummary(s))).toBe('1 of 3 queries rank their own key first; mean positive cos 0.53 vs −0.03 for the queue.');
    const cut = { ...s, columnsTotal: 4097 };
    expect(summaryText(cut, matrixSummary(cut))).toMatch(/^1 of 3 queries rank their own key first among the 2 queue keys shown;/);
  });

  it('C: the brief’s numbers with their targets', () => {
    const s = snap('cross-correlation', 2, 2, [0.8, 0.3, -0.1, 0.6]);
    expect(summaryText(s, matrixSummary(s))).toBe(
      'mean diagonal 0.70 (target 1), rms off-diagonal 0.22 (target 0); invariance term 0.2, redundancy term 0.1.',
    );
    const cut = { ...s, rowsTotal: 256, columnsTotal: 256 };
    expect(summaryText(cut, matrixSummary(cut))).toMatch(/over dimensions 0…1 of 256\.$/);
  });

  it('BYOL: a matrix of cosines all near 1 is called collapse', () => {
    const s = snap('prediction-target', 2, 2, [0.99, 0.99, 0.99, 0.99]);
    const out = retrieval(s);
    expect(out.found).toBe(0); // ties everywhere
    expect(summaryText(s, out)).toMatch(/0 of 2 predictions .* collapsed/);
  });
});

describe('methodCellPixels', () => {
  it('fits the longer side in MAX_CANVAS_PX, at least 1 pixel a cell', () => {
    expect(MAX_CANVAS_PX).toBe(512);
    expect(methodCellPixels(128, 128)).toBe(4);
    expect(methodCellPixels(8, 128)).toBe(4);
    expect(methodCellPixels(16, 8)).toBe(32);
    expect(methodCellPixels(100, 3)).toBe(5);
    expect(methodCellPixels(600, 3)).toBe(1);
  });
});

describe('methodCellAt', () => {
  it('maps CSS pixels of a 200×100 canvas of 2×4 cells to cells, null outside', () => {
    expect(methodCellAt(0, 0, 200, 100, 2, 4)).toEqual({ i: 0, j: 0 });
    expect(methodCellAt(49.99, 49.99, 200, 100, 2, 4)).toEqual({ i: 0, j: 0 });
    expect(methodCellAt(50, 50, 200, 100, 2, 4)).toEqual({ i: 1, j: 1 });
    expect(methodCellAt(199.99, 99.99, 200, 100, 2, 4)).toEqual({ i: 1, j: 3 });
    expect(methodCellAt(200, 50, 200, 100, 2, 4)).toBeNull();
    expect(methodCellAt(10, 100, 200, 100, 2, 4)).toBeNull();
    expect(methodCellAt(-0.1, 10, 200, 100, 2, 4)).toBeNull();
    expect(methodCellAt(10, 10, 0, 100, 2, 4)).toBeNull();
  });
});

describe('renderMethodMatrixPixels', () => {
  // 2 queries × [own key, two queue keys]; the oldest queue slot still random
  const s = snap('query-keys', 2, 3, [0.9, 0.1, -0.5, -0.8, NaN, 0.3], { unwritten: Uint8Array.from([0, 0, 1]) });

  it('draws cols·k × rows·k opaque pixels', () => {
    const img = renderMethodMatrixPixels(s, 4);
    expect([img.width, img.height, img.data.length]).toEqual([12, 8, 12 * 8 * 4]);
    for (let o = 3; o < img.data.length; o += 4) expect(img.data[o]).toBe(255);
  });

  it('colours an entry by colourFor(v, −1, 1) and NaN by NAN_RGB', () => {
    const img = renderMethodMatrixPixels(s, 4);
    // cell (0, 1) = 0.1 spans x 4…7, y 0…3
    expect(pixel(img, 6, 2)).toEqual(colourFor(0.1, -1, 1));
    expect(pixel(img, 4, 0)).toEqual(colourFor(0.1, -1, 1));
    // cell (1, 1) = NaN
    expect(pixel(img, 5, 5)).toEqual(NAN_RGB);
  });

  it('rings each row’s positive: black on a light cell, white on a dark one, centre untouched', () => {
    expect(luminance(colourFor(0.9, -1, 1))).toBeGreaterThan(0.25);
    expect(luminance(colourFor(-0.8, -1, 1))).toBeLessThan(0.25);
    const img = renderMethodMatrixPixels(s, 4);
    expect(pixel(img, 0, 0)).toEqual(OUTLINE_INNER_RGB); // (0, 0) = 0.9, light
    expect(pixel(img, 3, 3)).toEqual(OUTLINE_INNER_RGB);
    expect(pixel(img, 2, 2)).toEqual(colourFor(0.9, -1, 1));
    expect(pixel(img, 0, 4)).toEqual(OUTLINE_OUTER_RGB); // (1, 0) = −0.8, dark
    expect(pixel(img, 1, 5)).toEqual(colourFor(-0.8, -1, 1));
  });

  it('rings white-then-black from 6 pixels a cell, and not at all below 3', () => {
    const big = renderMethodMatrixPixels(s, 6);
    expect(pixel(big, 0, 0)).toEqual(OUTLINE_OUTER_RGB);
    expect(pixel(big, 1, 1)).toEqual(OUTLINE_INNER_RGB);
    expect(pixel(big, 3, 3)).toEqual(colourFor(0.9, -1, 1));
    const small = renderMethodMatrixPixels(s, 2);
    expect([small.width, small.height]).toEqual([6, 4]);
    expect(pixel(small, 0, 0)).toEqual(colourFor(0.9, -1, 1));
  });

  it('fades a never-written column and stripes it where (x + y) mod 4 = 0', () => {
    expect(fadedColour([68, 1, 84])).toEqual([162, 128, 170]); // round((c + 255) / 2)
    const img = renderMethodMatrixPixels(s, 4);
    // cell (1, 2) = 0.3 spans x 8…11, y 4…7
    expect(pixel(img, 9, 5)).toEqual(fadedColour(colourFor(0.3, -1, 1)));
    expect(pixel(img, 8, 4)).toEqual(UNWRITTEN_HATCH_RGB);
    expect(pixel(img, 11, 5)).toEqual(UNWRITTEN_HATCH_RGB);
    const [r, g, b] = UNWRITTEN_HATCH_RGB;
    expect(r === g && g === b).toBe(true);
  });

  it('rings the bank’s two stacked diagonals', () => {
    const bank = snap('batch-bank', 4, 2, [-0.9, -0.9, -0.9, -0.9, -0.9, -0.9, -0.9, -0.9]);
    const img = renderMethodMatrixPixels(bank, 3);
    const ringed = (i: number, j: number) => pixel(img, 3 * j, 3 * i)[0] === OUTLINE_OUTER_RGB[0];
    expect([0, 1, 2, 3].map((i) => [ringed(i, 0), ringed(i, 1)])).toEqual([
      [true, false],
      [false, true],
      [true, false],
      [false, true],
    ]);
  });
});

describe('describeCell', () => {
  it('MoCo: the own key is the positive, with its logit cos/τ', () => {
    const s = snap('query-keys', 2, 3, [0.9, 0.1, -0.5, -0.8, 0.2, 0.3], { unwritten: Uint8Array.from([0, 0, 1]) });
    const d = describeCell(s, 1, 0);
    expect(d.row).toBe('query 1 (t(x) of image 1)');
    expect(d.column).toBe('its own key k̂ from the momentum encoder (positive)');
    expect(d.value).toBe('cos −0.80');
    expect(d.logit).toBe('logit cos/τ = −4.00 at τ = 0.2');
    expect(d.positive).toBe(true);
  });

  it('MoCo: queue keys say whether they are real or a random start', () => {
    const s = snap('query-keys', 2, 3, [0.9, 0.1, -0.5, -0.8, 0.2, 0.3], { unwritten: Uint8Array.from([0, 0, 1]) });
    const real = describeCell(s, 0, 1);
    expect(real.column).toBe('queue key 1 (newest first; a key from an earlier batch)');
    expect(real.positive).toBe(false);
    expect(real.unwritten).toBe(false);
    const random = describeCell(s, 0, 2);
    expect(random.column).toBe('queue key 2 (newest first; still a random start)');
    expect(random.unwritten).toBe(true);
    expect(random.role).toMatch(/random/);
    expect(random.logit).toBe('logit cos/τ = −2.50 at τ = 0.2');
  });

  it('bank: names the view and the bank row, positive and written or not', () => {
    const s = snap('batch-bank', 4, 2, [0.8, 0.2, 0.6, 0.5, 0.3, 0.1, -0.1, 0.7], { unwritten: Uint8Array.from([1, 0]) });
    const d = describeCell(s, 3, 1);
    expect(d.row).toBe('view 3: t′(x) of image 1');
    expect(d.column).toBe('bank row of image 1 (positive; written at an earlier step)');
    expect(d.positive).toBe(true);
    const n = describeCell(s, 1, 0);
    expect(n.row).toBe('view 1: t(x) of image 1');
    expect(n.column).toBe('bank row of image 0 (negative; never written: random start)');
    expect(n.positive).toBe(false);
    expect(n.unwritten).toBe(true);
    expect(describeCell(s, 2, 0).column).toBe('bank row of image 0 (positive; never written: random start)');
  });

  it('C: dimensions of ẑ1 and ẑ2, the target and what the cell adds to the loss', () => {
    const values = Array(64).fill(0);
    values[3 * 8 + 3] = 0.7;
    values[3 * 8 + 7] = -0.2;
    const s = snap('cross-correlation', 8, 8, values);
    const off = describeCell(s, 3, 7);
    expect(off.row).toBe('dimension 3 of ẑ1');
    expect(off.column).toBe('dimension 7 of ẑ2');
    expect(off.value).toBe('C(3,7) = −0.20');
    expect(off.logit).toBeNull();
    expect(off.role).toMatch(/target 0.*C_ij² = 0\.04/);
    const on = describeCell(s, 3, 3);
    expect(on.positive).toBe(true);
    expect(on.role).toMatch(/target 1.*\(1 − C_ii\)² = 0\.09/);
  });

  it('BYOL: the diagonal is what the loss reads, the rest it ignores', () => {
    const s = snap('prediction-target', 2, 2, [0.9, 0.4, 0.3, 0.8]);
    expect(describeCell(s, 0, 0).column).toMatch(/positive/);
    expect(describeCell(s, 0, 1).column).toMatch(/ignores/);
    expect(describeCell(s, 0, 1).logit).toBeNull();
  });

  it('says when an entry is not a number, and refuses a cell outside', () => {
    const s = snap('query-keys', 1, 2, [NaN, 0.1]);
    const d = describeCell(s, 0, 0);
    expect(d.value).toBe('cos NaN');
    expect(d.logit).toBeNull();
    expect(d.role).toMatch(/not a number/);
    expect(() => describeCell(s, 0, 2)).toThrow(/outside/);
  });
});

describe('snapshotProblem', () => {
  it('passes a well-formed snapshot and names what is wrong otherwise', () => {
    expect(snapshotProblem(snap('query-keys', 2, 3, Array(6).fill(0)))).toBeNull();
    expect(snapshotProblem(snap('query-keys', 2, 3, Array(5).fill(0)))).toMatch(/holds 5 values; 2×3 needs 6/);
    expect(snapshotProblem(snap('query-keys', 0, 3, []))).toMatch(/0 rows/);
    expect(snapshotProblem(snap('query-keys', 2, 0, []))).toMatch(/0 columns/);
    expect(snapshotProblem(snap('query-keys', 2, 3, Array(6).fill(0), { unwritten: new Uint8Array(2) }))).toMatch(/2 columns; the matrix has 3/);
    expect(snapshotProblem(snap('batch-bank', 3, 2, Array(6).fill(0)))).toMatch(/needs two views per image, 4 rows/);
  });
});

describe('shownNote', () => {
  it('is null when the whole matrix was sent', () => {
    expect(shownNote(snap('query-keys', 2, 3, Array(6).fill(0)))).toBeNull();
  });

  it('names the part shown for each kind', () => {
    const moco = snap('query-keys', 64, 128, Array(64 * 128).fill(0), { columnsTotal: 4097 });
    expect(shownNote(moco)).toBe('Shown: the newest 127 of 4,096 queue keys.');
    const both = { ...moco, rowsTotal: 256 };
    expect(shownNote(both)).toBe('Shown: the first 64 of 256 queries, against the newest 127 of 4,096 queue keys.');
    const bank = snap('batch-bank', 128, 64, Array(128 * 64).fill(0), { rowsTotal: 256, columnsTotal: 128 });
    expect(shownNote(bank)).toMatch(/^Shown: the first 64 of 128 images/);
    const c = snap('cross-correlation', 128, 128, Array(128 * 128).fill(0), { rowsTotal: 256, columnsTotal: 256 });
    expect(shownNote(c)).toMatch(/^Shown: dimensions 0…127 of 256/);
  });
});
