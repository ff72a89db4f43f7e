import type { MethodEntry } from '../methods';
import { taskAccuracy, uniformGuessReference } from './shared';

/** Exemplar CNN: each of the first K training images is a surrogate class of its own augmentations. */
export const exemplarEntry: MethodEntry = {
  id: 'exemplar',
  available: true,
  label: 'Exemplar CNN',
  family: 'pretext',
  summary: 'Each of the first K training images is a class of its own, made of its heavily augmented versions; a K-way head on h names the exemplar a view came from.',
  about: 'Exemplar CNN turns each of the first K training images (the exemplars) into a surrogate class whose members are that image under random crops, flips and colour changes, and trains a K-way head on h to say which exemplar a view came from. To name the class of a view it has never seen, f must keep what the augmentations leave alone (shape, texture, the object’s parts) and drop what they change (position, scale, colour), the same bet the contrastive methods later made. Each step draws N exemplars and two members of each, so the head also learns that two quite different views belong together. The head needs one weight vector per exemplar, which is what limits K; and as K grows, more exemplars look alike (two T-shirts of one cut) and the task asks f to tell apart what a classifier should treat as the same, which is why the paper found the gain levelling off with many classes.',
  paper: { cite: 'Dosovitskiy et al. 2014', title: 'Discriminative Unsupervised Feature Learning with Exemplar Convolutional Neural Networks', url: 'https://arxiv.org/abs/1406.6909' },
  settings: ['exemplarCount'],
  defaults: {},
  // two members of each drawn exemplar per step: twice the class members for one batch of images, and the instrument can show an exemplar with two of its members
  views: 2,
  viewsEncoded: 2,
  lossName: 'exemplar cross-entropy',
  lossHelp: 'Mean over the 2N augmented views of −log softmax of the view’s own exemplar among the K',
  metrics: [
    taskAccuracy('Share of the 2N augmented views whose exemplar the head names among the K (chance: 1/K)'),
    {
      key: 'membersPerExemplar', label: 'members per exemplar', unit: 'number', testId: 'metric-members-per-exemplar',
      help: 'Augmented views each of the K exemplars has been trained on so far, on average (2N a step shared among K classes, each a fresh augmentation): the samples per surrogate class the paper varies. Larger K, fewer members each',
    },
  ],
  matrix: 'task',
  matrixNote: 'Exemplar CNN scores no matrix of the batch: its instrument shows the first exemplars of the batch, each by the two augmented members the head saw (the method is handed only augmented views, never the untouched image), with the exemplar the head named for each; and, for K up to 12, the confusion matrix of true against named exemplar.',
  walkthrough: false,
  // an absent K gives NaN, which the loss chart reads as no line
  reference: uniformGuessReference('log K', (settings) => settings.exemplarCount ?? Number.NaN, 'the loss of a head that cannot tell the K exemplars apart: training starts near it, and learning shows as the loss falling below it.'),
  unfit: (data, settings) =>
    settings.exemplarCount > data.trainCount
      ? `Exemplar CNN needs a training image for each of its K exemplars: it asks for ${settings.exemplarCount} exemplars and this dataset has ${data.trainCount} training images. Lower Exemplars K to ${data.trainCount} or fewer.`
      : null,
};
