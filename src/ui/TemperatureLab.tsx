import { useMemo, useState } from 'react';
import { useLayoutStore } from '../state/layoutStore';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useConfigStore } from '../state/configStore';
import { useRunStore } from '../state/runStore';
import type { AffinitySnapshot } from '../train/protocol';
import { AXIS_TICK, LEGEND_PROPS, linearYAxis, logTickFormat, logTicks, niceTicks, xAxisLayout, yAxisTitle } from './chartAxis';
import { ChartPlot } from './ChartPlot';
import {
  NORMALIZED_TEMPERATURES, UNNORMALIZED_TEMPERATURES, candidateRow, convertRow, entropy, logSpace, parseTemperatures, softmaxAt,
} from './temperature';

const COLOURS = ['#2563eb', '#16a34a', '#ea580c', '#9333ea', '#0891b2', '#be123c', '#854d0e', '#4b5563'];
/** Softmax probabilities: 0 to 1. */
const PROBABILITY_AXIS = linearYAxis(niceTicks(0, 1, 6), { titled: true });

interface Panel {
  title: string;
  similarities: Float64Array;
  positiveRank: number;
  temperatures: number[];
  grid: number[];
}

/**
 * Where the positive's marker label goes: above the chart, centred on the
 * line; but near the left edge (a trained encoder ranks the positive first)
 * a centred label would sit on the y axis's top tick, so it goes inside the
 * plot, starting at the line.
 */
export function positiveLabelPosition(positiveRank: number, candidates: number): 'top' | 'insideTopLeft' {
  const fromLeft = (positiveRank - 1) / Math.max(1, candidates - 1);
  return fromLeft < 0.15 ? 'insideTopLeft' : 'top';
}

/**
 * One anchor's candidates, sorted by similarity (rank 1 = most similar), with
 * softmax(s/τ) for several τ; and the entropy of that softmax against τ.
 */
function SoftmaxPanel({ panel, trainingTau, twoN, testId }: { panel: Panel; trainingTau: number | null; twoN: number; testId: string }) {
  const order = Array.from(panel.similarities.keys()).sort((a, b) => panel.similarities[b] - panel.similarities[a]);
  const probabilities = panel.temperatures.map((tau) => softmaxAt(panel.similarities, tau));
  const rows = order.map((k, rank) => {
    const row: Record<string, number> = { rank: rank + 1 };
    panel.temperatures.forEach((tau, t) => { row[`τ=${tau}`] = probabilities[t][k]; });
    return row;
  });
  const entropyRows = panel.grid.map((tau) => ({ tau, entropy: entropy(softmaxAt(panel.similarities, tau)) }));
  const positiveProbabilities = panel.temperatures.map((tau, t) => `τ = ${tau}: ${(probabilities[t][order[panel.positiveRank - 1]] * 100).toFixed(1)}%`);
  const tauDomain: [number, number] = [panel.grid[0], panel.grid[panel.grid.length - 1]];
  const uniform = Math.log(twoN - 1);
  const entropyAxis = linearYAxis(niceTicks(0, uniform * 1.05, 5), { titled: true });
  return (
    <div className="temperature-panel" data-testid={testId}>
      <h3>{panel.title}</h3>
      <p className="hint">Positive is candidate #{panel.positiveRank} by similarity. Its probability: {positiveProbabilities.join(' · ')}</p>
      <ResponsiveContainer width="100%" height={200}>
        <LineChart data={rows} margin={{ top: 18, right: 12, bottom: 4, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="rank" type="number" domain={[1, Math.max(2, rows.length)]} allowDecimals={false} {...xAxisLayout('candidate, by similarity')} />
          <YAxis domain={PROBABILITY_AXIS.domain} ticks={PROBABILITY_AXIS.ticks} tickFormatter={PROBABILITY_AXIS.format} width={PROBABILITY_AXIS.width} tick={AXIS_TICK} label={yAxisTitle('probability')} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} labelFormatter={(r) => `candidate #${r}`} />
          <Legend {...LEGEND_PROPS} />
          <ReferenceLine x={panel.positiveRank} stroke="#16a34a" strokeDasharray="4 3" label={{ value: 'positive', fill: '#16a34a', fontSize: 11, position: positiveLabelPosition(panel.positiveRank, rows.length) }} />
          {panel.temperatures.map((tau, t) => (
            <Line key={tau} dataKey={`τ=${tau}`} stroke={COLOURS[t % COLOURS.length]} dot={false} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
      <ResponsiveContainer width="100%" height={170}>
        <LineChart data={entropyRows} margin={{ top: 4, right: 12, bottom: 4, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="tau" type="number" scale="log" domain={tauDomain} ticks={logTicks(tauDomain)} tickFormatter={logTickFormat} {...xAxisLayout('τ (log scale)')} />
          <YAxis domain={entropyAxis.domain} ticks={entropyAxis.ticks} tickFormatter={entropyAxis.format} width={entropyAxis.width} tick={AXIS_TICK} label={yAxisTitle('entropy')} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? `${v.toFixed(3)} nats` : String(v))} labelFormatter={(t) => `τ = ${Number(t).toPrecision(3)}`} />
          <ReferenceLine y={uniform} stroke="#94a3b8" strokeDasharray="2 3" label={{ value: 'uniform: log(2N−1)', fontSize: 10, fill: '#64748b', position: 'insideTopRight' }} />
          {trainingTau !== null && (
            <ReferenceLine x={trainingTau} stroke="#dc2626" label={{ value: `training τ = ${trainingTau}`, fontSize: 11, fill: '#dc2626', position: 'insideTopLeft' }} />
          )}
          <Line dataKey="entropy" stroke="#0f172a" dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

/** A comma-separated list of τ; a valid list is passed on at once, an invalid one is shown as typed and reported below. */
function TemperatureListField({ label, testId, text, onText, onValues }: {
  label: string; testId: string; text: string; onText: (text: string) => void; onValues: (values: number[]) => void;
}) {
  return (
    <label>
      {label}
      {/* as wide as its list, so no τ is hidden past the box's edge */}
      <input type="text" value={text} data-testid={testId} size={Math.max(12, text.length + 1)}
        onChange={(e) => {
          onText(e.target.value);
          const parsed = parseTemperatures(e.target.value);
          if ('values' in parsed) onValues(parsed.values);
        }} />
    </label>
  );
}

function panelsFor(snapshot: AffinitySnapshot, anchor: number, normalizedTaus: number[], rawTaus: number[]): [Panel, Panel] {
  const { matrix, size, twoN, norms, normalized } = snapshot;
  const { similarities, indices } = candidateRow(matrix, size, anchor);
  const cosine = normalized ? similarities : convertRow(similarities, indices, anchor, norms, false);
  const dot = normalized ? convertRow(similarities, indices, anchor, norms, true) : similarities;
  const positive = (anchor + twoN / 2) % twoN;
  const rankOf = (s: Float64Array) => {
    const k = Array.from(indices).indexOf(positive);
    return 1 + Array.from(s).filter((v) => v > s[k]).length;
  };
  return [
    { title: 'L2-normalized: s = cosine similarity', similarities: cosine, positiveRank: rankOf(cosine), temperatures: normalizedTaus, grid: logSpace(0.01, 10, 60) },
    { title: 'Unnormalized: s = dot product z·z', similarities: dot, positiveRank: rankOf(dot), temperatures: rawTaus, grid: logSpace(0.5, 2000, 60) },
  ];
}

/**
 * The temperature and normalization lab: the live batch's anchor row through
 * softmax(s/τ) at several τ, normalized and unnormalized side by side.
 */
export function TemperatureLab() {
  // drawn only while its tab is open: its four charts redraw with every new batch, which costs the page time while training
  const open = useLayoutStore((s) => s.instrument === 'temperature');
  const trainingTau = useConfigStore((s) => s.config.temperature);
  return (
    <section className="panel temperature-lab" data-testid="chart-temperature" data-training-tau={trainingTau} aria-label="Temperature and normalization lab">
      <h2>Temperature and normalization lab</h2>
      {open ? <TemperatureLabBody /> : <p className="hint">What τ and L2 normalization do to one anchor's softmax, on the live batch.</p>}
    </section>
  );
}

function TemperatureLabBody() {
  const snapshot = useRunStore((s) => s.affinity);
  const trainingTau = useConfigStore((s) => s.config.temperature);
  const trainingNormalized = useConfigStore((s) => s.config.normalize);
  const [anchor, setAnchor] = useState(0);
  const [normalizedText, setNormalizedText] = useState(NORMALIZED_TEMPERATURES.join(', '));
  const [rawText, setRawText] = useState(UNNORMALIZED_TEMPERATURES.join(', '));
  const normalizedParsed = parseTemperatures(normalizedText);
  const rawParsed = parseTemperatures(rawText);
  const [lastGood, setLastGood] = useState({ normalized: NORMALIZED_TEMPERATURES, raw: UNNORMALIZED_TEMPERATURES });
  const normalizedTaus = 'values' in normalizedParsed ? normalizedParsed.values : lastGood.normalized;
  const rawTaus = 'values' in rawParsed ? rawParsed.values : lastGood.raw;
  const usable = snapshot && snapshot.size === snapshot.twoN; // block-averaged rows are not one anchor's
  const panels = useMemo(
    () => (usable ? panelsFor(snapshot, Math.min(anchor, snapshot.twoN - 1), normalizedTaus, rawTaus) : null),
    [usable, snapshot, anchor, normalizedTaus.join(), rawTaus.join()], // the τ lists by value, not by array identity
  );
  return (
    <>
      <p className="hint">
        How the loss sees one anchor of the current batch: softmax(s/τ) over its 2N−1 candidates. Small τ makes the softmax
        sharp, so the loss focuses on the hardest negatives. Large τ makes it flat. Without L2 normalization, the scale of z acts as
        another temperature, which is why the useful τ range differs.
      </p>
      <div className="temperature-controls">
        <label>
          Anchor i
          <input type="number" min={0} max={snapshot ? snapshot.twoN - 1 : 0} value={anchor} data-testid="temperature-anchor"
            onChange={(e) => setAnchor(Math.max(0, Math.min(Number(e.target.value) || 0, (snapshot?.twoN ?? 1) - 1)))} />
        </label>
        <TemperatureListField label="τ (normalized)" testId="temperature-set-normalized" text={normalizedText}
          onText={setNormalizedText} onValues={(values) => setLastGood((g) => ({ ...g, normalized: values }))} />
        <TemperatureListField label="τ (unnormalized)" testId="temperature-set-raw" text={rawText}
          onText={setRawText} onValues={(values) => setLastGood((g) => ({ ...g, raw: values }))} />
      </div>
      {'error' in normalizedParsed && <div className="field-error" role="alert">{normalizedParsed.error}</div>}
      {'error' in rawParsed && <div className="field-error" role="alert">{rawParsed.error}</div>}
      {!snapshot && (
        <ChartPlot empty="One anchor’s softmax over its 2N − 1 candidates appears here after the first step, for each τ above. Press Train or Step.">
          <div className="temperature-empty" />
        </ChartPlot>
      )}
      {snapshot && !usable && <p className="hint">This batch (2N = {snapshot.twoN}) is shown block-averaged; lower N to 256 or less to study single anchors.</p>}
      {panels && (
        <>
          <p className="hint" data-testid="temperature-step">Batch of step {snapshot!.step}, 2N = {snapshot!.twoN}; anchor {anchor}, positive {(anchor + snapshot!.twoN / 2) % snapshot!.twoN}.</p>
          <div className="temperature-panels">
            <SoftmaxPanel panel={panels[0]} trainingTau={trainingNormalized ? trainingTau : null} twoN={snapshot!.twoN} testId="temperature-normalized" />
            <SoftmaxPanel panel={panels[1]} trainingTau={trainingNormalized ? null : trainingTau} twoN={snapshot!.twoN} testId="temperature-unnormalized" />
          </div>
        </>
      )}
    </>
  );
}
