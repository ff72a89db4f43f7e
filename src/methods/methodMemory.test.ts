/**
 * The memory estimate (src/model/memoryEstimate.ts) against the methods as
 * built: the trained variables a method adds to f and g are what the
 * estimate counts for it (× 4: the weights, their gradients and Adam's two
 * moments), so that a configuration is refused by what it really holds.
 */
import { describe, expect, it } from 'vitest';
import type { MethodId } from '../core/methods';
import { estimateTrainingMemory, parameterCount } from '../model/memoryEstimate';
import { toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import { methodConfig } from './methodHarness.testutil';

describe('the memory estimate of the families’ methods', () => {
  const cases: [MethodId, boolean][] = [['pirl', false], ['cmc', true], ['cpc', false], ['autoencoder', false], ['deepcluster', false], ['simclr', false]];
  for (const [method, colour] of cases) {
    it(`${method}: counts the trained variables it adds to f and g`, () => {
      const dataset = toyDataset(64, 16, 7, colour);
      const config = methodConfig(method, { imageSize: 20 });
      const trainer = new Trainer(dataset, config);
      try {
        const network = new Set(trainer.model.allVariables.map((v) => v.name));
        const own = trainer.method.trainableVariables.filter((v) => !network.has(v.name)).reduce((sum, v) => sum + v.size, 0);
        const estimate = estimateTrainingMemory(config, { trainCount: dataset.train.count, imageSize: dataset.imageSize, channels: dataset.channels });
        const base = parameterCount(trainer.model.config.channels, config.encoderWidth, config.projectionHead, config.projectionDim);
        expect(estimate.parts.parameters / 16 - base).toBe(own);
      } finally {
        trainer.dispose();
      }
    });
  }

  it('counts DeepCluster’s h of every training image, PIRL’s bank and CPC’s score matrix', () => {
    const fashion = { trainCount: 10000, imageSize: 28, channels: 1 };
    const sizing = (method: MethodId) => estimateTrainingMemory(methodConfig(method, { batchSize: 256, imageSize: 28, encoderWidth: 32, projectionDim: 128 }), fashion);
    // h = 256 dimensions (8w) of all 10,000 images, the whitened fit sample of 4,096, and a label each
    expect(sizing('deepcluster').parts.methodState).toBe(4 * (10000 * 256 + 4096 * 256 + 10000));
    expect(sizing('pirl').parts.methodState).toBe(4 * 10000 * 128);
    // CPC at N = 256: 24N predictions against 16N codes, three copies, beyond SimCLR's 2N × 2N
    const extra = sizing('cpc').parts.activations - sizing('simclr').parts.activations;
    expect(extra).toBeGreaterThan(4 * 3 * 24 * 256 * 16 * 256);
  });
});
