import type { MethodEntry } from '../methods';

/** DeepCluster: listed for what is coming until its method file lands (src/methods). */
export const deepclusterEntry: MethodEntry = {
  id: 'deepcluster',
  available: false,
  label: 'DeepCluster',
  family: 'clustering',
  summary: 'Every few steps k-means groups h of the training images; the clusters become pseudo-labels for a classifier head, re-initialized each round.',
  about: 'Every few steps k-means groups h of the training images; the clusters become pseudo-labels for a classifier head, re-initialized each round.',
  paper: { cite: 'Caron et al. 2018', title: 'Deep Clustering for Unsupervised Learning of Visual Features', url: 'https://arxiv.org/abs/1807.05520' },
  settings: [],
  defaults: {},
  lossName: 'loss',
  lossHelp: '',
  metrics: [],
  matrix: 'task',
  walkthrough: false,
};
