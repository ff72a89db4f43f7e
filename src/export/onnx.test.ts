import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { ProjectionHeadKind } from '../core/config';
import { createRng } from '../core/random';
import { EncoderNetwork } from '../model/encoderNetwork';
import { pytorchTensors } from './encoderWeights';
import {
  buildEncoderOnnx, encoderOnnx, ONNX_BATCH_DIMENSION, ONNX_INPUT_NAME, ONNX_IR_VERSION, ONNX_OPSET, ONNX_OUTPUT_NAMES,
  ONNX_PRODUCER_NAME, OnnxExportError, type EncoderOnnxSpec,
} from './onnx';
import type { NamedTensor } from './safetensors';

const { onnx } = onnxProto;

await tf.setBackend('cpu');

/** NHWC → NCHW, as the ONNX model takes images. */
function toNchw(values: Float32Array, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    out[((b * c + k) * h + y) * w + x] = values[((b * h + y) * w + x) * c + k];
  }
  return out;
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

interface Trained {
  network: EncoderNetwork;
  imageSize: number;
}

/** A network whose batch-norm running statistics have moved off 0 and 1 (two training-mode passes), so inference mode's use of them is checked. */
function trainedNetwork(channels: number, imageSize: number, projectionHead: ProjectionHeadKind, seed: number): Trained {
  const network = new EncoderNetwork({ channels, encoderWidth: 4, projectionHead, projectionDim: 16, seed });
  const rng = createRng(seed + 100);
  const x = tf.tensor4d(Float32Array.from({ length: 8 * imageSize * imageSize * channels }, () => rng()), [8, imageSize, imageSize, channels]);
  tf.dispose([network.encode(x, true), network.encode(x.mul(0.5) as tf.Tensor4D, true), x]);
  return { network, imageSize };
}

/** The app's own h and z, and the ONNX model's, on the same n random images. */
async function compare({ network, imageSize }: Trained, n: number, bytes: Uint8Array, seed: number) {
  const c = network.config.channels;
  const rng = createRng(seed);
  const pixels = Float32Array.from({ length: n * imageSize * imageSize * c }, () => rng());
  const x = tf.tensor4d(pixels, [n, imageSize, imageSize, c]);
  const h = network.encode(x, false);
  const z = network.project(h);
  const app = { h: (await h.data()) as Float32Array, z: (await z.data()) as Float32Array };
  tf.dispose([x, h, z]);
  const session = await ort.InferenceSession.create(bytes);
  const results = await session.run({ [ONNX_INPUT_NAME]: new ort.Tensor('float32', toNchw(pixels, [n, imageSize, imageSize, c]), [n, c, imageSize, imageSize]) });
  await session.release();
  return { app, onnx: results };
}

const spec = (overrides: Partial<EncoderOnnxSpec> = {}): EncoderOnnxSpec => ({
  channels: 1, imageSize: 28, encoderWidth: 4, projectionHead: 'mlp', projectionDim: 16, includeHead: true, metadata: {}, ...overrides,
});

describe('the encoder as an ONNX model, run by onnxruntime', () => {
  it('gives the app’s h and z (max abs difference under 1e-4) for a grey model with an MLP head; without the head it outputs h alone', async () => {
    const trained = trainedNetwork(1, 28, 'mlp', 5);
    const info = { method: 'simclr', step: 2, dataset: 'test', imageSize: 28 };
    const withHead = await compare(trained, 6, await encoderOnnx(trained.network, info, { includeHead: true }), 11);
    expect(withHead.onnx.h.dims).toEqual([6, 32]);
    expect(withHead.onnx.z.dims).toEqual([6, 16]);
    expect(maxAbs(withHead.app.h)).toBeGreaterThan(0.01);
    expect(maxAbsDifference(withHead.onnx.h.data as Float32Array, withHead.app.h)).toBeLessThan(1e-4);
    expect(maxAbsDifference(withHead.onnx.z.data as Float32Array, withHead.app.z)).toBeLessThan(1e-4);

    const encoderOnly = await compare(trained, 6, await encoderOnnx(trained.network, info, { includeHead: false }), 11);
    expect(Object.keys(encoderOnly.onnx)).toEqual([ONNX_OUTPUT_NAMES.h]);
    expect(maxAbsDifference(encoderOnly.onnx.h.data as Float32Array, encoderOnly.app.h)).toBeLessThan(1e-4);
    trained.network.dispose();
  });

  it('takes any batch size: the same model runs on 1 image and on 7, each matching the app', async () => {
    const trained = trainedNetwork(1, 28, 'mlp', 6);
    const bytes = await encoderOnnx(trained.network, { method: 'byol', step: 9, dataset: 'test', imageSize: 28 }, { includeHead: true });
    for (const n of [1, 7]) {
      const { app, onnx: out } = await compare(trained, n, bytes, 20 + n);
      expect(out.h.dims).toEqual([n, 32]);
      expect(out.z.dims).toEqual([n, 16]);
      expect(maxAbsDifference(out.h.data as Float32Array, app.h)).toBeLessThan(1e-4);
      expect(maxAbsDifference(out.z.data as Float32Array, app.z)).toBeLessThan(1e-4);
    }
    trained.network.dispose();
  });

  it('gives the app’s h and z for an RGB model at 32×32 with a linear head (odd sizes never arise: 32 → 16 → 8 → 4)', async () => {
    const trained = trainedNetwork(3, 32, 'linear', 7);
    const bytes = await encoderOnnx(trained.network, { method: 'simclr', step: 3, dataset: 'CIFAR-10', imageSize: 32 }, { includeHead: true });
    const { app, onnx: out } = await compare(trained, 5, bytes, 31);
    expect(out.h.dims).toEqual([5, 32]);
    expect(out.z.dims).toEqual([5, 16]);
    expect(maxAbs(app.h)).toBeGreaterThan(0.01);
    expect(maxAbsDifference(out.h.data as Float32Array, app.h)).toBeLessThan(1e-4);
    expect(maxAbsDifference(out.z.data as Float32Array, app.z)).toBeLessThan(1e-4);
    trained.network.dispose();
  });

  it('pools odd sizes as the app does (28 → 14 → 7 → 4, ceil mode) and, with head none, outputs z equal to h', async () => {
    const trained = trainedNetwork(1, 28, 'none', 8);
    const bytes = await encoderOnnx(trained.network, { method: 'simsiam', step: 1, dataset: 'test', imageSize: 28 }, { includeHead: true });
    const { app, onnx: out } = await compare(trained, 3, bytes, 41);
    expect(out.z.dims).toEqual([3, 32]);
    expect(maxAbsDifference(out.h.data as Float32Array, app.h)).toBeLessThan(1e-4);
    expect(Array.from(out.z.data as Float32Array)).toEqual(Array.from(out.h.data as Float32Array));
    trained.network.dispose();
  });
});

describe('the ONNX file’s names and metadata', () => {
  it('has the documented input and outputs, opset, producer, PyTorch-named initializers and the run’s metadata; an untrained model says so', async () => {
    const network = new EncoderNetwork({ channels: 1, encoderWidth: 4, projectionHead: 'mlp', projectionDim: 16, seed: 3 });
    const tensors = await pytorchTensors(network);
    const untrained = await encoderOnnx(network, { method: 'simclr', step: 0, dataset: 'Fashion-MNIST', imageSize: 28 }, { includeHead: true });
    const trained = await encoderOnnx(network, { method: 'moco', step: 120, dataset: 'Fashion-MNIST', imageSize: 28 }, { includeHead: false });

    const sessionWithHead = await ort.InferenceSession.create(untrained);
    expect(sessionWithHead.inputNames).toEqual([ONNX_INPUT_NAME]);
    expect(sessionWithHead.outputNames).toEqual([ONNX_OUTPUT_NAMES.h, ONNX_OUTPUT_NAMES.z]);
    await sessionWithHead.release();
    const sessionEncoder = await ort.InferenceSession.create(trained);
    expect(sessionEncoder.outputNames).toEqual([ONNX_OUTPUT_NAMES.h]);
    await sessionEncoder.release();
    expect([ONNX_INPUT_NAME, ONNX_OUTPUT_NAMES.h, ONNX_OUTPUT_NAMES.z]).toEqual(['images', 'h', 'z']);

    const read = (bytes: Uint8Array) => onnx.ModelProto.toObject(onnx.ModelProto.decode(bytes), { longs: Number, bytes: Array, defaults: false });
    const first = read(untrained);
    expect(first.irVersion).toBe(ONNX_IR_VERSION);
    expect(first.opsetImport).toEqual([{ domain: '', version: ONNX_OPSET }]); // '' is the default domain, ai.onnx
    expect(first.producerName).toBe(ONNX_PRODUCER_NAME);
    expect(first.graph.input).toHaveLength(1);
    expect(first.graph.input[0].type.tensorType.shape.dim).toEqual([{ dimParam: ONNX_BATCH_DIMENSION }, { dimValue: 1 }, { dimValue: 28 }, { dimValue: 28 }]);
    expect(first.graph.output.map((o: { type: { tensorType: { shape: unknown } } }) => o.type.tensorType.shape)).toEqual([
      { dim: [{ dimParam: 'N' }, { dimValue: 32 }] }, { dim: [{ dimParam: 'N' }, { dimValue: 16 }] },
    ]);
    // the same names as the safetensors file, and the same bytes: raw_data is little-endian float32 (onnx.proto)
    const initializers = first.graph.initializer as { name: string; dims: number[]; rawData: number[] }[];
    expect(initializers.map((t) => t.name)).toEqual(tensors.map((t) => t.name));
    const conv = tensors.find((t) => t.name === 'encoder.blocks.1.conv.weight')!;
    const written = initializers.find((t) => t.name === conv.name)!;
    expect(written.dims).toEqual([8, 4, 3, 3]);
    const expectedBytes = new Uint8Array(conv.data.length * 4);
    conv.data.forEach((v, i) => new DataView(expectedBytes.buffer).setFloat32(4 * i, v, true));
    expect(written.rawData).toEqual(Array.from(expectedBytes));
    expect(first.graph.node.map((n: { opType: string }) => n.opType).slice(0, 4)).toEqual(['Conv', 'BatchNormalization', 'Relu', 'MaxPool']);

    const metadata = (model: Record<string, unknown>) => Object.fromEntries((model.metadataProps as { key: string; value: string }[]).map((p) => [p.key, p.value]));
    const before = metadata(first);
    expect(before).toMatchObject({ method: 'simclr', dataset: 'Fashion-MNIST', step: '0', in_channels: '1', encoder_width: '4', projection_head: 'mlp', projection_dim: '16' });
    expect(before.trained).toMatch(/^no: this encoder has not trained/);
    expect(first.docString).toMatch(/has not been trained/);

    const second = read(trained);
    expect(metadata(second)).toMatchObject({ method: 'moco', dataset: 'Fashion-MNIST', step: '120', trained: 'yes' });
    expect(second.docString).not.toMatch(/not been trained/);
    // without the head the file holds f's weights only
    expect(second.graph.initializer.map((t: { name: string }) => t.name)).toEqual(tensors.filter((t) => t.name.startsWith('encoder.')).map((t) => t.name));
    network.dispose();
  });
});

describe('buildEncoderOnnx refuses what cannot make the model', () => {
  const network = new EncoderNetwork({ channels: 1, encoderWidth: 4, projectionHead: 'mlp', projectionDim: 16, seed: 4 });
  const tensorsPromise = pytorchTensors(network).finally(() => network.dispose());

  it('builds from the complete set, then names the tensor that is missing, misshapen, unexpected, doubled or not finite', async () => {
    const tensors = await tensorsPromise;
    expect(buildEncoderOnnx(tensors, spec()).length).toBeGreaterThan(0);
    const replace = (name: string, change: (t: NamedTensor) => NamedTensor) => tensors.map((t) => (t.name === name ? change(t) : t));

    expect(() => buildEncoderOnnx(tensors.filter((t) => t.name !== 'encoder.blocks.2.bn.running_var'), spec())).toThrow(
      /the tensor encoder\.blocks\.2\.bn\.running_var is missing/,
    );
    expect(() => buildEncoderOnnx(replace('head.2.weight', (t) => ({ ...t, shape: [32, 16] })), spec())).toThrow(
      /the tensor head\.2\.weight has shape \[32, 16\], but .* needs \[16, 32\]/,
    );
    expect(() => buildEncoderOnnx(replace('encoder.blocks.0.conv.weight', (t) => ({ ...t, data: t.data.slice(1) })), spec())).toThrow(
      /the tensor encoder\.blocks\.0\.conv\.weight has 35 values, but its shape \[4, 1, 3, 3\] holds 36/,
    );
    // weights of an MLP head handed in as a linear one: the spec and the weights are of two different models
    expect(() => buildEncoderOnnx(tensors, spec({ projectionHead: 'linear' }))).toThrow(
      /unexpected tensor head\.2\.weight; an encoder of width 4 on 1 channel\(s\) with projection head 'linear' has no such weight/,
    );
    expect(() => buildEncoderOnnx([...tensors, tensors[1]], spec())).toThrow(/encoder\.blocks\.0\.bn\.weight is given twice/);
    expect(() => buildEncoderOnnx(replace('encoder.blocks.3.bn.bias', (t) => ({ ...t, data: Float32Array.from(t.data, (v, i) => (i === 5 ? NaN : v)) })), spec())).toThrow(
      /encoder\.blocks\.3\.bn\.bias holds NaN at index 5; training has diverged/,
    );
    // without the head, f's tensors suffice; with it, the head's are needed
    const encoderOnly = tensors.filter((t) => t.name.startsWith('encoder.'));
    expect(buildEncoderOnnx(encoderOnly, spec({ includeHead: false })).length).toBeGreaterThan(0);
    expect(() => buildEncoderOnnx(encoderOnly, spec({ includeHead: true }))).toThrow(/the tensor head\.0\.weight is missing/);
    expect(() => buildEncoderOnnx(tensors, spec({ imageSize: 0 }))).toThrow(OnnxExportError);
    expect(() => buildEncoderOnnx(tensors, spec({ imageSize: 0 }))).toThrow(/the image size must be a positive whole number, not 0/);
    expect(() => buildEncoderOnnx(tensors, spec({ channels: 3 }))).toThrow(/encoder\.blocks\.0\.conv\.weight has shape \[4, 1, 3, 3\], but .* needs \[4, 3, 3, 3\]/);
  });
});
