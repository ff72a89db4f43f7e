/**
 * Pure parts of the label-efficiency panel: names of the models in words,
 * the table grouped by model, the chart's rows and log axis, the few-shot
 * grid and the budget field's validation. Numbers in, numbers and text out.
 */
import type { FewShotModel, FewShotRow, LabelEfficiencyModel, LabelEfficiencyRow } from '../train/protocol';

/** Table and legend order: the self-supervised encoder first, then its baselines, then supervised from scratch. */
export const MODEL_ORDER: readonly LabelEfficiencyModel[] = [
  'ssl-linear', 'ssl-knn', 'ssl-finetune', 'random-init', 'random-init-knn', 'raw-pixels', 'raw-pixels-knn', 'supervised',
];

/** Each model in words; `steps` is the supervised / fine-tuning budget the run used. */
export function modelLabel(model: LabelEfficiencyModel, steps: number): string {
  switch (model) {
    case 'ssl-linear': return 'SimCLR encoder, linear probe';
    case 'ssl-knn': return 'SimCLR encoder, kNN';
    case 'ssl-finetune': return `SimCLR encoder, fine-tuned (${steps} steps)`;
    case 'random-init': return 'random-init encoder, linear probe';
    case 'random-init-knn': return 'random-init encoder, kNN';
    case 'raw-pixels': return 'raw pixels, linear probe';
    case 'raw-pixels-knn': return 'raw pixels, kNN';
    case 'supervised': return `supervised from scratch (same architecture, same augmentations, ${steps} steps)`;
  }
}

/** Line colour per model: the encoder in blues, untrained baselines purple and grey (dashed), supervised red. */
export const MODEL_STYLE: Record<LabelEfficiencyModel, { color: string; dashed: boolean }> = {
  'ssl-linear': { color: '#2563eb', dashed: false },
  'ssl-knn': { color: '#0891b2', dashed: false },
  'ssl-finetune': { color: '#1e3a8a', dashed: false },
  'random-init': { color: '#9333ea', dashed: true },
  'random-init-knn': { color: '#c084fc', dashed: true },
  'raw-pixels': { color: '#64748b', dashed: true },
  'raw-pixels-knn': { color: '#94a3b8', dashed: true },
  supervised: { color: '#dc2626', dashed: false },
};

const orderOf = (model: string): number => {
  const k = MODEL_ORDER.indexOf(model as LabelEfficiencyModel);
  return k < 0 ? MODEL_ORDER.length : k;
};

export interface ModelGroup {
  model: LabelEfficiencyModel;
  /** this model's rows, by fraction (ascending); the latest row wins when a fraction came twice */
  rows: LabelEfficiencyRow[];
}

/** The table: one group per model in MODEL_ORDER, each sorted by fraction. */
export function groupByModel(rows: readonly LabelEfficiencyRow[]): ModelGroup[] {
  const groups = new Map<LabelEfficiencyModel, Map<number, LabelEfficiencyRow>>();
  for (const row of rows) {
    let byFraction = groups.get(row.model);
    if (!byFraction) groups.set(row.model, (byFraction = new Map()));
    byFraction.set(row.fraction, row);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => orderOf(a) - orderOf(b))
    .map(([model, byFraction]) => ({ model, rows: [...byFraction.values()].sort((a, b) => a.fraction - b.fraction) }));
}

/** For each fraction, the best accuracy any model reached (to mark the winner of each column). */
export function bestByFraction(rows: readonly LabelEfficiencyRow[]): Map<number, number> {
  const best = new Map<number, number>();
  for (const r of rows) {
    if (Number.isFinite(r.testAccuracy) && r.testAccuracy > (best.get(r.fraction) ?? -Infinity)) best.set(r.fraction, r.testAccuracy);
  }
  return best;
}

/** Chart rows: one per fraction (ascending) with a column per model, as recharts wants overlaid lines. */
export function chartRows(rows: readonly LabelEfficiencyRow[]): Record<string, number>[] {
  const byFraction = new Map<number, Record<string, number>>();
  for (const r of rows) {
    if (!(r.fraction > 0) || !Number.isFinite(r.testAccuracy)) continue;
    let row = byFraction.get(r.fraction);
    if (!row) byFraction.set(r.fraction, (row = { fraction: r.fraction }));
    row[r.model] = r.testAccuracy;
  }
  return [...byFraction.values()].sort((a, b) => a.fraction - b.fraction);
}

/** The distinct positive fractions, ascending: the log axis's ticks. */
export function fractionTicks(fractions: readonly number[]): number[] {
  return [...new Set(fractions.filter((f) => f > 0 && Number.isFinite(f)))].sort((a, b) => a - b);
}

/**
 * A log axis's domain covering every fraction, with a little room at both ends
 * (a factor of 1.3) so the end points are not drawn on the frame.
 */
export function logDomain(fractions: readonly number[]): [number, number] {
  const ticks = fractionTicks(fractions);
  if (ticks.length === 0) return [0.01, 1];
  return [ticks[0] / 1.3, ticks[ticks.length - 1] * 1.3];
}

/** "1%", "10%", "0.5%", "100%". */
export function fractionLabel(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(3))}%`;
}

export const BUDGET_MIN = 10;
export const BUDGET_MAX = 5000;

/** The supervised / fine-tuning budget from user text: a whole number of steps from 10 to 5000. */
export function parseBudget(raw: string): { ok: true; value: number } | { ok: false; error: string } {
  const text = raw.trim();
  const value = Number(text);
  if (text === '' || !Number.isInteger(value) || value < BUDGET_MIN || value > BUDGET_MAX) {
    return { ok: false, error: `The budget must be a whole number of steps from ${BUDGET_MIN} to ${BUDGET_MAX}; got “${raw}”.` };
  }
  return { ok: true, value };
}

export const FEW_SHOT_MODELS: readonly FewShotModel[] = ['ssl', 'random-init', 'raw-pixels'];
export const FEW_SHOT_LABELS: Record<FewShotModel, string> = {
  ssl: 'SimCLR encoder',
  'random-init': 'random-init encoder',
  'raw-pixels': 'raw pixels',
};

/** The few-shot table: one line per number of shots (ascending), a cell per model (undefined where not measured). */
export function fewShotGrid(rows: readonly FewShotRow[]): { shots: number; cells: Partial<Record<FewShotModel, FewShotRow>> }[] {
  const byShots = new Map<number, Partial<Record<FewShotModel, FewShotRow>>>();
  for (const r of rows) {
    let cells = byShots.get(r.shots);
    if (!cells) byShots.set(r.shots, (cells = {}));
    cells[r.model] = r;
  }
  return [...byShots.entries()].sort(([a], [b]) => a - b).map(([shots, cells]) => ({ shots, cells }));
}
