import { create } from 'zustand';
import { WALKTHROUGH_DEFAULT_N, WALKTHROUGH_MAX_N, WALKTHROUGH_MIN_N, type WalkthroughResult } from '../train/protocol';

/**
 * The stops of the lecture-mode walkthrough, one per line of Algorithm 1 that
 * has a tensor to show: x_k, the views, h, z, s, ℓ, L, the update.
 */
export const WALKTHROUGH_STOPS = 8;
export const UPDATE_STOP = WALKTHROUGH_STOPS - 1;

export interface WalkthroughState {
  /** N for the next walkthrough */
  batchSize: number;
  /** id of the latest request; older answers are ignored */
  requestId: number;
  /** a walkthrough is being computed in the worker */
  pending: boolean;
  result: WalkthroughResult | null;
  /** the highlighted stop, 0 … WALKTHROUGH_STOPS − 1 */
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

const clampLine = (line: number) => Math.max(0, Math.min(WALKTHROUGH_STOPS - 1, line));

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
    if (get().result) set((s) => ({ line: clampLine(s.line + 1) }));
  },
  previous: () => {
    if (get().result) set((s) => ({ line: clampLine(s.line - 1) }));
  },
  goTo: (line) => {
    if (get().result) set({ line: clampLine(line) });
  },
  setPresenting: (on) => set({ presenting: on }),
}));
