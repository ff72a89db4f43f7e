import { describe, expect, it } from 'vitest';
import { pipelineToParam, presetPipeline } from './pipeline';
import {
  CONFIG_KEYS, CONFIG_SCHEMA, DEFAULT_CONFIG, configFromSearch, configToSearch, parseField, pendingResetFields, withMethodDefaults,
} from './config';

describe('experiment config schema', () => {
  it('has defaults that pass their own validation', () => {
    for (const key of CONFIG_KEYS) {
      const value = DEFAULT_CONFIG[key];
      const raw = typeof value === 'boolean' ? (value ? '1' : '0')
        : typeof value === 'object' ? pipelineToParam(value) : String(value);
      const parsed = parseField(key, raw);
      expect(parsed, key).toEqual({ ok: true, value: DEFAULT_CONFIG[key] });
    }
  });

  it('gives every setting a distinct URL key', () => {
    const urls = CONFIG_KEYS.map((k) => CONFIG_SCHEMA[k].url);
    expect(new Set(urls).size).toBe(urls.length);
  });

  it.each([
    ['temperature', '0', /greater than 0/],
    ['temperature', '-0.5', /greater than 0/],
    ['temperature', 'NaN', /not a number/],
    ['temperature', '', /empty/],
    ['batchSize', '1', /at least 2/],
    ['batchSize', '513', /at most 512/],
    ['batchSize', '8.5', /whole number/],
    ['learningRate', '0', /greater than 0/],
    ['learningRate', 'Infinity', /not a number/],
    ['learningRate', 'abc', /not a number/],
    ['normalize', 'maybe', /on or off/],
    ['projectionHead', 'transformer', /one of mlp, linear, none/],
    ['method', 'dino', /Method must be one of simclr/],
    ['queueSize', '0', /at least 1/],
    ['momentum', '1', /less than 1/],
    ['momentum', '-0.1', /at least 0/],
    ['bankMomentum', '1', /less than 1/],
    ['barlowLambda', '0', /greater than 0/],
    ['predictorHidden', '1', /at least 2/],
  ] as const)('refuses %s = %j with a message', (key, raw, message) => {
    const parsed = parseField(key, raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(message);
  });

  it('puts the method and its settings in the URL, and picking a method brings its defaults', () => {
    const moco = { ...DEFAULT_CONFIG, method: 'simclr' as const, queueSize: 512, momentum: 0.995 };
    expect(configFromSearch(configToSearch(moco)).config).toEqual(moco);
    expect(configToSearch(moco)).toContain('queue=512');
    expect(withMethodDefaults({ ...DEFAULT_CONFIG, temperature: 0.9 }).temperature).toBe(0.5);
  });

  it('gives a method its own defaults from a URL that names only the method, and keeps a setting the URL gives', () => {
    expect(configFromSearch('?method=moco').config.temperature).toBe(0.2);
    expect(configFromSearch('?method=memory-bank').config.temperature).toBe(0.07);
    expect(configFromSearch('?method=moco&tau=0.5').config.temperature).toBe(0.5);
    // MoCo at SimCLR's τ 0.5 must say so in its URL, and MoCo at its own τ need not
    const mocoAtHalf = { ...DEFAULT_CONFIG, method: 'moco' as const, temperature: 0.5 };
    expect(configToSearch(mocoAtHalf)).toContain('tau=0.5');
    expect(configFromSearch(configToSearch(mocoAtHalf)).config).toEqual(mocoAtHalf);
    const mocoDefaults = withMethodDefaults({ ...DEFAULT_CONFIG, method: 'moco' });
    expect(configToSearch(mocoDefaults)).toBe('?method=moco');
    expect(configFromSearch('?method=moco&tau=banana').warnings[0]).toMatch(/Using the default, 0\.2/);
  });

  it('accepts edge values inside the limits', () => {
    expect(parseField('momentum', '0')).toEqual({ ok: true, value: 0 });
    expect(parseField('momentum', '0.999')).toEqual({ ok: true, value: 0.999 });
    expect(parseField('temperature', '0.001')).toEqual({ ok: true, value: 0.001 });
    expect(parseField('batchSize', ' 512 ')).toEqual({ ok: true, value: 512 });
    expect(parseField('learningRate', '1e-4')).toEqual({ ok: true, value: 1e-4 });
  });
});

describe('URL round trip', () => {
  it('writes only non-default settings and reads them back', () => {
    const config = {
      ...DEFAULT_CONFIG, temperature: 0.1, normalize: false, batchSize: 64, projectionHead: 'linear' as const,
      augmentation: presetPipeline('crop-color'),
    };
    const search = configToSearch(config);
    expect(search).toContain('tau=0.1');
    expect(search).toContain('l2=0');
    expect(search).not.toContain('lr=');
    const back = configFromSearch(search);
    expect(back.warnings).toEqual([]);
    expect(back.config).toEqual(config);
    expect(search).toContain('aug=');
    expect(configToSearch(DEFAULT_CONFIG)).toBe('');
  });

  it('reports and ignores unknown or invalid parameters, keeping the good ones', () => {
    const { config, warnings } = configFromSearch('?tau=banana&batch=32&evil=%3Cscript%3E&lr=-1&aug=%7B%7Bnot-a-pipeline');
    expect(config.batchSize).toBe(32);
    expect(config.temperature).toBe(DEFAULT_CONFIG.temperature);
    expect(config.learningRate).toBe(DEFAULT_CONFIG.learningRate);
    expect(config.augmentation).toEqual(DEFAULT_CONFIG.augmentation);
    expect(warnings).toHaveLength(4);
    expect(warnings.join(' ')).toMatch(/Augmentations/);
    expect(warnings.join(' ')).toMatch(/Temperature.*banana/);
    expect(warnings.join(' ')).toMatch(/Unknown parameter “evil”/);
  });
});

describe('pendingResetFields', () => {
  it('lists architecture changes but not live ones', () => {
    const changed = { ...DEFAULT_CONFIG, encoderWidth: 16, temperature: 0.1, learningRate: 0.01, augmentation: presetPipeline('none') };
    expect(pendingResetFields(DEFAULT_CONFIG, changed)).toEqual(['encoderWidth']);
  });
});
