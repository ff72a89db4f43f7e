import { create } from 'zustand';
import type { ExperimentConfig } from '../core/config';
import type {
  AffinitySnapshot, BackendName, DatasetSummary, KnnPoint, MethodMatrixSnapshot, ModelSummary, ProbePoint, RunStatus, StepMetrics,
} from '../train/protocol';

export interface LoadProgress {
  loadedBytes: number;
  totalBytes: number | null;
  phase: string;
}

export interface RunState {
  status: RunStatus;
  backend: BackendName | null;
  backendReasons: string[];
  adapter?: string;
  loadProgress: LoadProgress | null;
  dataset: DatasetSummary | null;
  model: ModelSummary | null;
  /** the config the current encoder was built with */
  appliedConfig: ExperimentConfig | null;
  steps: StepMetrics[];
  probes: ProbePoint[];
  randomInitBaseline: ProbePoint | null;
  rawPixelBaseline: ProbePoint | null;
  /** weighted-kNN accuracy of the encoder over steps, and of the two baselines */
  knn: KnnPoint[];
  knnRandomInit: KnnPoint | null;
  knnRawPixels: KnnPoint | null;
  error: string | null;
  /** the latest batch's affinity matrix, for the heatmap */
  affinity: AffinitySnapshot | null;
  /** the latest batch's own matrix of MoCo, the memory bank or Barlow Twins, for their heatmap */
  methodMatrix: MethodMatrixSnapshot | null;
  /** things the user should know that did not stop anything (dataset switched or fell back) */
  notices: string[];
}

export const initialRunState: RunState = {
  status: 'loading',
  backend: null,
  backendReasons: [],
  loadProgress: null,
  dataset: null,
  model: null,
  appliedConfig: null,
  steps: [],
  probes: [],
  randomInitBaseline: null,
  rawPixelBaseline: null,
  knn: [],
  knnRandomInit: null,
  knnRawPixels: null,
  error: null,
  affinity: null,
  methodMatrix: null,
  notices: [],
};

/** Run state, written only by the training client from worker messages. */
export const useRunStore = create<RunState>(() => initialRunState);

export const latestStep = (s: RunState): StepMetrics | undefined => s.steps[s.steps.length - 1];
export const latestProbe = (s: RunState): ProbePoint | undefined => s.probes[s.probes.length - 1];
export const latestKnn = (s: RunState): KnnPoint | undefined => s.knn[s.knn.length - 1];
