/**
 * SimCLR's augmentation family T as data: an ordered list of operators, each
 * with an enabled switch, a probability and its parameters. A pipeline is
 * plain JSON, so it lives in the experiment config (and the URL); the
 * previewer and the training loop both run it through `augmentViews`
 * (augmentViews.ts), so what the user sees is what trains.
 *
 * This file is the pipeline as data only: presets, validation, the URL codec,
 * equality and the plain-language descriptions. No tensors here.
 */

import { clipText, decimalValue, quote } from './fields';

export type OperatorKind =
  | 'crop' | 'flip' | 'colorJitter' | 'grayscale' | 'blur' | 'rotate' | 'cutout' | 'noise' | 'sobel';

interface OperatorBase {
  kind: OperatorKind;
  enabled: boolean;
  /** probability that the operator is applied to a view, in [0, 1] */
  p: number;
}

/** Random resized crop (always applied when enabled; p is ignored and kept at 1). */
export interface CropOperator extends OperatorBase {
  kind: 'crop';
  /** area fraction range, 0 < min ≤ max ≤ 1 */
  scale: [number, number];
  /** aspect-ratio range (w/h), log-uniform, 0 < min ≤ max */
  ratio: [number, number];
}
export interface FlipOperator extends OperatorBase { kind: 'flip' }
/** SimCLR's colour distortion: brightness 0.8s, contrast 0.8s, saturation 0.8s, hue 0.2s, in random order. */
export interface ColorJitterOperator extends OperatorBase {
  kind: 'colorJitter';
  /** s ≥ 0 */
  strength: number;
}
export interface GrayscaleOperator extends OperatorBase { kind: 'grayscale' }
/** Gaussian blur, kernel about 10% of the image side, σ ~ U[sigma]. */
export interface BlurOperator extends OperatorBase {
  kind: 'blur';
  /** σ range in px of the output view, 0 ≤ min ≤ max */
  sigma: [number, number];
}
/** Rotation by 90°, 180° or 270° (uniformly) with probability p. */
export interface RotateOperator extends OperatorBase { kind: 'rotate' }
/** Cutout: `count` squares of side `size` × image side, inside the image, filled with the image's mean colour (per channel). */
export interface CutoutOperator extends OperatorBase {
  kind: 'cutout';
  /** number of squares, integer 1..8 */
  count: number;
  /** side of each square as a fraction of the image side, 0 < size ≤ 1 */
  size: number;
}
/** Additive Gaussian noise N(0, σ²) per pixel, clipped to [0, 1]. */
export interface NoiseOperator extends OperatorBase {
  kind: 'noise';
  /** σ ≥ 0 in intensity units */
  sigma: number;
}
/** Sobel edge magnitude (per channel), scaled into [0, 1]. */
export interface SobelOperator extends OperatorBase { kind: 'sobel' }

export type AugmentOperator =
  | CropOperator | FlipOperator | ColorJitterOperator | GrayscaleOperator | BlurOperator
  | RotateOperator | CutoutOperator | NoiseOperator | SobelOperator;

/** The views' size is the model's input size (config.imageSize), not part of the pipeline. */
export interface AugmentPipeline {
  operators: AugmentOperator[];
}

export type PresetName = 'simclr' | 'crop-only' | 'crop-color' | 'crop-flip' | 'none';

/**
 * SimCLR's default family (Appendix A of the paper), for small images:
 * crop (scale from 0.2 rather than ImageNet's 0.08, since a 28 px crop of 8%
 * keeps too little of the object), flip, colour jitter s = 0.5 with p = 0.8,
 * grayscale p = 0.2, blur p = 0.5. The others start disabled so a user can switch them on.
 */
export function simclrPipeline(): AugmentPipeline {
  return {
    operators: [
      { kind: 'crop', enabled: true, p: 1, scale: [0.2, 1], ratio: [3 / 4, 4 / 3] },
      { kind: 'flip', enabled: true, p: 0.5 },
      { kind: 'colorJitter', enabled: true, p: 0.8, strength: 0.5 },
      { kind: 'grayscale', enabled: true, p: 0.2 },
      { kind: 'blur', enabled: true, p: 0.5, sigma: [0.1, 2] },
      { kind: 'rotate', enabled: false, p: 0.5 },
      { kind: 'cutout', enabled: false, p: 0.5, count: 1, size: 0.25 },
      { kind: 'noise', enabled: false, p: 0.5, sigma: 0.05 },
      { kind: 'sobel', enabled: false, p: 1 },
    ],
  };
}

/** Presets: the SimCLR family with some operators switched off. */
export function presetPipeline(name: PresetName): AugmentPipeline {
  const keep: Record<PresetName, OperatorKind[]> = {
    simclr: ['crop', 'flip', 'colorJitter', 'grayscale', 'blur'],
    'crop-only': ['crop'],
    'crop-flip': ['crop', 'flip'],
    'crop-color': ['crop', 'colorJitter', 'grayscale'],
    none: [],
  };
  const pipeline = simclrPipeline();
  for (const op of pipeline.operators) op.enabled = keep[name].includes(op.kind);
  return pipeline;
}

export const PRESET_NAMES: readonly PresetName[] = ['simclr', 'crop-only', 'crop-flip', 'crop-color', 'none'];

/** Every operator kind, in SimCLR's default order. */
export const OPERATOR_KINDS: readonly OperatorKind[] = [
  'crop', 'flip', 'colorJitter', 'grayscale', 'blur', 'rotate', 'cutout', 'noise', 'sobel',
];

/** Cutout's square count is capped: more than 8 squares on a 28 px view leaves little of the object. */
export const MAX_CUTOUT_COUNT = 8;

// ---------------------------------------------------------------------------
// Plain-language descriptions

const DESCRIPTIONS: Record<OperatorKind, { title: string; tooltip: string }> = {
  crop: {
    title: 'Random resized crop',
    tooltip:
      'Cuts out a random patch of the image (its area a random fraction of the whole, its shape a random aspect ratio) ' +
      'and stretches it back to the view size. Two crops of one image may show different parts, or one may zoom into the other, ' +
      'so the encoder must recognise an object from its parts and at different scales. ' +
      'SimCLR found this its most important operator, together with colour distortion.',
  },
  flip: {
    title: 'Horizontal flip',
    tooltip: 'Mirrors the view left to right with probability p. A shoe pointing left is still a shoe, so the encoder should not care which way it faces.',
  },
  colorJitter: {
    title: 'Colour jitter',
    tooltip:
      'Randomly changes brightness, contrast, saturation and hue, in a random order. Without it the two crops of one image share ' +
      'the same colour histogram and the encoder can match them by colour alone; jitter forces it to look at shapes. ' +
      'Strength s scales all four: factors in [1 − 0.8s, 1 + 0.8s], hue shift up to 0.2s of a turn.',
  },
  grayscale: {
    title: 'Grayscale',
    tooltip: 'Turns the view grey with probability p (luma 0.299 R + 0.587 G + 0.114 B), so the encoder cannot rely on colour alone. Part of SimCLR\'s colour distortion.',
  },
  blur: {
    title: 'Gaussian blur',
    tooltip:
      'Blurs the view with probability p, with a Gaussian of random width σ (in pixels) and a kernel about 10% of the image side. ' +
      'Removes fine texture, so the encoder must use coarser structure. SimCLR uses it on ImageNet; it helps less on tiny images.',
  },
  rotate: {
    title: 'Rotation by 90°',
    tooltip:
      'With probability p, turns the view by 90°, 180° or 270°. The encoder learns features that do not depend on orientation, ' +
      'which helps for objects seen from above and hurts where "up" matters (a 6 turned upside down is a 9).',
  },
  cutout: {
    title: 'Cutout',
    tooltip:
      'With probability p, covers one or more random squares (count; side a fraction of the image side) with the image\'s average colour, ' +
      'so the encoder cannot depend on any single region being visible.',
  },
  noise: {
    title: 'Gaussian noise',
    tooltip: 'With probability p, adds random noise of standard deviation σ to every pixel, so the encoder learns to ignore pixel-level speckle.',
  },
  sobel: {
    title: 'Sobel edges',
    tooltip:
      'With probability p, replaces the view by its edge strength (how fast brightness changes), which throws colour and shading away ' +
      'and keeps only outlines. A strong operator: SimCLR found it hurts on its own.',
  },
};

/** Title and tooltip of an operator, written for a student. */
export function describeOperator(kind: OperatorKind): { title: string; tooltip: string } {
  return DESCRIPTIONS[kind];
}

// ---------------------------------------------------------------------------
// Validation

/** One problem with a pipeline: which operator (index in `operators`) and which field, when known. */
export interface PipelineError {
  operator: number | null;
  field: string | null;
  message: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Checks an untrusted pipeline (from the UI, the URL or a saved config). On
 * success `pipeline` is a fresh copy holding only the known fields; otherwise
 * it is null and `errors` says, per operator and field, what is impossible and
 * how to fix it. Never throws.
 */
export function validatePipeline(pipeline: unknown): { pipeline: AugmentPipeline | null; errors: PipelineError[] } {
  const errors: PipelineError[] = [];
  if (!isRecord(pipeline)) {
    return { pipeline: null, errors: [{ operator: null, field: null, message: 'The augmentation pipeline must be an object with an “operators” list.' }] };
  }
  const list = pipeline.operators;
  if (!Array.isArray(list)) {
    return { pipeline: null, errors: [{ operator: null, field: 'operators', message: 'The augmentation pipeline has no “operators” list.' }] };
  }
  const operators: AugmentOperator[] = [];
  const firstIndex = new Map<OperatorKind, number>();
  list.forEach((raw: unknown, index: number) => {
    const op = validateOperator(raw, index, errors);
    if (!op) return;
    const earlier = firstIndex.get(op.kind);
    if (earlier !== undefined) {
      errors.push({
        operator: index, field: 'kind',
        message: `${DESCRIPTIONS[op.kind].title} appears twice (operators ${earlier + 1} and ${index + 1}); each operator can be used once: remove one.`,
      });
      return;
    }
    firstIndex.set(op.kind, index);
    operators.push(op);
  });
  return errors.length > 0 ? { pipeline: null, errors } : { pipeline: { operators }, errors };
}

/** A validated copy of one operator, or null after pushing its errors. */
function validateOperator(raw: unknown, index: number, errors: PipelineError[]): AugmentOperator | null {
  const before = errors.length;
  const fail = (field: string | null, message: string) => errors.push({ operator: index, field, message });
  if (!isRecord(raw)) {
    fail(null, `Operator ${index + 1} must be an object like { kind, enabled, p, … }.`);
    return null;
  }
  const kind = raw.kind;
  if (typeof kind !== 'string' || !(OPERATOR_KINDS as readonly string[]).includes(kind)) {
    fail('kind', `Operator ${index + 1} has unknown kind ${quote(String(kind))}: expected one of ${OPERATOR_KINDS.join(', ')}.`);
    return null;
  }
  const k = kind as OperatorKind;
  const title = DESCRIPTIONS[k].title;

  if (typeof raw.enabled !== 'boolean') fail('enabled', `${title}: “enabled” must be true or false, got ${clipText(JSON.stringify(raw.enabled) ?? 'nothing')}.`);
  const p = raw.p;
  if (!isFiniteNumber(p)) fail('p', `${title}: probability p must be a number between 0 and 1, got ${clipText(JSON.stringify(p) ?? 'nothing')}.`);
  else if (p < 0 || p > 1) fail('p', `${title}: probability p must be between 0 and 1, got ${p}.`);

  /** A [min, max] range whose ends each pass `endOk`; `endRule` says what they must be, in words. */
  const range = (field: string, label: string, endOk: (v: number) => boolean, endRule: string): [number, number] | null => {
    const v = raw[field];
    if (!Array.isArray(v) || v.length !== 2 || !isFiniteNumber(v[0]) || !isFiniteNumber(v[1])) {
      fail(field, `${title}: ${label} must be a range [min, max] of two numbers.`);
      return null;
    }
    const [lo, hi] = v as [number, number];
    let ok = true;
    if (!endOk(lo)) { fail(field, `${title}: ${label} min must be ${endRule}, got ${lo}.`); ok = false; }
    if (!endOk(hi)) { fail(field, `${title}: ${label} max must be ${endRule}, got ${hi}.`); ok = false; }
    if (lo > hi) { fail(field, `${title}: ${label} min (${lo}) is greater than max (${hi}): lower the min or raise the max.`); ok = false; }
    return ok ? [lo, hi] : null;
  };
  /** A single number passing `ok`. */
  const scalar = (field: string, label: string, ok: (v: number) => boolean, rule: string): number | null => {
    const v = raw[field];
    if (!isFiniteNumber(v)) {
      fail(field, `${title}: ${label} must be ${rule}, got ${clipText(JSON.stringify(v) ?? 'nothing')}.`);
      return null;
    }
    if (!ok(v)) {
      fail(field, `${title}: ${label} must be ${rule}, got ${v}.`);
      return null;
    }
    return v;
  };

  const base = { enabled: raw.enabled as boolean, p: p as number };
  let op: AugmentOperator | null = null;
  switch (k) {
    case 'crop': {
      const scale = range('scale', 'scale', (v) => v > 0 && v <= 1, 'greater than 0 and at most 1 (a fraction of the image area)');
      const ratio = range('ratio', 'aspect ratio', (v) => v > 0, 'greater than 0 (width / height)');
      if (scale && ratio) op = { kind: 'crop', ...base, scale, ratio };
      break;
    }
    case 'colorJitter': {
      const strength = scalar('strength', 'strength s', (v) => v >= 0, 'a number ≥ 0');
      if (strength !== null) op = { kind: 'colorJitter', ...base, strength };
      break;
    }
    case 'blur': {
      const sigma = range('sigma', 'σ', (v) => v >= 0, 'a number ≥ 0 (pixels)');
      if (sigma) op = { kind: 'blur', ...base, sigma };
      break;
    }
    case 'cutout': {
      const count = scalar('count', 'count', (v) => Number.isInteger(v) && v >= 1 && v <= MAX_CUTOUT_COUNT, `a whole number from 1 to ${MAX_CUTOUT_COUNT}`);
      const size = scalar('size', 'size', (v) => v > 0 && v <= 1, 'greater than 0 and at most 1 (a fraction of the image side)');
      if (count !== null && size !== null) op = { kind: 'cutout', ...base, count, size };
      break;
    }
    case 'noise': {
      const sigma = scalar('sigma', 'σ', (v) => v >= 0, 'a number ≥ 0');
      if (sigma !== null) op = { kind: 'noise', ...base, sigma };
      break;
    }
    case 'flip':
    case 'grayscale':
    case 'rotate':
    case 'sobel':
      op = { kind: k, ...base };
      break;
  }
  return errors.length === before ? op : null;
}

// ---------------------------------------------------------------------------
// Equality

/** Same operators, in the same order, with the same switches and numbers. */
export function pipelinesEqual(a: AugmentPipeline, b: AugmentPipeline): boolean {
  if (a.operators.length !== b.operators.length) return false;
  return a.operators.every((x, i) => {
    const y = b.operators[i];
    if (x.kind !== y.kind || x.enabled !== y.enabled || x.p !== y.p) return false;
    const yValues = operatorValues(y);
    return operatorValues(x).every((v, j) => v === yValues[j]);
  });
}

/** The parameters of an operator besides enabled and p, flattened, in URL order. */
function operatorValues(op: AugmentOperator): number[] {
  switch (op.kind) {
    case 'crop': return [...op.scale, ...op.ratio];
    case 'colorJitter': return [op.strength];
    case 'blur': return [...op.sigma];
    case 'cutout': return [op.count, op.size];
    case 'noise': return [op.sigma];
    case 'flip':
    case 'grayscale':
    case 'rotate':
    case 'sobel':
      return [];
  }
}

// ---------------------------------------------------------------------------
// URL codec
//
// `crop:0.2-1,0.75-1.3333333333333333;flip:0.5;cj:0.8,0.5;gray:0.2;blur:0.5,0.1-2;-rot:0.5;-cut:0.5,1,0.25;-noise:0.5,0.05;-sobel:1`
// One `code:values` item per operator, in pipeline order, `;`-separated; a
// leading `-` marks it disabled. Values are `,`-separated; a range is `min-max`.
// The first value is p, except for crop, whose p is always 1 and is written
// only when it is not (as a third value). Numbers are written with
// JavaScript's shortest round-trip form, so decoding gives back the exact
// doubles (4/3 included). A preset name (`simclr`, `none`, …) is also accepted.

const URL_CODES: Record<OperatorKind, string> = {
  crop: 'crop', flip: 'flip', colorJitter: 'cj', grayscale: 'gray', blur: 'blur',
  rotate: 'rot', cutout: 'cut', noise: 'noise', sobel: 'sobel',
};
const KIND_OF_CODE = new Map(OPERATOR_KINDS.map((k) => [URL_CODES[k], k] as const));

/** Shortest exact form; no `+` (a query string reads it as a space). All valid values are ≥ 0, so `-` only appears in exponents. */
const formatNumber = (v: number): string => String(v).replace('e+', 'e');
const formatRange = ([lo, hi]: [number, number]): string => `${formatNumber(lo)}-${formatNumber(hi)}`;

const NUMBER = String.raw`(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?`;
const NUMBER_RE = new RegExp(`^${NUMBER}$`, 'i');
const RANGE_RE = new RegExp(`^(${NUMBER})-(${NUMBER})$`, 'i');

/** Compact, URL-friendly text for the address bar; `pipelineFromParam` reads it back exactly. */
export function pipelineToParam(p: AugmentPipeline): string {
  return p.operators
    .map((op) => {
      let values: string[];
      switch (op.kind) {
        case 'crop':
          values = [formatRange(op.scale), formatRange(op.ratio), ...(op.p === 1 ? [] : [formatNumber(op.p)])];
          break;
        case 'colorJitter': values = [formatNumber(op.p), formatNumber(op.strength)]; break;
        case 'blur': values = [formatNumber(op.p), formatRange(op.sigma)]; break;
        case 'cutout': values = [formatNumber(op.p), formatNumber(op.count), formatNumber(op.size)]; break;
        case 'noise': values = [formatNumber(op.p), formatNumber(op.sigma)]; break;
        case 'flip':
        case 'grayscale':
        case 'rotate':
        case 'sobel':
          values = [formatNumber(op.p)];
          break;
      }
      return `${op.enabled ? '' : '-'}${URL_CODES[op.kind]}:${values.join(',')}`;
    })
    .join(';');
}

/** Reads `pipelineToParam`'s text (or a preset name). Garbage gives errors, never an exception. */
export function pipelineFromParam(s: string): { pipeline: AugmentPipeline | null; errors: string[] } {
  try {
    return parseParam(s);
  } catch (e) {
    return { pipeline: null, errors: [`Could not read the augmentation pipeline ${quote(String(s))}: ${clipText(e instanceof Error ? e.message : String(e))}.`] };
  }
}

function parseParam(s: string): { pipeline: AugmentPipeline | null; errors: string[] } {
  const text = typeof s === 'string' ? s.trim() : '';
  if ((PRESET_NAMES as readonly string[]).includes(text)) return { pipeline: presetPipeline(text as PresetName), errors: [] };
  const errors: string[] = [];
  const operators: unknown[] = [];
  const items = text === '' ? [] : text.split(';');
  // one trailing `;` is harmless
  if (items.length > 1 && items[items.length - 1].trim() === '') items.pop();
  items.forEach((rawItem, index) => {
    const item = rawItem.trim();
    const where = `Item ${index + 1} (${quote(item)})`;
    const match = /^(-?)([a-zA-Z]+):(.*)$/.exec(item);
    if (!match) {
      errors.push(`${where} is not of the form code:values, e.g. flip:0.5 (a leading - disables it).`);
      return;
    }
    const [, minus, code, rest] = match;
    const kind = KIND_OF_CODE.get(code);
    if (!kind) {
      errors.push(`${where}: unknown operator ${quote(code)}; expected one of ${OPERATOR_KINDS.map((k) => URL_CODES[k]).join(', ')}.`);
      return;
    }
    const values = rest.split(',').map((v) => v.trim());
    /** A number, or why not (`1e400` and `1e-400` match the grammar but no double holds them). */
    const exact = (v: string): number | string => {
      const value = decimalValue(v);
      return typeof value === 'number' ? value : `${quote(v)} ${value}`;
    };
    const num = (v: string): number | string => (NUMBER_RE.test(v) ? exact(v) : `${quote(v)} is not a number ≥ 0`);
    const rng = (v: string): [number, number] | string => {
      const m = RANGE_RE.exec(v);
      if (!m) return `${quote(v)} is not a range min-max of two numbers ≥ 0`;
      const lo = exact(m[1]);
      const hi = exact(m[2]);
      if (typeof lo === 'string') return lo;
      if (typeof hi === 'string') return hi;
      return [lo, hi];
    };
    /** Parses `values` against a layout: 'n' a number, 'r' a range, a trailing '?' an optional last value. */
    const read = (layout: string, names: string[]): (number | [number, number])[] | null => {
      const optional = layout.endsWith('?');
      const shape = layout.replace('?', '');
      if (values.length !== shape.length && !(optional && values.length === shape.length - 1)) {
        errors.push(`${where}: ${code} expects ${optional ? `${shape.length - 1} or ` : ''}${shape.length} values (${names.join(',')}), got ${values.length}.`);
        return null;
      }
      const out: (number | [number, number])[] = [];
      let ok = true;
      values.forEach((v, i) => {
        const parsed = shape[i] === 'r' ? rng(v) : num(v);
        if (typeof parsed === 'string') {
          errors.push(`${where}: ${names[i]} ${parsed}.`);
          ok = false;
        } else out.push(parsed);
      });
      return ok ? out : null;
    };
    const enabled = minus === '';
    switch (kind) {
      case 'crop': {
        const v = read('rrn?', ['scale', 'ratio', 'p']);
        if (v) operators.push({ kind, enabled, p: v.length > 2 ? v[2] : 1, scale: v[0], ratio: v[1] });
        break;
      }
      case 'colorJitter': {
        const v = read('nn', ['p', 'strength']);
        if (v) operators.push({ kind, enabled, p: v[0], strength: v[1] });
        break;
      }
      case 'blur': {
        const v = read('nr', ['p', 'sigma']);
        if (v) operators.push({ kind, enabled, p: v[0], sigma: v[1] });
        break;
      }
      case 'cutout': {
        const v = read('nnn', ['p', 'count', 'size']);
        if (v) operators.push({ kind, enabled, p: v[0], count: v[1], size: v[2] });
        break;
      }
      case 'noise': {
        const v = read('nn', ['p', 'sigma']);
        if (v) operators.push({ kind, enabled, p: v[0], sigma: v[1] });
        break;
      }
      case 'flip':
      case 'grayscale':
      case 'rotate':
      case 'sobel': {
        const v = read('n', ['p']);
        if (v) operators.push({ kind, enabled, p: v[0] });
        break;
      }
    }
  });
  if (errors.length > 0) return { pipeline: null, errors };
  const validated = validatePipeline({ operators });
  return { pipeline: validated.pipeline, errors: validated.errors.map((e) => e.message) };
}
