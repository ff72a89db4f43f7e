import { memo } from 'react';
import { CONFIG_SCHEMA } from '../core/config';
import { useConfigStore } from '../state/configStore';
import type { RunState } from '../state/runStore';
import { unscorableReason } from './accuracy';
import { AccuracyChart, useAccuracyInputs } from './AccuracyChart';
import { percent } from './format';

/** ¾ s after the loss chart's redraw slot (see useThrottled), between the similarity and collapse charts. */
const KNN_PHASE_MS = 750;

const pickKnn = (s: RunState) => ({ points: s.knn, randomInit: s.knnRandomInit, pixels: s.knnRawPixels });

/** Weighted-kNN test accuracy against step, with the random-init encoder and raw pixels as reference lines. */
export function KnnChart() {
  const knnEvery = useConfigStore((s) => s.config.knnEvery);
  return <KnnFigure {...useAccuracyInputs(pickKnn, KNN_PHASE_MS)} knnEvery={knnEvery} />;
}

/** What the chart says before the first kNN score: when kNN runs, with the setting that decides it. */
function knnEmptyText(knnEvery: number, unscorable: boolean): string {
  if (unscorable) return 'No kNN accuracy for this dataset (see above).';
  const setting = `“${CONFIG_SCHEMA.knnEvery.label}”`;
  return knnEvery > 0
    ? `kNN runs every ${knnEvery} steps (${setting} in the settings), with every linear probe and on Probe now; its test accuracy appears here.`
    : `kNN runs with every linear probe and on Probe now (${setting} is 0); its test accuracy appears here.`;
}

const KnnFigure = memo(function KnnFigure({ points: knn, randomInit, pixels, stepAxisEnd, dataset, knnEvery }: ReturnType<typeof useAccuracyInputs<RunState['knn'], RunState['knnRandomInit']>> & { knnEvery: number }) {
  const reason = unscorableReason(dataset, 'kNN', 'kNN');
  const settings = knn[knn.length - 1] ?? randomInit ?? pixels;
  return (
    <AccuracyChart
      testId="chart-knn"
      pngTestId="chart-knn-png"
      title="kNN accuracy"
      caption={
        <>
          Each test image takes the vote of its{' '}
          {settings ? <>k = {settings.k} most similar training images (cosine of h), each weighing exp(s/τ) with τ = {settings.temperature}</> : 'k most similar training images (cosine of h), each weighing exp(s/τ)'}.
          kNN needs no training, so it shows what the geometry of h already separates. Dashed: the same kNN on the random-init
          (untrained) encoder ({percent(randomInit?.testAccuracy)}) and on raw pixels ({percent(pixels?.testAccuracy)}).
        </>
      }
      unavailable={reason ? { text: reason, testId: 'knn-unavailable-reason' } : null}
      points={knn}
      randomInit={randomInit?.testAccuracy}
      rawPixels={pixels?.testAccuracy}
      stepAxisEnd={stepAxisEnd}
      lineName="SimCLR encoder"
      color="#0891b2"
      emptyText={knnEmptyText(knnEvery, reason !== null)}
    />
  );
});
