import type { MethodEntry } from '../methods';
import { JIGSAW_MIN_VIEW } from '../pretext/jigsaw';

/** PIRL: an image and its jigsaw-shuffled tiles must both pick out the image's memory-bank entry. */
export const pirlEntry: MethodEntry = {
  id: 'pirl',
  available: true,
  label: 'PIRL',
  family: 'contrastive',
  summary: 'An image and its jigsaw-shuffled version form the positive pair, against a memory bank of other images’ features.',
  about: 'Pretext-invariant representation learning takes the jigsaw puzzle and turns it around: instead of asking the network which shuffle was applied (which teaches features that change with the shuffle), it asks for features that do not change. Each view I is cut into 3×3 tiles with gaps and jitter, f encodes every tile on its own, the nine features are laid side by side in a random order and a head maps them to one embedding of I_t; I itself goes through f and the projection head g. Both embeddings must pick out I’s own entry in a memory bank that holds one running-average feature per training image, against all the other entries (a softmax over the n entries at temperature τ): λ weighs the shuffled tiles’ term and 1 − λ the whole image’s. To find its image from scrambled tiles, f must describe what the tiles show (the parts of the object), not where they sit, and the bank supplies thousands of negatives for the cost of none.',
  paper: { cite: 'Misra & van der Maaten 2019', title: 'Self-Supervised Learning of Pretext-Invariant Representations', url: 'https://arxiv.org/abs/1912.01991' },
  settings: ['temperature', 'bankMomentum', 'pirlLambda'],
  defaults: { temperature: 0.07 },
  views: 1,
  // the view itself and its 9 tiles of 8 px (resized up from 4…7 px), against a 28 px view: 1 + 9 · 64 / 784 ≈ 1.75
  viewsEncoded: 1.75,
  lossName: 'PIRL bank loss',
  lossHelp: 'λ · (−log softmax over the n bank entries of I’s own entry, from the shuffled tiles’ embedding) + (1 − λ) · (the same from the image’s embedding), each at temperature τ and averaged over the batch',
  metrics: [
    { key: 'tilesRank', label: 'tiles’ own-entry rank', unit: 'rank', testId: 'metric-pirl-tiles-rank', help: 'Mean rank of each image’s own bank entry among all n by similarity to the embedding of its shuffled tiles (0: its own entry is the nearest): the λ term, the invariance to the jigsaw' },
    { key: 'imageRank', label: 'image’s own-entry rank', unit: 'rank', testId: 'metric-pirl-image-rank', help: 'Mean rank of each image’s own bank entry among all n by similarity to the image’s embedding g(f(I)) (0: its own entry is the nearest): the 1 − λ term' },
    { key: 'bankWritten', label: 'bank visited', unit: 'fraction', testId: 'metric-pirl-bank-written', help: 'Share of the n bank entries written at least once (the rest are still the random vectors the bank starts with)' },
  ],
  matrix: 'task',
  matrixNote: 'PIRL scores each embedding against all n bank entries rather than a matrix of two views: its instrument shows a few images, the view I, its shuffled tiles I_t, and the training image whose bank entry each of the two embeddings finds nearest (its own image when it is right).',
  walkthrough: false,
  reference: {
    formula: 'log n',
    value: (_settings, trainCount) => (trainCount > 0 ? Math.log(trainCount) : null),
    caption: 'the loss of embeddings that cannot tell the n bank entries apart (the bank starts as random unit vectors): learning shows as the loss falling below it.',
  },
  unfit: (_data, settings) =>
    settings.imageSize < JIGSAW_MIN_VIEW
      ? `PIRL cuts each view into 3×3 jigsaw tiles with gaps between them, which needs views of at least ${JIGSAW_MIN_VIEW} px (the view size is ${settings.imageSize} px): raise the view size to ${JIGSAW_MIN_VIEW} or more.`
      : null,
};
