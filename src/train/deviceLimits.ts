/**
 * What the active backend's device can hold, for the memory check before an
 * encoder is built (src/model/memoryEstimate.ts). WebGPU states its largest
 * buffer but not its memory; WebGL its largest texture; so the total budget
 * is a stated assumption, not a measurement.
 */
import * as tf from '@tensorflow/tfjs';
import type { DeviceMemoryLimits } from '../model/memoryEstimate';
import type { BackendName } from './protocol';

/** What one tab can expect of a real GPU: WebGPU does not say how much memory the GPU has. */
const GPU_BUDGET_BYTES = 12e9;
/** Share of the computer's memory a CPU (or a CPU emulation of a GPU, whose buffers live in it) may take. */
const CPU_MEMORY_SHARE = 0.5;
/** JavaScript typed arrays (the cpu backend's tensors) stop near 2 GiB on some engines. */
const CPU_MAX_BUFFER_BYTES = 2 ** 31;

interface WebGpuBackendLike {
  device?: { limits?: { maxBufferSize?: number; maxStorageBufferBindingSize?: number } };
}

export function deviceMemoryLimits(backend: BackendName, cpuEmulation: boolean): DeviceMemoryLimits {
  // navigator.deviceMemory: GB, rounded and capped at 8 by the browser; absent in some browsers
  const reported = (navigator as Navigator & { deviceMemory?: number }).deviceMemory;
  const onCpu = backend === 'cpu' || cpuEmulation;
  const budget = onCpu
    ? { budgetBytes: Math.max(1, reported ?? 4) * 1e9 * CPU_MEMORY_SHARE, budgetWhy: `this page may use: half of the ${reported ?? 4} GB of memory the browser reports, where a CPU${cpuEmulation ? ' emulating the GPU' : ''} keeps every tensor` }
    : { budgetBytes: GPU_BUDGET_BYTES, budgetWhy: 'a browser tab can expect of a GPU (WebGPU does not say how much memory it has)' };
  if (backend === 'webgpu') {
    const limits = (tf.backend() as unknown as WebGpuBackendLike).device?.limits;
    const maxBufferBytes = Math.min(limits?.maxBufferSize ?? 2 ** 28, limits?.maxStorageBufferBindingSize ?? 2 ** 27);
    return { maxBufferBytes, ...budget };
  }
  if (backend === 'webgl') {
    // a float32 RGBA texture of the largest side the context allows
    const side = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
    return { maxBufferBytes: side * side * 4 * 4, ...budget };
  }
  return { maxBufferBytes: CPU_MAX_BUFFER_BYTES, ...budget };
}
