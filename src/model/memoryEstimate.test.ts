import * as tf from '@tensorflow/tfjs';
await tf.setBackend('cpu');

import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../core/config';
import { EncoderNetwork } from './encoderNetwork';
import { estimateTrainingMemory, formatBytes, memoryRefusal, parameterCount } from './memoryEstimate';

const FASHION = { trainCount: 10000, imageSize: 28, channels: 1 };
const GB = 1e9;

describe('estimateTrainingMemory', () => {
  it('counts the parameters the network really has', () => {
    for (const [channels, width, head, dim] of [[1, 4, 'mlp', 32], [3, 8, 'linear', 64], [1, 2, 'none', 16]] as const) {
      const model = new EncoderNetwork({ channels, encoderWidth: width, projectionHead: head, projectionDim: dim, seed: 1 });
      try {
        expect(parameterCount(channels, width, head, dim)).toBe(model.parameterCount);
      } finally {
        model.dispose();
      }
    }
  });

  it('sizes the largest tensor of batch 512, 64 px, width 64 from the layer shapes: 2.4 GB, which no device buffer holds', () => {
    const config = { ...DEFAULT_CONFIG, batchSize: 512, imageSize: 64, encoderWidth: 64 };
    const estimate = estimateTrainingMemory(config, FASHION);
    // block 2's lowered input: 1024 views × 32 × 32 px × 9·64 values × 4 bytes
    expect(estimate.largestBytes).toBe(1024 * 32 * 32 * 9 * 64 * 4);
    expect(estimate.views).toBe(1024);
    // activations dominate: 1024 views through blocks of 64…512 channels, ~8 copies each
    expect(estimate.totalBytes).toBeGreaterThan(10 * GB);
    const refusal = memoryRefusal(estimate, { maxBufferBytes: 2 ** 30, budgetBytes: 4 * GB, budgetWhy: 'this page may use' });
    expect(refusal).toContain('2.4 GB');
    expect(refusal).toContain('1.1 GB in one buffer');
    expect(refusal).toContain('Lower the batch size');
  });

  it('lets the light setup and the defaults through on a 1 GiB-buffer device, and refuses the defaults on a small budget', () => {
    const limits = { maxBufferBytes: 2 ** 30, budgetBytes: 4 * GB, budgetWhy: 'this page may use' };
    const light = estimateTrainingMemory({ ...DEFAULT_CONFIG, batchSize: 16, imageSize: 16, encoderWidth: 4, projectionDim: 32 }, FASHION);
    expect(light.totalBytes).toBeLessThan(100e6);
    expect(memoryRefusal(light, limits)).toBeNull();
    const defaults = estimateTrainingMemory(DEFAULT_CONFIG, FASHION);
    expect(memoryRefusal(defaults, limits)).toBeNull();
    const refusal = memoryRefusal(defaults, { ...limits, budgetBytes: defaults.totalBytes / 2 });
    expect(refusal).toContain(`about ${formatBytes(defaults.totalBytes)}`);
    expect(refusal).toContain(`${2 * DEFAULT_CONFIG.batchSize} views`);
  });

  it('adds each method’s state: the memory bank one z per training image, MoCo its queue and key encoder', () => {
    const base = { ...DEFAULT_CONFIG, batchSize: 16, imageSize: 16, encoderWidth: 4, projectionDim: 128 };
    const simclr = estimateTrainingMemory({ ...base, method: 'simclr' }, FASHION);
    const bank = estimateTrainingMemory({ ...base, method: 'memory-bank' }, FASHION);
    const moco = estimateTrainingMemory({ ...base, method: 'moco', queueSize: 4096 }, FASHION);
    expect(simclr.parts.methodState).toBe(0);
    // the bench measures 4.88 MiB for the bank at z 128 (bench/results.md): 10,000 × 128 floats
    expect(bank.parts.methodState).toBe(10000 * 128 * 4);
    expect(moco.parts.methodState).toBe((4096 * 128 + parameterCount(1, 4, base.projectionHead, 128)) * 4);
  });

  it('writes sizes as the browser’s task manager does', () => {
    expect(formatBytes(2.4e9)).toBe('2.4 GB');
    expect(formatBytes(340e6)).toBe('340 MB');
    expect(formatBytes(12_000)).toBe('12 kB');
  });
});
