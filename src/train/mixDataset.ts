/**
 * Builds one setting of the "real + generated" experiment (issue 19): a real
 * budget X of the training split and |Z| = round(ratio · |X|) images sampled
 * from a generator, mixed into one training set whose evaluation splits stay
 * real (src/data/generatedMix.ts). Runs in the worker, where the generator is.
 */
import { imageBytes, type ImageDataset } from '../data/dataset';
import { assertNoGeneratedInEvaluation, isMixedDataset, mixTrainingSet, realBudget, type MixedDataset } from '../data/generatedMix';
import type { MixRequest } from './protocol';
import { mixSampleSeed, type GeneratorSession } from './generatorSession';

/** The largest |Z|/|X| a setting may ask for: beyond it X is a small minority of every batch. */
export const MAX_MIX_RATIO = 8;
/** Z is held in the worker's memory as uint8 rows (and copied once into the mixed set): at most 256 MB of them. */
export const MAX_GENERATED_BYTES = 256 * 1024 * 1024;

/**
 * X ∪ Z for one setting.
 *
 *   X = realBudget(source.train, realFraction, seed)   (class-balanced, nested across fractions)
 *   |Z| = round(ratio · |X|)
 *   Z = generator.sampleBytes(|Z|, a seed derived from request.seed)
 *
 * The same source, request and generator give the same set (its id included).
 * @throws Error, in the user's words, when the source is already mixed,
 *   realFraction is outside (0, 1], ratio is outside [0, MAX_MIX_RATIO] or not
 *   finite, ratio > 0 comes without a generator, the generator makes images of
 *   another size or channels, or Z would exceed MAX_GENERATED_BYTES
 */
export async function buildMixedDataset(
  source: ImageDataset,
  request: Omit<MixRequest, 'requestId'>,
  generator: GeneratorSession | null,
): Promise<MixedDataset> {
  const { realFraction, ratio, seed } = request;
  if (isMixedDataset(source)) {
    throw new Error(`“${source.name}” already holds generated images; build the mix from the real dataset it came from.`);
  }
  if (!(Number.isFinite(realFraction) && realFraction > 0 && realFraction <= 1)) {
    throw new Error(`The real-data budget must be a share of the training images above 0 and at most 1 (100%), got ${realFraction}. Pick a budget such as 0.1 for 10%.`);
  }
  if (!(Number.isFinite(ratio) && ratio >= 0 && ratio <= MAX_MIX_RATIO)) {
    throw new Error(`The ratio |Z|/|X| must be a number from 0 to ${MAX_MIX_RATIO}, got ${ratio}. Pick 0 for real images only, or a ratio such as 1.`);
  }
  if (ratio > 0) {
    if (!generator) throw new Error(`A ratio |Z|/|X| of ${ratio} needs a generator to sample Z from: train one in the generator panel, or pick a saved one.`);
    const { size, channels } = generator.config;
    if (size !== source.imageSize || channels !== source.channels) {
      throw new Error(
        `The generator makes ${size}×${size} images with ${channels} channel${channels === 1 ? '' : 's'}, but “${source.name}” has ` +
          `${source.imageSize}×${source.imageSize} images with ${source.channels}. Use a generator trained on this dataset.`,
      );
    }
  }
  const realIndices = realBudget(source.train, realFraction, seed);
  const generatedCount = Math.round(ratio * realIndices.length);
  const rowBytes = imageBytes(source.imageSize, source.channels);
  if (generatedCount * rowBytes > MAX_GENERATED_BYTES) {
    const mb = (bytes: number) => Math.round(bytes / (1024 * 1024));
    throw new Error(
      `${generatedCount.toLocaleString('en-US')} generated images would take ${mb(generatedCount * rowBytes)} MB, more than the ${mb(MAX_GENERATED_BYTES)} MB allowed. ` +
        'Pick a smaller ratio or a smaller real-data budget.',
    );
  }
  const images = generatedCount > 0 && generator ? await generator.sampleBytes(generatedCount, mixSampleSeed(seed)) : new Uint8Array(0);
  const mixed = mixTrainingSet(source, { realIndices, generated: { images, count: generatedCount } });
  assertNoGeneratedInEvaluation(mixed);
  return mixed;
}
