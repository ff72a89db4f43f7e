/**
 * The generator's settings (issue 19), page-safe (no tfjs): their limits and
 * defaults, the check the panel shows next to each control, and whether a
 * dataset can train a generator at all. The worker runs the same checks
 * before it builds anything, so a bad value never reaches a model.
 */
import type { GeneratorKind } from '../data/generatorDb';

/** The image sides the generative models are built for (src/generative/dcgan.ts: G doubles a ⌈S/8⌉ map three times). */
export const GENERATIVE_MIN_SIZE = 16;
export const GENERATIVE_MAX_SIZE = 32;
/** Fewer real images than this cannot train a generator worth sampling: it would memorize them in a few steps. */
export const GENERATOR_MIN_IMAGES = 64;

export const GENERATOR_KINDS: readonly { id: GeneratorKind; label: string; help: string }[] = [
  {
    id: 'dcgan', label: 'DCGAN',
    help: 'Radford et al. 2016: G turns noise into an image through transposed convolutions with batch norm; D tells real from generated; they train against each other (non-saturating loss). Sharp samples, may be unstable.',
  },
  {
    id: 'vae', label: 'VAE',
    help: 'Kingma & Welling 2014: an encoder gives q(z|x), a decoder p(x|z); it maximizes the ELBO (reconstruction − KL to N(0, I)). Trains reliably; samples are blurrier.',
  },
];

export interface GeneratorFieldSpec {
  label: string;
  min: number;
  max: number;
  help: string;
}

/** The numeric settings, each a whole number in [min, max]. */
export const GENERATOR_FIELDS = {
  steps: { label: 'Steps', min: 1, max: 20_000, help: 'Optimizer steps to train now (a DCGAN step is one D step and one G step).' },
  batchSize: { label: 'Batch', min: 8, max: 256, help: 'Real images per step.' },
  width: { label: 'Width w', min: 4, max: 64, help: 'Channels of the narrowest layer; the widest has 4w.' },
  zDim: { label: 'z size', min: 2, max: 256, help: 'Length of the noise (DCGAN) or latent (VAE) vector z.' },
  seed: { label: 'Seed', min: 0, max: 2_147_483_647, help: 'Builds the model and draws every batch and noise vector.' },
} as const satisfies Record<string, GeneratorFieldSpec>;

export type GeneratorField = keyof typeof GENERATOR_FIELDS;

/** Per kind: DCGAN's z of 64 (Radford et al. use 100 at 64 px); the VAE's 16-dimensional latent. Width 16 keeps a step quick in a browser. */
export const GENERATOR_DEFAULTS: Record<GeneratorKind, { steps: number; batchSize: number; width: number; zDim: number; seed: number }> = {
  dcgan: { steps: 300, batchSize: 64, width: 16, zDim: 64, seed: 1 },
  vae: { steps: 300, batchSize: 64, width: 16, zDim: 16, seed: 1 },
};

/** A setting from user text: the value, or why not, in the words shown next to the control. */
export function parseGeneratorField(field: GeneratorField, raw: string): { ok: true; value: number } | { ok: false; error: string } {
  const spec = GENERATOR_FIELDS[field];
  const text = raw.trim();
  const value = Number(text);
  if (text === '' || !Number.isInteger(value) || value < spec.min || value > spec.max) {
    return { ok: false, error: `${spec.label} must be a whole number from ${spec.min.toLocaleString('en-US')} to ${spec.max.toLocaleString('en-US')}; got “${raw}”.` };
  }
  return { ok: true, value };
}

/** Every out-of-range setting, by field (empty when all are good); a batch larger than the training split is refused too. */
export function generatorSettingErrors(
  settings: Record<GeneratorField, number>,
  trainCount?: number,
): Partial<Record<GeneratorField, string>> {
  const errors: Partial<Record<GeneratorField, string>> = {};
  for (const field of Object.keys(GENERATOR_FIELDS) as GeneratorField[]) {
    const parsed = parseGeneratorField(field, String(settings[field]));
    if (!parsed.ok) errors[field] = parsed.error;
  }
  if (!errors.batchSize && trainCount !== undefined && settings.batchSize > trainCount) {
    errors.batchSize = `Batch must be at most the ${trainCount} training images; got ${settings.batchSize}.`;
  }
  return errors;
}

/** What a dataset must be for a generator; DatasetSummary and ImageDataset both fit. */
export interface GeneratorDatasetShape {
  name: string;
  imageSize: number;
  channels: number;
  /** real training images */
  trainCount: number;
  /** the set already mixes in generated images */
  mixed?: boolean;
}

/** Why a generator cannot train on this dataset (a full sentence), or null when it can. */
export function generatorUnfitReason(dataset: GeneratorDatasetShape): string | null {
  if (dataset.mixed) {
    return `“${dataset.name}” already holds generated images; train the generator on the real dataset it came from.`;
  }
  if (dataset.imageSize < GENERATIVE_MIN_SIZE || dataset.imageSize > GENERATIVE_MAX_SIZE) {
    return `“${dataset.name}” has ${dataset.imageSize} px images; the generators are built for ${GENERATIVE_MIN_SIZE}–${GENERATIVE_MAX_SIZE} px images (Fashion-MNIST, the coloured shapes, or an upload resized to that).`;
  }
  if (dataset.channels !== 1 && dataset.channels !== 3) {
    return `“${dataset.name}” has ${dataset.channels} channels; a generator needs grayscale or RGB images.`;
  }
  if (dataset.trainCount < GENERATOR_MIN_IMAGES) {
    return `“${dataset.name}” has ${dataset.trainCount} training images; a generator needs at least ${GENERATOR_MIN_IMAGES} to learn more than copies of them. Upload more images.`;
  }
  return null;
}
