/**
 * Where a training step's time goes (issue 20): one SimCLR step (augment both
 * views, f and g forward, NT-Xent, backward, Adam) profiled kernel by kernel
 * with tf.profile, grouped by phase, plus the step's wall time and its
 * achieved FLOP/s counted from the layer shapes. Run by `npm run bench`
 * through checks.html?check=step-profile.
 *
 * Kernel times: on webgpu with the adapter's `timestamp-query` feature, tfjs
 * times each program on the GPU (its own compute pass, begin and end
 * timestamps); without a GPU timer (webgl on most adapters, cpu) tfjs's
 * profiler reads each kernel's output back and times the wall clock, which
 * includes the launch and read-back. The result says which (`timing`).
 *
 * Phases: the kernels of the forward pass are those the profile has
 * recorded when the loss function handed to tf.variableGrads returns; the
 * rest are the backward pass. The augmentation and Adam's update are
 * profiled on their own. The project's WGSL programs run as named engine
 * kernels (src/model/kernels/webgpuProgram.ts: "ssp.conv3x3_forward", …), so
 * they are timed like tfjs's own; the scope tf.customGrad records around them
 * is left out, or its time would count twice.
 */
import * as tf from '@tensorflow/tfjs';
import { augmentViews } from '../augment/augmentViews';
import { simclrPipeline } from '../core/pipeline';
import { createRng } from '../core/random';
import { ntXent } from '../loss/ntxent';
import { ntXentFused } from '../loss/ntxent-fused';
import { EncoderNetwork, encoderKernelPath, setFusedEncoderKernels, type EncoderKernelPath } from '../model/encoderNetwork';

export interface StepProfileOptions {
  backend: string;
  /** N: images per step; the encoder sees 2N views */
  batch: number;
  /** view size in px */
  size: number;
  channels: number;
  width: number;
  projectionDim: number;
  /** the encoder's kernels: the project's WGSL programs (webgpu only) or tfjs's stock ones */
  kernels: EncoderKernelPath;
  /** timed un-profiled steps after the warm-up */
  repeats: number;
  seed: number;
}

type Phase = 'augment' | 'forward' | 'backward' | 'optimizer';

export interface KernelRow {
  phase: Phase;
  name: string;
  calls: number;
  ms: number;
  /** the input shapes, e.g. "512x28x28x1 3x3x1x32" ('' in the by-name summary) */
  shapes: string;
}

/**
 * Multiply-adds of one training step's matrix products, counted from the
 * shapes, × 2 = FLOPs. Per conv block l with S_l px, C_in → C_out channels
 * and V views: forward V·S_l²·9·C_in·C_out MACs; backward the same again for
 * ∂L/∂kernel and again for ∂L/∂input (not for block 0, whose input, the
 * views, needs no gradient). The head's dense layers likewise (their input h
 * does need its gradient). NT-Xent: s = ẐẐᵀ (V²·d) forward; W·Ẑ (V²·d)
 * backward. Batch norm, ReLU, pooling and Adam are elementwise and not
 * counted: the figure is the work that peak FLOP/s is about.
 */
export function stepFlops(o: Pick<StepProfileOptions, 'batch' | 'size' | 'channels' | 'width' | 'projectionDim'>): { forward: number; backward: number } {
  const views = 2 * o.batch;
  let side = o.size;
  let inChannels = o.channels;
  let forward = 0;
  let backward = 0;
  [1, 2, 4, 8].forEach((m, block) => {
    const outChannels = m * o.width;
    const macs = views * side * side * 9 * inChannels * outChannels;
    forward += macs;
    backward += block === 0 ? macs : 2 * macs;
    inChannels = outChannels;
    if (block < 3) side = Math.ceil(side / 2);
  });
  const h = 8 * o.width;
  const head = views * (h * h + h * o.projectionDim);
  forward += head;
  backward += 2 * head;
  const affinity = views * views * o.projectionDim;
  forward += affinity;
  backward += affinity;
  return { forward: 2 * forward, backward: 2 * backward };
}

function shapesOf(kernel: { inputShapes: number[][] }): string {
  return kernel.inputShapes.map((s) => (s.length ? s.join('x') : 'scalar')).join(' ');
}

/** Seeded images in [0, 1] with some structure (a bright square on a gradient), so every augmentation has something to do. */
function testImages(seed: number, n: number, side: number, channels: number): tf.Tensor4D {
  const rng = createRng(seed);
  const values = new Float32Array(n * side * side * channels);
  for (let b = 0; b < n; b++) {
    const cx = rng() * side, cy = rng() * side, half = 2 + rng() * side / 4, tone = rng();
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const inside = Math.abs(x - cx) <= half && Math.abs(y - cy) <= half;
        for (let c = 0; c < channels; c++) values[((b * side + y) * side + x) * channels + c] = inside ? 1 - tone : (tone * (x + c)) / side;
      }
    }
  }
  return tf.tensor4d(values, [n, side, side, channels]);
}

export async function stepProfile(o: StepProfileOptions) {
  if (!(await tf.setBackend(o.backend))) throw new Error(`backend ${o.backend} is not available`);
  await tf.ready();
  setFusedEncoderKernels(o.kernels === 'fused');
  if (encoderKernelPath() !== o.kernels) throw new Error(`the ${o.kernels} encoder kernels do not run on ${o.backend}`);
  const before = tf.memory().numTensors;
  const model = new EncoderNetwork({ channels: o.channels, encoderWidth: o.width, projectionHead: 'mlp', projectionDim: o.projectionDim, seed: o.seed });
  const optimizer: tf.Optimizer = tf.train.adam(1e-3);
  const images = testImages(o.seed, o.batch, o.size, o.channels);
  const pipeline = simclrPipeline();
  const rng = createRng(o.seed + 1);
  const fused = o.backend === 'webgpu';
  const loss = (views: tf.Tensor4D) => {
    const z = model.project(model.encode(views, true));
    const [z1, z2] = tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
    const options = { temperature: 0.5, normalize: true };
    return fused ? ntXentFused(z1, z2, options) : ntXent(z1, z2, options);
  };
  const augment = () => tf.tidy(() => tf.concat([augmentViews(images, rng, pipeline, o.size), augmentViews(images, rng, pipeline, o.size)], 0) as tf.Tensor4D);
  const step = async () => {
    const views = augment();
    const { value, grads } = tf.variableGrads(() => loss(views));
    optimizer.applyGradients(grads);
    const lossValue = (await value.data())[0];
    tf.dispose([views, value, grads]);
    return lossValue;
  };

  // warm-up: compiles every shader this step needs
  const firstStart = performance.now();
  await step();
  const firstStepMs = performance.now() - firstStart;
  const wall: number[] = [];
  let lastLoss = NaN;
  for (let r = 0; r < o.repeats; r++) {
    const t0 = performance.now();
    lastLoss = await step();
    wall.push(performance.now() - t0);
  }
  wall.sort((a, b) => a - b);
  const stepMs = wall[wall.length >> 1];

  // the profiled step, phase by phase
  // by phase, kernel and input shapes (so a conv names its layer), and by phase and kernel alone
  const rows = new Map<string, KernelRow>();
  const byName = new Map<string, KernelRow>();
  const record = (phase: Phase, kernels: readonly { name: string; kernelTimeMs: unknown; inputShapes: number[][] }[]) => {
    let total = 0;
    for (const k of kernels) {
      // a tf.customGrad is profiled as a scope around the kernels it runs, which are profiled themselves: count those only
      if (!tf.getKernel(k.name, o.backend)) continue;
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      total += ms;
      const shapes = shapesOf(k);
      for (const [map, key] of [[rows, `${phase}|${k.name}|${shapes}`], [byName, `${phase}|${k.name}`]] as const) {
        const row = map.get(key) ?? { phase, name: k.name, calls: 0, ms: 0, shapes: map === rows ? shapes : '' };
        row.calls++;
        row.ms += ms;
        map.set(key, row);
      }
    }
    return total;
  };
  // tf.profile hands back the engine's one profile object, its `kernels` replaced on each call: keep each list at once
  let views: tf.Tensor4D | null = null;
  const augmentKernels = (await tf.profile(() => {
    views = augment();
    return views;
  })).kernels;
  // the forward pass's kernels are those recorded by the time the loss function returns; the backward pass's come after
  const recorded = () => (tf.engine().state as unknown as { activeProfile: { kernels: unknown[] } }).activeProfile.kernels.length;
  let forwardCount = 0;
  let grads: tf.NamedTensorMap = {};
  const gradientKernels = (await tf.profile(async () => {
    const out = tf.variableGrads(() => {
      const value = loss(views!);
      forwardCount = recorded();
      return value;
    });
    grads = out.grads;
    await out.value.data();
    out.value.dispose();
    return [];
  })).kernels;
  const optimizerKernels = (await tf.profile(() => {
    optimizer.applyGradients(grads);
    return [];
  })).kernels;
  tf.dispose([views!, grads]);
  const phaseMs = {
    augment: record('augment', augmentKernels),
    forward: record('forward', gradientKernels.slice(0, forwardCount)),
    backward: record('backward', gradientKernels.slice(forwardCount)),
    optimizer: record('optimizer', optimizerKernels),
  };
  const kernelMsTotal = phaseMs.augment + phaseMs.forward + phaseMs.backward + phaseMs.optimizer;
  const ranked = (map: Map<string, KernelRow>) => [...map.values()].sort((a, b) => b.ms - a.ms).map((r) => ({ ...r, share: kernelMsTotal > 0 ? r.ms / kernelMsTotal : 0 }));
  const kernels = ranked(rows);
  const kernelsByName = ranked(byName);

  const flops = stepFlops(o);
  images.dispose();
  model.dispose();
  optimizer.dispose();
  const leakedTensors = tf.memory().numTensors - before;
  const webgpu = o.backend === 'webgpu' ? (tf.backend() as unknown as { supportTimestampQuery?: boolean }) : null;
  setFusedEncoderKernels(true);
  return {
    backend: o.backend,
    kernelPath: o.kernels,
    views: 2 * o.batch,
    options: o,
    timing: webgpu?.supportTimestampQuery ? 'gpu-timestamps' : 'wall-clock per kernel (read back after each)',
    firstStepMs,
    stepMs,
    stepsTimed: o.repeats,
    loss: lastLoss,
    phaseMs,
    kernelMsTotal,
    kernels,
    kernelsByName,
    flops: { ...flops, total: flops.forward + flops.backward },
    achievedFlopsPerSecond: (flops.forward + flops.backward) / (stepMs / 1000),
    leakedTensors,
  };
}
