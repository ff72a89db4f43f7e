import type { MethodEntry } from '../methods';
import { taskAccuracy, uniformGuessReference } from './shared';

/**
 * Smallest view side with room for 3×3 tiles of 4 px, gaps and jitter
 * (src/methods/tiles.ts, JIGSAW_LAYOUT; a test holds the two together).
 */
export const JIGSAW_MIN_VIEW = 20;

/**
 * Most permutations the greedy maximal-Hamming search chooses (0.2 to 0.4 s
 * over all 9! candidates; the setting's upper limit).
 */
export const JIGSAW_MAX_PERMUTATIONS = 100;

/** Jigsaw puzzles: which of P fixed shuffles of the 3×3 tiles is this? */
export const jigsawEntry: MethodEntry = {
  id: 'jigsaw',
  available: true,
  label: 'Jigsaw puzzles',
  family: 'pretext',
  summary: 'The 3×3 tiles of an image are shuffled by one of P fixed permutations; a head says which permutation it was.',
  about: 'Each view is cut into 3×3 tiles with gaps between them, each tile moved a pixel or so at random, and the tiles are shuffled by one of P fixed permutations. f encodes every tile on its own (the paper’s context-free network: no tile sees another), the nine features are laid side by side in the shuffled order, and a small head names the permutation. To solve the puzzle the network must tell, from a tile alone, which part of an object it shows and so where it belongs; the gaps and jitter keep edges from matching across borders. The permutations are chosen far apart (a greedy maximal-Hamming-distance set), so no two differ by a single swap; more of them make the task harder, and chance is 1/P.',
  paper: { cite: 'Noroozi & Favaro 2016', title: 'Unsupervised Learning of Visual Representations by Solving Jigsaw Puzzles', url: 'https://arxiv.org/abs/1603.09246' },
  settings: ['jigsawPermutations'],
  defaults: {},
  views: 1,
  // 9 tiles of 8 px per view (resized up from 4…7 px), against a 28 px view: 9 · 64 / 784 ≈ 0.75
  viewsEncoded: 0.75,
  lossName: 'permutation cross-entropy',
  lossHelp: 'Mean over the N shuffled views of −log softmax of the permutation that shuffled them',
  metrics: [taskAccuracy('Share of the N shuffled views whose permutation the head names correctly (chance: 1/P)')],
  matrix: 'task',
  matrixNote: 'The jigsaw scores no matrix of the batch: its instrument shows the shuffled tiles, the view put back together by the head’s answer and the original, and the confusion matrix of true against predicted permutation.',
  walkthrough: false,
  reference: uniformGuessReference('log P', (settings) => settings.jigsawPermutations ?? Number.NaN, 'the loss of a head that cannot tell the P permutations apart: training starts near it, and learning shows as the loss falling below it.'),
  unfit: (_data, settings) => {
    if (settings.imageSize < JIGSAW_MIN_VIEW) {
      return `The jigsaw cuts each view into 3×3 tiles with gaps between them, which needs views of at least ${JIGSAW_MIN_VIEW} px (the view size is ${settings.imageSize} px): raise the view size to ${JIGSAW_MIN_VIEW} or more.`;
    }
    const p = settings.jigsawPermutations;
    if (!Number.isInteger(p) || p < 2 || p > JIGSAW_MAX_PERMUTATIONS) {
      return `The jigsaw tells apart between 2 and ${JIGSAW_MAX_PERMUTATIONS} permutations (the greedy maximal-Hamming search stops at ${JIGSAW_MAX_PERMUTATIONS}); P is ${p}.`;
    }
    return null;
  },
};
