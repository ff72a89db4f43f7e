import type { MethodEntry } from '../methods';

/** Smallest view on which the hidden square (half the side) still holds 4×4 pixels to paint back. */
export const INPAINTING_MIN_VIEW = 8;

/** Context encoder: paint back a hidden square from what surrounds it. */
export const inpaintingEntry: MethodEntry = {
  id: 'inpainting',
  available: true,
  label: 'Inpainting (context encoder)',
  family: 'pretext',
  summary: 'A square of each image is hidden; a small decoder on h paints it back, scored by an L2 loss on the hidden pixels.',
  about: 'The context encoder hides a square of each view (half its side, a quarter of its area), fills it with the batch’s mean colour and asks a small decoder on f’s features h to paint the hidden pixels back. The loss is the mean squared error over the hidden pixels only, so all the network can use is the context: to continue a sleeve into the hidden corner or close the outline of a bag, h must hold what the object is and where its parts lie, not just its colours. The paper adds an adversarial loss to sharpen the painting; it is off here, so the L2 loss paints the blurry average of what could be there, which is enough to train f. The masked square can be the central one, as in the paper, or a square at a random place, which the encoder must also find.',
  paper: { cite: 'Pathak et al. 2016', title: 'Context Encoders: Feature Learning by Inpainting', url: 'https://arxiv.org/abs/1604.07379' },
  settings: ['inpaintMask'],
  defaults: {},
  views: 1,
  viewsEncoded: 1,
  lossName: 'hidden-region MSE',
  lossHelp: 'Mean over the hidden pixels (and channels) of the N views of (painted − true)², pixels in [0, 1]',
  metrics: [
    {
      key: 'blindDecoderMse', label: 'blind decoder MSE', unit: 'number', testId: 'metric-blind-decoder-mse',
      help: 'The MSE of painting every hidden region as the batch’s average region, pixel by pixel: the best a decoder that ignores h can do. The loss falling below it shows that h tells the decoder what is hidden.',
    },
    {
      key: 'flatColourMse', label: 'flat colour MSE', unit: 'number', testId: 'metric-flat-colour-mse',
      help: 'The MSE of painting each hidden region in its own true mean colour: right colour, no shape. The loss falling below it shows the decoder painting structure (edges, stripes, outlines), not just colour.',
    },
  ],
  matrix: 'task',
  matrixNote: 'Inpainting scores no matrix of the batch: its instrument shows the masked inputs, the decoder’s painting pasted into the hole and the true views, each with the MSE of its hidden pixels.',
  walkthrough: false,
  unfit: (_data, settings) => (settings.imageSize < INPAINTING_MIN_VIEW
    ? `Inpainting needs views of at least ${INPAINTING_MIN_VIEW} px: the hidden square is half the side, and at ${settings.imageSize} px it holds too few pixels to paint back. Raise the view size.`
    : null),
};
