/**
 * This adapter's peak, measured (issue 20): a WGSL kernel of known FLOPs and
 * one of known bytes, so that a training step's achieved FLOP/s can be given
 * as a fraction of what this adapter does at best, emulated or real.
 *
 *  - FMA: each invocation runs ACCUMULATORS independent vec4 chains
 *    a ← fma(a, b, c) for `iterations` rounds, all in registers (no memory
 *    traffic but one write at the end): FLOPs = invocations · iterations ·
 *    ACCUMULATORS · 4 lanes · 2. Independent chains hide the FMA latency; b and
 *    c come from a uniform so the compiler cannot fold the loop.
 *  - copy: vec4 out[i] = in[i] over a 64 MiB buffer: bytes = 2 · 64 MiB
 *    (one read, one write per element).
 *
 * Both run on the tfjs webgpu backend's own GPUDevice (the device training
 * uses), timed on the wall clock from submit to onSubmittedWorkDone, the work
 * grown until one run takes at least MIN_RUN_MS so the launch is noise; the
 * best of REPEATS runs is the peak.
 */
import * as tf from '@tensorflow/tfjs';

const ACCUMULATORS = 16;
const FMA_WORKGROUP = 64;
const COPY_WORKGROUP = 256;
const COPY_BYTES = 64 * 2 ** 20;
const MIN_RUN_MS = 150;
const REPEATS = 3;

function fmaShader(): string {
  const declare = Array.from({ length: ACCUMULATORS }, (_, i) => `var a${i} = vec4<f32>(seed + ${i}.0, seed - ${i}.0, seed * ${i + 1}.0, seed + 0.5);`).join('\n  ');
  const update = Array.from({ length: ACCUMULATORS }, (_, i) => `a${i} = fma(a${i}, b, c);`).join('\n    ');
  const sum = Array.from({ length: ACCUMULATORS }, (_, i) => `a${i}`).join(' + ');
  return `
struct Params { iterations : u32, b : f32, c : f32, pad : f32 };
@group(0) @binding(0) var<storage, read_write> out : array<vec4<f32>>;
@group(0) @binding(1) var<uniform> params : Params;
@compute @workgroup_size(${FMA_WORKGROUP})
fn main(@builtin(global_invocation_id) gid : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>) {
  let index = gid.x + gid.y * groups.x * ${FMA_WORKGROUP}u;
  let seed = f32(index) * 1e-6;
  let b = vec4<f32>(params.b);
  let c = vec4<f32>(params.c);
  ${declare}
  for (var i = 0u; i < params.iterations; i = i + 1u) {
    ${update}
  }
  out[index] = ${sum};
}`;
}

const COPY_SHADER = `
@group(0) @binding(0) var<storage, read_write> out : array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> source : array<vec4<f32>>;
@compute @workgroup_size(${COPY_WORKGROUP})
fn main(@builtin(global_invocation_id) gid : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>) {
  let index = gid.x + gid.y * groups.x * ${COPY_WORKGROUP}u;
  if (index < arrayLength(&source)) { out[index] = source[index]; }
}`;

/** x, y workgroups for `count` (at most 65,535 along one dimension). */
function grid(count: number): [number, number] {
  if (count <= 65535) return [count, 1];
  const y = Math.ceil(count / 65535);
  return [Math.ceil(count / y), y];
}

async function timeDispatch(device: GPUDevice, pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, workgroups: [number, number]): Promise<number> {
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(workgroups[0], workgroups[1]);
  pass.end();
  const start = performance.now();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  return performance.now() - start;
}

export async function calibrate() {
  if (!(await tf.setBackend('webgpu'))) throw new Error('calibration needs the webgpu backend');
  await tf.ready();
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;

  // FMA peak
  const invocations = 64 * 1024;
  const fmaWorkgroups = grid(invocations / FMA_WORKGROUP);
  const fmaOut = device.createBuffer({ size: invocations * 16, usage: GPUBufferUsage.STORAGE });
  const fmaParams = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const fmaPipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code: fmaShader() }), entryPoint: 'main' } });
  const fmaBind = device.createBindGroup({ layout: fmaPipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: fmaOut } }, { binding: 1, resource: { buffer: fmaParams } }] });
  const setIterations = (n: number) => {
    const data = new ArrayBuffer(16);
    new Uint32Array(data, 0, 1)[0] = n;
    new Float32Array(data, 4, 2).set([0.9999, 1e-4]);
    device.queue.writeBuffer(fmaParams, 0, data);
  };
  let iterations = 16;
  setIterations(iterations);
  await timeDispatch(device, fmaPipeline, fmaBind, fmaWorkgroups); // compile and warm
  let fmaMs = 0;
  for (;;) {
    setIterations(iterations);
    fmaMs = await timeDispatch(device, fmaPipeline, fmaBind, fmaWorkgroups);
    if (fmaMs >= MIN_RUN_MS || iterations >= 2 ** 20) break;
    iterations *= Math.min(16, Math.max(2, Math.ceil(MIN_RUN_MS / Math.max(fmaMs, 1))));
  }
  for (let r = 1; r < REPEATS; r++) fmaMs = Math.min(fmaMs, await timeDispatch(device, fmaPipeline, fmaBind, fmaWorkgroups));
  const fmaFlops = invocations * iterations * ACCUMULATORS * 4 * 2;

  // copy bandwidth
  const source = device.createBuffer({ size: COPY_BYTES, usage: GPUBufferUsage.STORAGE });
  const target = device.createBuffer({ size: COPY_BYTES, usage: GPUBufferUsage.STORAGE });
  const copyPipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code: COPY_SHADER }), entryPoint: 'main' } });
  const copyBind = device.createBindGroup({ layout: copyPipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: target } }, { binding: 1, resource: { buffer: source } }] });
  const copyWorkgroups = grid(COPY_BYTES / 16 / COPY_WORKGROUP);
  await timeDispatch(device, copyPipeline, copyBind, copyWorkgroups);
  let copyMs = Infinity;
  for (let r = 0; r < REPEATS; r++) copyMs = Math.min(copyMs, await timeDispatch(device, copyPipeline, copyBind, copyWorkgroups));

  for (const b of [fmaOut, fmaParams, source, target]) b.destroy();
  const adapterInfo = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return {
    adapter: adapterInfo ? { vendor: adapterInfo.vendor, architecture: adapterInfo.architecture, description: adapterInfo.description } : null,
    fma: { invocations, iterations, ms: fmaMs, flops: fmaFlops, flopsPerSecond: fmaFlops / (fmaMs / 1000) },
    copy: { bytes: 2 * COPY_BYTES, ms: copyMs, bytesPerSecond: (2 * COPY_BYTES) / (copyMs / 1000) },
  };
}
