/**
 * A generative model's weights as named arrays and back: what a trained
 * generator is saved as (src/data/generatorDb.ts) and rebuilt from.
 *
 * Each weight is named by where it sits, `<network>.<layer>.<role>`: the
 * network (generator, discriminator, encoder, decoder), the layer's position
 * counted from the network's input (layer0, layer1, …; the VAE's two heads
 * are mu and logVar), and its role (kernel, bias, gamma, beta, movingMean,
 * movingVariance). tfjs's own variable names carry a global counter
 * ("Variable_17"), so they differ between runs and between models built in
 * another order; positions do not. The names are laid over the models'
 * `variables` and `runningStatistics` getters, whose order dcgan.ts and vae.ts
 * fix and document; a count that does not match says the layout changed.
 *
 * Batch norm's running mean and variance are weights too: a DCGAN's samples
 * are drawn in inference mode, from the running statistics, so without them a
 * loaded generator would draw other images.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedWeight } from '../data/generatorDb';
import { Dcgan, GENERATIVE_DOUBLINGS } from './dcgan';
import { ConvVae } from './vae';

export type GenerativeModel = Dcgan | ConvVae;

/** Names for layers `first`..`first + count − 1` of a network, each with the roles given. */
function layerNames(network: string, first: number, count: number, roles: string[]): string[] {
  return Array.from({ length: count }, (_, i) => roles.map((role) => `${network}.layer${first + i}.${role}`)).flat();
}

const NORM = ['gamma', 'beta'];
const RUNNING = ['movingMean', 'movingVariance'];

/**
 * The names of the DCGAN's variables, in the order of dcgan.ts's getters.
 * G: layer0 the projection (+ batch norm), layers 1..D−1 the hidden
 * transposed convolutions (+ batch norm), layer D the output one (+ bias).
 * D: layer0 the input convolution (+ bias), layers 1..D−1 the hidden ones
 * (+ batch norm), layer D the dense logit (+ bias). D = GENERATIVE_DOUBLINGS.
 */
function dcganNames(): { generator: string[]; generatorRunning: string[]; discriminator: string[]; discriminatorRunning: string[] } {
  const last = GENERATIVE_DOUBLINGS;
  return {
    generator: [...layerNames('generator', 0, last, ['kernel', ...NORM]), ...layerNames('generator', last, 1, ['kernel', 'bias'])],
    generatorRunning: layerNames('generator', 0, last, RUNNING),
    discriminator: [
      ...layerNames('discriminator', 0, 1, ['kernel', 'bias']),
      ...layerNames('discriminator', 1, last - 1, ['kernel', ...NORM]),
      ...layerNames('discriminator', last, 1, ['kernel', 'bias']),
    ],
    discriminatorRunning: layerNames('discriminator', 1, last - 1, RUNNING),
  };
}

/**
 * The names of the VAE's variables, in the order of vae.ts's getter: the
 * encoder's convolutions layer0..D−1, its heads mu and logVar, then the
 * decoder's projection layer0 and transposed convolutions layer1..D.
 */
function vaeNames(): string[] {
  const depth = GENERATIVE_DOUBLINGS;
  const dense = ['kernel', 'bias'];
  return [
    ...layerNames('encoder', 0, depth, dense),
    ...['mu', 'logVar'].flatMap((head) => dense.map((role) => `encoder.${head}.${role}`)),
    ...layerNames('decoder', 0, depth + 1, dense),
  ];
}

/** Pairs each name with its variable; throws when the counts differ (the model's layout is not the one named here). */
function zip(names: string[], variables: tf.Variable[], what: string): { name: string; variable: tf.Variable }[] {
  if (names.length !== variables.length) {
    throw new Error(`weights.ts names ${names.length} ${what} variables but the model has ${variables.length}: update its names to the model's layers.`);
  }
  return names.map((name, i) => ({ name, variable: variables[i] }));
}

/** Every variable of the model, trained or running statistic, with its positional name. */
function namedVariables(model: GenerativeModel): { name: string; variable: tf.Variable }[] {
  if (model instanceof Dcgan) {
    const names = dcganNames();
    return [
      ...zip(names.generator, model.generator.variables, 'DCGAN generator'),
      ...zip(names.generatorRunning, model.generator.runningStatistics, 'DCGAN generator running-statistic'),
      ...zip(names.discriminator, model.discriminator.variables, 'DCGAN discriminator'),
      ...zip(names.discriminatorRunning, model.discriminator.runningStatistics, 'DCGAN discriminator running-statistic'),
    ];
  }
  return zip(vaeNames(), model.variables, 'VAE');
}

/** "DCGAN (16 px, 1 channel, width 4, zDim 8)": the model as error messages name it. */
function describeModel(model: GenerativeModel): string {
  if (model instanceof Dcgan) {
    const g = model.generator;
    return `DCGAN (${g.size} px, ${g.channels} channel${g.channels === 1 ? '' : 's'}, width ${g.width}, zDim ${g.zDim})`;
  }
  return `VAE (${model.size} px, ${model.channels} channel${model.channels === 1 ? '' : 's'}, width ${model.width}, latentDim ${model.latentDim})`;
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/**
 * Every weight of the model, named by position (see the file's header), in a
 * fixed order: for a DCGAN, G's trained variables, G's running statistics,
 * then D's; for a VAE, its variables. The values are copies, read back from
 * the device without blocking it; no tensor is made.
 */
export async function getWeights(model: GenerativeModel): Promise<NamedWeight[]> {
  const named = namedVariables(model);
  const values = await Promise.all(named.map(({ variable }) => variable.data<'float32'>()));
  return named.map(({ name, variable }, i) => ({ name, shape: [...variable.shape], values: new Float32Array(values[i]) }));
}

/**
 * Sets every weight of the model from named arrays (getWeights's, or a saved
 * generator's). All are checked before any is set, so a refused set leaves
 * the model as it was: each of the model's weights must be there, with the
 * same shape and as many values, and no other weight may be given. The error
 * names the first weight, in the model's order, that does not fit, and both
 * shapes; it usually means the model was built with another configuration
 * than the saved generator's.
 */
export function setWeights(model: GenerativeModel, weights: readonly NamedWeight[]): void {
  const refuse = (what: string): never => {
    throw new Error(`These weights do not fit this ${describeModel(model)}: ${what}. Build the model with the saved generator's configuration.`);
  };
  const byName = new Map<string, NamedWeight>();
  for (const weight of weights) {
    if (byName.has(weight.name)) refuse(`“${weight.name}” is given twice`);
    byName.set(weight.name, weight);
  }
  const named = namedVariables(model);
  for (const { name, variable } of named) {
    const weight = byName.get(name);
    if (!weight) return refuse(`there is no weight “${name}” (${shapeText(variable.shape)})`);
    if (weight.shape.length !== variable.shape.length || weight.shape.some((d, i) => d !== variable.shape[i])) {
      refuse(`“${name}” is ${shapeText(weight.shape)} in the weights but ${shapeText(variable.shape)} in the model`);
    }
    if (!(weight.values instanceof Float32Array) || weight.values.length !== variable.size) {
      refuse(`“${name}” has ${weight.values.length} values where its shape ${shapeText(variable.shape)} needs ${variable.size}`);
    }
  }
  const known = new Set(named.map(({ name }) => name));
  const extra = weights.find((w) => !known.has(w.name));
  if (extra) refuse(`“${extra.name}” is not one of its weights`);
  tf.tidy(() => {
    for (const { name, variable } of named) variable.assign(tf.tensor(byName.get(name)!.values, variable.shape, 'float32'));
  });
}
