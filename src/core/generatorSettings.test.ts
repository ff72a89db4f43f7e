import { describe, expect, it } from 'vitest';
import {
  GENERATOR_DEFAULTS, GENERATOR_FIELDS, GENERATOR_MIN_IMAGES, generatorSettingErrors, generatorUnfitReason, parseGeneratorField,
} from './generatorSettings';

describe('generator settings', () => {
  it('parses whole numbers within each field’s range and refuses the rest with the range in the message', () => {
    expect(parseGeneratorField('steps', ' 300 ')).toEqual({ ok: true, value: 300 });
    expect(parseGeneratorField('batchSize', '8')).toEqual({ ok: true, value: 8 });
    for (const raw of ['', 'abc', '2.5', '0', '20001', '1e9', 'Infinity', '-3']) {
      const parsed = parseGeneratorField('steps', raw);
      expect(parsed.ok, raw).toBe(false);
      if (!parsed.ok) expect(parsed.error).toBe(`Steps must be a whole number from 1 to 20,000; got “${raw}”.`);
    }
    expect(parseGeneratorField('width', '3').ok).toBe(false);
    expect(parseGeneratorField('zDim', '257').ok).toBe(false);
  });

  it('the defaults of both kinds are within range, and a batch larger than the training split is refused', () => {
    for (const kind of ['dcgan', 'vae'] as const) expect(generatorSettingErrors(GENERATOR_DEFAULTS[kind], 10_000)).toEqual({});
    const errors = generatorSettingErrors({ ...GENERATOR_DEFAULTS.dcgan, batchSize: 128, width: 0 }, 100);
    expect(errors.batchSize).toBe('Batch must be at most the 100 training images; got 128.');
    expect(errors.width).toMatch(/^Width w must be a whole number from 4 to 64/);
    expect(Object.keys(errors).sort()).toEqual(['batchSize', 'width']);
    for (const spec of Object.values(GENERATOR_FIELDS)) expect(spec.min).toBeLessThan(spec.max);
  });

  it('says why a dataset cannot train a generator: too few images, a size outside 16–32 px, a mix; null when it can', () => {
    const fashion = { name: 'Fashion-MNIST', imageSize: 28, channels: 1, trainCount: 10_000 };
    expect(generatorUnfitReason(fashion)).toBeNull();
    expect(generatorUnfitReason({ ...fashion, trainCount: GENERATOR_MIN_IMAGES })).toBeNull();
    expect(generatorUnfitReason({ ...fashion, trainCount: 63 })).toBe(
      '“Fashion-MNIST” has 63 training images; a generator needs at least 64 to learn more than copies of them. Upload more images.',
    );
    expect(generatorUnfitReason({ ...fashion, imageSize: 64 })).toMatch(/64 px images; the generators are built for 16–32 px/);
    expect(generatorUnfitReason({ ...fashion, imageSize: 12 })).toMatch(/12 px images/);
    expect(generatorUnfitReason({ ...fashion, channels: 4 })).toMatch(/4 channels/);
    expect(generatorUnfitReason({ ...fashion, mixed: true })).toMatch(/already holds generated images/);
  });
});
