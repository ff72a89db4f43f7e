import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pipelineToParam, presetPipeline } from './pipeline';
import {
  CONFIG_KEYS, CONFIG_SCHEMA, DEFAULT_CONFIG, WARNINGS_MAX, WARNING_MAX, configFromSearch, configToSearch, parseField,
  pendingResetFields, withMethodDefaults,
} from './config';
import { clipText, quote } from './fields';

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

/** A query string holding exactly these pairs, each value encoded as a browser would. */
const link = (...pairs: [string, string][]): string => `?${new URLSearchParams(pairs).toString()}`;

describe('hostile links', () => {
  it.each([
    '0x1', '0X1', '0b1', '0o1', '1_000', 'Infinity', '-Infinity', 'NaN', '', ' 0.5', '0.5 ', '\t0.5', '0.5\n',
    '1e400', '1e-400', '0.5.5', '1e', 'e5', '.', '-', '1,5', '½', '０.５',
  ])('refuses τ = %j from a link, with a warning, and keeps the default', (raw) => {
    const { config, warnings } = configFromSearch(link(['tau', raw]));
    expect(config.temperature).toBe(DEFAULT_CONFIG.temperature);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^Temperature τ.*Using the default, 0\.5\.$/);
  });

  it.each([
    ['0.5', 0.5], ['1e-3', 1e-3], ['1E-3', 1e-3], ['.5', 0.5], ['5.', 5], ['2e1', 20], ['007', 7], ['1e-320', 1e-320],
  ] as const)('accepts the plain decimal τ = %s', (raw, value) => {
    expect(configFromSearch(link(['tau', raw]))).toEqual({ config: { ...DEFAULT_CONFIG, temperature: value }, warnings: [] });
  });

  it('reads a sign, and refuses a negative τ for its range, not as a non-number', () => {
    expect(parseField('temperature', '-3')).toEqual({ ok: false, error: expect.stringMatching(/greater than 0 and at most 100; got -3\./) });
    expect(parseField('temperature', '+0.5')).toEqual({ ok: true, value: 0.5 });
    expect(parseField('momentum', '-0')).toEqual({ ok: true, value: 0 });
    expect(Object.is((parseField('momentum', '-0') as { value: number }).value, 0)).toBe(true);
  });

  it('refuses hex, binary, octal and non-finite text typed into a box too', () => {
    for (const raw of ['0x1', '0b1', '0o1', 'Infinity', 'NaN']) expect(parseField('temperature', raw).ok, raw).toBe(false);
  });

  it('says why 1e400 and 1e-400 are refused, and takes a zero written with an exponent', () => {
    expect(configFromSearch(link(['tau', '1e400'])).warnings[0]).toMatch(/“1e400” is too large to store/);
    // momentum 0 is allowed, so underflow to 0 would otherwise pass silently
    expect(configFromSearch(link(['m', '1e-400'])).warnings[0]).toMatch(/“1e-400” is too close to 0 to store/);
    expect(configFromSearch(link(['m', '1e-400'])).config.momentum).toBe(DEFAULT_CONFIG.momentum);
    expect(configFromSearch(link(['m', '0e-400'])).config.momentum).toBe(0);
  });

  it('refuses any value with spaces around it from a link, of every kind', () => {
    const { config, warnings } = configFromSearch(link(['head', ' linear'], ['l2', '0 '], ['batch', ' 32 ']));
    expect(config.projectionHead).toBe('mlp');
    expect(config.normalize).toBe(true);
    expect(config.batchSize).toBe(DEFAULT_CONFIG.batchSize);
    expect(warnings).toEqual([
      'Projection head g: “ linear” has spaces around it. Using the default, mlp.',
      'L2-normalize z: “0 ” has spaces around it. Using the default, 1.',
      'Batch size N: “ 32 ” has spaces around it. Using the default, 256.',
    ]);
  });

  it('uses the last value of a repeated key (an appended override), and says so', () => {
    expect(configFromSearch('?tau=0.5&tau=0.1')).toEqual({
      config: { ...DEFAULT_CONFIG, temperature: 0.1 },
      warnings: ['“tau” is given 2 times; the last value, “0.1”, is used.'],
    });
    const refusedLast = configFromSearch('?tau=0.1&tau=0.2&tau=banana');
    expect(refusedLast.config.temperature).toBe(DEFAULT_CONFIG.temperature);
    expect(refusedLast.warnings[0]).toBe('“tau” is given 3 times; the last value, “banana”, is used.');
    expect(refusedLast.warnings[1]).toMatch(/“banana” is not a number/);
    expect(configFromSearch('?bogus=1&bogus=2').warnings).toEqual(['Unknown parameter “bogus” ignored.']);
  });

  it('gives the default of the method the link names, wherever the method comes in it', () => {
    const { config, warnings } = configFromSearch('?tau=banana&method=moco');
    expect(config.temperature).toBe(0.2);
    expect(warnings).toEqual([expect.stringMatching(/Using the default, 0\.2\.$/)]);
  });

  it('ignores __proto__, constructor and prototype, and nothing reaches an object prototype', () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const names = ['__proto__', 'constructor', 'prototype', '__proto__[polluted]', 'toString', 'hasOwnProperty', '__defineGetter__'];
    const { config, warnings } = configFromSearch(link(...names.map((n) => [n, '1'] as [string, string]), ['__proto__', '2']));
    expect(warnings).toEqual(names.map((n) => `Unknown parameter ${quote(n)} ignored.`));
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
    expect(Object.keys(config).sort()).toEqual([...CONFIG_KEYS].sort());
    for (const n of ['__proto__', 'constructor', 'prototype', 'polluted']) expect(Object.hasOwn(config, n), n).toBe(false);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('quotes a 100 KB value or key short, with its length, never whole', () => {
    const huge = 'x'.repeat(100_000);
    const { warnings } = configFromSearch(link(['tau', huge], [huge, '1'], ['aug', `flip:${huge}`], ['head', huge]));
    expect(warnings).toHaveLength(4);
    for (const w of warnings) {
      expect(w.length).toBeLessThan(300);
      expect(w).toContain('… (100,');
    }
    expect(warnings[1]).toBe(`Unknown parameter “${'x'.repeat(40)}… (100,000 characters)” ignored.`);
    // an over-long number is still a number: it is refused as too large
    expect(configFromSearch(link(['tau', '9'.repeat(100_000)])).warnings[0]).toMatch(/characters\)” is too large to store/);
  });

  it('keeps each warning on one line: control, bidi and zero-width characters are escaped', () => {
    const { warnings } = configFromSearch(link(['tau', '0.5\nFake line'], ['head', '\u202Eevil'], ['x\r\u0000y\u2028', '1'], ['l2', '\u200Bon']));
    expect(warnings).toEqual([
      'Temperature τ must be a number greater than 0 and at most 100; “0.5\\u000AFake line” is not a number. Using the default, 0.5.',
      'Projection head g must be one of mlp, linear, none; got “\\u202Eevil”. Using the default, mlp.',
      'Unknown parameter “x\\u000D\\u0000y\\u2028” ignored.',
      'L2-normalize z must be on or off; got “\\u200Bon”. Using the default, 1.',
    ]);
  });

  it('keeps script-like text as plain text in a warning (the banner renders text, never HTML)', () => {
    const { warnings } = configFromSearch(link(['evil', '1'], ['<script>alert(1)</script>', '1'], ['head', '<img src=x onerror=alert(1)>']));
    expect(warnings[1]).toBe('Unknown parameter “<script>alert(1)</script>” ignored.');
    expect(warnings[2]).toContain('got “<img src=x onerror=alert(1)>”');
  });

  it('has nothing in src that builds HTML from text', () => {
    const src = fileURLToPath(new URL('..', import.meta.url));
    const files = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : /\.tsx?$/.test(name) && !/\.test\.ts$/.test(name) ? [path] : [];
    });
    for (const file of files(src)) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/dangerouslySetInnerHTML|\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write/);
    }
  });

  it(`lists at most ${WARNINGS_MAX} warnings, each at most ${WARNING_MAX} characters, and no repeats`, () => {
    const pairs = Array.from({ length: 50 }, (_, i) => [`junk${i}`, '1'] as [string, string]);
    const { warnings } = configFromSearch(link(...pairs));
    expect(warnings).toHaveLength(WARNINGS_MAX);
    expect(warnings[WARNINGS_MAX - 1]).toBe(`…and ${50 - WARNINGS_MAX + 1} more problems with the link, also ignored.`);
    // two 100 KB keys that differ only after the clip read the same: one warning
    expect(configFromSearch(link([`${'k'.repeat(99_999)}a`, '1'], [`${'k'.repeat(99_999)}b`, '1'])).warnings).toHaveLength(1);
  });

  it('counts the pipeline problems beyond the first instead of listing them all', () => {
    const aug = Array.from({ length: 30 }, (_, i) => `bad:${i}`).join(';');
    const [warning] = configFromSearch(link(['aug', aug])).warnings;
    expect(warning).toMatch(/^Augmentations: Item 1 \(“bad:0”\): unknown operator “bad”.* \(and 29 more problems\) Using the default\.$/);
    expect(warning.length).toBeLessThan(300);
  });
});

describe('quoting user text', () => {
  it('leaves short, printable text alone, emoji included', () => {
    expect(quote('0.5 banana 😀')).toBe('“0.5 banana 😀”');
    expect(clipText('x'.repeat(40))).toBe('x'.repeat(40));
  });

  it('cuts long text at a whole character and gives its length in characters', () => {
    expect(clipText('😀'.repeat(50), 10)).toBe('😀😀😀😀😀… (50 characters)');
    expect(clipText('y'.repeat(41), 40, false)).toBe(`${'y'.repeat(40)}…`);
  });

  it('escapes lone surrogates and characters above U+FFFF that are invisible', () => {
    expect(clipText('a\uD800b')).toBe('a\\uD800b');
    expect(clipText('\u{E0001}')).toBe('\\u{E0001}');
  });
});
