import type { MethodEntry } from '../methods';

/**
 * Q, the quantized ab bins of side 10 that sRGB colours reach: the
 * classification head's classes. Computed by abBins() in src/methods/lab.ts
 * (this file stays free of tfjs and of the colour maths); a test keeps the two
 * equal. The paper's ImageNet gamut gave 313.
 */
export const COLORIZATION_AB_BINS = 261;

/** The annealed mean's temperature, the paper's: softmax(logits / T) averaged over the bin centres. */
export const COLORIZATION_ANNEALED_T = 0.38;

const greyscaleReason = (name: string) =>
  `Colorization needs colour images: ${name} is greyscale, so there is no colour for the head to predict from the lightness.`;

/** Colorization: predict an image's colour from its lightness. */
export const colorizationEntry: MethodEntry = {
  id: 'colorization',
  available: true,
  label: 'Colorization',
  family: 'pretext',
  summary: 'The encoder sees only the lightness L of a colour image; a head on h predicts its colour, the a and b channels of CIE Lab, at every pixel.',
  about: 'Colorization splits each colour view into CIE Lab: the lightness L goes to the encoder, and a head on h must predict the two colour channels a and b at every pixel. Colour is not written in the grey image, so the network has to recognise what it sees and remember what colour such things are: sky is blue, leaves are green, a stop sign is red. A regression head with an L2 loss learns the average of all plausible colours, which is greyish; Zhang et al. instead classify each pixel’s colour among quantized ab bins and read the answer back as the annealed mean of the predicted distribution, which keeps colours vivid. Both are offered. For this task the colour augmentations (jitter, grayscale) only scramble the target; switch them off.',
  paper: { cite: 'Zhang et al. 2016', title: 'Colorful Image Colorization', url: 'https://arxiv.org/abs/1603.08511' },
  settings: ['colorizationMode'],
  defaults: {},
  views: 1,
  viewsEncoded: 1,
  encoderChannels: 1,
  lossName: 'colour loss',
  lossHelp: 'Regression: mean over the N·S² pixels of (predicted − true)² of a/110 and b/110. Classification: mean over the pixels of the head’s coarse grid of −log softmax of the ab bin the true colour falls in',
  metrics: [
    {
      key: 'abError', label: 'ab error', unit: 'number', testId: 'metric-ab-error',
      help: 'Mean over the batch’s pixels of the distance between predicted and true colour in the ab plane, √(Δa² + Δb²), in Lab units (about 2.3 is a just-noticeable difference)',
    },
    {
      key: 'greyAbError', label: 'grey ab error', unit: 'number', testId: 'metric-grey-ab-error',
      help: 'The same for a grey prediction (a = b = 0): the true colours’ mean saturation. The ab error falling below it shows the head putting colour where it belongs',
    },
  ],
  matrix: 'task',
  matrixNote: 'Colorization scores no matrix of the batch: its instrument shows the lightness the encoder sees, the colour the head paints onto it and the true view, each with its ab error.',
  walkthrough: false,
  reference: {
    formula: 'log Q',
    value: (settings) => (settings.colorizationMode === 'classification' ? Math.log(COLORIZATION_AB_BINS) : null),
    caption: `the loss of a classification head that cannot tell the Q = ${COLORIZATION_AB_BINS} ab bins apart: training starts near it, and learning shows as the loss falling below it.`,
  },
  unfit: (data) => (data.channels === 1 ? greyscaleReason(data.name) : null),
};

export { greyscaleReason as colorizationGreyscaleReason };
