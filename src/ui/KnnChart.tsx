import { memo } from 'react';
import type { RunState } from '../state/runStore';
import { unscorableReason } from './accuracy';
import { AccuracyChart, useAccuracyInputs } from './AccuracyChart';
import { percent } from './format';

/** ¾ s after the loss chart's redraw slot (see useThrottled), between the similarity and collapse charts. */
const KNN_PHASE_MS = 750;

const pickKnn = (s: RunState) => ({ points: s.knn, randomInit: s.knnRandomInit, pixels: s.knnRawPixels });

/** Weighted-kNN test accuracy against step, with the random-init encoder and raw pixels as reference lines. */
export function KnnChart() {
  return <KnnFigure {...useAccuracyInputs(pickKnn, KNN_PHASE_MS)} />;
}

const KnnFigure = memo(function KnnFigure({ points: knn, randomInit, pixels, stepAxisEnd, dataset }: ReturnType<typeof useAccuracyInputs<RunState['knn'], RunState['knnRandomInit']>>) {
  const reason = unscorableReason(dataset, 'kNN', 'kNN');
  const settings = knn[knn.length - 1] ?? randomInit ?? pixels;
  return (
    <AccuracyChart
      testId="chart-knn"
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
    />
  );
});
