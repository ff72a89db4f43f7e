import type { MethodEntry } from '../methods';
import { taskAccuracy, uniformGuessReference } from './shared';

/**
 * Smallest view side with room for a 3×3 grid of 4 px patches, gaps and
 * jitter (src/methods/tiles.ts, RELATIVE_PATCH_LAYOUT; a test holds the two
 * together).
 */
export const RELATIVE_PATCH_MIN_VIEW = 20;

/** Relative patch location: where does this neighbour sit around the centre patch? */
export const relativePatchEntry: MethodEntry = {
  id: 'relative-patch',
  available: true,
  label: 'Relative patch location',
  family: 'pretext',
  summary: 'Given the centre patch of a 3×3 grid and one of its neighbours, a head says which of the 8 positions the neighbour came from.',
  about: 'Each view is cut into a 3×3 grid of small patches with gaps between them, each patch moved a pixel or so at random. f encodes every patch on its own; a small head, given the features of the centre patch and of one neighbour, names where the neighbour sat (top-left, top, … bottom-right), for all 8 neighbours of every image. The gaps and the jitter stop lines and textures from running across the border, so the answer cannot be read off the pixels at the edge: the network has to recognize parts (the sole of a shoe, the collar of a shirt) and know how such parts lie around each other. Parts that look alike from every side (the two sleeves, plain fabric) stay hard, which the confusion matrix shows.',
  paper: { cite: 'Doersch et al. 2015', title: 'Unsupervised Visual Representation Learning by Context Prediction', url: 'https://arxiv.org/abs/1505.05192' },
  settings: [],
  defaults: {},
  views: 1,
  // 9 patches of 8 px per view (resized up from 4…7 px), against a 28 px view: 9 · 64 / 784 ≈ 0.75
  viewsEncoded: 0.75,
  lossName: 'position cross-entropy',
  lossHelp: 'Mean over the 8N centre–neighbour pairs of −log softmax of the neighbour’s true position',
  metrics: [taskAccuracy('Share of the 8N centre–neighbour pairs whose position the head names correctly (chance: 1/8)')],
  matrix: 'task',
  matrixNote: 'Relative patch location scores no matrix of the batch: its instrument shows each view with its grid, the centre and one neighbour with the head’s answer, and the confusion matrix of true against predicted position.',
  walkthrough: false,
  reference: uniformGuessReference('log 8', () => 8, 'the loss of a head that cannot tell the eight positions apart: training starts near it, and learning shows as the loss falling below it.'),
  unfit: (_data, settings) => (settings.imageSize < RELATIVE_PATCH_MIN_VIEW
    ? `Relative patch location cuts each view into a 3×3 grid of patches with gaps between them, which needs views of at least ${RELATIVE_PATCH_MIN_VIEW} px (the view size is ${settings.imageSize} px): raise the view size to ${RELATIVE_PATCH_MIN_VIEW} or more.`
    : null),
};
