import { create } from 'zustand';
import type { PreviewResult } from '../augment/previewViews';

export const PREVIEW_COUNT = 8;

interface PreviewState {
  /** seeds the views' random parameters; Resample draws a new one */
  seed: number;
  /** training images shown: the picked ones if any, else the random sample; empty until the dataset is known */
  indices: number[];
  /** a seeded random sample of training images */
  sample: number[];
  /** images the user picked in the gallery */
  picked: number[];
  result: PreviewResult | null;
  /** a render is on its way (the previous views stay on screen) */
  pending: boolean;
  error: string | null;
}

/** Written by the training client; the previewer reads it. */
export const usePreviewStore = create<PreviewState>(() => ({
  seed: 1,
  indices: [],
  sample: [],
  picked: [],
  result: null,
  pending: false,
  error: null,
}));
