import { create } from 'zustand';

/**
 * The instruments, one tab each, in the order a lecture meets them. The open
 * one lives in the address bar's hash (`#lecture`), so a slide can link to it
 * with the config: `?method=moco#lecture`.
 */
export const INSTRUMENTS = [
  { id: 'affinity', label: 'Affinity', key: '1', help: 'The batch’s 2N×2N similarity matrix, or the method’s own (queue, bank, cross-correlation).' },
  { id: 'geometry', label: 'Geometry', key: '2', help: 'Alignment, uniformity and the collapse meter over steps.' },
  { id: 'evaluation', label: 'Evaluation', key: '3', help: 'Label efficiency, the embedding map and nearest neighbours.' },
  { id: 'temperature', label: 'Temperature', key: '4', help: 'What τ and normalization do to the softmax over one batch.' },
  { id: 'lecture', label: 'Lecture', key: '5', help: 'One minibatch through the method’s Algorithm 1, line by line.' },
  { id: 'augment', label: 'Augment', key: '6', help: 'The pipeline t ~ T and a live preview of the two views.' },
  { id: 'compare', label: 'Compare', key: '7', help: 'Several runs of one setup, differing in one setting, charted together.' },
  { id: 'generated', label: 'Generated data', key: '8', help: 'Train a DCGAN or VAE on the dataset, then pretrain on real plus generated images and measure what it buys.' },
  { id: 'export', label: 'Save & export', key: '9', help: 'Checkpoints that survive a reload; the encoder as safetensors or ONNX; the experiment as a PyTorch script.' },
] as const;

export type InstrumentId = (typeof INSTRUMENTS)[number]['id'];

const DEFAULT_INSTRUMENT: InstrumentId = 'affinity';

export function instrumentFromHash(hash: string): InstrumentId | null {
  let id: string;
  try {
    id = decodeURIComponent(hash.replace(/^#/, ''));
  } catch {
    return null; // a malformed escape (`#%`) names no tab; it must not stop the page loading
  }
  return INSTRUMENTS.some((i) => i.id === id) ? (id as InstrumentId) : null;
}

interface LayoutState {
  instrument: InstrumentId;
  /** the keyboard-shortcut overlay */
  helpOpen: boolean;
  openInstrument: (id: InstrumentId) => void;
  setHelpOpen: (open: boolean) => void;
}

const initialHash = typeof window === 'undefined' ? '' : window.location.hash;

export const useLayoutStore = create<LayoutState>((set) => ({
  instrument: instrumentFromHash(initialHash) ?? DEFAULT_INSTRUMENT,
  helpOpen: false,
  openInstrument: (id) => {
    set({ instrument: id });
    if (typeof window !== 'undefined') {
      // replace, not push: the back button leaves the page rather than walking through tabs, as the config does
      window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}#${id}`);
    }
  },
  setHelpOpen: (open) => set({ helpOpen: open }),
}));

if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => {
    const id = instrumentFromHash(window.location.hash);
    if (id) useLayoutStore.setState({ instrument: id });
  });
}

/** The guided first run: shown until finished or skipped once, then only when asked for. */
const TOUR_KEY = 'ssp.tour';

function tourDone(): boolean {
  try {
    return typeof localStorage !== 'undefined' && localStorage.getItem(TOUR_KEY) === 'done';
  } catch {
    return true; // storage blocked: never nag
  }
}

interface TourState {
  /** the step shown, or null when the tour is not running */
  step: number | null;
  start: () => void;
  goTo: (step: number) => void;
  /** finished or skipped: it does not come back by itself */
  dismiss: () => void;
}

export const useTourStore = create<TourState>((set) => ({
  step: tourDone() ? null : 0,
  start: () => set({ step: 0 }),
  goTo: (step) => set({ step }),
  dismiss: () => {
    try {
      localStorage.setItem(TOUR_KEY, 'done');
    } catch {
      // storage blocked: the tour ends for this page only
    }
    set({ step: null });
  },
}));
