/**
 * What the encoder's own WGSL kernels share: the slice of tfjs-backend-webgpu's
 * WebGPUProgram they fill in, the backend check, and running one program on
 * the training device through `runWebGPUProgram` (the same GPUDevice, queue and
 * buffer pool as every stock kernel, so no copy and no read-back).
 *
 * tfjs declares each input as `var<storage, read> <name> : array<f32>` and the
 * output as `result : array<f32>`; it also defines `uniforms` (with the
 * program's own fields after the shapes) and the `main` entry point, whose
 * body the program's `getUserCode()` writes as `fn main(index : i32) { … }`
 * (index: the flat invocation index over every workgroup). Its private
 * variables `localId`, `localIndex`, `workgroupId` and `numWorkgroups` hold
 * the WGSL builtins. The programs here declare `dispatchLayout: { x: [0] }`
 * and set `dispatch` themselves, so the thread → work mapping is each program's own.
 */
import * as tf from '@tensorflow/tfjs';

/** The subset of tfjs-backend-webgpu's WebGPUProgram these programs fill in. */
export interface KernelProgram {
  variableNames: string[];
  outputShape: number[];
  /** the pipeline cache key: tfjs appends the input and output shapes and dtypes */
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  /** the program's own uniforms, as WGSL struct fields: `count : i32, scale : f32,` */
  uniforms?: string;
  /** with `size: true`, tfjs adds `uniforms.size`, the output's element count (÷ outputComponent) */
  size?: boolean;
  /** elements per array entry of each input (4: `array<vec4<f32>>`); every input must then hold a multiple of it */
  variableComponents?: number[];
  /** elements per entry of `result` (4: `array<vec4<f32>>`) */
  outputComponent?: number;
  getUserCode: () => string;
}

/** tfjs-backend-webgpu's WebGPUBackend, as far as these programs use it. */
export interface WebGpuBackendLike {
  runWebGPUProgram(
    program: KernelProgram,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    programDefinedUniform?: ProgramUniform[],
  ): tf.TensorInfo;
  device: GPUDevice;
}

export type ProgramUniform = { type: 'int32' | 'float32' | 'uint32'; data: number[] };

/** The webgpu backend, or a clear error naming the caller and the active backend. */
export function webgpuBackend(caller: string): WebGpuBackendLike {
  const name = tf.getBackend();
  if (name !== 'webgpu') {
    throw new Error(`${caller} runs WGSL compute programs and needs the webgpu backend; the active backend is ${name}.`);
  }
  return tf.backend() as unknown as WebGpuBackendLike;
}

/**
 * Workgroups along x, y, z for `count` workgroups: WebGPU allows at most
 * 65,535 along one dimension (maxComputeWorkgroupsPerDimension), so a larger
 * count folds into y. A program that folds reads its linear workgroup index as
 * `workgroupId.x + workgroupId.y * numWorkgroups.x` and skips indices past `count`.
 */
export function foldDispatch(count: number): [number, number, number] {
  const LIMIT = 65535;
  if (count <= LIMIT) return [Math.max(1, count), 1, 1];
  const y = Math.ceil(count / LIMIT);
  return [Math.ceil(count / y), y, 1];
}

/**
 * The kernel name a program runs under: its shaderKey up to the first purely
 * numeric part ("conv3x3_filterPartial_512_28_…" → "conv3x3_filterPartial").
 */
export function programKernelName(program: KernelProgram): string {
  const parts = program.shaderKey.split('_');
  const end = parts.findIndex((p) => /^\d+$/.test(p));
  return `ssp.${parts.slice(0, end < 0 ? parts.length : end).join('_')}`;
}

interface ProgramAttrs {
  program: KernelProgram;
  uniforms: ProgramUniform[];
  outputDtype: tf.DataType;
}

const registeredKernels = new Set<string>();

/**
 * Registers `name` as a webgpu kernel that runs the program its attributes
 * carry. Running the programs as engine kernels (tf.engine().runKernel)
 * rather than straight through the backend makes them what tfjs's own kernels
 * are to the engine: counted in tf.memory, timed one by one by tf.profile
 * (the bench's per-kernel profile names them), checked by the debug mode.
 */
function ensureKernel(name: string): void {
  if (registeredKernels.has(name)) return;
  registeredKernels.add(name);
  if (tf.getKernel(name, 'webgpu')) return;
  tf.registerKernel({
    kernelName: name,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { program, uniforms, outputDtype } = attrs as unknown as ProgramAttrs;
      const ordered = program.variableNames.map((_, i) => inputs[`input${i}`] as tf.TensorInfo);
      return (backend as unknown as WebGpuBackendLike).runWebGPUProgram(program, ordered, outputDtype, uniforms);
    },
  });
}

/** Runs `program` on the webgpu backend as a named engine kernel; the result is a new tensor the caller owns (or a tidy scope collects). */
export function runProgram(
  backend: WebGpuBackendLike,
  program: KernelProgram,
  inputs: tf.Tensor[],
  uniforms: ProgramUniform[] = [],
  outputDtype: tf.DataType = 'float32',
): tf.Tensor {
  if (tf.backend() !== (backend as unknown)) throw new Error(`${program.shaderKey}: the webgpu backend is no longer the active one`);
  const name = programKernelName(program);
  ensureKernel(name);
  const named: tf.NamedTensorMap = {};
  inputs.forEach((t, i) => {
    named[`input${i}`] = t;
  });
  const attrs: ProgramAttrs = { program, uniforms, outputDtype };
  return tf.engine().runKernel(name, named, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * Runs `f` with tfjs's gradient tape off: the kernels it runs make no tape
 * entry, so autodiff treats their results as constants (tf.stopGradient for
 * kernels that have no gradient of their own). For a value computed from x
 * whose consumer's gradient already carries the path through it, such as the
 * batch statistics batchNormRelu differentiates itself. The engine records a
 * kernel on the tape only at kernel depth 0 (the depth tf.customGrad's own
 * forward pass runs at), so f runs one level down; it is still profiled.
 */
export function withoutTape<T>(f: () => T): T {
  const state = tf.engine().state as unknown as { kernelDepth: number };
  state.kernelDepth++;
  try {
    return f();
  } finally {
    state.kernelDepth--;
  }
}

/** "[2, 28, 28, 32] float32": a tensor's shape and dtype, for messages. */
export function describeTensor(t: tf.Tensor): string {
  return `[${t.shape.join(', ')}] ${t.dtype}`;
}

/** Refuses what an NHWC activation kernel cannot take, naming the caller and the tensor. */
export function validateActivations(caller: string, x: tf.Tensor, maxChannels = Infinity): void {
  if (x.rank !== 4) throw new Error(`${caller}: x must be NHWC [batch, height, width, channels], got ${describeTensor(x)}`);
  if (x.dtype !== 'float32') throw new Error(`${caller}: x must be float32, got ${describeTensor(x)}`);
  if (x.size === 0) throw new Error(`${caller}: x is empty, ${describeTensor(x)}`);
  if ((x.shape[3] ?? 0) > maxChannels) throw new Error(`${caller}: at most ${maxChannels} channels, got x ${describeTensor(x)}`);
}
