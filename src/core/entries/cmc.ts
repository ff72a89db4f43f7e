import type { MethodEntry } from '../methods';

/** CMC: listed for what is coming until its method file lands (src/methods). */
export const cmcEntry: MethodEntry = {
  id: 'cmc',
  available: false,
  label: 'CMC',
  family: 'contrastive',
  summary: 'Two views of one image from different channels (lightness and colour), each with its own encoder, pulled together by a cross-view contrastive loss.',
  about: 'Two views of one image from different channels (lightness and colour), each with its own encoder, pulled together by a cross-view contrastive loss.',
  paper: { cite: 'Tian et al. 2019', title: 'Contrastive Multiview Coding', url: 'https://arxiv.org/abs/1906.05849' },
  settings: [],
  defaults: {},
  lossName: 'loss',
  lossHelp: '',
  metrics: [],
  matrix: 'task',
  walkthrough: false,
};
