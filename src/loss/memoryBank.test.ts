import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import {
  expectGradientsMatchReference,
  expectTensorsLeft,
  gradientsAt,
  lossGradients,
  lossValue,
  randomMatrix,
  unitRows,
  type Matrix,
} from './lossCheck.testutil';
import { memoryBankLoss, memoryBankWithMetrics, type MemoryBankOptions } from './memoryBank';
import { memoryBankReference, memoryBankReferenceMetrics } from './sslReferences';

await tf.setBackend('cpu');

// ---------------------------------------------------------------- helpers

/**
 * A bank of n unit rows, B bank indices (repeats allowed) and v = the
 * indexed entries plus noise, as a later view of the same images would be.
 */
function randomInputs(seed: number, b: number, d: number, n: number): { v: Matrix; indices: Int32Array; bank: Matrix } {
  const rng = createRng(seed);
  const bank = unitRows(randomMatrix(rng, n, d));
  const indices = Int32Array.from({ length: b }, () => Math.floor(rng() * n));
  const noise = randomMatrix(rng, b, d, 0.5);
  const v = Array.from(indices, (index, row) => bank[index].map((x, c) => 2 * x + noise[row][c]));
  return { v, indices, bank };
}

/** memoryBankLoss of (v, bank) with the indices and options closed over, as lossValue and lossGradients take it. */
const memoryBankOf =
  (indices: Int32Array, opts: MemoryBankOptions) =>
  (v: tf.Tensor2D, bank: tf.Tensor2D): tf.Scalar =>
    memoryBankLoss(v, indices, bank, opts);

const tfLoss = (v: Matrix, indices: Int32Array, bank: Matrix, opts: MemoryBankOptions): number =>
  lossValue(memoryBankOf(indices, opts), [v, bank]);

/** [∂L/∂v, ∂L/∂bank] from tf.grads. */
const tfGradients = (v: Matrix, indices: Int32Array, bank: Matrix, opts: MemoryBankOptions): Matrix[] =>
  lossGradients(memoryBankOf(indices, opts), [v, bank]);

// ---------------------------------------------------------------- loss vs reference

describe('memoryBankLoss vs the float64 reference', () => {
  const batchSizes = [1, 3, 8];
  const dims = [2, 5, 16];
  const bankSizes = [4, 17];

  for (const temperature of [0.07, 0.2, 1]) {
    it(`matches for B ∈ {${batchSizes}}, d ∈ {${dims}}, n ∈ {${bankSizes}}, τ = ${temperature}`, () => {
      let seed = 100;
      for (const b of batchSizes) {
        for (const d of dims) {
          for (const n of bankSizes) {
            const { v, indices, bank } = randomInputs(seed++, b, d, n);
            const expected = memoryBankReference(v, indices, bank, { temperature });
            const actual = tfLoss(v, indices, bank, { temperature });
            // float32: logits |l| ≤ 1/τ ≈ 14 carry ~1e-6 relative rounding.
            expect(
              Math.abs(actual - expected),
              `B=${b} d=${d} n=${n} τ=${temperature}: ${actual} vs ${expected}`,
            ).toBeLessThanOrEqual(1e-4 * Math.abs(expected) + 1e-5);
          }
        }
      }
    });
  }

  it('uses the bank rows as given (not renormalized) and normalizes v', () => {
    const { v, indices, bank } = randomInputs(150, 4, 5, 6);
    const opts = { temperature: 1 };
    const doubled = bank.map((r) => r.map((x) => 2 * x));
    const expected = memoryBankReference(v, indices, doubled, opts);
    expect(Math.abs(expected - memoryBankReference(v, indices, bank, opts))).toBeGreaterThan(1e-2);
    expect(tfLoss(v, indices, doubled, opts)).toBeCloseTo(expected, 4);
    const shrunk = v.map((r) => r.map((x) => 1e-3 * x));
    expect(tfLoss(shrunk, indices, bank, opts)).toBeCloseTo(tfLoss(v, indices, bank, opts), 5);
  });

  it('τ = 0.01 stays finite and matches the reference (logits up to ±100)', () => {
    const { v, indices, bank } = randomInputs(160, 8, 16, 17);
    const opts = { temperature: 0.01 };
    const expected = memoryBankReference(v, indices, bank, opts);
    const actual = tfLoss(v, indices, bank, opts);
    expect(Number.isFinite(actual)).toBe(true);
    expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-3 * Math.abs(expected) + 1e-3);
    expect(tfGradients(v, indices, bank, opts).flat(2).every(Number.isFinite)).toBe(true);
  });
});

// ---------------------------------------------------------------- analytic values

describe('analytic cases', () => {
  it('all bank entries equal → log n for any v, index and τ', () => {
    for (const n of [1, 4, 17]) {
      const rng = createRng(200 + n);
      const entry = unitRows(randomMatrix(rng, 1, 5))[0];
      const bank = Array.from({ length: n }, () => entry.slice());
      const v = randomMatrix(rng, 3, 5, 3);
      const indices = Int32Array.from([0, n - 1, Math.floor(n / 2)]);
      for (const temperature of [0.07, 0.2, 1]) {
        expect(memoryBankReference(v, indices, bank, { temperature })).toBeCloseTo(Math.log(n), 12);
        expect(tfLoss(v, indices, bank, { temperature })).toBeCloseTo(Math.log(n), 5);
      }
    }
  });

  it('by hand: bank {e₀, −e₀}, v = e₀, τ = 1 → −log(e / (e + e⁻¹)) = log(1 + e⁻²) = 0.126928', () => {
    const bank = [[1, 0], [-1, 0]];
    expect(tfLoss([[5, 0]], Int32Array.from([0]), bank, { temperature: 1 })).toBeCloseTo(0.126928, 5);
    // Indexing the far entry instead: −log(e⁻¹ / (e + e⁻¹)) = 2 + log(1 + e⁻²) = 2.126928.
    expect(tfLoss([[5, 0]], Int32Array.from([1]), bank, { temperature: 1 })).toBeCloseTo(2.126928, 5);
  });
});

// ---------------------------------------------------------------- gradients

describe('gradients', () => {
  it('tf.grads w.r.t. v and bank matches central finite differences of the float64 reference', () => {
    let seed = 300;
    for (const { b, d, n } of [
      { b: 1, d: 2, n: 4 },
      { b: 3, d: 5, n: 4 },
      { b: 4, d: 3, n: 17 },
    ]) {
      for (const temperature of [0.07, 0.2, 1]) {
        const { v, indices, bank } = randomInputs(seed++, b, d, n);
        const opts = { temperature };
        expectGradientsMatchReference(
          memoryBankOf(indices, opts),
          ([vv, bb]) => memoryBankReference(vv, indices, bb, opts),
          [v, bank],
          ['∂L/∂v', '∂L/∂bank'],
          `B=${b} d=${d} n=${n} τ=${temperature}`,
        );
      }
    }
  });

  it('a zero row of v gives a finite loss (uniform over the bank) and finite gradients', () => {
    const { v, indices, bank } = randomInputs(320, 3, 4, 6);
    v[2] = [0, 0, 0, 0];
    const opts = { temperature: 0.2 };
    expect(tfLoss(v, indices, bank, opts)).toBeCloseTo(memoryBankReference(v, indices, bank, opts), 4);
    expect(tfGradients(v, indices, bank, opts).flat(2).every(Number.isFinite)).toBe(true);
  });
});

// ---------------------------------------------------------------- metrics

describe('memoryBankWithMetrics', () => {
  const read = (v: Matrix, indices: Int32Array, bank: Matrix, opts: MemoryBankOptions) =>
    tf.tidy(() => {
      const out = memoryBankWithMetrics(tf.tensor2d(v), indices, tf.tensor2d(bank), opts);
      return {
        loss: out.loss.arraySync(),
        positiveRank: out.positiveRank.arraySync(),
        positiveSimilarity: out.positiveSimilarity.arraySync(),
        shapes: [out.loss.shape, out.positiveRank.shape, out.positiveSimilarity.shape],
      };
    });

  it('loss and metrics match the float64 reference', () => {
    let seed = 400;
    for (const b of [1, 3, 8]) {
      for (const d of [2, 5, 16]) {
        for (const n of [4, 17]) {
          // Noisier v than randomInputs' so that ranks other than 0 occur.
          const rng = createRng(seed++);
          const bank = unitRows(randomMatrix(rng, n, d));
          const indices = Int32Array.from({ length: b }, () => Math.floor(rng() * n));
          const v = randomMatrix(rng, b, d);
          const opts = { temperature: 0.2 };
          const label = `B=${b} d=${d} n=${n}`;
          const out = read(v, indices, bank, opts);
          const expected = memoryBankReferenceMetrics(v, indices, bank);
          expect(out.shapes).toEqual([[], [], []]);
          expect(out.loss, `${label} loss is the memoryBankLoss code path`).toBe(tfLoss(v, indices, bank, opts));
          expect(out.positiveRank, `${label} positiveRank`).toBeCloseTo(expected.positiveRank, 5);
          expect(Math.abs(out.positiveSimilarity - expected.positiveSimilarity), `${label} positiveSimilarity`).toBeLessThan(1e-5);
        }
      }
    }
  });

  it('positiveRank is 0 and positiveSimilarity 1 when v is its own bank entry (scaled)', () => {
    const rng = createRng(450);
    const bank = unitRows(randomMatrix(rng, 17, 16));
    const indices = Int32Array.from([0, 5, 16, 5]);
    const v = Array.from(indices, (index) => bank[index].map((x) => 3 * x));
    const out = read(v, indices, bank, { temperature: 0.07 });
    expect(out.positiveRank).toBe(0);
    expect(out.positiveSimilarity).toBeCloseTo(1, 5);
    // v = −entry: the positive is the least similar of all n entries.
    const negated = v.map((r) => r.map((x) => -x));
    const worst = read(negated, indices, bank, { temperature: 0.07 });
    expect(worst.positiveRank).toBe(16);
    expect(worst.positiveSimilarity).toBeCloseTo(-1, 5);
  });

  it('by hand: ranks 0, 1 and 2 average to 1; ties count against the positive', () => {
    // v = e₀; similarities to the bank [e₀, (e₀+e₁)/√2, e₁] are 1, 0.707, 0.
    const s = Math.SQRT1_2;
    const bank = [[1, 0], [s, s], [0, 1]];
    const v = [[1, 0], [1, 0], [1, 0]];
    const out = read(v, Int32Array.from([0, 1, 2]), bank, { temperature: 0.5 });
    expect(out.positiveRank).toBeCloseTo(1, 6); // (0 + 1 + 2) / 3
    expect(out.positiveSimilarity).toBeCloseTo((1 + s + 0) / 3, 6);
    // A bank of equal entries: every other entry ties with the positive → rank n − 1.
    const equal = read([[0.3, 0.4]], Int32Array.from([2]), [[1, 0], [1, 0], [1, 0], [1, 0]], { temperature: 0.5 });
    expect(equal.positiveRank).toBe(3);
    expect(equal.loss).toBeCloseTo(Math.log(4), 5);
  });

  it('its loss is differentiable and gives the same gradients as memoryBankLoss', () => {
    const { v, indices, bank } = randomInputs(470, 4, 6, 9);
    const opts = { temperature: 0.2 };
    const expected = tfGradients(v, indices, bank, opts);
    const actual = lossGradients((a, b) => memoryBankWithMetrics(a, indices, b, opts).loss, [v, bank]);
    expect(actual).toEqual(expected);
  });
});

// ---------------------------------------------------------------- validation

describe('input validation', () => {
  const opts = { temperature: 0.2 };
  const both = [memoryBankLoss, memoryBankWithMetrics] as const;
  const idx = (...values: number[]) => Int32Array.from(values);

  it('throws for wrong ranks and mismatched or empty shapes', () => {
    for (const fn of both) {
      tf.tidy(() => {
        expect(() => fn(tf.zeros([2, 8, 1]) as unknown as tf.Tensor2D, idx(0, 1), tf.zeros([5, 8]), opts)).toThrow(/rank-2/);
        expect(() => fn(tf.zeros([2, 8]), idx(0, 1), tf.zeros([8]) as unknown as tf.Tensor2D, opts)).toThrow(/rank-2/);
        expect(() => fn(tf.zeros([2, 8]), idx(0, 1), tf.zeros([5, 7]), opts)).toThrow(/d = 8/);
        expect(() => fn(tf.zeros([0, 8]), idx(), tf.zeros([5, 8]), opts)).toThrow(/B ≥ 1/);
        expect(() => fn(tf.zeros([2, 8]), idx(0, 1), tf.zeros([0, 8]), opts)).toThrow(/bank is empty/);
      });
    }
  });

  it('throws for indices of the wrong length, out of range or not integers', () => {
    for (const fn of both) {
      tf.tidy(() => {
        const v = tf.ones([2, 3]) as tf.Tensor2D;
        const bank = tf.ones([5, 3]) as tf.Tensor2D;
        expect(() => fn(v, idx(0), bank, opts)).toThrow(/one bank index per row of v \(2\), got 1/);
        expect(() => fn(v, idx(0, 1, 2), bank, opts)).toThrow(/got 3 indices/);
        expect(() => fn(v, idx(0, 5), bank, opts)).toThrow(/indices\[1\] = 5 .*\[0, 4\]/);
        expect(() => fn(v, idx(-1, 0), bank, opts)).toThrow(/indices\[0\] = -1/);
        const fractional = [0, 0.5] as unknown as Int32Array; // a caller bypassing the types
        expect(() => fn(v, fractional, bank, opts)).toThrow(/indices\[1\] = 0.5 .*integers/);
      });
    }
  });

  it('throws when temperature ≤ 0 or not finite', () => {
    for (const fn of both) {
      for (const temperature of [0, -0.1, NaN, Infinity]) {
        tf.tidy(() => {
          expect(() => fn(tf.ones([2, 3]), idx(0, 1), tf.ones([4, 3]), { temperature })).toThrow(/temperature/);
        });
      }
    }
  });
});

// ---------------------------------------------------------------- memory

describe('tensor bookkeeping', () => {
  it('memoryBankLoss leaves only its loss; memoryBankWithMetrics exactly its three scalars', () => {
    const v = tf.randomNormal([8, 6], 0, 1, 'float32', 1) as tf.Tensor2D;
    const bank = tf.randomNormal([17, 6], 0, 1, 'float32', 2) as tf.Tensor2D;
    const indices = Int32Array.from([0, 1, 2, 3, 16, 15, 14, 0]);
    const opts = { temperature: 0.2 };
    expectTensorsLeft(0, () => expectTensorsLeft(1, () => memoryBankLoss(v, indices, bank, opts)).dispose());
    expectTensorsLeft(0, () => {
      const out = expectTensorsLeft(3, () => memoryBankWithMetrics(v, indices, bank, opts));
      tf.dispose([out.loss, out.positiveRank, out.positiveSimilarity]);
    });
    tf.dispose([v, bank]);
  });

  it('gradients leave only the two returned tensors; validation errors leak nothing', () => {
    const v = tf.randomNormal([4, 3], 0, 1, 'float32', 3) as tf.Tensor2D;
    const bank = tf.randomNormal([5, 3], 0, 1, 'float32', 4) as tf.Tensor2D;
    const indices = Int32Array.from([4, 3, 2, 1]);
    const gradients = () => gradientsAt(memoryBankOf(indices, { temperature: 0.2 }), [v, bank]);
    expectTensorsLeft(0, () => tf.dispose(expectTensorsLeft(2, gradients)));
    expectTensorsLeft(0, () => {
      expect(() => memoryBankWithMetrics(v, Int32Array.from([9, 0, 0, 0]), bank, { temperature: 0.2 })).toThrow();
      expect(() => memoryBankLoss(v, indices, bank, { temperature: 0 })).toThrow();
    });
    tf.dispose([v, bank]);
  });
});
