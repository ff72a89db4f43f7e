import { describe, expect, it } from 'vitest';
import {
  OPERATOR_KINDS, PRESET_NAMES, describeOperator, pipelineFromParam, pipelineToParam, pipelinesEqual, presetPipeline,
  simclrPipeline, validatePipeline, type AugmentOperator, type AugmentPipeline, type OperatorKind,
} from './pipeline';
import { createRng, permutation, type Rng } from './random';

const enabledKinds = (p: AugmentPipeline) => p.operators.filter((op) => op.enabled).map((op) => op.kind);

/** SimCLR's pipeline with one operator's fields overwritten (bypassing the types, as the URL or a bad UI value would). */
function withField(kind: OperatorKind, fields: Record<string, unknown>): unknown {
  const pipeline = simclrPipeline();
  return { operators: pipeline.operators.map((op) => (op.kind === kind ? { ...op, ...fields } : op)) };
}

describe('presets', () => {
  it('switch on the right operators, all nine present in SimCLR order', () => {
    expect(enabledKinds(presetPipeline('simclr'))).toEqual(['crop', 'flip', 'colorJitter', 'grayscale', 'blur']);
    expect(enabledKinds(presetPipeline('crop-only'))).toEqual(['crop']);
    expect(enabledKinds(presetPipeline('crop-flip'))).toEqual(['crop', 'flip']);
    expect(enabledKinds(presetPipeline('crop-color'))).toEqual(['crop', 'colorJitter', 'grayscale']);
    expect(enabledKinds(presetPipeline('none'))).toEqual([]);
    for (const name of PRESET_NAMES) {
      expect(presetPipeline(name).operators.map((op) => op.kind)).toEqual(OPERATOR_KINDS);
      expect(validatePipeline(presetPipeline(name)).errors).toEqual([]);
    }
  });

  it('SimCLR’s defaults: crop scale [0.2, 1], ratio [3/4, 4/3], jitter s = 0.5 at p = 0.8, grayscale p = 0.2, blur p = 0.5', () => {
    const ops = Object.fromEntries(simclrPipeline().operators.map((op) => [op.kind, op]));
    expect(ops.crop).toMatchObject({ scale: [0.2, 1], ratio: [3 / 4, 4 / 3] });
    expect(ops.colorJitter).toMatchObject({ p: 0.8, strength: 0.5 });
    expect(ops.grayscale).toMatchObject({ p: 0.2 });
    expect(ops.blur).toMatchObject({ p: 0.5 });
  });
});

describe('validatePipeline', () => {
  it('accepts a valid pipeline and returns a copy holding only the known fields', () => {
    const input = withField('flip', { note: 'extra' }) as AugmentPipeline;
    const { pipeline, errors } = validatePipeline(input);
    expect(errors).toEqual([]);
    expect(pipeline).not.toBe(input);
    expect(pipeline).toEqual(simclrPipeline());
    expect(validatePipeline({ operators: [] })).toEqual({ pipeline: { operators: [] }, errors: [] });
  });

  it.each([
    ['crop', { scale: [0.9, 0.5] }, 'scale', /scale.*min \(0\.9\) is greater than max \(0\.5\)/],
    ['crop', { scale: [0, 1] }, 'scale', /scale.*greater than 0/],
    ['crop', { scale: [0.5, 1.2] }, 'scale', /scale.*at most 1/],
    ['crop', { scale: [0.5] }, 'scale', /scale.*two numbers/],
    ['crop', { scale: 'big' }, 'scale', /scale/],
    ['crop', { ratio: [2, 1] }, 'ratio', /aspect ratio min \(2\) is greater than max/],
    ['crop', { ratio: [0, 1] }, 'ratio', /ratio.*greater than 0/],
    ['crop', { ratio: [-1, 1] }, 'ratio', /ratio/],
    ['flip', { p: 1.5 }, 'p', /p must be between 0 and 1/],
    ['flip', { p: -0.1 }, 'p', /p must be between 0 and 1/],
    ['flip', { p: Number.NaN }, 'p', /p must be a number/],
    ['flip', { p: '0.5' }, 'p', /p must be a number/],
    ['flip', { enabled: 'yes' }, 'enabled', /enabled/],
    ['colorJitter', { strength: -0.5 }, 'strength', /strength.*≥ 0/],
    ['colorJitter', { strength: undefined }, 'strength', /strength/],
    ['blur', { sigma: [-1, 2] }, 'sigma', /σ.*min.*≥ 0/],
    ['blur', { sigma: [2, 1] }, 'sigma', /σ.*greater than max/],
    ['noise', { sigma: -0.1 }, 'sigma', /σ.*≥ 0/],
    ['noise', { sigma: Number.POSITIVE_INFINITY }, 'sigma', /σ/],
    ['cutout', { count: 0 }, 'count', /count.*1 to 8/],
    ['cutout', { count: 9 }, 'count', /count.*1 to 8/],
    ['cutout', { count: 1.5 }, 'count', /count.*whole number/],
    ['cutout', { size: 0 }, 'size', /size.*greater than 0/],
    ['cutout', { size: 1.01 }, 'size', /size.*at most 1/],
    ['rotate', { kind: 'spin' }, 'kind', /unknown kind “spin”/],
  ] as const)('%s %j → error on %s', (kind, fields, field, message) => {
    const { pipeline, errors } = validatePipeline(withField(kind, fields));
    expect(pipeline).toBeNull();
    expect(errors.length).toBeGreaterThan(0);
    const index = OPERATOR_KINDS.indexOf(kind);
    const error = errors.find((e) => e.field === field);
    expect(error, JSON.stringify(errors)).toBeDefined();
    expect(error!.operator).toBe(index);
    expect(error!.message).toMatch(message);
  });

  it('reports duplicate kinds on the second one', () => {
    const pipeline = simclrPipeline();
    pipeline.operators.push({ kind: 'flip', enabled: true, p: 0.5 });
    const { errors } = validatePipeline(pipeline);
    expect(errors).toEqual([{ operator: 9, field: 'kind', message: expect.stringMatching(/appears twice \(operators 2 and 10\)/) }]);
  });

  it('reports malformed shapes without throwing', () => {
    for (const bad of [null, undefined, 3, 'simclr', [], { operators: 'crop' }, {}, { operators: [null] }, { operators: [[1]] }, { operators: [{}] }]) {
      const result = validatePipeline(bad);
      expect(result.pipeline, JSON.stringify(bad)).toBeNull();
      expect(result.errors.length).toBeGreaterThan(0);
      for (const e of result.errors) expect(e.message.length).toBeGreaterThan(10);
    }
  });

  it('reports every problem at once', () => {
    const bad = { operators: [{ kind: 'crop', enabled: true, p: 2, scale: [0.8, 0.4], ratio: [1, 0.5] }, { kind: 'noise', enabled: 1, p: 0.5, sigma: -1 }] };
    const fields = validatePipeline(bad).errors.map((e) => `${e.operator}:${e.field}`);
    expect(fields).toEqual(['0:p', '0:scale', '0:ratio', '1:enabled', '1:sigma']);
  });
});

/** A random valid pipeline: a random subset of operators in random order, numbers with up to 4 decimals. */
function randomPipeline(rng: Rng): AugmentPipeline {
  const d4 = (lo: number, hi: number) => Math.round((lo + (hi - lo) * rng()) * 1e4) / 1e4;
  const rangeIn = (lo: number, hi: number): [number, number] => {
    const [a, b] = [d4(lo, hi), d4(lo, hi)];
    return a <= b ? [a, b] : [b, a];
  };
  const order = permutation(rng, OPERATOR_KINDS.length);
  const count = Math.floor(rng() * (OPERATOR_KINDS.length + 1));
  const operators = Array.from(order.subarray(0, count), (i): AugmentOperator => {
    const kind = OPERATOR_KINDS[i];
    const base = { enabled: rng() < 0.5, p: d4(0, 1) };
    switch (kind) {
      case 'crop': return { kind, ...base, p: rng() < 0.5 ? 1 : base.p, scale: rangeIn(0.0001, 1), ratio: rng() < 0.3 ? [3 / 4, 4 / 3] : rangeIn(0.1, 10) };
      case 'colorJitter': return { kind, ...base, strength: d4(0, 3) };
      case 'blur': return { kind, ...base, sigma: rangeIn(0, 5) };
      case 'cutout': return { kind, ...base, count: 1 + Math.floor(rng() * 8), size: d4(0.0001, 1) };
      case 'noise': return { kind, ...base, sigma: rng() < 0.2 ? 1e-7 : d4(0, 1) };
      default: return { kind, ...base };
    }
  });
  return { operators };
}

describe('pipelineToParam / pipelineFromParam', () => {
  it('writes a short, readable parameter', () => {
    expect(pipelineToParam(presetPipeline('crop-flip'))).toBe(
      'crop:0.2-1,0.75-1.3333333333333333;flip:0.5;-cj:0.8,0.5;-gray:0.2;-blur:0.5,0.1-2;-rot:0.5;-cut:0.5,1,0.25;-noise:0.5,0.05;-sobel:1',
    );
    expect(pipelineToParam(presetPipeline('simclr'))).toMatch(/^[A-Za-z0-9.:;,-]+$/);
  });

  it('round-trips every preset exactly', () => {
    for (const name of PRESET_NAMES) {
      const pipeline = presetPipeline(name);
      const back = pipelineFromParam(pipelineToParam(pipeline));
      expect(back.errors).toEqual([]);
      expect(back.pipeline).toEqual(pipeline);
      expect(pipelinesEqual(back.pipeline!, pipeline)).toBe(true);
    }
  });

  it('round-trips random valid pipelines exactly, order and switches included', () => {
    const rng = createRng(42);
    for (let i = 0; i < 300; i++) {
      const pipeline = randomPipeline(rng);
      expect(validatePipeline(pipeline).errors).toEqual([]);
      const text = pipelineToParam(pipeline);
      const back = pipelineFromParam(text);
      expect(back.errors, text).toEqual([]);
      expect(back.pipeline, text).toEqual(pipeline);
      expect(new URLSearchParams(`aug=${text}`).get('aug')).toBe(text); // survives a query string as is
    }
  });

  it('accepts preset names', () => {
    for (const name of PRESET_NAMES) expect(pipelineFromParam(name).pipeline).toEqual(presetPipeline(name));
  });

  it.each([
    ['{{not-a-pipeline', /not of the form/],
    ['crop', /not of the form/],
    ['zoom:0.5', /unknown operator “zoom”/],
    ['flip:abc', /p “abc” is not a number/],
    ['flip:0.5,1', /flip expects 1 values/],
    ['flip:-0.5', /not a number ≥ 0/],
    ['flip:1.5', /between 0 and 1/],
    ['crop:0.9-0.5,0.75-1.3', /scale min \(0\.9\) is greater than max \(0\.5\)/],
    ['crop:0.5,1-2', /scale “0.5” is not a range/],
    ['cj:0.8', /cj expects 2 values/],
    ['cut:0.5,0,0.25', /count.*1 to 8/],
    ['blur:0.5,2-1', /σ.*greater than max/],
    ['flip:0.5;flip:0.2', /appears twice/],
    ['flip:0.5;;gray:0.2', /not of the form/],
    ['noise:0.5,NaN', /not a number/],
    ['noise:0.5,Infinity', /not a number/],
    ['flip:0x1', /not a number/],
    ['flip:1e-400', /p “1e-400” is too close to 0 to store/],
    ['noise:0.5,1e400', /sigma “1e400” is too large to store/],
    ['blur:0.5,1e-400-2', /sigma “1e-400” is too close to 0/],
    ['crop:0.2-1,1-1e400', /ratio “1e400” is too large/],
  ])('garbage %j gives an error', (text, message) => {
    const { pipeline, errors } = pipelineFromParam(text);
    expect(pipeline).toBeNull();
    expect(errors.join(' ')).toMatch(message);
  });

  it('never throws on random text', () => {
    const rng = createRng(8);
    const alphabet = 'cropflipcjgrayblurrotcutnoisesobel:;,-.0123456789e ';
    for (let i = 0; i < 2000; i++) {
      const text = Array.from({ length: Math.floor(rng() * 40) }, () => alphabet[Math.floor(rng() * alphabet.length)]).join('');
      const result = pipelineFromParam(text);
      expect(result.pipeline === null).toBe(result.errors.length > 0);
    }
  });

  it('reads a zero written with a large negative exponent as 0', () => {
    expect(pipelineFromParam('flip:0e-400').pipeline).toEqual({ operators: [{ kind: 'flip', enabled: true, p: 0 }] });
  });

  it('quotes what it could not read short and on one line', () => {
    const long = pipelineFromParam(`flip:${'9'.repeat(100_000)}x`).errors;
    expect(long).toEqual([`Item 1 (“flip:${'9'.repeat(35)}… (100,006 characters)”): p “${'9'.repeat(40)}… (100,001 characters)” is not a number ≥ 0.`]);
    expect(pipelineFromParam('zo\nom:1').errors[0]).toBe('Item 1 (“zo\\u000Aom:1”) is not of the form code:values, e.g. flip:0.5 (a leading - disables it).');
    expect(validatePipeline({ operators: [{ kind: 'x'.repeat(1000) }] }).errors[0].message).toMatch(/unknown kind “x{40}… \(1,000 characters\)”/);
  });

  it('reads a 100 KB parameter in well under a second', () => {
    const start = performance.now();
    for (const text of [`crop:${'1'.repeat(50_000)}-${'1'.repeat(50_000)}x,1-1`, 'flip:0.5;'.repeat(10_000), `-${'a'.repeat(100_000)}`]) {
      expect(pipelineFromParam(text).pipeline).toBeNull();
    }
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('reads an empty parameter as an empty pipeline, and one trailing ; is fine', () => {
    expect(pipelineFromParam('')).toEqual({ pipeline: { operators: [] }, errors: [] });
    expect(pipelineFromParam('flip:0.5;').pipeline).toEqual({ operators: [{ kind: 'flip', enabled: true, p: 0.5 }] });
  });
});

describe('pipelinesEqual', () => {
  it('compares kinds, order, switches and every number', () => {
    const a = simclrPipeline();
    expect(pipelinesEqual(a, simclrPipeline())).toBe(true);
    const changes: ((p: AugmentPipeline) => void)[] = [
      (p) => p.operators.reverse(),
      (p) => p.operators.pop(),
      (p) => { p.operators[1].enabled = false; },
      (p) => { p.operators[1].p = 0.4; },
      (p) => { (p.operators[0] as { scale: number[] }).scale[0] = 0.3; },
      (p) => { (p.operators[0] as { ratio: number[] }).ratio[1] = 1.3333; },
      (p) => { (p.operators[2] as { strength: number }).strength = 1; },
      (p) => { (p.operators[4] as { sigma: number[] }).sigma[1] = 3; },
      (p) => { (p.operators[6] as { count: number }).count = 2; },
      (p) => { (p.operators[6] as { size: number }).size = 0.5; },
      (p) => { (p.operators[7] as { sigma: number }).sigma = 0.1; },
    ];
    for (const change of changes) {
      const b = simclrPipeline();
      change(b);
      expect(pipelinesEqual(a, b), change.toString()).toBe(false);
    }
  });
});

describe('describeOperator', () => {
  it('gives every operator a title and a tooltip a student can read', () => {
    for (const kind of OPERATOR_KINDS) {
      const { title, tooltip } = describeOperator(kind);
      expect(title.length).toBeGreaterThan(3);
      expect(tooltip.length).toBeGreaterThan(60);
    }
    expect(describeOperator('crop').tooltip).toMatch(/most important/);
  });
});
