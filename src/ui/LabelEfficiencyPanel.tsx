import { useMemo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { BUILTIN_DATASETS, UPLOAD_PREFIX } from '../core/datasets';
import { useDatasetStore } from '../state/datasetStore';
import { DEFAULT_FRACTIONS, DEFAULT_SHOTS, DEFAULT_SUPERVISED_STEPS, useEvalStore } from '../state/evalStore';
import { useRunStore } from '../state/runStore';
import { evaluation } from '../state/trainingClient';
import type { FewShotRow, LabelEfficiencyRow } from '../train/protocol';
import { percent } from './format';
import {
  BUDGET_MAX, BUDGET_MIN, FEW_SHOT_LABELS, FEW_SHOT_MODELS, MODEL_STYLE, bestByFraction, chartRows, fewShotGrid, fractionLabel,
  fractionTicks, groupByModel, logDomain, modelLabel, parseBudget,
} from './labelEfficiency';
import { useEvaluationBlocker } from './useEvaluationBlocker';
import './evaluation.css';

/** Label fractions offered: SimCLR's 1%, 10% and 100%, and 50% between them. */
const FRACTION_OPTIONS = [0.01, 0.1, 0.5, 1];
const SHOT_OPTIONS = [1, 5, 10];
/** "" in the select: the dataset the encoder was trained on. */
const TRAINING_DATASET = '';

interface RunSettings {
  supervisedSteps: number;
  fractions: number[];
  trainName: string;
  evalName: string;
}

const toggle = (list: readonly number[], value: number): number[] =>
  list.includes(value) ? list.filter((v) => v !== value) : [...list, value].sort((a, b) => a - b);

/**
 * The label-efficiency evaluation (SimCLR's semi-supervised table): the
 * current encoder, its untrained twin, raw pixels and a network trained from
 * scratch, each given 1%, 10%… of the labels, and few-shot nearest-centroid
 * classification. Settings here, the measuring in the worker.
 */
export function LabelEfficiencyPanel() {
  const state = useEvalStore((s) => s.labelEfficiency);
  const dataset = useRunStore((s) => s.dataset);
  const stored = useDatasetStore((s) => s.stored);
  const blocker = useEvaluationBlocker();
  const [fractions, setFractions] = useState<number[]>(DEFAULT_FRACTIONS);
  const [shots, setShots] = useState<number[]>(DEFAULT_SHOTS);
  const [budgetText, setBudgetText] = useState(String(DEFAULT_SUPERVISED_STEPS));
  const [choice, setChoice] = useState(TRAINING_DATASET);
  const [ran, setRan] = useState<RunSettings | null>(null);
  const [cancelFor, setCancelFor] = useState<number | null>(null);

  const targets = useMemo(
    () => [
      ...BUILTIN_DATASETS.map((d) => ({ id: d.id, name: d.name, labelled: true })),
      ...stored.map((d) => ({ id: `${UPLOAD_PREFIX}${d.id}`, name: d.name, labelled: d.labelled })),
    ].filter((d) => d.id !== dataset?.id),
    [stored, dataset?.id],
  );
  const target = targets.find((d) => d.id === choice) ?? null; // null: the training dataset (also when the chosen upload was deleted)
  const targetLabelled = target ? target.labelled : (dataset?.labelled ?? false);
  const budget = parseBudget(budgetText);

  const problem = blocker
    ?? (!targetLabelled ? 'This dataset has no labels, and the table needs labels: use the embedding map and neighbours instead.' : null)
    ?? (fractions.length === 0 ? 'Pick at least one label fraction.' : null);
  const cancelling = state.running && cancelFor === state.requestId;

  const run = () => {
    if (!dataset || !budget.ok || problem) return;
    setRan({ supervisedSteps: budget.value, fractions, trainName: dataset.name, evalName: target?.name ?? dataset.name });
    evaluation.runLabelEfficiency({ fractions, supervisedSteps: budget.value, shots, evalDataset: target?.id ?? dataset.id });
  };
  const cancel = () => {
    setCancelFor(state.requestId);
    evaluation.cancelLabelEfficiency();
  };

  const steps = ran?.supervisedSteps ?? (budget.ok ? budget.value : DEFAULT_SUPERVISED_STEPS);
  const trainName = state.trainDatasetName ?? ran?.trainName ?? null;
  const evalName = state.evalDatasetName ?? ran?.evalName ?? null;
  const hasResults = state.rows.length > 0 || state.fewShot.length > 0;

  return (
    <section className="panel eval-panel" data-testid="label-efficiency" aria-label="Label efficiency">
      <h2>Label efficiency: how far do a few labels go?</h2>
      <p className="hint">
        Every model below gets the same class-balanced fraction of the labelled training images and is scored on the same test images (probe test images, 2,000 by default).
        SimCLR&apos;s claim: with 1% of the labels, a linear probe on its frozen encoder beats the same network trained from scratch on
        those labels. The untrained encoder and raw pixels show how much of that is the training and not the architecture.
      </p>

      <div className="eval-controls">
        <fieldset>
          <legend>Labels used</legend>
          {FRACTION_OPTIONS.map((f) => (
            <label key={f}>
              <input
                type="checkbox" data-testid={`label-efficiency-fraction-${Math.round(f * 100)}`} checked={fractions.includes(f)}
                disabled={state.running} onChange={() => setFractions((list) => toggle(list, f))}
              />
              {fractionLabel(f)}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Few-shot: images per class</legend>
          {SHOT_OPTIONS.map((k) => (
            <label key={k}>
              <input
                type="checkbox" data-testid={`label-efficiency-shots-${k}`} checked={shots.includes(k)}
                disabled={state.running} onChange={() => setShots((list) => toggle(list, k))}
              />
              {k}
            </label>
          ))}
        </fieldset>
        <label className={`eval-field${budget.ok ? '' : ' field-invalid'}`}>
          <span>Supervised and fine-tuning budget (steps)</span>
          <input
            type="number" inputMode="numeric" min={BUDGET_MIN} max={BUDGET_MAX} step={1} data-testid="label-efficiency-budget"
            value={budgetText} disabled={state.running} aria-invalid={!budget.ok} onChange={(e) => setBudgetText(e.target.value)}
          />
        </label>
        <label className="eval-field">
          <span>Evaluate on</span>
          <select data-testid="label-efficiency-eval-dataset" value={target ? choice : TRAINING_DATASET} disabled={state.running} onChange={(e) => setChoice(e.target.value)}>
            <option value={TRAINING_DATASET}>the training dataset{dataset ? ` (${dataset.name})` : ''}</option>
            {targets.length > 0 && (
              <optgroup label="Another dataset (transfer)">
                {targets.map((d) => (
                  <option key={d.id} value={d.id} disabled={!d.labelled}>{d.name}{d.labelled ? '' : ' (no labels)'}</option>
                ))}
              </optgroup>
            )}
          </select>
        </label>
      </div>
      {!budget.ok && <p className="field-error" role="alert" data-testid="label-efficiency-budget-error">{budget.error}</p>}
      {target && (
        <p className="hint">
          Transfer: the encoder trained on {dataset?.name ?? 'the training dataset'} embeds {target.name}; probes, kNN and fine-tuning use{' '}
          {target.name}&apos;s labels, and the supervised baseline trains on {target.name} from scratch.
        </p>
      )}

      <div className="eval-actions">
        <button type="button" className="primary" data-testid="label-efficiency-run" disabled={state.running || problem !== null || !budget.ok} onClick={run}>
          {hasResults ? 'Run again' : 'Run the evaluation'}
        </button>
        {state.running && (
          <button type="button" data-testid="label-efficiency-cancel" disabled={cancelling} onClick={cancel}>
            {cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
        {!state.running && problem && <span className="eval-blocker" data-testid="label-efficiency-blocked">{problem}</span>}
      </div>

      {state.running && state.progress && (
        <div className="eval-progress" data-testid="label-efficiency-progress" role="status">
          <progress value={state.progress.done} max={Math.max(1, state.progress.total)} />
          <span>{state.progress.phase} ({Math.floor((100 * state.progress.done) / Math.max(1, state.progress.total))}% done). Training waits until this finishes.</span>
        </div>
      )}
      {state.error && (
        <p className="eval-error" role="alert" data-testid="label-efficiency-error">
          <strong>The evaluation stopped:</strong> {state.error}
          {state.rows.length > 0 && ' The rows measured before it stopped are kept below.'}
        </p>
      )}
      {state.cancelled && !state.error && (
        <p className="eval-notice" role="status" data-testid="label-efficiency-cancelled">
          Cancelled. {state.rows.length > 0 ? 'The rows measured before the cancel are kept below.' : 'Nothing had been measured yet.'}
        </p>
      )}

      {trainName && evalName && (hasResults || state.running) && (
        <p className="eval-source" data-testid="label-efficiency-source" data-transfer={trainName !== evalName}>
          Encoder trained on <strong>{trainName}</strong>; probes fitted and scored on <strong>{evalName}</strong>.
          {trainName !== evalName && <span className="eval-tag">transfer</span>}
        </p>
      )}

      {state.rows.length > 0 && <LabelEfficiencyTable rows={state.rows} steps={steps} />}
      {state.rows.length > 0 && <LabelEfficiencyChart rows={state.rows} fractions={ran?.fractions ?? fractions} steps={steps} />}
      {state.fewShot.length > 0 && <FewShotTable rows={state.fewShot} />}
      {!hasResults && !state.running && !state.error && !state.cancelled && (
        <p className="hint">Nothing measured yet. A run takes from seconds to minutes, longer with a larger budget; training pauses meanwhile.</p>
      )}
    </section>
  );
}

/** One table row per (fraction, model), grouped by model, each group sorted by fraction. */
function LabelEfficiencyTable({ rows, steps }: { rows: LabelEfficiencyRow[]; steps: number }) {
  const groups = useMemo(() => groupByModel(rows), [rows]);
  const best = useMemo(() => bestByFraction(rows), [rows]);
  return (
    <table className="eval-table" data-testid="label-efficiency-table">
      <caption>Test accuracy by model and share of the labels (the best of each share in bold)</caption>
      <thead>
        <tr>
          <th scope="col">Model</th>
          <th scope="col">Labels</th>
          <th scope="col">Labelled images</th>
          <th scope="col">Test accuracy</th>
        </tr>
      </thead>
      {groups.map((g) => (
        <tbody key={g.model}>
          {g.rows.map((r, k) => {
            const isBest = best.get(r.fraction) === r.testAccuracy;
            return (
              <tr key={r.fraction} data-fraction={r.fraction} data-model={r.model} data-value={r.testAccuracy} className={isBest ? 'eval-best' : undefined}>
                {k === 0 && (
                  <th scope="rowgroup" rowSpan={g.rows.length}>
                    <span className="eval-swatch" style={{ background: MODEL_STYLE[g.model].color }} />
                    {modelLabel(g.model, steps)}
                  </th>
                )}
                <td>{fractionLabel(r.fraction)}</td>
                <td>{r.labelledCount.toLocaleString()}{r.note && <span className="eval-row-note" data-testid="label-efficiency-note">{r.note}</span>}</td>
                <td className="eval-accuracy">
                  <span className="eval-bar" style={{ width: `${Math.max(0, Math.min(1, r.testAccuracy)) * 100}%`, background: MODEL_STYLE[g.model].color }} />
                  <span className="eval-bar-text">{percent(r.testAccuracy)}</span>
                </td>
              </tr>
            );
          })}
        </tbody>
      ))}
    </table>
  );
}

/** Accuracy against the share of labels on a log axis, one line per model. */
function LabelEfficiencyChart({ rows, fractions, steps }: { rows: LabelEfficiencyRow[]; fractions: number[]; steps: number }) {
  const data = useMemo(() => chartRows(rows), [rows]);
  const models = useMemo(() => groupByModel(rows).map((g) => g.model), [rows]);
  const all = useMemo(() => [...fractions, ...rows.map((r) => r.fraction)], [fractions, rows]);
  const ticks = fractionTicks(all);
  return (
    <figure className="chart eval-chart" data-testid="chart-label-efficiency" data-lines={models.length}>
      <figcaption>
        <p>
          The same numbers as a chart: accuracy against the share of the training labels, on a logarithmic axis so 1%, 10% and 100%
          are evenly spaced. The gap between the blue lines
          and the red one at the left is what self-supervised pretraining saves in labels.
        </p>
      </figcaption>
      <ResponsiveContainer width="100%" height={300}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis
            dataKey="fraction" type="number" scale="log" domain={logDomain(all)} ticks={ticks} allowDataOverflow
            tickFormatter={fractionLabel}
          />
          <YAxis domain={[0, 1]} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} width={52} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? percent(v) : String(v))} labelFormatter={(f) => `${fractionLabel(Number(f))} of the labels`} />
          <Legend itemSorter={null} />
          {models.map((m) => (
            <Line
              key={m} type="linear" dataKey={m} name={modelLabel(m, steps)} stroke={MODEL_STYLE[m].color}
              strokeDasharray={MODEL_STYLE[m].dashed ? '6 4' : undefined} strokeWidth={2} dot connectNulls isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

/** Nearest-centroid accuracy with k labelled images per class: shots down, models across. */
function FewShotTable({ rows }: { rows: FewShotRow[] }) {
  const grid = useMemo(() => fewShotGrid(rows), [rows]);
  const episodes = rows[0]?.episodes;
  return (
    <table className="eval-table few-shot-table" data-testid="few-shot-table">
      <caption>
        Few-shot: each class is summarized by the mean h of k labelled images, and each test image takes the class of the nearest
        mean (nearest centroid){episodes ? `, averaged over ${episodes} random draws of the k images` : ''}. No training at all.
      </caption>
      <thead>
        <tr>
          <th scope="col">Images per class</th>
          {FEW_SHOT_MODELS.map((m) => <th key={m} scope="col">{FEW_SHOT_LABELS[m]}</th>)}
        </tr>
      </thead>
      <tbody>
        {grid.map(({ shots, cells }) => (
          <tr key={shots} data-shots={shots}>
            <th scope="row">{shots}-shot</th>
            {FEW_SHOT_MODELS.map((m) => (
              <td key={m} data-shots={shots} data-model={m} data-value={cells[m]?.testAccuracy ?? ''}>{percent(cells[m]?.testAccuracy)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
