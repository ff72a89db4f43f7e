import { memo } from 'react';
import { CONFIG_SCHEMA } from '../core/config';
import { useConfigStore } from '../state/configStore';
import type { RunState } from '../state/runStore';
import { unscorableReason } from './accuracy';
import { AccuracyChart, useAccuracyInputs } from './AccuracyChart';
import { percent } from './format';

/** A quarter second after the loss chart's redraw slot (see useThrottled). */
const PROBE_PHASE_MS = 250;

const pickProbes = (s: RunState) => ({ points: s.probes, randomInit: s.randomInitBaseline, pixels: s.rawPixelBaseline });

/** Linear-probe test accuracy against step, with the random-init encoder and raw pixels as reference lines. */
export function ProbeChart() {
  const probeEvery = useConfigStore((s) => s.config.probeEvery);
  return <ProbeFigure {...useAccuracyInputs(pickProbes, PROBE_PHASE_MS)} probeEvery={probeEvery} />;
}

/** What the chart says before the first probe: when the probe runs, with the setting that decides it. */
function probeEmptyText(probeEvery: number, unscorable: boolean): string {
  if (unscorable) return 'No linear-probe accuracy for this dataset (see above).';
  const setting = `“${CONFIG_SCHEMA.probeEvery.label}”`;
  return probeEvery > 0
    ? `The linear probe runs every ${probeEvery} steps (${setting} in the settings) or when you press Probe now; its test accuracy appears here.`
    : `The linear probe runs when you press Probe now (${setting} is 0); its test accuracy appears here.`;
}

const ProbeFigure = memo(function ProbeFigure({ points: probes, randomInit: baseline, pixels, stepAxisEnd, dataset, probeEvery }: ReturnType<typeof useAccuracyInputs<RunState['probes'], RunState['randomInitBaseline']>> & { probeEvery: number }) {
  const reason = unscorableReason(dataset, 'a linear probe', 'the probe');
  const last = probes[probes.length - 1];
  return (
    <AccuracyChart
      testId="chart-probe"
      pngTestId="chart-probe-png"
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
      emptyText={probeEmptyText(probeEvery, reason !== null)}
    />
  );
});
