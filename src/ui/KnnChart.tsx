import { memo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { RunState } from '../state/runStore';
import { useRunStore } from '../state/runStore';
import { unscorableReason } from './accuracy';
import { AccuracyChart } from './AccuracyChart';
import { niceCeil, percent } from './format';
import { useThrottled } from './useThrottled';

/** Redrawn at most once a second on its own slot (see useThrottled): ¾ s after the loss chart's, between the similarity and collapse charts. */
const REDRAW_MS = 1000;
const KNN_PHASE_MS = 750;

const knnInputs = (s: RunState) => ({
  knn: s.knn,
  randomInit: s.knnRandomInit,
  pixels: s.knnRawPixels,
  // grows like the other step axes (niceCeil): a repaint when a point lands or the axis moves, not at every step
  stepAxisEnd: niceCeil(Math.max(10, s.steps[s.steps.length - 1]?.step ?? 0)),
  dataset: s.dataset,
});

/** Weighted-kNN test accuracy against step, with the random-init encoder and raw pixels as reference lines. */
export function KnnChart() {
  const inputs = useThrottled(useRunStore(useShallow(knnInputs)), REDRAW_MS, KNN_PHASE_MS);
  return <KnnFigure {...inputs} />;
}

const KnnFigure = memo(function KnnFigure({ knn, randomInit, pixels, stepAxisEnd, dataset }: ReturnType<typeof knnInputs>) {
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
