/**
 * The generator panel's arithmetic (issue 19), plain numbers in and out (no
 * React, no DOM): the rows and axes of its charts, the fixed-noise grid laid
 * out as one mosaic, the nearest-neighbour view unpacked from the worker's
 * flat arrays, and the labels and sentences the panel shows.
 */
import type { GeneratorField } from '../core/generatorSettings';
import type { BrokenGenerator } from '../data/generatorDb';
import type {
  GeneratorKind, GeneratorNeighbours, GeneratorQualityPoint, GeneratorSamples, GeneratorState, GeneratorStepMetrics, StoredGeneratorInfo,
} from '../train/protocol';
import { linearYAxis, logYAxis, niceTicks, shouldUseLogScale, type YAxisLayout } from './chartAxis';
import { downsample, niceCeil } from './format';
import { hwcToRgba } from './pixels';

export const KIND_LABEL: Record<GeneratorKind, string> = { dcgan: 'DCGAN', vae: 'VAE' };

/** The numeric controls in the order shown, with their test ids written out (../shared/UI-CONTRACT.md lists them). */
export const FIELD_CONTROLS: readonly { field: GeneratorField; testId: string; errorTestId: string }[] = [
  { field: 'steps', testId: 'generator-steps', errorTestId: 'generator-error-steps' },
  { field: 'batchSize', testId: 'generator-batch', errorTestId: 'generator-error-batch' },
  { field: 'width', testId: 'generator-width', errorTestId: 'generator-error-width' },
  { field: 'zDim', testId: 'generator-zdim', errorTestId: 'generator-error-zdim' },
  { field: 'seed', testId: 'generator-seed', errorTestId: 'generator-error-seed' },
];

/** One line of the losses chart: a key of GeneratorStepMetrics.values, its name in the paper's terms, and its axis. */
export interface LossSeries {
  key: string;
  name: string;
  color: string;
  /** 'loss': the left axis; 'score': the right axis, D's mean output in [0, 1] */
  axis: 'loss' | 'score';
  dashed?: boolean;
}

/**
 * DCGAN (Radford et al. 2016) with Goodfellow et al.'s non-saturating G loss:
 * L_D = −[log D(x) + log(1 − D(G(z)))], L_G = −log D(G(z)); D(x) and D(G(z))
 * are D's mean outputs on the real and the generated batch. The VAE (Kingma &
 * Welling 2014): −ELBO = E_q[−log p(x|z)] + KL(q(z|x) ‖ N(0, I)), per image.
 */
export const LOSS_SERIES: Record<GeneratorKind, readonly LossSeries[]> = {
  dcgan: [
    { key: 'discriminatorLoss', name: 'L_D: discriminator loss', color: '#dc2626', axis: 'loss' },
    { key: 'generatorLoss', name: 'L_G = −log D(G(z)): generator loss', color: '#2563eb', axis: 'loss' },
    { key: 'realScore', name: 'D(x): D on real images', color: '#16a34a', axis: 'score', dashed: true },
    { key: 'fakeScore', name: 'D(G(z)): D on generated images', color: '#9333ea', axis: 'score', dashed: true },
  ],
  vae: [
    { key: 'negativeElbo', name: '−ELBO (the loss minimized)', color: '#0f172a', axis: 'loss' },
    { key: 'reconstruction', name: 'E_q[−log p(x|z)]: reconstruction', color: '#2563eb', axis: 'loss' },
    { key: 'kl', name: 'KL(q(z|x) ‖ N(0, I))', color: '#ea580c', axis: 'loss' },
  ],
};

/** Points drawn at most per line: the shape of a long training, cheap to redraw. */
export const MAX_CHART_POINTS = 300;

export type ChartRow = { step: number } & Record<string, number | undefined>;

/**
 * The losses chart's rows: the steps of `kind` (another kind's are left out),
 * at most `max` of them evenly spaced with the last always in, one column per
 * series; a value that is missing or not finite (a diverged step) is left
 * empty, so the line breaks there instead of the axis blowing up.
 */
export function lossChartRows(steps: readonly GeneratorStepMetrics[], kind: GeneratorKind, max = MAX_CHART_POINTS): ChartRow[] {
  const series = LOSS_SERIES[kind];
  return downsample(steps.filter((s) => s.kind === kind), max).map((s) => {
    const row: ChartRow = { step: s.step };
    for (const { key } of series) {
      const v = s.values[key];
      row[key] = typeof v === 'number' && Number.isFinite(v) ? v : undefined;
    }
    return row;
  });
}

/** The finite values of `keys` over `rows`. */
function columnValues(rows: readonly ChartRow[], keys: readonly string[]): number[] {
  const values: number[] = [];
  for (const row of rows) for (const key of keys) {
    const v = row[key];
    if (typeof v === 'number' && Number.isFinite(v)) values.push(v);
  }
  return values;
}

/**
 * A y axis for `values`: logarithmic when they are all above 0 and span more
 * than 20× (a VAE's reconstruction, hundreds of nats, beside its KL of a few),
 * else linear on nice ticks; [0, 1] before there is anything.
 */
export function valueAxis(values: readonly number[]): YAxisLayout & { log: boolean } {
  if (values.length === 0) return { ...linearYAxis([0, 0.5, 1]), log: false };
  if (shouldUseLogScale(values)) return { ...logYAxis(values), log: true };
  return { ...linearYAxis(niceTicks(Math.min(0, ...values), Math.max(...values), 6)), log: false };
}

/** The losses chart's left axis (the losses; the DCGAN's scores have their own [0, 1] axis). */
export function lossAxis(rows: readonly ChartRow[], kind: GeneratorKind): YAxisLayout & { log: boolean } {
  return valueAxis(columnValues(rows, LOSS_SERIES[kind].filter((s) => s.axis === 'loss').map((s) => s.key)));
}

/**
 * Where the step axis ends: past the last step and the step the training
 * aims for, at a nice number (niceCeil), so the axis moves a few times per
 * decade rather than at every redraw; 10 before the first step.
 */
export function stepAxisEnd(lastStep: number | undefined, targetStep?: number): number {
  return niceCeil(Math.max(10, lastStep ?? 0, targetStep ?? 0));
}

/** The quality chart's rows: Fréchet distance, precision and recall against step, at most `max`, non-finite values left empty. */
export function qualityChartRows(points: readonly GeneratorQualityPoint[], max = MAX_CHART_POINTS): ChartRow[] {
  const finite = (v: number) => (Number.isFinite(v) ? v : undefined);
  return downsample(points, max).map((p) => ({ step: p.step, frechet: finite(p.frechet), precision: finite(p.precision), recall: finite(p.recall) }));
}

/** The Fréchet distance's axis (0 and up; log when it has fallen by more than 20×). */
export function frechetAxis(rows: readonly ChartRow[]): YAxisLayout & { log: boolean } {
  return valueAxis(columnValues(rows, ['frechet']));
}

/** Columns of the sample grid: as square as it gets (16 samples: 4 × 4). */
export function gridColumns(count: number): number {
  return Math.max(1, Math.ceil(Math.sqrt(Math.max(1, count))));
}

/** Gap between the grid's tiles, in image pixels (drawn light, so the tiles read as separate images). */
export const MOSAIC_GAP = 1;
const GAP_RGB = [226, 232, 240] as const;

/**
 * The grid's `count` images as one RGBA picture, `gridColumns(count)` tiles
 * a row with `gap` pixels between them: what one canvas draws, scaled up
 * without smoothing. Images missing from a short batch stay gap-coloured.
 */
export function mosaic(samples: Pick<GeneratorSamples, 'images' | 'count' | 'imageSize' | 'channels'>, gap = MOSAIC_GAP) {
  const { imageSize: size, channels } = samples;
  const count = Math.max(0, samples.count);
  const cols = gridColumns(count);
  const rows = Math.max(1, Math.ceil(count / cols));
  const width = cols * size + (cols - 1) * gap;
  const height = rows * size + (rows - 1) * gap;
  const data = new Uint8ClampedArray(Math.max(0, width * height * 4));
  for (let p = 0; p < width * height; p++) data.set([GAP_RGB[0], GAP_RGB[1], GAP_RGB[2], 255], 4 * p);
  const tile = new Uint8ClampedArray(size * size * 4);
  const perImage = size * size * channels;
  for (let i = 0; i < count; i++) {
    if ((i + 1) * perImage > samples.images.length) break;
    hwcToRgba(samples.images, i, size, channels, tile);
    const x0 = (i % cols) * (size + gap);
    const y0 = Math.floor(i / cols) * (size + gap);
    for (let y = 0; y < size; y++) data.set(tile.subarray(y * size * 4, (y + 1) * size * 4), ((y0 + y) * width + x0) * 4);
  }
  return { width, height, data };
}

/** One sample of the neighbour view: where its image and its neighbours' images sit in the result's batch. */
export interface NeighbourRow {
  /** its place in the sample grid */
  sample: number;
  /** index of the sample's image in result.images */
  imageIndex: number;
  neighbours: { imageIndex: number; trainIndex: number; distance: number }[];
}

/**
 * Unpacks GeneratorNeighbours: per sample its image, then its k nearest
 * real images (nearest first) with their training index and RMS distance.
 * A result whose arrays are shorter than they claim gives the samples and
 * neighbours that are whole, never an index past the end.
 */
export function neighbourRows(result: GeneratorNeighbours): NeighbourRow[] {
  const k = Math.max(0, Math.floor(result.k));
  const perImage = result.imageSize * result.imageSize * result.channels;
  const imagesHeld = perImage > 0 ? Math.floor(result.images.length / perImage) : 0;
  const rows: NeighbourRow[] = [];
  result.sampleIndices.forEach((sample, s) => {
    const imageIndex = s * (k + 1);
    if (imageIndex >= imagesHeld) return;
    const neighbours: NeighbourRow['neighbours'] = [];
    for (let j = 0; j < k; j++) {
      const at = s * k + j;
      if (imageIndex + 1 + j >= imagesHeld || at >= result.neighbourIndices.length || at >= result.distances.length) break;
      neighbours.push({ imageIndex: imageIndex + 1 + j, trainIndex: result.neighbourIndices[at], distance: result.distances[at] });
    }
    rows.push({ sample, imageIndex, neighbours });
  });
  return rows;
}

/** A neighbour's distance as shown under it: RMS pixel difference, pixels in [0, 1] (a copy would read 0.000). */
export function distanceText(distance: number): string {
  return Number.isFinite(distance) ? `RMS ${distance.toFixed(3)}` : 'RMS —';
}

/** The smallest distance from any shown sample to its nearest real image, or undefined when there is none. */
export function closestDistance(rows: readonly NeighbourRow[]): number | undefined {
  const firsts = rows.map((r) => r.neighbours[0]?.distance).filter((d): d is number => d !== undefined && Number.isFinite(d));
  return firsts.length ? Math.min(...firsts) : undefined;
}

/** The progress line: "Step 120 of 300", or without "of" when the end is not known, or what the request is doing. */
export function progressText(
  requestKind: 'train-fresh' | 'train-continue' | 'load' | null, lastStep: number | undefined, target: { from: number; to: number } | null,
): string {
  if (requestKind === 'load') return 'Loading the saved generator and drawing its samples…';
  if (lastStep === undefined || (target && lastStep < target.from)) {
    return target ? `Starting: step ${target.from} of ${target.to}…` : 'Starting…';
  }
  return target ? `Step ${lastStep} of ${target.to}` : `Step ${lastStep}`;
}

/** The share done for a <progress>: steps taken in this request over steps asked for (null when not known). */
export function progressFraction(lastStep: number | undefined, target: { from: number; to: number } | null): number | null {
  if (!target || target.to <= target.from) return null;
  return Math.min(1, Math.max(0, ((lastStep ?? target.from) - target.from) / (target.to - target.from)));
}

/**
 * The sample-quality figures stored with a generator, by what they are:
 * generatorDb keeps them by name (the worker writes frechet, precision and
 * recall; a longer name such as "Fréchet distance on …" is recognized too).
 */
export function storedQuality(quality: Record<string, number> | undefined): { frechet?: number; precision?: number; recall?: number } {
  const out: { frechet?: number; precision?: number; recall?: number } = {};
  if (!quality) return out;
  for (const [name, value] of Object.entries(quality)) {
    if (!Number.isFinite(value)) continue;
    if (out.frechet === undefined && /fr[eé]chet/i.test(name)) out.frechet = value;
    else if (out.precision === undefined && /^precision/i.test(name)) out.precision = value;
    else if (out.recall === undefined && /^recall/i.test(name)) out.recall = value;
  }
  return out;
}

/** A date and time as the saved list shows it (the reader's locale). */
export function dateText(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown date';
  return new Date(ms).toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/**
 * A saved generator's settings in one line: "w 16, z 64, seed 1, 16 px
 * grayscale", and when the experiment trained it on a real budget X only,
 * how many real images that was ("; on 10% of the training images (600)").
 */
export function savedSettingsText(info: StoredGeneratorInfo): string {
  const c = info.config;
  const settings = `w ${c.width}, z ${c.zDim}, seed ${c.seed}, ${c.size} px ${c.channels === 1 ? 'grayscale' : 'RGB'}`;
  if (!c.budget) return settings;
  const share = +(100 * c.budget.realFraction).toPrecision(3);
  return `${settings}; on ${share}% of the training images (${c.budget.count.toLocaleString('en-US')})`;
}

/** A broken record as listed: what it is, as far as known, and why it cannot be used. */
export function brokenText(b: BrokenGenerator): string {
  return `A stored generator${b.datasetId ? ` for “${b.datasetId}”` : ''} cannot be used: ${b.reason}. Delete it.`;
}

/**
 * Why Continue is off, in the user's words, or null when it can go on: the
 * worker must hold a generator of this dataset and of the kind chosen.
 */
export function continueBlocker(current: GeneratorState | null, datasetId: string | undefined, kind: GeneratorKind): string | null {
  if (!current) return 'Continue trains the generator the page holds: train a new one or load a saved one first.';
  if (current.datasetId !== datasetId) {
    return `The generator held now was trained on “${current.datasetName}”: switch back to that dataset to continue it, or train a new one here.`;
  }
  if (current.kind !== kind) return `The generator held now is a ${KIND_LABEL[current.kind]}: choose ${KIND_LABEL[current.kind]} to continue it.`;
  return null;
}
