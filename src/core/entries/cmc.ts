import type { MethodEntry } from '../methods';

const greyscaleReason = (name: string) =>
  `CMC needs colour images: ${name} is greyscale, so it cannot be split into a lightness view and a colour view.`;

/** Contrastive Multiview Coding: the lightness and the colour of one image as two views, each with its own encoder. */
export const cmcEntry: MethodEntry = {
  id: 'cmc',
  available: true,
  label: 'CMC',
  family: 'contrastive',
  summary: 'Two views of one image from different channels (lightness and colour), each with its own encoder, pulled together by a cross-view contrastive loss.',
  about: 'Contrastive Multiview Coding takes its two views not from two augmentations but from two kinds of sensor data of the same scene; for colour images, the CIE Lab lightness L and the colour channels ab. The encoder f sees L, a second encoder of the same shape sees ab, and a contrastive loss asks each lightness view to pick out the colour view of its own image among the batch’s N, and each colour view its lightness view. What the two share is what the scene is and where its parts lie: an outline in L is an edge between colours in ab, while the lighting lives only in L and the hue of a surface only in ab. So f learns the information common to both views and is pushed to drop what only one of them holds. The probes read f on L alone. Only the colour-free augmentations make sense here: the grayscale augmentation leaves nothing in the ab view, and colour jitter changes what the two views share.',
  paper: { cite: 'Tian et al. 2019', title: 'Contrastive Multiview Coding', url: 'https://arxiv.org/abs/1906.05849' },
  settings: ['temperature'],
  defaults: { temperature: 0.07 },
  views: 1,
  viewsEncoded: 2,
  encoderChannels: 1,
  lossName: 'cross-view NCE',
  lossHelp: '½ (L→ab + ab→L): each direction the mean over the N images of −log softmax, over the N views of the other kind, of cos(z_L, z_ab) / τ at the image’s own view',
  metrics: [
    {
      key: 'lightnessToAbAccuracy', label: 'L→ab accuracy', unit: 'fraction', testId: 'metric-cmc-l-to-ab',
      help: 'Share of the N lightness views whose own colour view is their most similar among the batch’s N colour views (chance: 1/N)',
    },
    {
      key: 'abToLightnessAccuracy', label: 'ab→L accuracy', unit: 'fraction', testId: 'metric-cmc-ab-to-l',
      help: 'Share of the N colour views whose own lightness view is their most similar among the batch’s N lightness views (chance: 1/N)',
    },
  ],
  matrix: 'task',
  matrixNote: 'CMC compares each lightness view only with the batch’s colour views, never with other lightness views, so there is no 2N×2N matrix to score. Its instrument shows the lightness f sees, the colour the second encoder sees (at a fixed lightness), and the colour view each lightness view picks.',
  walkthrough: false,
  reference: {
    formula: 'log N',
    value: (settings) => Math.log(settings.batchSize),
    caption: 'the loss of encoders that cannot tell the batch’s N images apart, each view picking its partner at chance: training starts near it, and learning shows as the loss falling below it.',
  },
  unfit: (data) => (data.channels === 1 ? greyscaleReason(data.name) : null),
};

export { greyscaleReason as cmcGreyscaleReason };
