import { memo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { RunState } from '../state/runStore';
import { useRunStore } from '../state/runStore';
import { unscorableReason } from './accuracy';
import { AccuracyChart } from './AccuracyChart';
import { niceCeil, percent } from './format';
import { useThrottled } from './useThrottled';

/** Redrawn at most once a second, on its own slot (see useThrottled), a quarter second after the loss chart's. */
const REDRAW_MS = 1000;
const PROBE_PHASE_MS = 250;

const probeInputs = (s: RunState) => ({
  probes: s.probes,
  baseline: s.randomInitBaseline,
  pixels: s.rawPixelBaseline,
  // the step axis grows as the loss chart's does (niceCeil), so the chart repaints when a probe lands or the axis moves, not at every step
  stepAxisEnd: niceCeil(Math.max(10, s.steps[s.steps.length - 1]?.step ?? 0)),
  dataset: s.dataset,
});

/** Linear-probe test accuracy against step, with the random-init encoder and raw pixels as reference lines. */
export function ProbeChart() {
  const inputs = useThrottled(useRunStore(useShallow(probeInputs)), REDRAW_MS, PROBE_PHASE_MS);
  return <ProbeFigure {...inputs} />;
}

const ProbeFigure = memo(function ProbeFigure({ probes, baseline, pixels, stepAxisEnd, dataset }: ReturnType<typeof probeInputs>) {
  const reason = unscorableReason(dataset, 'a linear probe', 'the probe');
  const last = probes[probes.length - 1];
  return (
    <AccuracyChart
      testId="chart-probe"
      title="Linear-probe accuracy"
      caption={
        <>
          A logistic regression on the frozen h. The dashed lines are the same probe on an untrained encoder
          ({percent(baseline?.testAccuracy)}) and on raw pixels ({percent(pixels?.testAccuracy)}): on easy data a random
          encoder is already a strong baseline, and SimCLR has to beat it.
          {last?.gradientNorm !== undefined && ` The last fit ended with gradient norm ${last.gradientNorm.toExponential(1)} (near 0: the probe converged).`}
        </>
      }
      unavailable={reason ? { text: reason, testId: 'probe-unavailable-reason' } : null}
      points={probes}
      randomInit={baseline?.testAccuracy}
      rawPixels={pixels?.testAccuracy}
      stepAxisEnd={stepAxisEnd}
      lineName="SimCLR encoder"
      color="#2563eb"
    />
  );
});
