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

/** The colour of each class's shape in the colour variant: a red bar, a green bar, a blue blob, a yellow blob. */
const PAINT = [[230, 40, 40], [40, 200, 60], [50, 80, 220], [230, 210, 40]];

/**
 * Four classes of 12×12 images: a bright bar (horizontal or vertical) or a
 * blob (top-left or bottom-right) on noise; grayscale, or with `colour` RGB
 * with each class's shape in its own colour (PAINT) on dim colour noise.
 * Small enough for the cpu backend, structured enough for a probe to read.
 */
export function toyDataset(trainCount: number, testCount: number, seed = 7, colour = false): ImageDataset {
  const rng = createRng(seed);
  const channels = colour ? 3 : 1;
  const makeSplit = (count: number): ImageSplit => {
    const images = new Uint8Array(count * SIZE * SIZE * channels);
    const labels = new Int32Array(count);
    for (let n = 0; n < count; n++) {
      const label = n % 4;
      labels[n] = label;
      const offset = 2 + Math.floor(rng() * 6);
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const bar = (label === 0 && y >= offset && y < offset + 3) || (label === 1 && x >= offset && x < offset + 3);
          const blob = (label === 2 && x < 6 && y < 6) || (label === 3 && x >= 6 && y >= 6);
          const at = (n * SIZE * SIZE + y * SIZE + x) * channels;
          for (let c = 0; c < channels; c++) {
            const noise = rng() * 60;
            images[at + c] = !bar && !blob ? noise : colour ? PAINT[label][c] : bar ? 230 : 200;
          }
        }
      }
    }
    return { images, labels, count };
  };
  return {
    id: colour ? 'toy-colour' : 'toy', name: colour ? 'toy colour' : 'toy', imageSize: SIZE, channels,
    classNames: colour ? ['red bar', 'green bar', 'blue blob', 'yellow blob'] : ['horizontal', 'vertical', 'top-left', 'bottom-right'],
    train: makeSplit(trainCount), test: makeSplit(testCount),
  };
}
