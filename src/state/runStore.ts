import { create } from 'zustand';
import type { ExperimentConfig } from '../core/config';
import type {
  Activity, AffinitySnapshot, BackendName, DeviceInfo, ErrorSource, DatasetSummary, KnnPoint, MethodMatrixSnapshot, ModelSummary, TaskSnapshot, ProbePoint, RunStatus, StepMetrics,
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
  /** what the browser says about the device the backend runs on */
  device: DeviceInfo | null;
  /** what the worker is busy with beyond plain training steps, and since when (performance.now() on the page) */
  activity: (Activity & { since: number }) | null;
  /** when the latest step's metrics reached the page (performance.now()), for the step-in-progress line */
  lastStepAt: number | null;
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
  /** which part of the app the error came from, so its panel can point at the banner */
  errorSource: ErrorSource | null;
  /** the latest batch's affinity matrix, for the heatmap */
  affinity: AffinitySnapshot | null;
  /** the latest batch's own matrix of MoCo, the memory bank or Barlow Twins, for their heatmap */
  methodMatrix: MethodMatrixSnapshot | null;
  /** a pretext task's instrument of the latest captured batch */
  taskSnapshot: TaskSnapshot | null;
  /** things the user should know that did not stop anything (dataset switched or fell back) */
  notices: string[];
  /** steps at which a new worker replaced a lost encoder (a lost device, a failed worker): the charts mark them */
  restarts: { step: number; reason: string }[];
}

export const initialRunState: RunState = {
  status: 'loading',
  backend: null,
  backendReasons: [],
  device: null,
  activity: null,
  lastStepAt: null,
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
  errorSource: null,
  affinity: null,
  methodMatrix: null,
  taskSnapshot: null,
  notices: [],
  restarts: [],
};

/** Run state, written only by the training client from worker messages. */
export const useRunStore = create<RunState>(() => initialRunState);

export const latestStep = (s: RunState): StepMetrics | undefined => s.steps[s.steps.length - 1];
export const latestProbe = (s: RunState): ProbePoint | undefined => s.probes[s.probes.length - 1];
export const latestKnn = (s: RunState): KnnPoint | undefined => s.knn[s.knn.length - 1];
