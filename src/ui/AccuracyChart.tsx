import type { ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useRunStore, type RunState } from '../state/runStore';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { accuracyAxisLow } from './accuracy';
import {
  AXIS_TICK, BELOW_PLOT_WITH_LEGEND, EMPTY_ROWS, LEGEND_PROPS, linearYAxis, percentTickFormatter, stepTicks, tickFormatter, xAxisLayout,
} from './chartAxis';
import { ChartPlot } from './ChartPlot';
import { downsample, niceCeil, percent, unitTicks } from './format';
import { useThrottled } from './useThrottled';
import { ChartPng } from './ChartPng';

/** Points drawn at most: the shape of a long run, cheap to redraw. */
const MAX_POINTS = 300;
/** Dots on every point only while they stay apart. */
const MAX_DOTS = 60;
/** The accuracy axis's floor is a multiple of this (accuracyAxisLow), and so are its ticks. */
const ACCURACY_AXIS_UNIT = 0.05;

/** Each accuracy chart redraws at most once a second, on its own slot of the shared clock (see useThrottled). */
const REDRAW_MS = 1000;

/**
 * An accuracy series (probe or kNN), its two baselines, the dataset and the
 * step axis, throttled on the chart's slot. The step axis grows as the loss
 * chart's does (niceCeil), so the chart repaints when a point lands or the
 * axis moves, not at every step.
 */
export function useAccuracyInputs<P, B>(pick: (s: RunState) => { points: P; randomInit: B; pixels: B }, phase: number) {
  const selector = (s: RunState) => ({
    ...pick(s),
    stepAxisEnd: niceCeil(Math.max(10, s.steps[s.steps.length - 1]?.step ?? 0)),
    dataset: s.dataset,
  });
  return useThrottled(useRunStore(useShallow(selector)), REDRAW_MS, phase);
}

export interface AccuracyChartProps {
  testId: string;
  /** the chart's PNG download (the UI contract's chart-<name>-png) */
  pngTestId: string;
  title: string;
  caption: ReactNode;
  /** why this dataset cannot be scored (shown above the chart), with its test id; null when it can */
  unavailable: { text: string; testId: string } | null;
  /** the encoder's accuracy at each measurement */
  points: readonly { step: number; testAccuracy: number }[];
  /** the same measurement on the random-init encoder and on raw pixels (dashed reference lines) */
  randomInit: number | undefined;
  rawPixels: number | undefined;
  stepAxisEnd: number;
  lineName: string;
  color: string;
  /** what the empty chart says will appear and when (shown until the first point) */
  emptyText: ReactNode;
}

/**
 * Test accuracy against step with two dashed baselines: the shared figure of
 * the linear-probe and kNN charts. Plain numbers in; the callers throttle and
 * memoize (see ProbeChart), so this draws at most once a second each.
 */
export function AccuracyChart({ testId, pngTestId, title, caption, unavailable, points, randomInit, rawPixels, stepAxisEnd, lineName, color, emptyText }: AccuracyChartProps) {
  const data = downsample(points, MAX_POINTS).map((p) => ({ step: p.step, accuracy: p.testAccuracy }));
  const low = accuracyAxisLow([...data.map((d) => d.accuracy), randomInit, rawPixels]);
  const ticks = unitTicks([low, 1], ACCURACY_AXIS_UNIT);
  const yAxis = linearYAxis(ticks, { format: percentTickFormatter(ticks) });
  const xTicks = stepTicks(0, stepAxisEnd);
  return (
    <figure className="panel chart" data-testid={testId} data-points={points.length}>
      <figcaption>
        <h2>{title} <ChartPng title={title} fileName={`${testId}.png`} testId={pngTestId} /></h2>
        <p>{caption}</p>
      </figcaption>
      {unavailable && <p className="probe-unavailable" role="status" data-testid={unavailable.testId}>{unavailable.text}</p>}
      <ChartPlot empty={points.length === 0 && emptyText} axisLeft={yAxis.width} below={BELOW_PLOT_WITH_LEGEND}>
        <ResponsiveContainer width="100%" height={280}>
          <LineChart data={data.length ? data : EMPTY_ROWS} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis {...xAxisLayout('step')} dataKey="step" type="number" domain={[0, stepAxisEnd]} ticks={xTicks} tickFormatter={tickFormatter(xTicks)} />
            <YAxis domain={[low, 1]} ticks={yAxis.ticks} tickFormatter={yAxis.format} width={yAxis.width} tick={AXIS_TICK} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? percent(v) : String(v))} labelFormatter={(s) => `step ${s}`} />
            <Legend {...LEGEND_PROPS} />
            {randomInit !== undefined && (
              <ReferenceLine y={randomInit} stroke="#9333ea" strokeDasharray="6 4" label={{ value: `random-init encoder ${percent(randomInit)}`, position: 'insideBottomLeft', fill: '#9333ea', fontSize: 12 }} />
            )}
            {rawPixels !== undefined && (
              <ReferenceLine y={rawPixels} stroke="#64748b" strokeDasharray="2 4" label={{ value: `raw pixels ${percent(rawPixels)}`, position: 'insideTopLeft', fill: '#64748b', fontSize: 12 }} />
            )}
            <Line type="monotone" dataKey="accuracy" name={lineName} stroke={color} strokeWidth={2} isAnimationActive={false} dot={data.length <= MAX_DOTS} />
          </LineChart>
        </ResponsiveContainer>
      </ChartPlot>
    </figure>
  );
}
