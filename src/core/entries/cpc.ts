import type { MethodEntry, MetricSpec } from '../methods';

/** G: each view is cut into a G×G grid of patches (rows i, columns j, 0 … G − 1). */
export const CPC_GRID = 4;

/** K: the context of row i predicts rows i + 1 … i + K (K = G − 1: row 0 predicts every row below it). */
export const CPC_OFFSETS = CPC_GRID - 1;

/**
 * Smallest view side for the grid: patches of side 2s on a stride s, so G
 * half-overlapping patches span (G + 1)·s, and s ≥ 2 keeps a patch at the
 * 4 px below which it holds too little to be told apart (MIN_PATCH_SIDE in
 * src/methods/tiles.ts; a test holds the two together).
 */
export const CPC_MIN_VIEW = (CPC_GRID + 1) * 2;

/** The per-offset accuracy, k = 1 … K. */
const offsetAccuracy = (k: number): MetricSpec => ({
  key: `accuracyOffset${k}`,
  label: `k = ${k} accuracy`,
  unit: 'fraction',
  testId: `metric-cpc-accuracy-k${k}`,
  help: `Share of the predictions ${k} row${k === 1 ? '' : 's'} ahead whose true patch code scores highest among all ${CPC_GRID * CPC_GRID}N patch codes of the batch (chance: 1/(${CPC_GRID * CPC_GRID}N))${k === 1 ? '. The patch one row down shares half its pixels with the context patch, so k = 1 is the easiest' : ''}`,
});

/** CPC: predict the codes of the patches below from a context of the rows above, by InfoNCE against every other patch. */
export const cpcEntry: MethodEntry = {
  id: 'cpc',
  available: true,
  label: 'CPC',
  family: 'contrastive',
  summary: 'An image cut into a grid of overlapping patches, each encoded by f; a context network over the rows above predicts the codes of rows below, scored by InfoNCE against other patches.',
  about: `Contrastive predictive coding cuts each view into a ${CPC_GRID}×${CPC_GRID} grid of patches that overlap by half, and f encodes every patch on its own into a code z. A small context network reads the codes row by row, never looking below the row it stands on, and from its context c at row i predicts, through a linear map W_k for each offset k = 1 … ${CPC_OFFSETS}, the code of the patch k rows further down. A prediction is not asked to reproduce pixels: it only has to pick out the true patch’s code among every other patch code of the batch (other places in the same image, and every patch of the other images), the InfoNCE loss. To do that, f must put into z what stays predictable across distance in an image (shapes, strokes, the object the patch belongs to) rather than noise, which is what makes z useful; the per-offset accuracies show that farther predictions are harder.`,
  paper: { cite: 'van den Oord et al. 2018', title: 'Representation Learning with Contrastive Predictive Coding', url: 'https://arxiv.org/abs/1807.03748' },
  settings: [],
  defaults: {},
  views: 1,
  // 16 patches of 10 px per 28 px view (half-overlapping on a 5 px stride): 16 · 100 / 784 ≈ 2.04
  viewsEncoded: 2.04,
  lossName: 'CPC InfoNCE',
  lossHelp: `Mean over every prediction (each context position and offset k = 1…${CPC_OFFSETS}) of −log softmax of its true patch code among all ${CPC_GRID * CPC_GRID}N patch codes of the batch, scored by ẑ·z`,
  metrics: Array.from({ length: CPC_OFFSETS }, (_, i) => offsetAccuracy(i + 1)),
  matrix: 'task',
  matrixNote: `CPC scores no matrix of two views: each prediction is scored against all ${CPC_GRID * CPC_GRID}N patch codes of the batch. Its instrument shows a few views cut into their patch grid, the top row as context and each row below framed by whether its prediction from the top row picked it out, with the patches the predictions picked instead.`,
  walkthrough: false,
  reference: {
    formula: `log(${CPC_GRID * CPC_GRID}N)`,
    value: (settings) => Math.log(CPC_GRID * CPC_GRID * settings.batchSize),
    caption: `the loss of predictions that cannot tell the ${CPC_GRID * CPC_GRID}N patch codes of the batch apart: the predictions W_k start at zero, so training starts exactly here, and learning shows as the loss falling below it.`,
  },
  unfit: (_data, settings) =>
    settings.imageSize < CPC_MIN_VIEW
      ? `CPC cuts each view into a ${CPC_GRID}×${CPC_GRID} grid of overlapping patches of at least 4 px, which needs views of at least ${CPC_MIN_VIEW} px (the view size is ${settings.imageSize} px): raise the view size to ${CPC_MIN_VIEW} or more.`
      : null,
};
