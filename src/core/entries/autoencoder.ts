import type { MethodEntry } from '../methods';

/** Autoencoder: rebuild the whole view from h; with denoising, from a noisy copy of it. */
export const autoencoderEntry: MethodEntry = {
  id: 'autoencoder',
  available: true,
  label: 'Autoencoder',
  family: 'generative',
  summary: 'f encodes the image, a small decoder rebuilds it from h, scored by the reconstruction error; optionally from a noisy input (denoising).',
  about: 'The autoencoder is the oldest way to learn features without labels: the encoder squeezes each view into h, and a small decoder of transposed convolutions (f’s blocks in reverse) has to rebuild the whole picture from h alone, scored by the mean squared error over every pixel. Whatever the decoder needs to paint the image must pass through h, so h learns to keep what varies most between images: overall brightness, where the object sits, its outline. That is also its weakness: every pixel counts the same, so h spends its room on the large areas (background, shading) rather than on what tells a shirt from a coat, and the L2 loss paints the blurry average of what could be there. The denoising autoencoder corrupts the input with Gaussian noise (σ = 0.2) and asks for the clean image back: copying pixels no longer scores, and the encoder must know what such images look like to undo the noise. The probes show how much of this helps tell classes apart, next to the contrastive methods.',
  paper: {
    cite: 'Hinton & Salakhutdinov 2006; Vincent et al. 2008',
    title: 'Reducing the Dimensionality of Data with Neural Networks; Extracting and Composing Robust Features with Denoising Autoencoders',
    url: 'https://www.science.org/doi/10.1126/science.1127647',
  },
  settings: ['denoise'],
  defaults: {},
  views: 1,
  viewsEncoded: 1,
  lossName: 'reconstruction MSE',
  lossHelp: 'Mean over every pixel and channel of the N views of (rebuilt − true)², pixels in [0, 1]; with denoising the encoder sees the noisy view and the target is the clean one',
  metrics: [
    {
      key: 'meanImageMse', label: 'mean-image MSE', unit: 'number', testId: 'metric-mean-image-mse',
      help: 'The MSE of painting every view as the batch’s mean image, pixel by pixel: the best a decoder that ignores h can do. The loss falling below it shows that h tells the decoder which image it is.',
    },
    {
      key: 'psnr', label: 'PSNR', unit: 'number', testId: 'metric-psnr',
      help: 'Peak signal-to-noise ratio of the reconstruction, 10·log₁₀(1 / MSE) in dB: higher is better; each 3 dB halves the error.',
    },
  ],
  matrix: 'task',
  matrixNote: 'The autoencoder scores no matrix of the batch: its instrument shows the encoder’s input (noisy when denoising), the decoder’s reconstruction and the target, each with its MSE.',
  walkthrough: false,
};
