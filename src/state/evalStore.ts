import { create } from 'zustand';
import type {
  EmbeddingEncoder, EmbeddingProjection, EmbeddingResult, FewShotRow, LabelEfficiencyRow, NeighboursResult,
} from '../train/protocol';

/** Label fractions, supervised budget and few-shot sizes the panel offers by default (SimCLR's table: 1%, 10%, 100%). */
export const DEFAULT_FRACTIONS = [0.01, 0.1, 1];
export const DEFAULT_SHOTS = [1, 5, 10];
export const DEFAULT_SUPERVISED_STEPS = 200;

export interface LabelEfficiencyState {
  requestId: number;
  running: boolean;
  progress: { done: number; total: number; phase: string } | null;
  rows: LabelEfficiencyRow[];
  fewShot: FewShotRow[];
  /** where the numbers come from: the dataset the probes were fitted and scored on, and the one the encoder trained on */
  evalDatasetName: string | null;
  trainDatasetName: string | null;
  cancelled: boolean;
  error: string | null;
}

export interface EmbeddingState {
  requestId: number;
  pending: boolean;
  projection: EmbeddingProjection;
  /** show the random-init encoder's map beside the trained one's */
  sideBySide: boolean;
  progress: { phase: string; done: number; total: number } | null;
  maps: Partial<Record<EmbeddingEncoder, EmbeddingResult>>;
  error: string | null;
}

export interface NeighboursState {
  requestId: number;
  pending: boolean;
  result: NeighboursResult | null;
  error: string | null;
}

/** The TensorBoard projector export (issue 21): the zip once built, for the panel to download. */
export interface ProjectorExportState {
  requestId: number;
  pending: boolean;
  /** the zip of the latest answered request and its file name; null until one is built */
  bundle: { requestId: number; bytes: Uint8Array; fileName: string; n: number; d: number } | null;
  error: string | null;
}

/** The trained encoder as a file (issue 21): safetensors, or ONNX of f alone or f and g; once the worker has written it. */
export type WeightsFormat = 'safetensors' | 'onnx' | 'onnx-head';

export interface WeightsExportState {
  requestId: number;
  /** the format of the latest request */
  format: WeightsFormat;
  pending: boolean;
  file: { requestId: number; bytes: Uint8Array; fileName: string } | null;
  error: string | null;
}

export interface EvalState {
  labelEfficiency: LabelEfficiencyState;
  projector: ProjectorExportState;
  weights: WeightsExportState;
  embedding: EmbeddingState;
  neighbours: NeighboursState;
}

export const initialLabelEfficiency: LabelEfficiencyState = {
  requestId: 0, running: false, progress: null, rows: [], fewShot: [],
  evalDatasetName: null, trainDatasetName: null, cancelled: false, error: null,
};

export const initialEvalState: EvalState = {
  labelEfficiency: initialLabelEfficiency,
  projector: { requestId: 0, pending: false, bundle: null, error: null },
  weights: { requestId: 0, format: 'safetensors', pending: false, file: null, error: null },
  embedding: { requestId: 0, pending: false, projection: 'pca', sideBySide: true, progress: null, maps: {}, error: null },
  neighbours: { requestId: 0, pending: false, result: null, error: null },
};

/** Results of the on-demand evaluations (label efficiency, embedding map, neighbours), written by the training client. */
export const useEvalStore = create<EvalState>(() => initialEvalState);
