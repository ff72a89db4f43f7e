import type { MethodEntry } from '../methods';
import { taskAccuracy, uniformGuessReference } from './shared';

/** RotNet: which of four rotations was applied? */
export const rotationEntry: MethodEntry = {
  id: 'rotation',
  available: true,
  label: 'Rotation (RotNet)',
  family: 'pretext',
  summary: 'Each image is turned by 0°, 90°, 180° and 270°; a 4-way head on h says which turn it sees.',
  about: 'RotNet feeds the encoder each image at all four right-angle rotations and trains a small head on h to name the rotation. The label costs nothing, yet the task cannot be solved without knowing what the object is and which way up such objects stand: where the head of the shoe is, which way a shirt’s collar faces. Objects that look the same upside down (a bag, a sandal seen from above) stay hard, which the confusion matrix shows. The rotations are exact (pixel transposes and flips), so no interpolation artefact gives the answer away.',
  paper: { cite: 'Gidaris et al. 2018', title: 'Unsupervised Representation Learning by Predicting Image Rotations', url: 'https://arxiv.org/abs/1803.07728' },
  settings: [],
  defaults: {},
  views: 1,
  viewsEncoded: 4,
  lossName: 'rotation cross-entropy',
  lossHelp: 'Mean over the 4N rotated images of −log softmax of the true rotation',
  metrics: [taskAccuracy('Share of the 4N rotated images whose rotation the head names correctly (chance: 1/4)')],
  matrix: 'task',
  matrixNote: 'Rotation prediction scores no matrix of the batch: its instrument shows the rotated images with the head’s answer, and the confusion matrix of true against predicted rotation.',
  walkthrough: false,
  reference: uniformGuessReference('log 4', () => 4, 'the loss of a head that cannot tell the four rotations apart: training starts near it, and learning shows as the loss falling below it.'),
};
