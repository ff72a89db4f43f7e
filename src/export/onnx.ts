/**
 * The trained encoder f (and, optionally, f followed by the head g) as an ONNX model (issue 21), for
 * onnxruntime, Netron, or any tool that reads ONNX. The protobuf messages come from `onnx-proto` (the ONNX
 * project's onnx.proto compiled with protobufjs), not from hand-written bytes.
 *
 * The convention (the README and the page quote these constants):
 *
 *   input   `images`  float32 [N, C, S, S], NCHW, pixels in [0, 1], no normalization;
 *                     N is dynamic (dim_param "N"), C = the model's input channels, S = the view size it trained at
 *   output  `h`       float32 [N, 8w]: the representation (global average pool of f's last block)
 *   output  `z`       float32 [N, d]: g(h), only when the head is included; with head 'none', z = h (an Identity
 *                     node), so code that reads z works for every head
 *
 * The graph is the one EncoderNetwork computes in inference mode, node for node:
 *
 *   4 × [Conv 3×3 pads 1, no bias → BatchNormalization (running statistics, ε 1e-5) → Relu],
 *   MaxPool 2×2 stride 2 ceil_mode 1 after the first three blocks, GlobalAveragePool → Flatten = h;
 *   head: Gemm(transB 1) for each Linear, Relu between them.
 *
 * tfjs's 'same' 2×2 pooling pads only at the bottom and right, which is what ceil_mode does (ONNX Operators,
 * MaxPool: "ceil_mode: Whether to use ceil or floor (default) to compute the output shape"). The weights come
 * from pytorchTensors (src/export/encoderWeights.ts), in PyTorch's layouts, which are ONNX's: Conv's W is
 * [M, C/group, kH, kW] and Gemm with transB = 1 takes B as [N, K], PyTorch's Linear weight [out, in]. Nodes and
 * initializers carry the PyTorch names (encoder.blocks.0.conv.weight…), so Netron shows the names of the
 * safetensors file, and the two exports cannot disagree on a layout.
 */
// a default import: onnx-proto is CommonJS (module.exports = root), and plain Node ESM cannot name-import from it
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { ProjectionHeadKind } from '../core/config';
import type { EncoderNetwork } from '../model/encoderNetwork';
import { encoderMetadata, pytorchTensors, type EncoderExportInfo } from './encoderWeights';
import type { NamedTensor } from './safetensors';

const { onnx } = onnxProto;

export const ONNX_INPUT_NAME = 'images';
/** h always; z only when the head is included. */
export const ONNX_OUTPUT_NAMES = { h: 'h', z: 'z' } as const;
/** The symbolic batch dimension (TensorShapeProto.Dimension.dim_param). */
export const ONNX_BATCH_DIMENSION = 'N';
export const ONNX_INPUT_CONVENTION = 'float32 [N, C, S, S] (NCHW), pixels in [0, 1], no normalization; N (the batch) is dynamic';
/**
 * ai.onnx opset 17 (ONNX 1.12) has every operator used here in its current form; IR version 8 is the one
 * ONNX 1.12 writes (onnx/docs/Versioning.md, "Released Versions"). onnxruntime has run both since 1.12.
 */
export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
export const ONNX_PRODUCER_NAME = 'self-supervised-playground';

const BN_EPSILON = 1e-5;

/** Thrown by buildEncoderOnnx when the tensors or the spec cannot make the model. The message is meant for the user. */
export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}

export interface EncoderOnnxSpec {
  /** C: input channels (1 grey, 3 RGB) */
  channels: number;
  /** S: the square view size the model trained at */
  imageSize: number;
  /** w: block i has w·2^i channels, h has 8w */
  encoderWidth: number;
  projectionHead: ProjectionHeadKind;
  /** d: z's size for the linear and MLP heads (head 'none' has z = h) */
  projectionDim: number;
  /** add g and the output z */
  includeHead: boolean;
  /** text-to-text facts about the model and the run: ModelProto.metadata_props */
  metadata: Record<string, string>;
}

interface ExpectedTensor {
  name: string;
  shape: number[];
}

/** Every tensor the spec's model has, under PyTorch's names and layouts, f's blocks first (as pytorchTensors lists them). */
function expectedTensors(spec: EncoderOnnxSpec): { encoder: ExpectedTensor[]; head: ExpectedTensor[] } {
  const w = spec.encoderWidth;
  const encoder: ExpectedTensor[] = [];
  let inChannels = spec.channels;
  [w, 2 * w, 4 * w, 8 * w].forEach((outChannels, i) => {
    encoder.push({ name: `encoder.blocks.${i}.conv.weight`, shape: [outChannels, inChannels, 3, 3] });
    for (const part of ['weight', 'bias', 'running_mean', 'running_var']) encoder.push({ name: `encoder.blocks.${i}.bn.${part}`, shape: [outChannels] });
    inChannels = outChannels;
  });
  const hDim = 8 * w;
  const d = spec.projectionDim;
  const head: ExpectedTensor[] =
    spec.projectionHead === 'linear'
      ? [{ name: 'head.0.weight', shape: [d, hDim] }, { name: 'head.0.bias', shape: [d] }]
      : spec.projectionHead === 'mlp'
        ? [
            { name: 'head.0.weight', shape: [hDim, hDim] }, { name: 'head.0.bias', shape: [hDim] },
            { name: 'head.2.weight', shape: [d, hDim] }, { name: 'head.2.bias', shape: [d] },
          ]
        : [];
  return { encoder, head };
}

function checkSpec(spec: EncoderOnnxSpec): void {
  const positiveInteger = (value: number, what: string) => {
    if (!Number.isSafeInteger(value) || value < 1) throw new OnnxExportError(`Cannot export to ONNX: ${what} must be a positive whole number, not ${value}.`);
  };
  positiveInteger(spec.channels, 'the number of input channels');
  positiveInteger(spec.imageSize, 'the image size');
  positiveInteger(spec.encoderWidth, 'the encoder width');
  if (!['none', 'linear', 'mlp'].includes(spec.projectionHead)) {
    throw new OnnxExportError(`Cannot export to ONNX: the projection head "${String(spec.projectionHead)}" is not one of none, linear, mlp.`);
  }
  if (spec.projectionHead !== 'none') positiveInteger(spec.projectionDim, 'the projection size d');
  for (const [key, value] of Object.entries(spec.metadata)) {
    if (typeof value !== 'string') throw new OnnxExportError(`Cannot export to ONNX: metadata "${key}" must be text, not ${typeof value}.`);
  }
}

/**
 * Every tensor the model needs is there once, F32, with its shape and as many finite values as the shape
 * holds; nothing is there that the spec's architecture lacks (a head the spec does not describe means the
 * spec and the weights are of two different models). Head tensors are needed only with includeHead, but are
 * checked whenever given. Returns the tensors by name.
 */
function checkTensors(tensors: readonly NamedTensor[], spec: EncoderOnnxSpec): Map<string, Float32Array> {
  const { encoder, head } = expectedTensors(spec);
  const expected = new Map([...encoder, ...head].map((t) => [t.name, t.shape]));
  const describe = `an encoder of width ${spec.encoderWidth} on ${spec.channels} channel(s) with projection head '${spec.projectionHead}'`;
  const byName = new Map<string, NamedTensor>();
  for (const tensor of tensors) {
    if (byName.has(tensor.name)) throw new OnnxExportError(`Cannot export to ONNX: the tensor ${tensor.name} is given twice.`);
    if (!expected.has(tensor.name)) throw new OnnxExportError(`Cannot export to ONNX: unexpected tensor ${tensor.name}; ${describe} has no such weight.`);
    byName.set(tensor.name, tensor);
  }
  const values = new Map<string, Float32Array>();
  const needed = new Set([...encoder, ...(spec.includeHead ? head : [])].map((t) => t.name));
  for (const [name, shape] of expected) {
    const tensor = byName.get(name);
    if (!tensor) {
      if (!needed.has(name)) continue;
      throw new OnnxExportError(`Cannot export to ONNX: the tensor ${name} is missing; ${describe} needs it.`);
    }
    if (tensor.dtype !== 'F32' || !(tensor.data instanceof Float32Array)) {
      throw new OnnxExportError(`Cannot export to ONNX: the tensor ${name} is ${tensor.dtype}, but the model's weights are float32 (F32).`);
    }
    if (tensor.shape.length !== shape.length || tensor.shape.some((n, i) => n !== shape[i])) {
      throw new OnnxExportError(`Cannot export to ONNX: the tensor ${name} has shape [${tensor.shape.join(', ')}], but ${describe} needs [${shape.join(', ')}].`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (tensor.data.length !== size) {
      throw new OnnxExportError(`Cannot export to ONNX: the tensor ${name} has ${tensor.data.length} values, but its shape [${shape.join(', ')}] holds ${size}.`);
    }
    const bad = tensor.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new OnnxExportError(`Cannot export to ONNX: the tensor ${name} holds ${tensor.data[bad]} at index ${bad}; training has diverged, so the model would output NaN. Reset and train again (a smaller learning rate helps).`);
    }
    if (name.endsWith('.running_var') && tensor.data.some((v) => v < 0)) {
      throw new OnnxExportError(`Cannot export to ONNX: the tensor ${name} holds a negative variance, which no batch norm can have.`);
    }
    values.set(name, tensor.data);
  }
  return values;
}

/** TensorProto.raw_data is "fixed-width, little-endian" (onnx.proto), whatever the host's byte order. */
function littleEndianBytes(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(4 * values.length);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return bytes;
}

function floatValue(name: string, dims: (number | string)[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

const ints = (name: string, values: number[]): OnnxTypes.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });
const int = (name: string, value: number): OnnxTypes.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });
const float = (name: string, value: number): OnnxTypes.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value });

/**
 * The ONNX model (ModelProto bytes) of f, or of f then g with `includeHead`. Pure: no tfjs, runs anywhere.
 * `tensors` are the weights under PyTorch's names and layouts (pytorchTensors); without `includeHead` the
 * head's tensors may be given (they are checked, then left out) or not. Throws an OnnxExportError naming the tensor when one is
 * missing, doubled, unexpected, of the wrong shape or holds a non-finite value.
 */
export function buildEncoderOnnx(tensors: readonly NamedTensor[], spec: EncoderOnnxSpec): Uint8Array {
  checkSpec(spec);
  const values = checkTensors(tensors, spec);
  const { encoder, head } = expectedTensors(spec);
  const used = spec.includeHead ? [...encoder, ...head] : encoder;
  const initializer: OnnxTypes.ITensorProto[] = used.map(({ name, shape }) => ({
    name,
    dims: shape,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: littleEndianBytes(values.get(name)!),
  }));

  // node names are the PyTorch modules' names; each node's output value carries its node's name
  const node: OnnxTypes.INodeProto[] = [];
  const add = (opType: string, name: string, input: string[], attribute: OnnxTypes.IAttributeProto[] = [], output = name): string => {
    node.push({ opType, name, input, output: [output], attribute });
    return output;
  };
  let a = ONNX_INPUT_NAME;
  for (let i = 0; i < 4; i++) {
    const block = `encoder.blocks.${i}`;
    a = add('Conv', `${block}.conv`, [a, `${block}.conv.weight`], [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), ints('strides', [1, 1])]);
    // inference mode (training_mode 0, the default): y = γ (x − running_mean) / sqrt(running_var + ε) + β
    a = add('BatchNormalization', `${block}.bn`, [a, `${block}.bn.weight`, `${block}.bn.bias`, `${block}.bn.running_mean`, `${block}.bn.running_var`], [float('epsilon', BN_EPSILON)]);
    a = add('Relu', `${block}.relu`, [a]);
    if (i < 3) a = add('MaxPool', `${block}.pool`, [a], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2]), int('ceil_mode', 1)]);
  }
  a = add('GlobalAveragePool', 'encoder.global_pool', [a]);
  const h = add('Flatten', 'encoder.flatten', [a], [int('axis', 1)], ONNX_OUTPUT_NAMES.h);

  const hDim = 8 * spec.encoderWidth;
  const zDim = spec.projectionHead === 'none' ? hDim : spec.projectionDim;
  const output = [floatValue(ONNX_OUTPUT_NAMES.h, [ONNX_BATCH_DIMENSION, hDim])];
  if (spec.includeHead) {
    if (spec.projectionHead === 'none') {
      add('Identity', 'head', [h], [], ONNX_OUTPUT_NAMES.z);
    } else {
      // Gemm: Y = A·Bᵀ + C with transB 1, B = PyTorch's Linear weight [out, in]
      const gemm = (k: number, input: string, out?: string) => add('Gemm', `head.${k}`, [input, `head.${k}.weight`, `head.${k}.bias`], [int('transB', 1)], out);
      if (spec.projectionHead === 'linear') {
        gemm(0, h, ONNX_OUTPUT_NAMES.z);
      } else {
        const hidden = add('Relu', 'head.1', [gemm(0, h)]);
        gemm(2, hidden, ONNX_OUTPUT_NAMES.z);
      }
    }
    output.push(floatValue(ONNX_OUTPUT_NAMES.z, [ONNX_BATCH_DIMENSION, zDim]));
  }

  const { channels: c, imageSize: s } = spec;
  const outputsText = spec.includeHead
    ? `h float32 [N, ${hDim}] (the representation) and z float32 [N, ${zDim}] (${spec.projectionHead === 'none' ? 'equal to h: this model has no projection head' : `the ${spec.projectionHead} projection head g(h)`})`
    : `h float32 [N, ${hDim}] (the representation)`;
  const docString =
    `Self-supervised image encoder f${spec.includeHead ? ' followed by its projection head g' : ''}, exported by ${ONNX_PRODUCER_NAME}. ` +
    `Input ${ONNX_INPUT_NAME}: float32 [N, ${c}, ${s}, ${s}] (NCHW), pixels in [0, 1], no normalization; N (the batch) is dynamic. ` +
    `Output${spec.includeHead ? 's' : ''}: ${outputsText}.` +
    (spec.metadata.trained?.startsWith('no') ? ' This model has not been trained: its weights are the random initialization.' : '');

  const model: OnnxTypes.IModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: ONNX_PRODUCER_NAME,
    docString,
    graph: {
      name: spec.includeHead ? 'encoder_f_head_g' : 'encoder_f',
      node,
      initializer,
      input: [floatValue(ONNX_INPUT_NAME, [ONNX_BATCH_DIMENSION, c, s, s])],
      output,
    },
    metadataProps: Object.entries(spec.metadata).map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(model).finish();
}

/** The network's encoder (and head, with includeHead) as ONNX bytes, with the run's metadata: what the export button saves as a .onnx file. */
export async function encoderOnnx(network: EncoderNetwork, info: EncoderExportInfo, options: { includeHead: boolean }): Promise<Uint8Array> {
  const { config } = network;
  return buildEncoderOnnx(await pytorchTensors(network), {
    channels: config.channels,
    imageSize: info.imageSize,
    encoderWidth: config.encoderWidth,
    projectionHead: config.projectionHead,
    projectionDim: network.zDim,
    includeHead: options.includeHead,
    metadata: encoderMetadata(network, info),
  });
}
