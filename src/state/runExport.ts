/**
 * The page's own run (not a comparison) exported like a comparison's run
 * (issue 21: "metrics of the main run as CSV and JSON; reuse the comparisons'
 * exports"): its steps, encoder probes, kNN points and baselines as a
 * ComparisonRun, so runToCsv, runToJson and exportFileName apply unchanged.
 */
import type { ExperimentConfig } from '../core/config';
import { toRunStep, type ComparisonRun } from './comparison';
import type { RunState } from './runStore';

export function mainRunAsComparisonRun(
  state: Pick<RunState, 'steps' | 'probes' | 'knn' | 'randomInitBaseline' | 'rawPixelBaseline' | 'knnRandomInit' | 'backend' | 'appliedConfig' | 'dataset'>,
  config: ExperimentConfig,
  now = Date.now(),
): ComparisonRun {
  const applied = state.appliedConfig ?? config;
  const last = state.steps.at(-1)?.step ?? 0;
  const wallMs = state.steps.reduce((sum, s) => sum + s.stepMs, 0);
  return {
    id: 'main-run', comparisonId: 'main-run', comparisonTitle: `Main run on ${state.dataset?.name ?? applied.dataset}`, preset: 'main-run', index: 0,
    label: `main run, step ${last}`, config: applied, stepsRequested: last,
    steps: state.steps.map(toRunStep),
    probes: state.probes.filter((p) => p.kind === 'encoder').map((p) => ({ kind: p.kind, step: p.step, testAccuracy: p.testAccuracy, trainAccuracy: p.trainAccuracy })),
    randomInitBaseline: state.randomInitBaseline?.testAccuracy ?? null,
    rawPixelBaseline: state.rawPixelBaseline?.testAccuracy ?? null,
    knn: state.knn.filter((k) => k.kind === 'encoder').map((k) => ({ step: k.step, testAccuracy: k.testAccuracy })),
    randomInitKnnBaseline: state.knnRandomInit?.testAccuracy ?? null,
    // the sum of step times: what training took, without the probes and pauses in between
    wallMs,
    backend: state.backend,
    createdAt: now,
  };
}
