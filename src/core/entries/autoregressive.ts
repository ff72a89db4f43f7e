import type { MethodEntry } from '../methods';

/** Autoregressive (PixelCNN): listed for what is coming until its method file lands (src/methods). */
export const autoregressiveEntry: MethodEntry = {
  id: 'autoregressive',
  available: false,
  label: 'Autoregressive (PixelCNN)',
  family: 'generative',
  summary: 'A masked-convolution model predicts each pixel from the ones before it, conditioned on f’s h of the image, trained by next-pixel likelihood.',
  about: 'A masked-convolution model predicts each pixel from the ones before it, conditioned on f’s h of the image, trained by next-pixel likelihood.',
  paper: { cite: 'van den Oord et al. 2016', title: 'Conditional Image Generation with PixelCNN Decoders', url: 'https://arxiv.org/abs/1606.05328' },
  settings: [],
  defaults: {},
  lossName: 'loss',
  lossHelp: '',
  metrics: [],
  matrix: 'task',
  walkthrough: false,
};
