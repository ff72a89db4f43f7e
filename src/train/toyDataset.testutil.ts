/**
 * Test fixtures shared by the trainer and walkthrough tests (Node, cpu backend).
 */
import { createRng } from '../core/random';
import type { ImageDataset, ImageSplit } from '../data/dataset';
import { DEFAULT_CONFIG, type ExperimentConfig } from '../core/config';

export const SIZE = 12;

/** A config small enough for the cpu backend in Node: 12 px views, width-4 encoder, z of 16, N = 16. */
export const TOY_CONFIG: ExperimentConfig = {
  ...DEFAULT_CONFIG,
  imageSize: SIZE,
  encoderWidth: 4,
  projectionDim: 16,
  batchSize: 16,
};

/**
 * Four classes of 12×12 grayscale images: a bright bar (horizontal or
 * vertical) or a blob (top-left or bottom-right) on noise. Small enough for
 * the cpu backend, structured enough for a probe to read.
 */
export function toyDataset(trainCount: number, testCount: number, seed = 7): ImageDataset {
  const rng = createRng(seed);
  const makeSplit = (count: number): ImageSplit => {
    const images = new Uint8Array(count * SIZE * SIZE);
    const labels = new Int32Array(count);
    for (let n = 0; n < count; n++) {
      const label = n % 4;
      labels[n] = label;
      const offset = 2 + Math.floor(rng() * 6);
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          let v = rng() * 60;
          if (label === 0 && y >= offset && y < offset + 3) v = 230;
          if (label === 1 && x >= offset && x < offset + 3) v = 230;
          if (label === 2 && x < 6 && y < 6) v = 200;
          if (label === 3 && x >= 6 && y >= 6) v = 200;
          images[n * SIZE * SIZE + y * SIZE + x] = v;
        }
      }
    }
    return { images, labels, count };
  };
  return {
    id: 'toy', name: 'toy', imageSize: SIZE, channels: 1,
    classNames: ['horizontal', 'vertical', 'top-left', 'bottom-right'],
    train: makeSplit(trainCount), test: makeSplit(testCount),
  };
}
