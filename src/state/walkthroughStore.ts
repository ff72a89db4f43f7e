import { create } from 'zustand';
import { METHOD_CATALOG, WALKTHROUGH_STAGES, type MethodId, type WalkthroughStage } from '../core/methods';
import { WALKTHROUGH_DEFAULT_N, WALKTHROUGH_MAX_N, WALKTHROUGH_MIN_N, type WalkthroughResult } from '../train/protocol';

/**
 * The stops of SimCLR's walkthrough, one per line of Algorithm 1 that has a
 * tensor to show: x_k, the views, h, z, s, ℓ, L, the update.
 */
export const WALKTHROUGH_STOPS = 8;
export const UPDATE_STOP = WALKTHROUGH_STOPS - 1;

/** Another method's stops: the stages its catalog algorithm has lines for, in the walkthrough's order. */
export function methodStages(id: Exclude<MethodId, 'simclr'>): WalkthroughStage[] {
  const present = new Set((METHOD_CATALOG[id].algorithm ?? []).map((line) => line.stage));
  return WALKTHROUGH_STAGES.filter((stage) => present.has(stage));
}

/** How many stops a walkthrough result has (SimCLR's 8 by default). */
export function stopCount(result: WalkthroughResult | null): number {
  return result && result.method !== 'simclr' ? methodStages(result.method).length : WALKTHROUGH_STOPS;
}

export interface WalkthroughState {
  /** N for the next walkthrough */
  batchSize: number;
  /** id of the latest request; older answers are ignored */
  requestId: number;
  /** a walkthrough is being computed in the worker */
  pending: boolean;
  result: WalkthroughResult | null;
  /** the highlighted stop, 0 … stopCount(result) − 1 */
  line: number;
  /** presentation mode: large type, everything but this panel hidden */
  presenting: boolean;
  error: string | null;
  setBatchSize: (n: number) => void;
  next: () => void;
  previous: () => void;
  goTo: (line: number) => void;
  setPresenting: (on: boolean) => void;
}

const clampLine = (line: number, result: WalkthroughResult | null) => Math.max(0, Math.min(stopCount(result) - 1, line));

/** Written by the training client (results) and the step-through panel (navigation). */
export const useWalkthroughStore = create<WalkthroughState>((set, get) => ({
  batchSize: WALKTHROUGH_DEFAULT_N,
  requestId: 0,
  pending: false,
  result: null,
  line: 0,
  presenting: false,
  error: null,
  setBatchSize: (n) => set({ batchSize: Math.max(WALKTHROUGH_MIN_N, Math.min(WALKTHROUGH_MAX_N, Math.round(n))) }),
  next: () => {
    if (get().result) set((s) => ({ line: clampLine(s.line + 1, s.result) }));
  },
  previous: () => {
    if (get().result) set((s) => ({ line: clampLine(s.line - 1, s.result) }));
  },
  goTo: (line) => {
    const { result } = get();
    if (result) set({ line: clampLine(line, result) });
  },
  setPresenting: (on) => set({ presenting: on }),
}));
