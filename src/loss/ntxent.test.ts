import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, normal, type Rng } from '../core/random';
import { ntXent, ntXentWithMetrics, type NtXentOptions } from './ntxent';
import { ntXentReference, ntXentReferenceGradient, referenceMetrics } from './ntxentReference';
import { expectAllClose } from './lossCheck.testutil';

await tf.setBackend('cpu');

// ---------------------------------------------------------------- helpers

type Matrix = number[][];

function randomMatrix(rng: Rng, rows: number, cols: number, scale = 1): Matrix {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => scale * normal(rng)));
}

/** A random pair of views: z2 = z1 + noise, so positives are correlated as in training. */
function randomViews(seed: number, n: number, d: number, scale = 1): [Matrix, Matrix] {
  const rng = createRng(seed);
  const z1 = randomMatrix(rng, n, d, scale);
  const noise = randomMatrix(rng, n, d, 0.7 * scale);
  const z2 = z1.map((row, i) => row.map((v, c) => v + noise[i][c]));
  return [z1, z2];
}

/** ntXent on tfjs tensors built from plain arrays; returns the float32 value as a number. */
function tfLoss(z1: Matrix, z2: Matrix, opts: NtXentOptions): number {
  return tf.tidy(() => ntXent(tf.tensor2d(z1), tf.tensor2d(z2), opts).arraySync());
}

/** ∂L/∂z1, ∂L/∂z2 from tf.grads. */
function tfGradients(z1: Matrix, z2: Matrix, opts: NtXentOptions): { dz1: Matrix; dz2: Matrix } {
  return tf.tidy(() => {
    const gradOf = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      ntXent(a as tf.Tensor2D, b as tf.Tensor2D, opts),
    );
    const [dz1, dz2] = gradOf([tf.tensor2d(z1), tf.tensor2d(z2)]);
    return { dz1: dz1.arraySync() as Matrix, dz2: dz2.arraySync() as Matrix };
  });
}

function maxAbs(values: number[]): number {
  return values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}


const flat = (m: Matrix): number[] => m.flat();

// ---------------------------------------------------------------- loss vs reference

describe('ntXent vs the float64 reference', () => {
  const batchSizes = [1, 2, 4, 16, 64];
  const dims = [2, 8, 128];
  const temperatures = [0.05, 0.1, 0.5, 1];

  for (const normalize of [true, false]) {
    for (const temperature of temperatures) {
      it(`matches for N ∈ {${batchSizes}}, d ∈ {${dims}}, τ = ${temperature}, normalize = ${normalize}`, () => {
        let seed = 1000;
        for (const n of batchSizes) {
          for (const d of dims) {
            // Unnormalized: scale rows to norm ≈ 1 so s/τ stays in a range a
            // projection head would produce (large z is tested separately).
            const [z1, z2] = randomViews(seed++, n, d, normalize ? 1 : 1 / Math.sqrt(d));
            const opts = { temperature, normalize };
            const expected = ntXentReference(z1, z2, opts);
            const actual = tfLoss(z1, z2, opts);
            expect(Number.isFinite(expected)).toBe(true);
            // float32: relative 1e-4, with an absolute floor for losses near 0
            // (N = 1 has no negatives, so L = 0 exactly).
            expect(
              Math.abs(actual - expected),
              `N=${n} d=${d} τ=${temperature} normalize=${normalize}: ${actual} vs ${expected}`,
            ).toBeLessThanOrEqual(1e-4 * Math.abs(expected) + 1e-5);
          }
        }
      });
    }
  }

  it('is exactly 0 for N = 1 (the only j ≠ i is the positive)', () => {
    const [z1, z2] = randomViews(7, 1, 8);
    expect(ntXentReference(z1, z2, { temperature: 0.1, normalize: true })).toBeCloseTo(0, 12);
    expect(tfLoss(z1, z2, { temperature: 0.1, normalize: true })).toBeCloseTo(0, 6);
  });

  it('excludes the diagonal exactly, even when every other logit is hugely negative', () => {
    // N = 1, normalize off, z2 = −z1: the only j ≠ i is the positive, with
    // s = −1e10 and s/τ = −1e13, so L = 0 exactly. A finite mask such as
    // s_ii := −1e9 (logit −1e12) would win the log-sum-exp and give L ≈ 1e13.
    const opts = { temperature: 1e-3, normalize: false };
    expect(tfLoss([[1e5, 0]], [[-1e5, 0]], opts)).toBe(0);
    // N = 2 with every off-diagonal similarity ≈ ±1e10: finite and equal to the reference.
    const z1 = [[1e5, 0], [-1e5, 1]];
    const z2 = [[-1e5, 2], [1e5, 3]];
    const expected = ntXentReference(z1, z2, opts);
    expect(Math.abs(tfLoss(z1, z2, opts) - expected)).toBeLessThanOrEqual(1e-4 * Math.abs(expected) + 1e-5);
  });

  it('is unchanged by swapping the two views (symmetric in z1, z2)', () => {
    const [z1, z2] = randomViews(8, 8, 16);
    const opts = { temperature: 0.2, normalize: true };
    expect(tfLoss(z2, z1, opts)).toBeCloseTo(tfLoss(z1, z2, opts), 5);
  });
});

// ---------------------------------------------------------------- gradients

describe('gradients', () => {
  it('the analytic float64 gradient matches central finite differences of the float64 loss', () => {
    const configs = [
      { n: 1, d: 3 },
      { n: 2, d: 3 },
      { n: 3, d: 5 },
      { n: 4, d: 8 },
    ];
    let seed = 2000;
    for (const { n, d } of configs) {
      for (const normalize of [true, false]) {
        for (const temperature of [0.1, 0.5, 1]) {
          const [z1, z2] = randomViews(seed++, n, d, normalize ? 1 : 1 / Math.sqrt(d));
          const opts = { temperature, normalize };
          const { dz1, dz2 } = ntXentReferenceGradient(z1, z2, opts);

          const h = 1e-5;
          const numeric: number[] = [];
          for (const [which, z] of [[0, z1] as const, [1, z2] as const]) {
            for (let r = 0; r < n; r++) {
              for (let c = 0; c < d; c++) {
                const perturbed = (delta: number): number => {
                  const copy = z.map((row) => row.slice());
                  copy[r][c] += delta;
                  return which === 0
                    ? ntXentReference(copy, z2, opts)
                    : ntXentReference(z1, copy, opts);
                };
                numeric.push((perturbed(h) - perturbed(-h)) / (2 * h));
              }
            }
          }
          const analytic = [...flat(dz1), ...flat(dz2)];
          // float64: truncation O(h²) and rounding O(ε/h) are both ~1e-10.
          expectAllClose(
            analytic,
            numeric,
            { rtol: 1e-6, atol: 1e-8 * Math.max(1, maxAbs(numeric)) },
            `finite differences N=${n} d=${d} τ=${temperature} normalize=${normalize}`,
          );
        }
      }
    }
  });

  it('tf.grads matches the analytic float64 gradient', () => {
    const configs = [
      { n: 1, d: 4 },
      { n: 2, d: 2 },
      { n: 4, d: 8 },
      { n: 16, d: 8 },
      { n: 16, d: 128 },
      { n: 64, d: 32 },
    ];
    let seed = 3000;
    for (const { n, d } of configs) {
      for (const normalize of [true, false]) {
        for (const temperature of [0.05, 0.1, 0.5, 1]) {
          const [z1, z2] = randomViews(seed++, n, d, normalize ? 1 : 1 / Math.sqrt(d));
          const opts = { temperature, normalize };
          const expected = ntXentReferenceGradient(z1, z2, opts);
          const actual = tfGradients(z1, z2, opts);
          const expectedFlat = [...flat(expected.dz1), ...flat(expected.dz2)];
          const actualFlat = [...flat(actual.dz1), ...flat(actual.dz2)];
          // float32: relative 1e-3 per element plus 1e-4 of the largest
          // component (components near 0 carry the absolute rounding error).
          expectAllClose(
            actualFlat,
            expectedFlat,
            { rtol: 1e-3, atol: 1e-4 * maxAbs(expectedFlat) + 1e-7 },
            `tf.grads N=${n} d=${d} τ=${temperature} normalize=${normalize}`,
          );
        }
      }
    }
  });

  it('tf.variableGrads through ntXent gives the same gradient (optimizer path)', () => {
    const [z1, z2] = randomViews(3100, 8, 16);
    const opts = { temperature: 0.1, normalize: true };
    const expected = ntXentReferenceGradient(z1, z2, opts);
    const v1 = tf.variable(tf.tensor2d(z1));
    const v2 = tf.variable(tf.tensor2d(z2));
    const { value, grads } = tf.variableGrads(() => ntXent(v1, v2, opts));
    expect(value.arraySync()).toBeCloseTo(ntXentReference(z1, z2, opts), 4);
    const g1 = grads[v1.name].arraySync() as Matrix;
    const g2 = grads[v2.name].arraySync() as Matrix;
    const expectedFlat = [...flat(expected.dz1), ...flat(expected.dz2)];
    expectAllClose(
      [...flat(g1), ...flat(g2)],
      expectedFlat,
      { rtol: 1e-3, atol: 1e-4 * maxAbs(expectedFlat) },
      'variableGrads',
    );
    tf.dispose([value, v1, v2, ...Object.values(grads)]);
  });

  it('a zero row with normalize on gives a finite loss and the clamped gradient g/1e-12', () => {
    const [z1, z2] = randomViews(3200, 4, 6);
    z1[2] = z1[2].map(() => 0);
    const opts = { temperature: 0.5, normalize: true };
    const loss = tfLoss(z1, z2, opts);
    expect(loss).toBeCloseTo(ntXentReference(z1, z2, opts), 4);
    const actual = tfGradients(z1, z2, opts);
    const expected = ntXentReferenceGradient(z1, z2, opts);
    const actualFlat = [...flat(actual.dz1), ...flat(actual.dz2)];
    const expectedFlat = [...flat(expected.dz1), ...flat(expected.dz2)];
    expect(actualFlat.every(Number.isFinite)).toBe(true);
    // The zero row's gradient is huge (‖g‖/1e-12) but finite; the others are O(1).
    expect(maxAbs(flat(actual.dz1).slice(2 * 6, 3 * 6))).toBeGreaterThan(1e9);
    expectAllClose(actualFlat, expectedFlat, { rtol: 1e-3, atol: 1e-4 }, 'zero-row gradient');
  });
});

// ---------------------------------------------------------------- analytic values

describe('analytic cases', () => {
  it('all 2N embeddings identical → log(2N − 1) (normalize on, any direction and length)', () => {
    for (const n of [1, 2, 4, 16]) {
      const rng = createRng(4000 + n);
      const v = randomMatrix(rng, 1, 8, 3)[0];
      const z = Array.from({ length: n }, () => v.slice());
      for (const temperature of [0.1, 0.5, 1]) {
        const expected = Math.log(2 * n - 1);
        const opts = { temperature, normalize: true };
        expect(ntXentReference(z, z, opts)).toBeCloseTo(expected, 12);
        expect(tfLoss(z, z, opts)).toBeCloseTo(expected, 5);
      }
    }
  });

  it('all 2N embeddings identical unit vectors → log(2N − 1) with normalize off', () => {
    const unit = [0.6, 0, -0.8, 0];
    for (const n of [1, 2, 4, 16]) {
      const z = Array.from({ length: n }, () => unit.slice());
      for (const temperature of [0.1, 1]) {
        const opts = { temperature, normalize: false };
        expect(tfLoss(z, z, opts)).toBeCloseTo(Math.log(2 * n - 1), 5);
      }
    }
    // By hand: N = 4 → log 7 = 1.9459101...
    expect(tfLoss([[1, 0], [1, 0], [1, 0], [1, 0]], [[1, 0], [1, 0], [1, 0], [1, 0]], {
      temperature: 0.3,
      normalize: false,
    })).toBeCloseTo(1.9459101, 5);
  });

  it('positives identical and orthogonal to all negatives → −log(e^{1/τ} / (e^{1/τ} + 2N − 2))', () => {
    // Rows c_k·e_k (distinct lengths c_k): after normalization s_{i,pos} = 1
    // and s_{i,j} = 0 for every negative, so each of the 2N anchors has the
    // same ℓ = −log(e^{1/τ} / (e^{1/τ} + (2N−2)·e^0)).
    const orthogonalViews = (n: number, d: number): Matrix =>
      Array.from({ length: n }, (_, k) =>
        Array.from({ length: d }, (_, c) => (c === k ? 1 + 0.5 * k : 0)),
      );

    // By hand, N = 4, τ = 0.5: e^2 = 7.389056099; 7.389056099 / (7.389056099 + 6)
    // = 0.551878; −log(0.551878) = 0.594437664.
    const z = orthogonalViews(4, 6);
    expect(tfLoss(z, z, { temperature: 0.5, normalize: true })).toBeCloseTo(0.594437664, 5);

    for (const n of [1, 2, 4, 16]) {
      for (const temperature of [0.05, 0.1, 0.5, 1]) {
        const expected = -Math.log(
          Math.exp(1 / temperature) / (Math.exp(1 / temperature) + (2 * n - 2) * Math.exp(0)),
        );
        const views = orthogonalViews(n, n + 2);
        const opts = { temperature, normalize: true };
        expect(ntXentReference(views, views, opts)).toBeCloseTo(expected, 12);
        const actual = tfLoss(views, views, opts);
        expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-4 * expected + 1e-6);
      }
    }
  });
});

// ---------------------------------------------------------------- stability

describe('numerical stability', () => {
  const allFinite = (g: { dz1: Matrix; dz2: Matrix }): boolean =>
    [...flat(g.dz1), ...flat(g.dz2)].every(Number.isFinite);

  it('τ = 0.01 with normalize on: finite loss and gradients that match the reference', () => {
    for (const [n, d, scale] of [
      [16, 8, 1],
      [64, 128, 1],
      [32, 16, 1e-6],
    ] as const) {
      const [z1, z2] = randomViews(5000 + n, n, d, scale);
      const opts = { temperature: 0.01, normalize: true };
      const expected = ntXentReference(z1, z2, opts);
      const loss = tfLoss(z1, z2, opts);
      expect(Number.isFinite(loss)).toBe(true);
      // logits reach ±100, so float32 cosine rounding (~1e-7) is amplified 100×.
      expect(Math.abs(loss - expected)).toBeLessThanOrEqual(1e-3 * Math.abs(expected) + 1e-3);
      expect(allFinite(tfGradients(z1, z2, opts))).toBe(true);
    }
  });

  it('normalize on is finite even for huge or tiny z', () => {
    const opts = { temperature: 0.01, normalize: true };
    for (const scale of [1e-20, 1e-8, 1e8, 1e15]) {
      const [z1, z2] = randomViews(5100, 8, 16, scale);
      const loss = tfLoss(z1, z2, opts);
      expect(Number.isFinite(loss), `scale ${scale}`).toBe(true);
      expect(allFinite(tfGradients(z1, z2, opts)), `scale ${scale}`).toBe(true);
    }
    // Beyond |z| ≈ 1.8e19, ‖z‖² overflows float32; rsqrt(Inf) = 0 collapses
    // every row to 0, so the loss stays finite but reads chance, log(2N − 1).
    const [h1, h2] = randomViews(5102, 8, 16, 1e20);
    expect(tfLoss(h1, h2, opts)).toBeCloseTo(Math.log(15), 4);
    // Cosine is scale invariant: 1e15 gives the same loss as 1.
    const [a1, a2] = randomViews(5101, 8, 16, 1);
    const big = (m: Matrix) => m.map((r) => r.map((v) => v * 1e15));
    expect(tfLoss(big(a1), big(a2), opts)).toBeCloseTo(tfLoss(a1, a2, opts), 2);
  });

  it('normalize off, τ = 0.001: finite (huge) for moderately large z, non-finite once s/τ overflows float32', () => {
    const opts = { temperature: 0.001, normalize: false };

    // z ~ N(0, 10²), d = 128: |s_ij| ~ 1e3–1e4, logits ~ 1e6–1e7, all finite.
    // The max-subtracted log-sum-exp makes each softmax row one-hot, so
    // ℓ(i) = max(0, max_{j≠i} s_ij − s_{i,pos})/τ exactly (up to rounding):
    // correlated views (the positive wins every row) give L = 0 with zero
    // gradients, independent views give L ~ 1e6 with gradients ~ z/(2Nτ).
    const [m1, m2] = randomViews(5200, 16, 128, 10);
    expect(ntXentReference(m1, m2, opts)).toBe(0);
    expect(tfLoss(m1, m2, opts)).toBe(0);

    const rng = createRng(5201);
    const u1 = randomMatrix(rng, 16, 128, 10);
    const u2 = randomMatrix(rng, 16, 128, 10);
    const independent = tfLoss(u1, u2, opts);
    const expected = ntXentReference(u1, u2, opts);
    expect(Number.isFinite(independent)).toBe(true);
    expect(independent).toBeGreaterThan(1e5);
    expect(Math.abs(independent - expected)).toBeLessThanOrEqual(1e-4 * expected);
    const gradients = tfGradients(u1, u2, opts);
    expect(allFinite(gradients)).toBe(true);
    expect(maxAbs([...flat(gradients.dz1), ...flat(gradients.dz2)])).toBeGreaterThan(1e3);

    // Past float32's range (≈3.4e38) it breaks down. Observed on the cpu
    // backend (16×128, independent views): |z| ~ 1e17 → s ~ 1e35, s/τ
    // overflows to +Infinity and L = Infinity (gradients still finite);
    // |z| ~ 1e18 → s itself overflows, Inf − Inf = NaN inside logSumExp, so
    // L and the gradients are NaN. The float64 reference stays finite. The
    // training loop treats a non-finite loss as divergence.
    for (const scale of [1e17, 1e18]) {
      const rngBig = createRng(5202);
      const b1 = randomMatrix(rngBig, 16, 128, scale);
      const b2 = randomMatrix(rngBig, 16, 128, scale);
      expect(Number.isFinite(ntXentReference(b1, b2, opts))).toBe(true);
      expect(Number.isFinite(tfLoss(b1, b2, opts)), `scale ${scale}`).toBe(false);
    }
  });
});

// ---------------------------------------------------------------- metrics

describe('ntXentWithMetrics', () => {
  const read = (z1: Matrix, z2: Matrix, opts: NtXentOptions) =>
    tf.tidy(() => {
      const out = ntXentWithMetrics(tf.tensor2d(z1), tf.tensor2d(z2), opts);
      return {
        loss: out.loss.arraySync(),
        metrics: out.metrics.arraySync(),
        affinity: out.affinityMatrix.arraySync(),
        affinityShape: out.affinityMatrix.shape,
      };
    });

  it('metrics, loss and affinity matrix match the float64 reference', () => {
    let seed = 6000;
    for (const n of [1, 2, 4, 16, 64]) {
      for (const d of [2, 8, 128]) {
        for (const normalize of [true, false]) {
          const [z1, z2] = randomViews(seed++, n, d, normalize ? 2 : 1 / Math.sqrt(d));
          const opts = { temperature: 0.2, normalize };
          const label = `N=${n} d=${d} normalize=${normalize}`;
          const out = read(z1, z2, opts);
          const [posCos, negCos, accuracy] = referenceMetrics(z1, z2, opts);

          expect(out.metrics.length).toBe(3);
          expect(Math.abs(out.metrics[0] - posCos), `${label} meanPositiveCosine`).toBeLessThan(1e-5);
          expect(Math.abs(out.metrics[1] - negCos), `${label} meanNegativeCosine`).toBeLessThan(1e-5);
          expect(out.metrics[2], `${label} contrastiveAccuracy`).toBeCloseTo(accuracy, 6);
          expect(out.metrics[2]).toBeGreaterThanOrEqual(0);
          expect(out.metrics[2]).toBeLessThanOrEqual(1);

          // Same code path as ntXent: bit-identical loss.
          expect(out.loss, label).toBe(tfLoss(z1, z2, opts));

          // Affinity matrix: s as defined by `normalize`, diagonal as computed.
          expect(out.affinityShape).toEqual([2 * n, 2 * n]);
          const z = [...z1, ...z2];
          const unit = (v: number[]) => {
            const norm = Math.hypot(...v);
            return v.map((x) => x / norm);
          };
          const rows = normalize ? z.map(unit) : z;
          const expectedAffinity = rows.map((a) => rows.map((b) => a.reduce((s, x, c) => s + x * b[c], 0)));
          expectAllClose(flat(out.affinity), flat(expectedAffinity), { rtol: 1e-4, atol: 1e-5 }, `${label} affinity`);
        }
      }
    }
  });

  it('meanPositiveCosine is a cosine even with normalize off', () => {
    // Positives are parallel but of different length: cosine 1, dot product 6.
    const z1 = [[1, 0], [0, 2]];
    const z2 = [[3, 0], [0, 3]];
    const out = read(z1, z2, { temperature: 1, normalize: false });
    expect(out.metrics[0]).toBeCloseTo(1, 6);
    expect(out.metrics[1]).toBeCloseTo(0, 6);
    expect(out.affinity[0][2]).toBeCloseTo(3, 6); // z1[0]·z2[0]
    expect(out.affinity[0][0]).toBeCloseTo(1, 6); // ‖z1[0]‖², diagonal left as computed
  });

  it('contrastiveAccuracy = 1 when z2 = z1 for distinct random rows, 0 when z2 = −z1', () => {
    for (const n of [2, 4, 16, 64]) {
      const z1 = randomMatrix(createRng(7000 + n), n, 16);
      const same = read(z1, z1, { temperature: 0.5, normalize: true });
      expect(same.metrics[2], `N=${n}`).toBe(1);
      expect(same.metrics[0]).toBeCloseTo(1, 5);
      const negated = z1.map((r) => r.map((v) => -v));
      const opposite = read(z1, negated, { temperature: 0.5, normalize: true });
      expect(opposite.metrics[2], `N=${n}`).toBe(0);
      expect(opposite.metrics[0]).toBeCloseTo(-1, 5);
    }
  });

  it('meanNegativeCosine is 0 for N = 1 (there are no negatives)', () => {
    const [z1, z2] = randomViews(7100, 1, 4);
    const out = read(z1, z2, { temperature: 0.5, normalize: true });
    expect(out.metrics[1]).toBe(0);
    expect(out.metrics[2]).toBe(1); // the positive is the only candidate
    expect(referenceMetrics(z1, z2, { temperature: 0.5, normalize: true })[1]).toBe(0);
  });

  it('its loss is differentiable and gives the same gradient as ntXent', () => {
    const [z1, z2] = randomViews(7200, 8, 16);
    const opts = { temperature: 0.1, normalize: true };
    const expected = tfGradients(z1, z2, opts);
    const [g1, g2] = tf.tidy(() => {
      const gradOf = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        ntXentWithMetrics(a as tf.Tensor2D, b as tf.Tensor2D, opts).loss,
      );
      return gradOf([tf.tensor2d(z1), tf.tensor2d(z2)]).map((g) => g.arraySync() as Matrix);
    });
    expect(g1).toEqual(expected.dz1);
    expect(g2).toEqual(expected.dz2);
  });
});

// ---------------------------------------------------------------- validation

describe('input validation', () => {
  const opts = { temperature: 0.5, normalize: true };
  const both = [ntXent, ntXentWithMetrics] as const;

  it('throws when z1 and z2 shapes differ', () => {
    for (const fn of both) {
      tf.tidy(() => {
        expect(() => fn(tf.zeros([4, 8]), tf.zeros([3, 8]), opts)).toThrow(/same shape/);
        expect(() => fn(tf.zeros([4, 8]), tf.zeros([4, 7]), opts)).toThrow(/same shape/);
        expect(() =>
          fn(tf.zeros([4, 8, 1]) as unknown as tf.Tensor2D, tf.zeros([4, 8]), opts),
        ).toThrow(/rank-2/);
      });
    }
  });

  it('throws for an empty batch', () => {
    for (const fn of both) {
      tf.tidy(() => {
        expect(() => fn(tf.zeros([0, 8]), tf.zeros([0, 8]), opts)).toThrow(/N ≥ 1/);
      });
    }
  });

  it('throws when temperature ≤ 0 or not finite', () => {
    for (const fn of both) {
      for (const temperature of [0, -0.1, NaN, Infinity]) {
        tf.tidy(() => {
          expect(() => fn(tf.ones([2, 3]), tf.ones([2, 3]), { temperature, normalize: true })).toThrow(
            /temperature/,
          );
        });
      }
    }
  });
});

// ---------------------------------------------------------------- memory

describe('tensor bookkeeping', () => {
  it('ntXent leaves no tensors behind', () => {
    const z1 = tf.randomNormal([16, 8], 0, 1, 'float32', 1) as tf.Tensor2D;
    const z2 = tf.randomNormal([16, 8], 0, 1, 'float32', 2) as tf.Tensor2D;
    for (const normalize of [true, false]) {
      const before = tf.memory().numTensors;
      const loss = ntXent(z1, z2, { temperature: 0.1, normalize });
      expect(tf.memory().numTensors).toBe(before + 1);
      loss.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
    tf.dispose([z1, z2]);
  });

  it('ntXentWithMetrics leaves exactly its three outputs, and nothing once they are disposed', () => {
    const z1 = tf.randomNormal([16, 8], 0, 1, 'float32', 3) as tf.Tensor2D;
    const z2 = tf.randomNormal([16, 8], 0, 1, 'float32', 4) as tf.Tensor2D;
    for (const normalize of [true, false]) {
      const before = tf.memory().numTensors;
      const { loss, metrics, affinityMatrix } = ntXentWithMetrics(z1, z2, { temperature: 0.1, normalize });
      expect(tf.memory().numTensors).toBe(before + 3);
      tf.dispose([loss, metrics, affinityMatrix]);
      expect(tf.memory().numTensors).toBe(before);
    }
    tf.dispose([z1, z2]);
  });

  it('gradient computation leaves only the returned gradients', () => {
    const z1 = tf.randomNormal([8, 4], 0, 1, 'float32', 5) as tf.Tensor2D;
    const z2 = tf.randomNormal([8, 4], 0, 1, 'float32', 6) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      ntXent(a as tf.Tensor2D, b as tf.Tensor2D, { temperature: 0.1, normalize: true }),
    )([z1, z2]);
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([z1, z2]);
  });

  it('validation errors leak nothing', () => {
    const z1 = tf.zeros([4, 8]) as tf.Tensor2D;
    const z2 = tf.zeros([3, 8]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    expect(() => ntXentWithMetrics(z1, z2, { temperature: 0.1, normalize: true })).toThrow();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([z1, z2]);
  });
});
