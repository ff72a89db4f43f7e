/**
 * Axis arithmetic for the recharts charts: where the ticks go, how many
 * decimals their labels need, how wide a y axis must be for its longest label,
 * how tall an x axis must be for a title under its ticks, and when a log scale
 * reads better than a linear one. Plain numbers in, numbers and strings out
 * (no React, no DOM), so every chart sizes its axes by the same rules.
 *
 * recharts draws a y axis's tick labels right-aligned against the plot, in the
 * `width` it is given: a label longer than that is cut by the SVG's left edge
 * ("40.00" for 140.00). Every chart therefore computes its ticks, formats them
 * here and asks axisWidth for the room they need.
 */

/** Font size (px) of tick labels and axis titles in every chart; set on the axes so the widths below match what is drawn. */
export const AXIS_FONT_PX = 11;
/** recharts' defaults: length of a tick line, and the gap between the line and its label. */
const TICK_SIZE = 6;
const TICK_MARGIN = 2;
/**
 * An x axis's gap between tick line and label, wider than recharts' 2 px: the
 * first x label sits under the plot's corner, and this keeps it clear of the
 * lowest y label beside that corner.
 */
export const X_TICK_MARGIN = 5;
/** Room left of the longest label, so that rounding in the width estimate never cuts a digit. */
const LABEL_PAD = 4;
/** A rendered line of text is about this many font sizes tall. */
const LINE_HEIGHT = 1.25;

/** Tick label style for XAxis/YAxis `tick`. */
export const AXIS_TICK = { fontSize: AXIS_FONT_PX } as const;
/**
 * recharts Legend props: text a little larger than the ticks (far smaller than
 * the page's default), and the series in the order they are drawn, not
 * alphabetical (τ = 1, 2, 5, 10, … rather than 1, 10, 100, 2, …).
 */
export const LEGEND_PROPS = { wrapperStyle: { fontSize: 12 }, itemSorter: null } as const;

/**
 * Advance widths in em, rounded up from DejaVu Sans (the widest of the usual
 * system sans-serifs: digits 0.636 em against 0.55 to 0.6 elsewhere), so the
 * estimate errs towards room to spare.
 */
const CHAR_EM: Record<string, number> = { '.': 0.33, ',': 0.33, '-': 0.37, '−': 0.84, '%': 0.95, ' ': 0.32, k: 0.58, M: 0.87, '×': 0.84 };
const DIGIT_EM = 0.64;
const OTHER_EM = 0.72;

/** Estimated width in px of `text` at `fontPx`. */
export function textWidth(text: string, fontPx = AXIS_FONT_PX): number {
  let em = 0;
  for (const c of text) em += c >= '0' && c <= '9' ? DIGIT_EM : (CHAR_EM[c] ?? OTHER_EM);
  return em * fontPx;
}

/** Width (px) of the band a rotated y-axis title takes at the axis's left edge. */
export const titleBand = (fontPx = AXIS_FONT_PX): number => Math.ceil(fontPx * LINE_HEIGHT) + 2;

/**
 * The `width` a YAxis needs so that none of `labels` is cut: the longest
 * label, the tick line and its gap, a little padding, and the title's band
 * when the axis has a title (yAxisTitle).
 */
export function axisWidth(labels: readonly string[], fontPx = AXIS_FONT_PX, titled = false): number {
  const longest = labels.reduce((w, label) => Math.max(w, textWidth(label, fontPx)), 0);
  return Math.ceil(longest + TICK_SIZE + TICK_MARGIN + LABEL_PAD + (titled ? titleBand(fontPx) : 0));
}

/**
 * The `height` an XAxis needs: its tick labels, and under them, when titled,
 * a line for the title (xAxisTitle), so that the two never overlap.
 */
export function xAxisHeight(titled: boolean, fontPx = AXIS_FONT_PX): number {
  const ticks = TICK_SIZE + X_TICK_MARGIN + Math.ceil(fontPx * LINE_HEIGHT);
  return titled ? ticks + Math.ceil(fontPx * LINE_HEIGHT) + 2 : ticks + 4;
}

/** An XAxis `label`: the title at the bottom right, below the tick labels (give the axis xAxisHeight(true)). */
export function xAxisTitle(value: string, fontPx = AXIS_FONT_PX) {
  return { value, position: 'insideBottomRight' as const, offset: 0, fontSize: fontPx, fill: '#475569' };
}

/** Room (px) under a plot with a titled x axis, and with a one-line legend under that: where an empty chart's message must not reach. */
export const BELOW_PLOT = xAxisHeight(true) + 8;
export const BELOW_PLOT_WITH_LEGEND = BELOW_PLOT + 26;

/**
 * The rows an empty step chart draws: one step with no values. recharts
 * leaves out the tick labels and reference lines of a chart without rows,
 * and with them the empty frame shows what its axes will hold.
 */
export const EMPTY_ROWS: readonly { step: number }[] = [{ step: 0 }];

/** An XAxis's tick font, tick gap, height and (when given) title, to spread onto the axis: `<XAxis {...xAxisLayout('step')} …/>`. */
export function xAxisLayout(title?: string) {
  return {
    tick: AXIS_TICK, tickMargin: X_TICK_MARGIN, height: xAxisHeight(title !== undefined),
    ...(title === undefined ? {} : { label: xAxisTitle(title) }),
  };
}

/**
 * Ticks of a step axis running from `start` to `end`: at most `maxTicks`, at
 * a nice step, none past `end` (so no "9" crowding a "10" at the end).
 */
export function stepTicks(start: number, end: number, maxTicks = 6): number[] {
  if (!(end > start)) return [start];
  return niceTicks(start, end, maxTicks, 1).filter((t) => t >= start && t <= end);
}

/**
 * A YAxis `label`: the title turned up the axis's left edge, centred in its
 * band, clear of the tick labels (give the axis axisWidth(labels, fontPx, true)).
 */
export function yAxisTitle(value: string, fontPx = AXIS_FONT_PX) {
  return {
    value, angle: -90, position: 'insideLeft' as const, offset: Math.ceil(titleBand(fontPx) / 2),
    style: { textAnchor: 'middle' as const }, fontSize: fontPx, fill: '#475569',
  };
}

/** The smallest gap between neighbouring ticks (NaN for fewer than two). */
export function tickStep(ticks: readonly number[]): number {
  const sorted = [...ticks].filter(Number.isFinite).sort((a, b) => a - b);
  let step = Number.NaN;
  for (let i = 1; i < sorted.length; i++) {
    const gap = sorted[i] - sorted[i - 1];
    if (gap > 0 && !(gap >= step)) step = gap;
  }
  return step;
}

/** Decimals that show a tick step exactly: 1 → 0, 0.5 → 1, 0.25 → 2, 0.001 → 3 (at most 8). */
export function decimalsFor(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) return 0;
  for (let d = 0; d < 8; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) <= 1e-9 * Math.max(1, scaled)) return d;
  }
  return 8;
}

const SUFFIXES = [{ at: 1e9, unit: 1e9, suffix: 'G' }, { at: 1e6, unit: 1e6, suffix: 'M' }, { at: 1e3, unit: 1e3, suffix: 'k' }];

/**
 * Tick labels for a linear axis: every label with the same decimals, as many
 * as the tick step needs (0, 0.25, 0.50 … or 100, 120, 140); from 1,000 on in
 * thousands ("1.2k"), from a million in millions.
 */
export function tickFormatter(ticks: readonly number[]): (v: number) => string {
  const largest = ticks.reduce((m, t) => (Number.isFinite(t) ? Math.max(m, Math.abs(t)) : m), 0);
  const scale = SUFFIXES.find((s) => largest >= s.at);
  const unit = scale?.unit ?? 1;
  const suffix = scale?.suffix ?? '';
  const step = tickStep(ticks);
  const decimals = decimalsFor(Number.isFinite(step) ? step / unit : largest / unit);
  return (v) => {
    if (!Number.isFinite(v)) return String(v);
    // "0", not "0.0k"
    if (v === 0 && suffix) return '0';
    return `${(v / unit).toFixed(decimals)}${suffix}`;
  };
}

/** Tick labels for accuracies in [0, 1], as percentages with the decimals the step needs (60%, 62.5%). */
export function percentTickFormatter(ticks: readonly number[]): (v: number) => string {
  const step = tickStep(ticks);
  const decimals = decimalsFor(Number.isFinite(step) ? step * 100 : 1);
  return (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(decimals)}%` : String(v));
}

const NICE_MULTIPLES = [1, 2, 2.5, 5, 10];

/**
 * At most `maxTicks` ticks at a nice step (1, 2, 2.5 or 5 × 10^k, and no
 * less than `minStep`: 1 for steps) that cover [min, max]; the axis domain is
 * [first tick, last tick]. A single value gets a band around it.
 */
export function niceTicks(min: number, max: number, maxTicks = 6, minStep = 0): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min > max) [min, max] = [max, min];
  if (max - min < 1e-12 * Math.max(1, Math.abs(max))) {
    const half = Math.abs(max) * 0.1 || 0.5;
    min -= half;
    max += half;
  }
  const count = Math.max(2, maxTicks);
  const raw = (max - min) / (count - 1);
  let decade = 10 ** Math.floor(Math.log10(raw));
  for (;;) {
    for (const m of NICE_MULTIPLES) {
      const step = m * decade;
      if (step < minStep) continue;
      const low = Math.floor(min / step + 1e-9) * step;
      const high = Math.ceil(max / step - 1e-9) * step;
      const n = Math.round((high - low) / step) + 1;
      if (n <= count) {
        const digits = decimalsFor(step) + 2;
        return Array.from({ length: n }, (_, i) => Number((low + i * step).toFixed(digits)));
      }
    }
    decade *= 10;
  }
}

/** Whether every value can be drawn on a log axis: finite ones all above 0, and at least one. */
export function canUseLogScale(values: readonly number[]): boolean {
  const finite = values.filter(Number.isFinite);
  return finite.length > 0 && finite.every((v) => v > 0);
}

/**
 * Whether a log scale reads better: the values are all above 0 and the
 * largest is more than `ratio` times the smallest, so that on a linear axis
 * the small ones would lie flat along the bottom (an unnormalized loss near
 * 140 beside a normalized one near 5).
 */
export function shouldUseLogScale(values: readonly number[], ratio = 20): boolean {
  if (!canUseLogScale(values)) return false;
  const finite = values.filter(Number.isFinite);
  return Math.max(...finite) / Math.min(...finite) > ratio;
}

const LOG_MANTISSAS = [1, 2, 5];

/** A log axis domain from 1, 2 or 5 × 10^k below the smallest value to the same above the largest (values > 0). */
export function logDomain(values: readonly number[]): [number, number] {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  if (positive.length === 0) return [1, 10];
  const lo = Math.min(...positive);
  const hi = Math.max(...positive);
  const below = (x: number) => {
    const decade = 10 ** Math.floor(Math.log10(x) + 1e-12);
    return Number((decade * [...LOG_MANTISSAS].reverse().find((m) => m * decade <= x * (1 + 1e-12))!).toPrecision(12));
  };
  const above = (x: number) => {
    const decade = 10 ** Math.floor(Math.log10(x) - 1e-12);
    return Number((decade * ([...LOG_MANTISSAS, 10].find((m) => m * decade >= x * (1 - 1e-12)))!).toPrecision(12));
  };
  const low = below(lo);
  const high = above(hi);
  return high > low ? [low, high] : [low, Number((low * 10).toPrecision(12))];
}

/**
 * Ticks on a log axis over `domain`: 1, 2 and 5 × 10^k when they are at most
 * `maxTicks`, else the powers of ten, always with the domain's two ends.
 */
export function logTicks([low, high]: [number, number], maxTicks = 6): number[] {
  if (!(low > 0) || !(high > low)) return [low, high].filter((v) => v > 0);
  const all: number[] = [];
  for (let k = Math.floor(Math.log10(low)) - 1; 10 ** k <= high * 10; k++) {
    for (const m of LOG_MANTISSAS) {
      const v = Number((m * 10 ** k).toPrecision(12));
      if (v >= low * (1 - 1e-9) && v <= high * (1 + 1e-9)) all.push(v);
    }
  }
  if (all.length <= maxTicks) return all;
  const powers = all.filter((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
  return [...new Set([low, ...powers, high])].sort((a, b) => a - b);
}

/** A log axis's tick label: up to three significant digits, "1k" and "1.2M" for the large ones, "0.001" for the small. */
export function logTickFormat(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const scale = SUFFIXES.find((s) => Math.abs(v) >= s.at);
  return scale ? `${+(v / scale.unit).toPrecision(3)}${scale.suffix}` : String(+v.toPrecision(3));
}

/** A y axis worked out in one go: its ticks, their labels and the width it needs. */
export interface YAxisLayout {
  domain: [number, number];
  ticks: number[];
  format: (v: number) => string;
  width: number;
}

/** A linear y axis over `ticks` (niceTicks, unitTicks…): labels from tickFormatter (or `format`) and the width they need. */
export function linearYAxis(ticks: readonly number[], { titled = false, format }: { titled?: boolean; format?: (v: number) => string } = {}): YAxisLayout {
  const fmt = format ?? tickFormatter(ticks);
  return { domain: [ticks[0], ticks[ticks.length - 1]], ticks: [...ticks], format: fmt, width: axisWidth(ticks.map(fmt), AXIS_FONT_PX, titled) };
}

/** A log y axis over `values`: domain, ticks, labels and width. */
export function logYAxis(values: readonly number[], { titled = false }: { titled?: boolean } = {}): YAxisLayout {
  const domain = logDomain(values);
  const ticks = logTicks(domain);
  return { domain, ticks, format: logTickFormat, width: axisWidth(ticks.map(logTickFormat), AXIS_FONT_PX, titled) };
}
