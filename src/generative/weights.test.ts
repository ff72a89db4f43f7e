import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { NamedWeight } from '../data/generatorDb';
import { Dcgan, fixedNoise, type DcganConfig } from './dcgan';
import { ConvVae, type VaeConfig } from './vae';
import { getWeights, setWeights } from './weights';

await tf.setBackend('cpu');

const DCGAN: DcganConfig = { size: 16, channels: 1, width: 4, zDim: 8, seed: 1 };
const VAE: VaeConfig = { size: 16, channels: 3, width: 4, latentDim: 6, seed: 1 };

/** A tensor's values, read and disposed. */
function values(tensor: tf.Tensor): number[] {
  const out = Array.from(tensor.dataSync());
  tensor.dispose();
  return out;
}

/** Moves a DCGAN's running statistics off their initial 0 and 1, as training does, so that loading them is tested. */
function runTrainingPasses(gan: Dcgan): void {
  tf.tidy(() => {
    const fake = gan.generator.generate(fixedNoise(6, DCGAN.zDim!, 11), true);
    gan.discriminator.logits(fake, true);
  });
}

const plain = (weights: NamedWeight[]) => weights.map((w) => ({ name: w.name, shape: w.shape, values: Array.from(w.values) }));

describe('getWeights and setWeights', () => {
  it('name a DCGAN’s weights by layer position and shape, running statistics included', async () => {
    const gan = new Dcgan(DCGAN);
    const before = tf.memory().numTensors;
    const weights = await getWeights(gan);
    expect(tf.memory().numTensors).toBe(before);
    expect(weights.map((w) => `${w.name} ${w.shape.join('×')}`)).toEqual([
      'generator.layer0.kernel 8×64', 'generator.layer0.gamma 16', 'generator.layer0.beta 16',
      'generator.layer1.kernel 4×4×8×16', 'generator.layer1.gamma 8', 'generator.layer1.beta 8',
      'generator.layer2.kernel 4×4×4×8', 'generator.layer2.gamma 4', 'generator.layer2.beta 4',
      'generator.layer3.kernel 4×4×1×4', 'generator.layer3.bias 1',
      'generator.layer0.movingMean 16', 'generator.layer0.movingVariance 16',
      'generator.layer1.movingMean 8', 'generator.layer1.movingVariance 8',
      'generator.layer2.movingMean 4', 'generator.layer2.movingVariance 4',
      'discriminator.layer0.kernel 4×4×1×4', 'discriminator.layer0.bias 4',
      'discriminator.layer1.kernel 4×4×4×8', 'discriminator.layer1.gamma 8', 'discriminator.layer1.beta 8',
      'discriminator.layer2.kernel 4×4×8×16', 'discriminator.layer2.gamma 16', 'discriminator.layer2.beta 16',
      'discriminator.layer3.kernel 64×1', 'discriminator.layer3.bias 1',
      'discriminator.layer1.movingMean 8', 'discriminator.layer1.movingVariance 8',
      'discriminator.layer2.movingMean 16', 'discriminator.layer2.movingVariance 16',
    ]);
    expect(weights.every((w) => w.values instanceof Float32Array && w.values.length === w.shape.reduce((a, b) => a * b, 1))).toBe(true);
    // copies: changing them does not touch the model
    weights[0].values.fill(0);
    expect(Array.from(gan.generator.variables[0].dataSync()).some((v) => v !== 0)).toBe(true);
    gan.dispose();
  });

  it('round-trip a DCGAN into a freshly built one of the same config: the same samples and logits for a seed', async () => {
    const trained = new Dcgan(DCGAN);
    runTrainingPasses(trained);
    const fresh = new Dcgan({ ...DCGAN, seed: 2 });
    const samplesOf = (gan: Dcgan) => values(gan.generator.sample(4, 9));
    expect(samplesOf(fresh)).not.toEqual(samplesOf(trained));

    const before = tf.memory().numTensors;
    const weights = await getWeights(trained);
    setWeights(fresh, weights);
    expect(tf.memory().numTensors).toBe(before);

    expect(samplesOf(fresh)).toEqual(samplesOf(trained));
    const logitsOf = (gan: Dcgan) => values(tf.tidy(() => gan.discriminator.logits(gan.generator.sample(3, 4), false)));
    expect(logitsOf(fresh)).toEqual(logitsOf(trained));
    expect(plain(await getWeights(fresh))).toEqual(plain(weights));
    // the running statistics moved, and came along
    const mean = weights.find((w) => w.name === 'generator.layer0.movingMean')!;
    expect(Array.from(mean.values).some((v) => v !== 0)).toBe(true);
    trained.dispose();
    fresh.dispose();
  });

  it('round-trip a VAE: the same samples for a seed and the same reconstructions', async () => {
    const trained = new ConvVae(VAE);
    const fresh = new ConvVae({ ...VAE, seed: 5 });
    const weights = await getWeights(trained);
    expect(weights.map((w) => w.name)).toEqual([
      'encoder.layer0.kernel', 'encoder.layer0.bias', 'encoder.layer1.kernel', 'encoder.layer1.bias', 'encoder.layer2.kernel', 'encoder.layer2.bias',
      'encoder.mu.kernel', 'encoder.mu.bias', 'encoder.logVar.kernel', 'encoder.logVar.bias',
      'decoder.layer0.kernel', 'decoder.layer0.bias', 'decoder.layer1.kernel', 'decoder.layer1.bias',
      'decoder.layer2.kernel', 'decoder.layer2.bias', 'decoder.layer3.kernel', 'decoder.layer3.bias',
    ]);
    const before = tf.memory().numTensors;
    setWeights(fresh, weights);
    expect(tf.memory().numTensors).toBe(before);
    expect(values(fresh.sample(3, 2))).toEqual(values(trained.sample(3, 2)));
    const images = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    expect(values(fresh.reconstruct(images))).toEqual(values(trained.reconstruct(images)));
    images.dispose();
    trained.dispose();
    fresh.dispose();
  });

  it('refuse weights of another config, naming the first weight that does not fit, and leave the model unchanged', async () => {
    const model = new Dcgan(DCGAN);
    const original = plain(await getWeights(model));
    const wider = new Dcgan({ ...DCGAN, width: 8 });
    const colour = new Dcgan({ ...DCGAN, channels: 3 });
    const vae = new ConvVae(VAE);
    const [widerWeights, colourWeights, vaeWeights] = await Promise.all([wider, colour, vae].map((m) => getWeights(m)));
    const before = tf.memory().numTensors;

    expect(() => setWeights(model, [])).toThrow(/there is no weight “generator\.layer0\.kernel” \(\[8, 64\]\)/);
    expect(() => setWeights(model, widerWeights)).toThrow(
      'These weights do not fit this DCGAN (16 px, 1 channel, width 4, zDim 8): “generator.layer0.kernel” is [8, 128] in the weights but [8, 64] in the model. ' +
        'Build the model with the saved generator\'s configuration.',
    );
    // grey and colour differ first at G's output layer: the message names that one, not a later one of D
    expect(() => setWeights(model, colourWeights)).toThrow(/: “generator\.layer3\.kernel” is \[4, 4, 3, 4\] in the weights but \[4, 4, 1, 4\] in the model\./);
    expect(() => setWeights(model, vaeWeights)).toThrow(/there is no weight “generator\.layer0\.kernel”/);

    const own = await getWeights(model);
    expect(() => setWeights(model, [...own, { name: 'generator.layer9.kernel', shape: [1], values: new Float32Array(1) }])).toThrow(
      /“generator\.layer9\.kernel” is not one of its weights/,
    );
    expect(() => setWeights(model, [...own, own[3]])).toThrow(/“generator\.layer1\.kernel” is given twice/);
    const short = own.map((w, i) => (i === 1 ? { ...w, values: new Float32Array(15) } : w));
    expect(() => setWeights(model, short)).toThrow(/“generator\.layer0\.gamma” has 15 values where its shape \[16\] needs 16/);
    const vaeInto = () => setWeights(vae, widerWeights);
    expect(vaeInto).toThrow(/^These weights do not fit this VAE \(16 px, 3 channels, width 4, latentDim 6\): there is no weight “encoder\.layer0\.kernel”/);

    expect(tf.memory().numTensors).toBe(before);
    expect(plain(await getWeights(model))).toEqual(original);
    for (const m of [model, wider, colour, vae]) m.dispose();
  });
});

