/**
 * Property-based tests of the URL codec (configFromSearch / configToSearch):
 * a link is hostile input, so for any text at all the reader must not throw,
 * must give a valid config, and must report what it refused in short
 * one-line warnings; and any valid config must survive a round trip.
 *
 * Round trips cover every field of the schema, generated from its own
 * declaration (limits, integer, exclusive ends, options), and augmentation
 * pipelines of any subset of the operators in any order with any valid
 * parameters. Not covered: -0 (a link reads it as 0) and NaN (never valid).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_KEYS, CONFIG_SCHEMA, WARNINGS_MAX, configFromSearch, configToSearch, type ExperimentConfig, type FieldSpec,
} from './config';
import { BUILTIN_DATASETS, isDatasetId } from './datasets';
import {
  MAX_CUTOUT_COUNT, OPERATOR_KINDS, PRESET_NAMES, pipelinesEqual, pipelineToParam, validatePipeline,
  type AugmentOperator, type AugmentPipeline, type OperatorKind,
} from './pipeline';

/** Fixed, so a failure reproduces; the runs keep this file to a few seconds. */
const SEED = 16;
const RUNS = 400;

const URL_KEYS = CONFIG_KEYS.map((k) => CONFIG_SCHEMA[k].url);
const OP_CODES = ['crop', 'flip', 'cj', 'gray', 'blur', 'rot', 'cut', 'noise', 'sobel'];

// ---------------------------------------------------------------------------
// Hostile links

/** Text that is hard to read: any UTF-16 (lone surrogates included), graphemes, escapes, separators and number look-alikes. */
const percent = fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, '0')}`);
const piece = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
  percent,
  fc.constantFrom(
    '%', '%%', '%G0', '%E0%A4%A', '&', '=', '+', '#', '?', ';', ',', '-', ':', '.', 'e', 'E', ' ', '\t', '\n', '\u0000',
    '\u202E', '\u200B', '\u2028', '\uD800', '0x1', '0b1', '0o7', 'Infinity', 'NaN', '1e400', '1e-400', '-0', '<script>',
    '__proto__', 'constructor', 'prototype',
  ),
);
const hostileText = fc.array(piece, { maxLength: 6 }).map((parts) => parts.join(''));
/** Numbers as a link might spell them, plain or odd. */
const numberText = fc.oneof(
  fc.double().map(String),
  fc.integer().map(String),
  fc.stringMatching(/^[+-]?\d{0,4}(\.\d{0,4})?(e[+-]?\d{0,4})?$/),
);
/** Something like a pipeline parameter, often nearly right. */
const augText = fc
  .array(
    fc.tuple(
      fc.constantFrom('', '-'),
      fc.oneof(fc.constantFrom(...OP_CODES), hostileText),
      fc.array(fc.oneof(numberText, fc.tuple(numberText, numberText).map(([a, b]) => `${a}-${b}`)), { maxLength: 4 }),
    ).map(([minus, code, values]) => `${minus}${code}:${values.join(',')}`),
    { maxLength: 5 },
  )
  .map((items) => items.join(';'));
const key = fc.oneof(fc.constantFrom(...URL_KEYS, '__proto__', 'constructor', 'prototype', 'toString', ''), hostileText);
const value = fc.oneof(
  hostileText, numberText, augText,
  fc.constantFrom(...PRESET_NAMES, 'on', 'off', 'true', 'mlp', 'moco', 'fashion-mnist', 'upload:abc', 'upload:'),
);
/** key=value pairs joined by `&`, raw or percent-encoded, with or without the `?`. */
const hostileSearch = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.tuple(
    fc.constantFrom('', '?', '??'),
    fc.array(fc.tuple(key, value, fc.boolean()), { maxLength: 10 }),
  ).map(([start, pairs]) => start + pairs
    // URLSearchParams encodes as a browser does (encodeURIComponent throws on a lone surrogate)
    .map(([k, v, encode]) => (encode ? new URLSearchParams([[k, v]]).toString() : `${k}=${v}`))
    .join('&')),
);

/** Every setting present, of its kind and within its field's limits; nothing else on the object. */
function expectValidConfig(config: ExperimentConfig): void {
  expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
  expect(Object.keys(config).sort()).toEqual([...CONFIG_KEYS].sort());
  for (const k of CONFIG_KEYS) {
    const spec = CONFIG_SCHEMA[k];
    const v: unknown = config[k];
    switch (spec.kind) {
      case 'number': {
        expect(typeof v, k).toBe('number');
        const n = v as number;
        expect(Number.isFinite(n), k).toBe(true);
        expect(spec.minExclusive ? n > spec.min : n >= spec.min, `${k} = ${n}`).toBe(true);
        expect(spec.maxExclusive ? n < spec.max : n <= spec.max, `${k} = ${n}`).toBe(true);
        if (spec.integer) expect(Number.isInteger(n), `${k} = ${n}`).toBe(true);
        break;
      }
      case 'boolean':
        expect(typeof v, k).toBe('boolean');
        break;
      case 'enum':
        expect(spec.options.map((o) => o.value), k).toContain(v);
        break;
      case 'dataset':
        expect(isDatasetId(v as string), k).toBe(true);
        break;
      case 'pipeline': {
        const checked = validatePipeline(v);
        expect(checked.errors, k).toEqual([]);
        expect(pipelinesEqual(checked.pipeline!, v as AugmentPipeline)).toBe(true);
        break;
      }
    }
  }
}

/** Characters that would break a warning's line or hide text; escaped by `quote`. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

function expectReadableWarnings(warnings: string[]): void {
  expect(warnings.length).toBeLessThanOrEqual(WARNINGS_MAX + 1);
  for (const w of warnings) {
    expect(typeof w).toBe('string');
    expect(w.length).toBeGreaterThan(0);
    expect(w.length).toBeLessThan(300);
    expect(w).not.toMatch(UNSAFE);
  }
  expect(new Set(warnings).size).toBe(warnings.length);
}

describe('configFromSearch on any text', () => {
  const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();

  it('never throws and always gives a valid config', () => {
    fc.assert(
      fc.property(hostileSearch, (search) => {
        expectValidConfig(configFromSearch(search).config);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('keeps every warning short, on one line, and free of control characters', () => {
    fc.assert(
      fc.property(hostileSearch, (search) => {
        expectReadableWarnings(configFromSearch(search).warnings);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('keeps warnings short for values and keys of any length', () => {
    const long = fc.tuple(fc.constantFrom(...URL_KEYS, 'junk'), piece, fc.integer({ min: 1, max: 20_000 })).map(([k, p, n]) => [k, p.repeat(n)] as const);
    fc.assert(
      fc.property(long, fc.boolean(), ([k, v], asKey) => {
        const search = `?${new URLSearchParams([asKey ? [v, '1'] : [k, v]]).toString()}`;
        const { config, warnings } = configFromSearch(search);
        expectValidConfig(config);
        expectReadableWarnings(warnings);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('lets nothing reach Object.prototype', () => {
    fc.assert(
      fc.property(hostileSearch, (search) => {
        configFromSearch(search);
        expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------
// Valid configs, generated from the schema

/** -0 is written as 0, so a round trip gives 0: the generators give 0 instead. */
const noNegativeZero = (v: number): number => (v === 0 ? 0 : v);
const double = (min: number, max: number, minExcluded = false, maxExcluded = false) =>
  fc.double({ min, max, minExcluded, maxExcluded, noNaN: true }).map(noNegativeZero);
/** Anything ≥ 0 a double holds, tiny and huge ones included. */
const nonNegative = double(0, Number.MAX_VALUE);
const positive = double(0, Number.MAX_VALUE, true);
const probability = double(0, 1);
const range = (end: fc.Arbitrary<number>) => fc.tuple(end, end).map(([a, b]) => (a <= b ? [a, b] : [b, a]) as [number, number]);

const OPERATOR_ARBS: { [K in OperatorKind]: fc.Arbitrary<Extract<AugmentOperator, { kind: K }>> } = {
  crop: fc.record({ kind: fc.constant('crop'), enabled: fc.boolean(), p: probability, scale: range(double(0, 1, true)), ratio: range(positive) }),
  flip: fc.record({ kind: fc.constant('flip'), enabled: fc.boolean(), p: probability }),
  colorJitter: fc.record({ kind: fc.constant('colorJitter'), enabled: fc.boolean(), p: probability, strength: nonNegative }),
  grayscale: fc.record({ kind: fc.constant('grayscale'), enabled: fc.boolean(), p: probability }),
  blur: fc.record({ kind: fc.constant('blur'), enabled: fc.boolean(), p: probability, sigma: range(nonNegative) }),
  rotate: fc.record({ kind: fc.constant('rotate'), enabled: fc.boolean(), p: probability }),
  cutout: fc.record({
    kind: fc.constant('cutout'), enabled: fc.boolean(), p: probability,
    count: fc.integer({ min: 1, max: MAX_CUTOUT_COUNT }), size: double(0, 1, true),
  }),
  noise: fc.record({ kind: fc.constant('noise'), enabled: fc.boolean(), p: probability, sigma: nonNegative }),
  sobel: fc.record({ kind: fc.constant('sobel'), enabled: fc.boolean(), p: probability }),
};

/** Any subset of the operators, in any order, each once, with valid parameters (fc.record gives null-prototype objects: spread into plain ones). */
const pipelineArb: fc.Arbitrary<AugmentPipeline> = fc
  .shuffledSubarray([...OPERATOR_KINDS])
  .chain((kinds) => fc.tuple(...kinds.map((k) => OPERATOR_ARBS[k] as fc.Arbitrary<AugmentOperator>)))
  .map((operators) => ({ operators: operators.map((op) => ({ ...op })) }));

/** Any value the field accepts, from its own declaration. */
function fieldArb(spec: FieldSpec): fc.Arbitrary<unknown> {
  switch (spec.kind) {
    case 'number':
      return spec.integer
        ? fc.integer({ min: spec.min, max: spec.max })
          .filter((v) => !(spec.minExclusive && v === spec.min) && !(spec.maxExclusive && v === spec.max))
        : double(spec.min, spec.max, spec.minExclusive, spec.maxExclusive);
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...spec.options.map((o) => o.value));
    case 'dataset':
      return fc.oneof(fc.constantFrom(...BUILTIN_DATASETS.map((d) => d.id)), fc.stringMatching(/^upload:[A-Za-z0-9_-]{1,64}$/));
    case 'pipeline':
      return pipelineArb;
  }
}

const configArb = fc
  .record(Object.fromEntries(CONFIG_KEYS.map((k) => [k, fieldArb(CONFIG_SCHEMA[k])])) as Record<keyof ExperimentConfig, fc.Arbitrary<unknown>>)
  .map((fields) => ({ ...fields }) as unknown as ExperimentConfig);

describe('configToSearch then configFromSearch', () => {
  it('gives any valid config back exactly, with no warnings', () => {
    fc.assert(
      fc.property(configArb, (config) => {
        expectValidConfig(config);
        expect(configFromSearch(configToSearch(config))).toEqual({ config, warnings: [] });
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('reads a valid pipeline back from its parameter alone', () => {
    fc.assert(
      fc.property(pipelineArb, (pipeline) => {
        const { config, warnings } = configFromSearch(`?aug=${encodeURIComponent(pipelineToParam(pipeline))}`);
        expect(warnings).toEqual([]);
        expect(config.augmentation).toEqual(pipeline);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
