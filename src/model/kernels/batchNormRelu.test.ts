import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNormRelu, batchNormStatistics, channelVectors, mergeWorkgroupSize, partialCount } from './batchNormRelu';
import { globalAveragePool, maxPool2x2 } from './pooling';

// The kernels are WGSL: their numbers are checked in a browser with WebGPU
// against stock tfjs on webgpu and on cpu (e2e/normpool-kernels.spec.ts via
// checks.html). Here, on Node's cpu backend, what a caller sees when the
// backend or the inputs do not fit, and the sizes the programs are built from.
describe('batch norm + ReLU and pooling kernels outside WebGPU', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('refuse a backend other than webgpu with a clear message, leaking nothing', () => {
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([2, 4, 4, 8]) as tf.Tensor4D;
    const statistics = tf.zeros([2, 8]) as tf.Tensor2D;
    const gamma = tf.ones([8]) as tf.Tensor1D;
    const beta = tf.zeros([8]) as tf.Tensor1D;
    const needsWebgpu = (caller: string) => new RegExp(`^${caller} runs WGSL compute programs and needs the webgpu backend; the active backend is cpu\\.$`);
    expect(() => batchNormStatistics(x)).toThrow(needsWebgpu('batchNormStatistics'));
    expect(() => batchNormRelu(x, statistics, gamma, beta, 1e-5, true)).toThrow(needsWebgpu('batchNormRelu'));
    expect(() => maxPool2x2(x)).toThrow(needsWebgpu('maxPool2x2'));
    expect(() => globalAveragePool(x)).toThrow(needsWebgpu('globalAveragePool'));
    tf.dispose([x, statistics, gamma, beta]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('name the shapes and dtypes that do not fit, before looking at the backend', () => {
    const before = tf.memory().numTensors;
    const x = tf.zeros([2, 3, 3, 6]) as tf.Tensor4D;
    const flat = tf.zeros([2, 6]) as unknown as tf.Tensor4D;
    const integers = tf.zeros([1, 2, 2, 3], 'int32') as tf.Tensor4D;
    const empty = tf.zeros([0, 2, 2, 3]) as tf.Tensor4D;
    const statistics = tf.zeros([2, 6]) as tf.Tensor2D;
    const gamma = tf.ones([6]) as tf.Tensor1D;
    const beta = tf.zeros([6]) as tf.Tensor1D;
    const short = tf.ones([5]) as tf.Tensor1D;
    const oneRow = tf.zeros([1, 6]) as tf.Tensor2D;

    expect(() => batchNormStatistics(flat)).toThrow('batchNormStatistics: x must be NHWC [batch, height, width, channels], got [2, 6] float32');
    expect(() => batchNormStatistics(integers)).toThrow('batchNormStatistics: x must be float32, got [1, 2, 2, 3] int32');
    expect(() => batchNormStatistics(empty)).toThrow('batchNormStatistics: x is empty, [0, 2, 2, 3] float32');
    expect(() => batchNormRelu(x, oneRow, gamma, beta, 1e-5, true)).toThrow(
      'batchNormRelu: statistics ([mean; variance]) must be [2, 6] float32 for x [2, 3, 3, 6] float32, got [1, 6] float32',
    );
    expect(() => batchNormRelu(x, statistics, short, beta, 1e-5, true)).toThrow('batchNormRelu: gamma must be [6] float32 for x [2, 3, 3, 6] float32, got [5] float32');
    expect(() => batchNormRelu(x, statistics, gamma, short, 1e-5, false)).toThrow('batchNormRelu: beta must be [6] float32 for x [2, 3, 3, 6] float32, got [5] float32');
    expect(() => batchNormRelu(x, statistics, gamma, beta, Number.NaN, true)).toThrow('batchNormRelu: epsilon must be finite and ≥ 0, got NaN');
    expect(() => batchNormRelu(x, statistics, gamma, beta, -1e-5, true)).toThrow(/epsilon must be finite and ≥ 0, got -0\.00001/);
    expect(() => maxPool2x2(flat)).toThrow('maxPool2x2: x must be NHWC [batch, height, width, channels], got [2, 6] float32');
    expect(() => maxPool2x2(integers)).toThrow('maxPool2x2: x must be float32, got [1, 2, 2, 3] int32');
    expect(() => globalAveragePool(empty)).toThrow('globalAveragePool: x is empty, [0, 2, 2, 3] float32');
    tf.dispose([x, flat, integers, empty, statistics, gamma, beta, short, oneRow]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('read channels four to a lane where C is a multiple of 4, one otherwise', () => {
    expect(channelVectors(32)).toEqual({ components: 4, groups: 8, type: 'vec4<f32>' });
    expect(channelVectors(6)).toEqual({ components: 1, groups: 6, type: 'f32' });
    expect(channelVectors(1)).toEqual({ components: 1, groups: 1, type: 'f32' });
  });

  it('split the reduction into partials of at least 32 rows, about 16,384 invocations in all', () => {
    // default config, first block: M = 512·28·28 rows, 32 channels = 8 vec4s
    expect(partialCount(512 * 28 * 28, 8)).toBe(2048);
    // last block at 2N = 128: M = 128·4·4 = 2,048 rows → 64 partials of 32 rows
    expect(partialCount(128 * 4 * 4, 64)).toBe(64);
    expect(partialCount(1, 1)).toBe(1);
    expect(partialCount(31, 3)).toBe(1);
    expect(partialCount(33, 3)).toBe(2);
  });

  it('merge with the fewest invocations (a power of two ≤ 64) that leave each at most 32 partials', () => {
    expect(mergeWorkgroupSize(2048)).toBe(64);
    expect(mergeWorkgroupSize(196)).toBe(8); // 7 × 32 ≥ 196 > 6 × 32, rounded up to 8
    expect(mergeWorkgroupSize(64)).toBe(2);
    expect(mergeWorkgroupSize(32)).toBe(1);
    expect(mergeWorkgroupSize(1)).toBe(1);
  });
});
