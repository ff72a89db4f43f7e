import type { MethodEntry } from '../methods';

/** Autoencoder: listed for what is coming until its method file lands (src/methods). */
export const autoencoderEntry: MethodEntry = {
  id: 'autoencoder',
  available: false,
  label: 'Autoencoder',
  family: 'generative',
  summary: 'f encodes the image, a small decoder rebuilds it from h, scored by the reconstruction error; optionally from a noisy input (denoising).',
  about: 'f encodes the image, a small decoder rebuilds it from h, scored by the reconstruction error; optionally from a noisy input (denoising).',
  paper: { cite: 'Hinton & Salakhutdinov 2006; Vincent et al. 2008', title: 'Reducing the Dimensionality of Data with Neural Networks; Extracting and Composing Robust Features with Denoising Autoencoders', url: 'https://www.science.org/doi/10.1126/science.1127647' },
  settings: [],
  defaults: {},
  lossName: 'loss',
  lossHelp: '',
  metrics: [],
  matrix: 'task',
  walkthrough: false,
};
