import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { conv3x3, conv3x3BackpropFilter, conv3x3BackpropInput, conv3x3Forward, DEFAULT_TILING, filterSplit, tileColumnsFor, tileRowsFor } from './conv3x3';

// The programs are WGSL: their numbers are checked in a browser with WebGPU
// (e2e/conv-kernels.spec.ts via checks.html, against tf.conv2d on webgpu and cpu).
// Here, on Node's cpu backend: what a caller sees when the backend or the shapes
// do not fit, and how the work is tiled and split.
describe('conv3x3 outside WebGPU', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('refuses a backend other than webgpu with a clear message, leaking nothing', () => {
    const before = tf.memory().numTensors;
    const x = tf.zeros([2, 5, 5, 3]) as tf.Tensor4D;
    const kernel = tf.zeros([3, 3, 3, 4]) as tf.Tensor4D;
    const dy = tf.zeros([2, 5, 5, 4]) as tf.Tensor4D;
    expect(() => conv3x3Forward(x, kernel)).toThrow(/conv3x3Forward runs WGSL compute programs and needs the webgpu backend; the active backend is cpu/);
    expect(() => conv3x3BackpropInput(dy, kernel)).toThrow(/conv3x3BackpropInput .*needs the webgpu backend; the active backend is cpu/);
    expect(() => conv3x3BackpropFilter(x, dy)).toThrow(/conv3x3BackpropFilter .*needs the webgpu backend; the active backend is cpu/);
    expect(() => conv3x3(x, kernel)).toThrow(/needs the webgpu backend/);
    tf.dispose([x, kernel, dy]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('validates ranks, the 3×3 kernel, channel counts and dtype before looking at the backend, naming the shapes', () => {
    const before = tf.memory().numTensors;
    const x = tf.zeros([2, 5, 5, 3]) as tf.Tensor4D;
    const kernel = tf.zeros([3, 3, 3, 4]) as tf.Tensor4D;
    const dy = tf.zeros([2, 5, 5, 4]) as tf.Tensor4D;
    const rank3 = tf.zeros([5, 5, 3]) as unknown as tf.Tensor4D;
    const kernel5x5 = tf.zeros([5, 5, 3, 4]) as tf.Tensor4D;
    const kernelFor2 = tf.zeros([3, 3, 2, 4]) as tf.Tensor4D;
    const ints = tf.zeros([2, 5, 5, 3], 'int32') as tf.Tensor4D;
    const dyWrongSize = tf.zeros([2, 4, 5, 4]) as tf.Tensor4D;
    const dyWrongChannels = tf.zeros([2, 5, 5, 6]) as tf.Tensor4D;

    expect(() => conv3x3Forward(rank3, kernel)).toThrow('conv3x3Forward: x must be rank 4 (NHWC or [3, 3, in, out]), got shape [5, 5, 3]');
    expect(() => conv3x3Forward(x, kernel5x5)).toThrow('conv3x3Forward: kernel must be [3, 3, in channels, out channels], got [5, 5, 3, 4]');
    expect(() => conv3x3Forward(x, kernelFor2)).toThrow('conv3x3Forward: x [2, 5, 5, 3] has 3 channels but kernel [3, 3, 2, 4] expects 2');
    expect(() => conv3x3Forward(ints, kernel)).toThrow('conv3x3Forward: x must be float32, got int32 (shape [2, 5, 5, 3])');
    expect(() => conv3x3BackpropInput(dyWrongChannels, kernel)).toThrow(
      'conv3x3BackpropInput: dy [2, 5, 5, 6] has 6 channels but kernel [3, 3, 3, 4] has 4 output channels',
    );
    expect(() => conv3x3BackpropInput(dy, kernel5x5)).toThrow(/conv3x3BackpropInput: kernel must be \[3, 3, in channels, out channels\], got \[5, 5, 3, 4\]/);
    expect(() => conv3x3BackpropFilter(x, dyWrongSize)).toThrow(
      'conv3x3BackpropFilter: x [2, 5, 5, 3] and dy [2, 4, 5, 4] must have the same batch, height and width',
    );
    expect(() => conv3x3BackpropFilter(x, rank3)).toThrow('conv3x3BackpropFilter: dy must be rank 4');
    expect(() => conv3x3(x, kernelFor2)).toThrow(/conv3x3Forward: x \[2, 5, 5, 3\] has 3 channels/);

    tf.dispose([x, kernel, dy, rank3, kernel5x5, kernelFor2, ints, dyWrongSize, dyWrongChannels]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('conv3x3 tiling', () => {
  it('picks tile columns that overhang the image least, and about 16 pixels a tile', () => {
    expect([28, 14, 7, 4, 32, 16, 8, 5, 3, 1].map(tileColumnsFor)).toEqual([7, 7, 7, 4, 8, 8, 8, 5, 3, 1]);
    expect(tileRowsFor(28, 7)).toBe(2);
    expect(tileRowsFor(4, 4)).toBe(4);
    expect(tileRowsFor(1, 1)).toBe(1); // never more rows than the image has
  });

  it('splits the backprop filter reduction into enough runs to fill a GPU, within the partial-buffer bound', () => {
    // first layer at 2N = 256, 28 px: 8 tiles of (4 input × 4 output channels) → 2048 runs wanted, 7168 rows
    const first = filterSplit(256, 28, 1, 32);
    expect(first.splits * 8).toBeGreaterThanOrEqual(DEFAULT_TILING.filterTargetInvocations);
    expect(first.splits * first.rowsPerSplit).toBeGreaterThanOrEqual(256 * 28);
    expect((first.splits - 1) * first.rowsPerSplit).toBeLessThan(256 * 28); // no empty run
    // a wide layer: the partial sums [splits, 9·C·O] stay within 2^22 floats
    const wide = filterSplit(256, 4, 256, 512);
    expect(wide.splits * 9 * 256 * 512).toBeLessThanOrEqual(1 << 22);
    expect(wide.splits).toBeGreaterThanOrEqual(1);
    // never more runs than rows
    expect(filterSplit(1, 1, 1, 1)).toEqual({ splits: 1, rowsPerSplit: 1 });
  });
});
