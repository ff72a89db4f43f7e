import { describe, expect, it } from 'vitest';
import { explainFailure, isDeviceLost } from './failure';

describe('explainFailure', () => {
  it('recognises a lost device in the words WebGPU and WebGL use, and offers a new device', () => {
    for (const raw of [
      "Failed to execute 'mapAsync' on 'GPUBuffer': Device is lost",
      'A valid external Instance reference no longer exists.',
      'WebGL context lost.',
      'GPUDevice was lost: destroyed',
    ]) {
      const text = explainFailure(raw, 'training');
      expect(text, raw).toMatch(/^The GPU device was lost/);
      expect(text, raw).toContain('Continue on a new device');
      expect(isDeviceLost(raw), raw).toBe(true);
      expect(text, raw).toContain(raw);
    }
  });

  it('says how to get out of an out-of-memory error', () => {
    expect(explainFailure('Failed to allocate buffer of size 2147483648', 'training')).toMatch(/ran out of memory.*Lower the batch size/);
  });

  it('keeps a message that already says what to do', () => {
    const own = 'The loss became NaN at step 12: τ is too small without normalization. Raise τ or turn normalization on, then press Reset.';
    expect(explainFailure(own, 'training')).toBe(own);
  });

  it('adds where it happened and the next step to a raw exception', () => {
    expect(explainFailure("Cannot read properties of undefined (reading 'shape')", 'evaluation'))
      .toBe("Something failed during an evaluation: Cannot read properties of undefined (reading 'shape'). Training itself is unaffected: press Train to go on, or change the probe settings and try again.");
    expect(explainFailure('', 'dataset')).toMatch(/an unknown error\. Pick another dataset/);
    expect(explainFailure('postMessage failed', 'worker')).toMatch(/^Something failed in the training worker: postMessage failed\. Press “Continue in a new worker”/);
    expect(isDeviceLost('Cannot read properties of undefined')).toBe(false);
  });
});
