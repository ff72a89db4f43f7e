import * as tf from '@tensorflow/tfjs';
import type { ImageSplit } from '../data/dataset';
import { augmentViews } from './augmentViews';
import type { AugmentPipeline } from '../core/pipeline';
import { createRng } from '../core/random';

/** Originals and their two views, as plain arrays for the previewer. */
export interface PreviewResult {
  count: number;
  sourceSize: number;
  outputSize: number;
  channels: 1 | 3;
  /** count × sourceSize² × channels, HWC uint8 */
  originals: Uint8Array;
  /** count × outputSize² × channels, HWC float in [0, 1]: t(x) */
  views1: Float32Array;
  /** the same for t′(x) */
  views2: Float32Array;
  labels: number[];
  indices: number[];
  ms: number;
}

/**
 * t(x) and t′(x) for a few images of a split, through `augmentViews`: the
 * same function the training step calls, so the previewer shows exactly what
 * trains. The views come from one rng seeded with `seed`, first views then
 * second views, as in a training step.
 */
export async function renderPreview(
  split: ImageSplit,
  sourceSize: number,
  channels: 1 | 3,
  indices: number[],
  pipeline: AugmentPipeline,
  outputSize: number,
  seed: number,
): Promise<PreviewResult> {
  const started = performance.now();
  const pixels = sourceSize * sourceSize * channels;
  const originals = new Uint8Array(indices.length * pixels);
  indices.forEach((index, k) => originals.set(split.images.subarray(index * pixels, (index + 1) * pixels), k * pixels));
  const rng = createRng(seed);
  const [view1, view2] = tf.tidy(() => {
    const x = tf.div(tf.tensor4d(originals, [indices.length, sourceSize, sourceSize, channels], 'int32'), 255) as tf.Tensor4D;
    return [augmentViews(x, rng, pipeline, outputSize), augmentViews(x, rng, pipeline, outputSize)];
  });
  try {
    const [views1, views2] = await Promise.all([view1.data() as Promise<Float32Array>, view2.data() as Promise<Float32Array>]);
    return {
      count: indices.length, sourceSize, outputSize, channels, originals, views1, views2,
      labels: indices.map((i) => split.labels[i]),
      indices,
      ms: performance.now() - started,
    };
  } finally {
    view1.dispose();
    view2.dispose();
  }
}
