import type { MethodEntry } from '../methods';

/** B, the intensity levels each pixel value is quantized to: the PixelCNN's softmax has one class per level. */
export const AUTOREGRESSIVE_BINS = 16;

/** Autoregressive (PixelCNN auto-encoder): a masked-convolution decoder predicts each pixel from the ones before it and from h. */
export const autoregressiveEntry: MethodEntry = {
  id: 'autoregressive',
  available: true,
  label: 'Autoregressive (PixelCNN)',
  family: 'generative',
  summary: 'A masked-convolution model predicts each pixel from the ones before it, conditioned on f’s h of the image, trained by next-pixel likelihood.',
  about: `A PixelCNN models an image one pixel at a time, in reading order: masked convolutions let each pixel see only the pixels above it and to its left, and a softmax over ${AUTOREGRESSIVE_BINS} intensity levels gives the probability of its value. Trained by likelihood, it learns local structure (edges continue, backgrounds stay flat) but not what the whole image is, since it never looks ahead. Here it is the decoder of an auto-encoder, as van den Oord et al. (§3.4) use it: f encodes the whole view into h, and h enters every layer of the PixelCNN as a bias on each channel. Whatever h says about the image (which kind of object, where it sits, how bright it is) makes the pixels easier to predict, so the likelihood’s gradient pushes f to put it there, while the local detail is left to the PixelCNN. The probe reads f, the conditioning encoder, which learns whatever helps predict the pixels: that is not necessarily what tells classes apart. A second PixelCNN without h trains alongside as the baseline: the bits h saves are what f has learned to say about each image.`,
  paper: { cite: 'van den Oord et al. 2016', title: 'Conditional Image Generation with PixelCNN Decoders', url: 'https://arxiv.org/abs/1606.05328' },
  settings: [],
  defaults: {},
  views: 1,
  // f encodes one view; the two PixelCNNs' full-resolution activations (16 channels per layer, logits of B levels per pixel) weigh about one view more
  viewsEncoded: 2,
  lossName: 'pixel negative log-likelihood',
  lossHelp: `Mean over the N views’ pixels (and colour channels) of −log p(the pixel’s level | the pixels before it, h), in nats, each value quantized to ${AUTOREGRESSIVE_BINS} levels; divided by ln 2 it is the bits per pixel value`,
  metrics: [
    {
      key: 'bitsPerDim', label: 'bits / pixel value', unit: 'number', testId: 'metric-bits-per-dim',
      help: `The loss in bits, loss / ln 2, per pixel value (per pixel for grey images, per pixel and colour channel for colour ones, the bits/dim PixelCNN papers report). A uniform guess over the ${AUTOREGRESSIVE_BINS} levels needs log₂ ${AUTOREGRESSIVE_BINS} = ${Math.log2(AUTOREGRESSIVE_BINS)}`,
    },
    {
      key: 'unconditionalBitsPerDim', label: 'bits without h', unit: 'number', testId: 'metric-unconditional-bits',
      help: 'The same for a PixelCNN of the same shape trained alongside without h. The gap between the two is what h tells the PixelCNN about each image, the measure of what f has learned here',
    },
  ],
  matrix: 'task',
  matrixNote: 'The PixelCNN scores no matrix of the batch: its instrument shows each view quantized as the model sees it, the probability the model gave each pixel’s true level (bright: expected, dark: a surprise), and samples drawn pixel by pixel from the model given that view’s h. The probe reads f, the conditioning encoder, which learns whatever helps predict the pixels.',
  walkthrough: false,
  reference: {
    formula: `log ${AUTOREGRESSIVE_BINS}`,
    value: () => Math.log(AUTOREGRESSIVE_BINS),
    caption: `the loss of a model that gives each of the ${AUTOREGRESSIVE_BINS} levels the same probability: training starts near it; a model that only learns how often each level occurs already falls well below it on images with a plain background.`,
  },
};
