import type { MethodEntry } from '../methods';

/** CPC: listed for what is coming until its method file lands (src/methods). */
export const cpcEntry: MethodEntry = {
  id: 'cpc',
  available: false,
  label: 'CPC',
  family: 'contrastive',
  summary: 'An image cut into a grid of overlapping patches, each encoded by f; a context network over the rows above predicts the codes of rows below, scored by InfoNCE against other patches.',
  about: 'An image cut into a grid of overlapping patches, each encoded by f; a context network over the rows above predicts the codes of rows below, scored by InfoNCE against other patches.',
  paper: { cite: 'van den Oord et al. 2018', title: 'Representation Learning with Contrastive Predictive Coding', url: 'https://arxiv.org/abs/1807.03748' },
  settings: [],
  defaults: {},
  lossName: 'loss',
  lossHelp: '',
  metrics: [],
  matrix: 'task',
  walkthrough: false,
};
