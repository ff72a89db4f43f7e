import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_FUSED_DIM, ntXentFused, ntXentFusedWithMetrics } from './ntxent-fused';

// The fused kernels are WGSL: their numbers are checked in a browser with WebGPU
// (e2e/fused-loss.spec.ts via checks.html). Here, on Node's cpu backend, what a
// caller sees when the backend or the inputs do not fit.
describe('ntXentFused outside WebGPU', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('refuses a backend other than webgpu with a clear message, leaking nothing', () => {
    const before = tf.memory().numTensors;
    const z1 = tf.randomNormal([4, 8]) as tf.Tensor2D;
    const z2 = tf.randomNormal([4, 8]) as tf.Tensor2D;
    expect(() => ntXentFused(z1, z2, { temperature: 0.5, normalize: true })).toThrow(
      /needs the webgpu backend; the active backend is cpu\. Use ntXent/,
    );
    tf.dispose([z1, z2]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('validates shapes, width and temperature before looking at the backend', () => {
    const a = tf.zeros([4, 8]) as tf.Tensor2D;
    const b = tf.zeros([3, 8]) as tf.Tensor2D;
    const wide = tf.zeros([2, MAX_FUSED_DIM + 1]) as tf.Tensor2D;
    expect(() => ntXentFused(a, b, { temperature: 0.5, normalize: true })).toThrow(/same shape/);
    expect(() => ntXentFused(wide, wide, { temperature: 0.5, normalize: true })).toThrow(/d ≤ 512, got d = 513/);
    expect(() => ntXentFusedWithMetrics(a, a, { temperature: 0, normalize: true })).toThrow(/temperature must be finite and > 0/);
    expect(() => ntXentFused(a, a, { temperature: Number.NaN, normalize: false })).toThrow(/temperature/);
    tf.dispose([a, b, wide]);
  });
});
