/**
 * Every method resumes exactly from a checkpoint (issue 21): its own state
 * (queues, banks, momentum encoders, centroids, counters, random streams) is
 * saved and put back, so the resumed losses are the uninterrupted run's. Here
 * the guard that no method (a new one included) lacks it: one step, save, one
 * step. Method files add longer cases that cross their own events (a queue
 * wrapping, a clustering round) in their own tests.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, it } from 'vitest';
import type { ExperimentConfig } from '../core/config';
import type { MethodId } from '../core/methods';
import { toyDataset } from '../train/toyDataset.testutil';
import { checkResumesExactly, methodConfig } from './methodHarness.testutil';
import { implementedMethods } from './registry';

/** What a method needs of the toy set to train at all: views large enough for a 3×3 grid, colour to predict. */
const SETUPS: Partial<Record<MethodId, { config?: Partial<ExperimentConfig>; colour?: boolean }>> = {
  'relative-patch': { config: { imageSize: 24 } },
  jigsaw: { config: { imageSize: 24 } },
  pirl: { config: { imageSize: 24 } },
  colorization: { colour: true },
  cmc: { colour: true },
  // a PixelCNN's step is dear on the cpu backend
  autoregressive: { config: { batchSize: 8, imageSize: 8 } },
};

await tf.setBackend('cpu');

describe('resuming from a checkpoint', () => {
  for (const method of implementedMethods()) {
    it(`${method}: the losses after resuming are the uninterrupted run’s`, async () => {
      const setup = SETUPS[method] ?? {};
      await checkResumesExactly(methodConfig(method, setup.config), { before: 1, after: 1, dataset: toyDataset(128, 32, 7, setup.colour ?? false) });
    }, 60_000);
  }
});
