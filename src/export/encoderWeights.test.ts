import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { EncoderNetwork } from '../model/encoderNetwork';
import { convToPytorch, denseToPytorch, encoderSafetensors, pytorchTensors } from './encoderWeights';
import { decodeSafetensors } from './safetensors';

await tf.setBackend('cpu');

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

/** NHWC → NCHW, as PyTorch takes images. */
function toNchw(values: Float32Array, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    out[((b * c + k) * h + y) * w + x] = values[((b * h + y) * w + x) * c + k];
  }
  return out;
}

describe('the encoder under PyTorch’s names and layouts', () => {
  it('transposes a conv kernel [kh, kw, in, out] to [out, in, kh, kw] and a dense weight [in, out] to [out, in]', () => {
    const shape = [3, 3, 2, 4];
    const values = Float32Array.from({ length: 72 }, (_, i) => i);
    const out = convToPytorch(values, shape);
    // element (y 1, x 2, in 1, out 3) of tfjs's layout
    expect(out[((3 * 2 + 1) * 3 + 1) * 3 + 2]).toBe(values[((1 * 3 + 2) * 2 + 1) * 4 + 3]);
    expect([...out].sort((a, b) => a - b)).toEqual([...values]);
    expect(Array.from(denseToPytorch(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('names every variable once, f’s blocks then the head, and says in the metadata what the model is and that it is untrained', async () => {
    const network = new EncoderNetwork({ channels: 1, encoderWidth: 4, projectionHead: 'mlp', projectionDim: 16, seed: 3 });
    const tensors = await pytorchTensors(network);
    expect(tensors.map((t) => t.name).slice(0, 5)).toEqual([
      'encoder.blocks.0.conv.weight', 'encoder.blocks.0.bn.weight', 'encoder.blocks.0.bn.bias', 'encoder.blocks.0.bn.running_mean', 'encoder.blocks.0.bn.running_var',
    ]);
    expect(tensors.map((t) => t.name).slice(-4)).toEqual(['head.0.weight', 'head.0.bias', 'head.2.weight', 'head.2.bias']);
    expect(tensors.find((t) => t.name === 'encoder.blocks.3.conv.weight')!.shape).toEqual([32, 16, 3, 3]);
    expect(tensors.find((t) => t.name === 'head.2.weight')!.shape).toEqual([16, 32]);
    const counted = tensors.filter((t) => !t.name.includes('running')).reduce((n, t) => n + t.data.length, 0);
    expect(counted).toBe(network.parameterCount);
    const file = decodeSafetensors(await encoderSafetensors(network, { method: 'simclr', step: 0, dataset: 'Fashion-MNIST', imageSize: 28 }));
    expect(file.metadata).toMatchObject({ in_channels: '1', encoder_width: '4', h_dim: '32', projection_head: 'mlp', projection_dim: '16', step: '0' });
    expect(file.metadata.trained).toMatch(/^no: this encoder has not trained/);
    network.dispose();
  });

  it('PyTorch loads the file and computes the same h and z as the app (max abs difference under 1e-4)', async () => {
    const network = new EncoderNetwork({ channels: 1, encoderWidth: 4, projectionHead: 'mlp', projectionDim: 16, seed: 5 });
    const rng = createRng(11);
    const shape = [6, 28, 28, 1];
    const pixels = Float32Array.from({ length: 6 * 28 * 28 }, () => rng());
    const x = tf.tensor4d(pixels, shape as [number, number, number, number]);
    // two training-mode passes move the running statistics off 0 and 1, so eval mode's use of them is checked too
    tf.dispose([network.encode(x, true), network.encode(x.mul(0.5) as tf.Tensor4D, true)]);
    const h = network.encode(x, false);
    const z = network.project(h);
    const [hValues, zValues] = [(await h.data()) as Float32Array, (await z.data()) as Float32Array];
    const bytes = await encoderSafetensors(network, { method: 'simclr', step: 2, dataset: 'test', imageSize: 28 }, [
      { name: 'parity.input', dtype: 'F32', shape: [6, 1, 28, 28], data: toNchw(pixels, shape) },
      { name: 'parity.h', dtype: 'F32', shape: [6, 32], data: hValues },
      { name: 'parity.z', dtype: 'F32', shape: [6, 16], data: zValues },
    ]);
    tf.dispose([x, h, z]);
    network.dispose();
    const path = join(mkdtempSync(join(tmpdir(), 'ssp-parity-')), 'encoder.safetensors');
    writeFileSync(path, bytes);
    let text: string;
    try {
      text = execFileSync(PYTHON, ['scripts/reference/encoder_parity.py', path], { encoding: 'utf8' });
    } catch (error) {
      throw new Error(`The parity check needs ${PYTHON} with PyTorch (apt-get install python3-torch; .ci/run installs it): ${String(error)}`);
    }
    const out = JSON.parse(text);
    expect(out.missing).toEqual([]);
    expect(out.unexpected).toEqual([]);
    expect(out.h_shape).toEqual([6, 32]);
    expect(out.z_shape).toEqual([6, 16]);
    expect(out.max_abs_h_value).toBeGreaterThan(0.01);
    expect(out.max_abs_h).toBeLessThan(1e-4);
    expect(out.max_abs_z).toBeLessThan(1e-4);
  }, 60_000);
});
