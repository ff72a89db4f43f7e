import type { MethodEntry } from '../methods';
import { uniformGuessReference } from '../pretext/shared';

/** Most training images k-means is fitted on (a sample drawn from the run's seed); the rest join their nearest centroid. */
export const DEEPCLUSTER_FIT_MAX = 4096;

/** DeepCluster: k-means on h makes pseudo-labels, a classifier head on h learns them, and the two alternate. */
export const deepclusterEntry: MethodEntry = {
  id: 'deepcluster',
  available: true,
  label: 'DeepCluster',
  family: 'clustering',
  summary: 'Every few steps k-means groups h of the training images; the clusters become pseudo-labels for a classifier head, re-initialized each round.',
  about: `DeepCluster alternates two steps. Every few steps it encodes all training images, whitens and ℓ2-normalizes their features h and groups them by k-means into k clusters (fitted on at most ${DEEPCLUSTER_FIT_MAX.toLocaleString('en-US')} of them; every image then joins its nearest centroid); then, until the next round, a k-way classifier head on h learns to name each image’s cluster from an augmented view, and the gradient shapes f. It works because even a random convolutional network groups images by edges and colours far better than chance, and learning to tell those groups apart from augmented views sharpens the features, so the next clustering is better. The head starts afresh after every round, since cluster 7 of one round has nothing to do with cluster 7 of the next. Its danger is a trivial answer: one cluster holding nearly everything, which the head predicts without looking. The paper counters it by sampling images uniformly over the clusters and by splitting a large cluster to refill an empty one; here every cluster gets the same share of the loss through a weight 1/|cluster| instead, and empty clusters are refilled the paper’s way. Like the paper, choose k above the number of classes you expect.`,
  paper: { cite: 'Caron et al. 2018', title: 'Deep Clustering for Unsupervised Learning of Visual Features', url: 'https://arxiv.org/abs/1807.05520' },
  settings: ['clusterCount', 'clusterEvery'],
  defaults: {},
  views: 1,
  // one view per image; the rounds' inference passes keep no activations for a gradient
  viewsEncoded: 1,
  lossName: 'cluster cross-entropy',
  lossHelp: 'Cross-entropy of the k-way head against each image’s cluster from the last k-means round, weighted by 1 / the cluster’s size so each cluster counts alike: Σ_b w_b (−log softmax of the cluster) / Σ_b w_b',
  metrics: [
    {
      key: 'pseudoLabelAccuracy', label: 'pseudo-label acc', unit: 'fraction', testId: 'metric-pseudo-label-accuracy',
      help: 'Share of the batch’s images whose cluster the head names (unweighted; chance 1/k). It drops to chance after each k-means round, when the head starts afresh on new clusters. There are no true labels here: the probe says how well the clusters match the classes',
    },
    {
      key: 'clustersInUse', label: 'clusters in use', unit: 'number', testId: 'metric-clusters-in-use',
      help: 'Clusters of the k that hold at least one training image after the last round. An empty one is refilled by splitting a large one, as the paper does, but identical features cannot be split',
    },
    {
      key: 'largestClusterShare', label: 'largest cluster', unit: 'fraction', testId: 'metric-largest-cluster',
      help: 'Share of the training images in the largest cluster. Near 1: the features have collapsed into one group, the trivial solution',
    },
    {
      key: 'clusterNmi', label: 'NMI with last round', unit: 'number', testId: 'metric-cluster-nmi',
      help: 'Normalized mutual information between the clusters of the last two rounds (the paper’s Fig. 2b): low while each round regroups the images anew, rising toward 1 as the clusters settle. From the second round on',
    },
  ],
  matrix: 'task',
  matrixNote: 'DeepCluster scores no matrix of the batch: its instrument shows the largest clusters of the last k-means round, a few member images of each with its size, so you can see what the clusters group by (shape, brightness, background).',
  walkthrough: false,
  reference: uniformGuessReference('log k', (settings) => settings.clusterCount ?? Number.NaN, 'the loss of a head that cannot tell the k clusters apart: training starts near it, and after every k-means round the fresh head starts there again.'),
  unfit: (data, settings) =>
    settings.clusterCount > data.trainCount
      ? `DeepCluster needs at least as many training images as clusters: it asks for k = ${settings.clusterCount} clusters and this dataset has ${data.trainCount} training images. Lower Clusters k to ${data.trainCount} or fewer.`
      : null,
};
