/**
 * The trained encoder f (and its head g) as safetensors under PyTorch's names
 * and layouts (issue 21), for the exported PyTorch script and for anyone's own
 * `model.load_state_dict(...)`. The modules these names fit
 * (scripts/reference/encoder_parity.py builds them):
 *
 *   encoder.blocks.{i}.conv.weight        Conv2d(c_in, c_out, 3, padding=1, bias=False): [out, in, 3, 3]
 *   encoder.blocks.{i}.bn.weight / .bias  BatchNorm2d(c_out, eps=1e-5): γ, β
 *   encoder.blocks.{i}.bn.running_mean / .running_var
 *   head.{k}.weight / .bias               nn.Sequential(Linear(8w, 8w), ReLU(), Linear(8w, d)) for the MLP
 *                                         (k = 0, 2), or Linear(8w, d) alone (k = 0): weight [out, in]
 *
 * with ReLU after each batch norm, MaxPool2d(2, ceil_mode=True) after the
 * first three blocks (tfjs's 'same' pooling pads only at the end, which is
 * what ceil_mode does), and h the global average pool of the last block.
 * tfjs keeps a conv kernel as [kh, kw, in, out] and a dense weight as
 * [in, out]: both are transposed here. PyTorch's `num_batches_tracked` is not
 * written (the app has none; load with strict=False or let BatchNorm make it).
 */
import type { EncoderNetwork } from '../model/encoderNetwork';
import { encodeSafetensors, type NamedTensor } from './safetensors';

/** [kh, kw, in, out] row-major → [out, in, kh, kw] row-major. */
export function convToPytorch(values: Float32Array, [kh, kw, cin, cout]: readonly number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = values[((y * kw + x) * cin + i) * cout + o];
      }
    }
  }
  return out;
}

/** [in, out] row-major → [out, in] row-major. */
export function denseToPytorch(values: Float32Array, [fanIn, fanOut]: readonly number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < fanIn; i++) for (let o = 0; o < fanOut; o++) out[o * fanIn + i] = values[i * fanOut + o];
  return out;
}

/** The encoder's (and head's) weights under PyTorch's names and layouts, f's blocks first. */
export async function pytorchTensors(network: EncoderNetwork): Promise<NamedTensor[]> {
  const { blocks, head } = network.layers;
  const tensors: NamedTensor[] = [];
  const read = async (v: { data(): Promise<unknown> }) => (await v.data()) as Float32Array;
  for (const [i, block] of blocks.entries()) {
    const [kh, kw, cin, cout] = block.kernel.shape;
    tensors.push({ name: `encoder.blocks.${i}.conv.weight`, dtype: 'F32', shape: [cout, cin, kh, kw], data: convToPytorch(await read(block.kernel), block.kernel.shape) });
    tensors.push({ name: `encoder.blocks.${i}.bn.weight`, dtype: 'F32', shape: [cout], data: await read(block.gamma) });
    tensors.push({ name: `encoder.blocks.${i}.bn.bias`, dtype: 'F32', shape: [cout], data: await read(block.beta) });
    tensors.push({ name: `encoder.blocks.${i}.bn.running_mean`, dtype: 'F32', shape: [cout], data: await read(block.movingMean) });
    tensors.push({ name: `encoder.blocks.${i}.bn.running_var`, dtype: 'F32', shape: [cout], data: await read(block.movingVariance) });
  }
  for (const [k, layer] of head.entries()) {
    const [fanIn, fanOut] = layer.weight.shape;
    // nn.Sequential(Linear, ReLU, Linear): the Linear layers sit at 0 and 2
    const index = 2 * k;
    tensors.push({ name: `head.${index}.weight`, dtype: 'F32', shape: [fanOut, fanIn], data: denseToPytorch(await read(layer.weight), layer.weight.shape) });
    tensors.push({ name: `head.${index}.bias`, dtype: 'F32', shape: [fanOut], data: await read(layer.bias) });
  }
  return tensors;
}

/** What the file's metadata says about the model, so a reader can build the modules the weights fit. */
export interface EncoderExportInfo {
  method: string;
  step: number;
  dataset: string;
  imageSize: number;
  /** anything else to record (config as JSON, the app's version) */
  extra?: Record<string, string>;
}

/** What every export of the encoder says about it (safetensors metadata, ONNX metadata_props): the architecture and the run; an untrained encoder says so. */
export function encoderMetadata(network: EncoderNetwork, info: EncoderExportInfo): Record<string, string> {
  const { config } = network;
  return {
    format: 'ssl-playground-encoder',
    version: '1',
    architecture: `f: 4 × [conv3×3 → BN → ReLU], widths ${[1, 2, 4, 8].map((m) => m * config.encoderWidth).join(', ')}, 2×2 max-pool (ceil) after the first three, global average pool → h; g: ${config.projectionHead}`,
    in_channels: String(config.channels),
    encoder_width: String(config.encoderWidth),
    h_dim: String(network.hDim),
    projection_head: config.projectionHead,
    projection_dim: String(network.zDim),
    input: `images [N, ${config.channels}, ${info.imageSize}, ${info.imageSize}] (NCHW), pixels in [0, 1], no normalization`,
    method: info.method,
    step: String(info.step),
    trained: info.step > 0 ? 'yes' : 'no: this encoder has not trained (0 steps); its weights are the random initialization',
    dataset: info.dataset,
    ...info.extra,
  };
}

/** The safetensors file: weights, plus metadata (strings) naming the architecture and the run; an untrained encoder says so. */
export async function encoderSafetensors(network: EncoderNetwork, info: EncoderExportInfo, extraTensors: readonly NamedTensor[] = []): Promise<Uint8Array> {
  return encodeSafetensors([...(await pytorchTensors(network)), ...extraTensors], encoderMetadata(network, info));
}
