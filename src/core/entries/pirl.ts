import type { MethodEntry } from '../methods';

/** PIRL: listed for what is coming until its method file lands (src/methods). */
export const pirlEntry: MethodEntry = {
  id: 'pirl',
  available: false,
  label: 'PIRL',
  family: 'contrastive',
  summary: 'An image and its jigsaw-shuffled version form the positive pair, against a memory bank of other images’ features.',
  about: 'An image and its jigsaw-shuffled version form the positive pair, against a memory bank of other images’ features.',
  paper: { cite: 'Misra & van der Maaten 2019', title: 'Self-Supervised Learning of Pretext-Invariant Representations', url: 'https://arxiv.org/abs/1912.01991' },
  settings: [],
  defaults: {},
  lossName: 'loss',
  lossHelp: '',
  metrics: [],
  matrix: 'task',
  walkthrough: false,
};
