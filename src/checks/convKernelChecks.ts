/**
 * Browser checks of the 3×3 convolution programs (src/model/kernels/conv3x3.ts),
 * run by checks.html (e2e/conv-kernels.spec.ts and timing by hand or the bench):
 *   ?check=conv-kernels  forward, dx and dk against tf.conv2d and its gradients
 *     on webgpu (tfjs's stock kernels) and on the cpu backend;
 *     cases= B:H:W:C:O, comma-separated (default: DEFAULT_CASES)
 *   ?check=conv-timing  stock vs ours, median ms of forward, backprop input and
 *     backprop filter at the encoder's four layer shapes; views= (128), size= (28),
 *     width= (32), channels= (1), repeats= (5), warmup= (1), layers= (0,1,2,3),
 *     stock=0 (ours only), timing=cpu (the GPU process's CPU ms instead of the
 *     wall clock, where the driver exposes window.convCpuMs: see `clock` below)
 * Both take tiling= tileRows:tileColumns:channelGroupsPerTile:filterOutputGroups:filterTargetInvocations
 * (empty or 0 fields keep DEFAULT_TILING's) to try other register tiles;
 * conv-timing takes several, separated by ';', and times them side by side.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { createRng, normal } from '../core/random';
import { conv3x3, conv3x3BackpropFilter, conv3x3BackpropInput, conv3x3Forward, DEFAULT_TILING, filterSplit, type Conv3x3Tiling } from '../model/kernels/conv3x3';
import { relativeError } from './relativeError';

export interface ConvCase {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
}

/**
 * Batch 1; odd and non-square sizes (7×7, 5×5, 1×1, 3×5); channel counts that
 * are not multiples of 4 (1, 3, 5, 6, 7) on either side; the encoder's four
 * layers at 16, 28 and 32 px for width 4 (1-channel and RGB input); a width-32 layer.
 */
export const DEFAULT_CASES = [
  '1:5:5:3:4', '2:7:7:5:6', '1:1:1:1:1', '2:3:5:7:3', '1:4:6:6:7', '2:5:3:4:1', '1:6:6:8:12',
  '2:16:16:1:4', '2:8:8:4:8', '2:4:4:8:16', '2:2:2:16:32',
  '2:28:28:1:4', '2:14:14:4:8', '2:7:7:8:16', '2:4:4:16:32',
  '2:32:32:3:4', '2:16:16:4:8', '2:8:8:8:16', '2:4:4:16:32',
  '8:14:14:32:64',
].join(',');

/** "2:7:7:5:6" → { batch: 2, height: 7, width: 7, inChannels: 5, outChannels: 6 } */
export function parseConvCases(text: string): ConvCase[] {
  return text.split(',').map((item) => {
    const [batch, height, width, inChannels, outChannels] = item.split(':').map(Number);
    return { batch, height, width, inChannels, outChannels };
  });
}

/** "2:0:1:1:16384" → a Conv3x3Tiling (tileRows:tileColumns:channelGroupsPerTile:filterOutputGroups:filterTargetInvocations); empty or 0 fields keep the defaults. */
export function parseTiling(text: string | null): Conv3x3Tiling {
  const fields = (text ?? '').split(':').map(Number);
  const keys = Object.keys(DEFAULT_TILING) as (keyof Conv3x3Tiling)[];
  return Object.fromEntries(keys.map((key, i) => [key, fields[i] || DEFAULT_TILING[key]])) as unknown as Conv3x3Tiling;
}

function seededValues(seed: number, count: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: count }, () => normal(rng));
}

interface ConvValues {
  y: Float32Array;
  dx: Float32Array;
  dk: Float32Array;
}

interface ConvInputs {
  xShape: [number, number, number, number];
  kernelShape: [number, number, number, number];
  x: Float32Array;
  kernel: Float32Array;
  dy: Float32Array;
}

/**
 * y = conv(x, k) and, by tf.grads of L = Σ y ⊙ dy (so ∂L/∂y = dy), dx and dk,
 * on the active backend; `conv` is tf.conv2d(·, ·, 1, 'same') or ours.
 */
async function convAndGradients(inputs: ConvInputs, conv: (x: tf.Tensor4D, k: tf.Tensor4D) => tf.Tensor4D): Promise<ConvValues> {
  const x = tf.tensor4d(inputs.x, inputs.xShape);
  const kernel = tf.tensor4d(inputs.kernel, inputs.kernelShape);
  const dy = tf.tensor4d(inputs.dy, [...inputs.xShape.slice(0, 3), inputs.kernelShape[3]] as [number, number, number, number]);
  const y = conv(x, kernel);
  const [dx, dk] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), dy)))([x, kernel]);
  const values = {
    y: (await y.data()) as Float32Array,
    dx: (await dx.data()) as Float32Array,
    dk: (await dk.data()) as Float32Array,
  };
  tf.dispose([x, kernel, dy, y, dx, dk]);
  return values;
}

const stockConv = (x: tf.Tensor4D, k: tf.Tensor4D) => tf.conv2d(x, k, 1, 'same');

async function useBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} is not available in this browser`);
  await tf.ready();
}

/**
 * For each case: forward, dx and dk of ours on webgpu against tf.conv2d and
 * its gradients on webgpu (stock kernels) and on cpu, as max |Δ| / max |ref|
 * per output; the direct backprop functions against the customGrad path; and
 * the tensors left behind by ours.
 */
export async function convKernelAccuracy(cases: ConvCase[], seed: number, tiling: Conv3x3Tiling) {
  const rows = [];
  for (const [index, c] of cases.entries()) {
    const started = performance.now();
    const xShape: [number, number, number, number] = [c.batch, c.height, c.width, c.inChannels];
    const kernelShape: [number, number, number, number] = [3, 3, c.inChannels, c.outChannels];
    const inputs: ConvInputs = {
      xShape,
      kernelShape,
      x: seededValues(seed + 3 * index, c.batch * c.height * c.width * c.inChannels),
      kernel: seededValues(seed + 3 * index + 1, 9 * c.inChannels * c.outChannels),
      dy: seededValues(seed + 3 * index + 2, c.batch * c.height * c.width * c.outChannels),
    };
    await useBackend('cpu');
    const cpu = await convAndGradients(inputs, stockConv);
    await useBackend('webgpu');
    const referencesDone = performance.now();
    const stock = await convAndGradients(inputs, stockConv);
    const stockDone = performance.now();
    const tensorsBefore = tf.memory().numTensors;
    const ours = await convAndGradients(inputs, (x, k) => conv3x3(x, k, tiling));
    // the three entry points called directly give the customGrad path's numbers
    const direct = tf.tidy(() => {
      const x = tf.tensor4d(inputs.x, xShape);
      const kernel = tf.tensor4d(inputs.kernel, kernelShape);
      const dy = tf.tensor4d(inputs.dy, [c.batch, c.height, c.width, c.outChannels]);
      return [conv3x3Forward(x, kernel, tiling), conv3x3BackpropInput(dy, kernel, tiling), conv3x3BackpropFilter(x, dy, tiling)];
    });
    const directValues = await Promise.all(direct.map((t) => t.data()));
    tf.dispose(direct);
    const leakedTensors = tf.memory().numTensors - tensorsBefore;
    const errors = (reference: ConvValues) => ({
      y: relativeError(ours.y, reference.y),
      dx: relativeError(ours.dx, reference.dx),
      dk: relativeError(ours.dk, reference.dk),
    });
    const directMatches =
      relativeError(directValues[0], ours.y) === 0 && relativeError(directValues[1], ours.dx) === 0 && relativeError(directValues[2], ours.dk) === 0;
    rows.push({
      case: `${c.batch}:${c.height}:${c.width}:${c.inChannels}:${c.outChannels}`,
      filterSplits: filterSplit(c.batch, c.height, c.inChannels, c.outChannels, tiling).splits,
      vsWebgpu: errors(stock),
      vsCpu: errors(cpu),
      // how far the two references are apart: the float32 noise floor of these sums
      stockWebgpuVsCpu: {
        y: relativeError(stock.y, cpu.y),
        dx: relativeError(stock.dx, cpu.dx),
        dk: relativeError(stock.dk, cpu.dk),
      },
      finite: [...ours.y, ...ours.dx, ...ours.dk].every(Number.isFinite),
      directMatches,
      leakedTensors,
      // where the check's time goes (mostly compiling each shape's programs): cpu, stock webgpu, ours
      ms: { cpu: referencesDone - started, stock: stockDone - referencesDone, ours: performance.now() - stockDone },
    });
  }
  return rows;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The encoder's four conv layers: [V, s, s, ch] → w, then 'same' 2×2 pools: [V, ⌈s/2⌉, ⌈s/2⌉, w] → 2w, … */
export function encoderLayerShapes(views: number, size: number, width: number, channels: number): ConvCase[] {
  const layers: ConvCase[] = [];
  let side = size;
  let inChannels = channels;
  for (let l = 0; l < 4; l++) {
    const outChannels = width * 2 ** l;
    layers.push({ batch: views, height: side, width: side, inChannels, outChannels });
    inChannels = outChannels;
    side = Math.ceil(side / 2);
  }
  return layers;
}

/** tfjs's stock kernels through tf.engine().runKernel, exactly what tf.conv2d's gradient runs. */
function stockBackpropInput(dy: tf.Tensor4D, kernel: tf.Tensor4D, inputShape: number[]): tf.Tensor4D {
  const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape };
  return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: kernel }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}
function stockBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[]): tf.Tensor4D {
  const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape };
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

type Op = 'forward' | 'backpropInput' | 'backpropFilter';

interface TimingRow {
  shape: string;
  multiplyAdds: number;
  filterSplits: number;
  /** median ms per variant (each tiling by its fields joined with ':', and "stock") and op */
  ms: Record<string, Record<Op, number>>;
  /** ms of each variant's first run, which compiles its programs */
  firstMs: Record<string, Record<Op, number>>;
  /** forward + backprop input + backprop filter, per variant */
  totals: Record<string, number>;
  /** stock / ours (the first tiling) */
  speedup: Record<Op | 'total', number> | null;
}

/**
 * Stock vs ours on webgpu at each layer: median ms of forward, backprop input
 * and backprop filter, and the ratios stock / ours (each op and the three summed).
 * With more than one tiling, each repeat times every variant in turn, so that a
 * load on the machine weighs on all of them alike; the first tiling is "ours".
 */
export async function convTiming(layers: ConvCase[], repeats: number, warmup: number, seed: number, tilings: Conv3x3Tiling[], skipStock = false) {
  await useBackend('webgpu');
  const tensorsBefore = tf.memory().numTensors;
  const rows: TimingRow[] = [];
  for (const [index, c] of layers.entries()) {
    const xShape = [c.batch, c.height, c.width, c.inChannels];
    const kernelShape = [3, 3, c.inChannels, c.outChannels];
    const x = tf.tensor4d(seededValues(seed + 3 * index, c.batch * c.height * c.width * c.inChannels), xShape as [number, number, number, number]);
    const kernel = tf.tensor4d(seededValues(seed + 3 * index + 1, 9 * c.inChannels * c.outChannels), kernelShape as [number, number, number, number]);
    const dy = tf.tensor4d(seededValues(seed + 3 * index + 2, c.batch * c.height * c.width * c.outChannels), [c.batch, c.height, c.width, c.outChannels]);
    const variants: Record<string, { forward: () => tf.Tensor; backpropInput: () => tf.Tensor; backpropFilter: () => tf.Tensor }> = {};
    for (const tiling of tilings) {
      variants[tilingName(tiling)] = {
        forward: () => conv3x3Forward(x, kernel, tiling),
        backpropInput: () => conv3x3BackpropInput(dy, kernel, tiling),
        backpropFilter: () => conv3x3BackpropFilter(x, dy, tiling),
      };
    }
    if (!skipStock) {
      variants.stock = {
        forward: () => tf.conv2d(x, kernel, 1, 'same'),
        backpropInput: () => stockBackpropInput(dy, kernel, xShape),
        backpropFilter: () => stockBackpropFilter(x, dy, kernelShape),
      };
    }
    const ms: Record<string, Record<Op, number>> = {};
    const first: Record<string, Record<Op, number>> = {};
    for (const op of ['forward', 'backpropInput', 'backpropFilter'] as Op[]) {
      const times: Record<string, number[]> = {};
      for (const [name, variant] of Object.entries(variants)) {
        // the first run compiles the shape's programs
        (first[name] ??= { forward: 0, backpropInput: 0, backpropFilter: 0 })[op] = await timeOnce(variant[op]);
        for (let w = 1; w < warmup; w++) await timeOnce(variant[op]);
        times[name] = [];
      }
      for (let r = 0; r < repeats; r++) for (const [name, variant] of Object.entries(variants)) times[name].push(await timeOnce(variant[op]));
      for (const name of Object.keys(variants)) (ms[name] ??= { forward: 0, backpropInput: 0, backpropFilter: 0 })[op] = median(times[name]);
    }
    tf.dispose([x, kernel, dy]);
    const totals = Object.fromEntries(Object.entries(ms).map(([name, t]) => [name, t.forward + t.backpropInput + t.backpropFilter]));
    const ours = ms[tilingName(tilings[0])];
    const stock = ms.stock ?? null;
    rows.push({
      shape: `[${xShape.join(',')}]→${c.outChannels}`,
      multiplyAdds: c.batch * c.height * c.width * 9 * c.inChannels * c.outChannels,
      filterSplits: filterSplit(c.batch, c.height, c.inChannels, c.outChannels, tilings[0]).splits,
      ms,
      firstMs: first,
      totals,
      speedup: stock
        ? {
            forward: stock.forward / ours.forward,
            backpropInput: stock.backpropInput / ours.backpropInput,
            backpropFilter: stock.backpropFilter / ours.backpropFilter,
            total: totals.stock / totals[tilingName(tilings[0])],
          }
        : null,
    });
  }
  const sumOf = (name: string) => rows.reduce((sum, row) => sum + row.totals[name], 0);
  const totals = Object.fromEntries(Object.keys(rows[0]?.totals ?? {}).map((name) => [name, sumOf(name)]));
  const oursMs = totals[tilingName(tilings[0])];
  return { rows, totals, oursMs, stockMs: totals.stock ?? null, speedup: skipStock ? null : totals.stock / oursMs, leakedTensors: tf.memory().numTensors - tensorsBefore };
}

/**
 * A driver may expose `window.convCpuMs()`: the CPU ms the browser's GPU process
 * has used so far (SwiftShader's threads run there). Timing by it instead of
 * the wall clock (timing=cpu) keeps a comparison steady on a machine whose
 * cores other work shares.
 */
const cpuClock = (globalThis as { convCpuMs?: () => Promise<number> }).convCpuMs;
const clock = (): Promise<number> | number =>
  cpuClock && new URLSearchParams(window.location.search).get('timing') === 'cpu' ? cpuClock() : performance.now();

/** ms until `op`'s result is readable (a 1-element slice is read back). */
async function timeOnce(op: () => tf.Tensor): Promise<number> {
  const t0 = await clock();
  const out = op();
  const corner = tf.slice(out, new Array(out.rank).fill(0), new Array(out.rank).fill(1));
  await corner.data();
  const ms = (await clock()) - t0;
  tf.dispose([out, corner]);
  return ms;
}

function tilingName(tiling: Conv3x3Tiling): string {
  return Object.values(tiling).join(':');
}

/** ?check=conv-kernels */
export async function convKernelsCheck(params: URLSearchParams) {
  const seed = Number(params.get('seed') ?? 1);
  const tiling = parseTiling(params.get('tiling'));
  const rows = await convKernelAccuracy(parseConvCases(params.get('cases') ?? DEFAULT_CASES), seed, tiling);
  return { check: 'conv-kernels', seed, tiling, rows };
}

/** ?check=conv-timing */
export async function convTimingCheck(params: URLSearchParams) {
  const views = Number(params.get('views') ?? 128);
  const size = Number(params.get('size') ?? 28);
  const width = Number(params.get('width') ?? 32);
  const channels = Number(params.get('channels') ?? 1);
  const repeats = Number(params.get('repeats') ?? 5);
  const warmup = Number(params.get('warmup') ?? 1);
  const seed = Number(params.get('seed') ?? 1);
  const tilings = (params.get('tiling') ?? '').split(';').map(parseTiling);
  const all = encoderLayerShapes(views, size, width, channels);
  const layers = (params.get('layers') ?? '0,1,2,3').split(',').map((l) => all[Number(l)]);
  const timing = await convTiming(layers, repeats, warmup, seed, tilings, params.get('stock') === '0');
  return { check: 'conv-timing', views, size, width, channels, repeats, warmup, tilings, ...timing };
}
