import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import type { BackendPreference } from '../core/config';
import type { BackendName, DeviceInfo } from './protocol';

export interface BackendChoice {
  backend: BackendName;
  /** why each better backend was not used, in the user's words */
  reasons: string[];
  adapter?: string;
  /** what the browser says about the device, for the device line */
  device?: DeviceInfo;
}

const ORDER: BackendName[] = ['webgpu', 'webgl', 'cpu'];

interface AdapterInfo { vendor?: string; architecture?: string; description?: string }

/** WebGL's renderer string (unmasked where the browser allows: "ANGLE (NVIDIA, GeForce …)", "… SwiftShader …"). */
function webglRenderer(): string | undefined {
  try {
    const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
    if (!gl) return undefined;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    return typeof renderer === 'string' && renderer ? renderer : undefined;
  } catch {
    return undefined;
  }
}

/** The device's own words, per backend. */
function deviceInfo(backend: BackendName, adapter: GPUAdapter | null): DeviceInfo | undefined {
  if (backend === 'webgpu') {
    const info = (adapter as unknown as { info?: AdapterInfo } | null)?.info;
    return info ? { vendor: info.vendor || undefined, architecture: info.architecture || undefined, description: info.description || undefined } : undefined;
  }
  if (backend === 'webgl') {
    const renderer = webglRenderer();
    return renderer ? { renderer } : undefined;
  }
  return undefined;
}

/** WebGPU first, then WebGL, then CPU; a preference other than auto starts the list there. */
export async function selectBackend(preference: BackendPreference): Promise<BackendChoice> {
  const reasons: string[] = [];
  const start = preference === 'auto' ? 0 : ORDER.indexOf(preference);
  if (start > 0) reasons.push(`The config asks for ${preference} (backend=${preference}), so ${ORDER.slice(0, start).join(' and ')} ${start > 1 ? 'were' : 'was'} not tried.`);
  for (const backend of ORDER.slice(start)) {
    if (backend === 'webgpu' && !('gpu' in navigator)) {
      reasons.push('WebGPU is not available in this browser (navigator.gpu is missing): try a recent Chrome or Edge, or enable WebGPU.');
      continue;
    }
    const adapter = backend === 'webgpu' ? await navigator.gpu.requestAdapter().catch(() => null) : null;
    if (backend === 'webgpu' && !adapter) {
      reasons.push('WebGPU is present but the browser offered no GPU adapter (the GPU may be blocklisted, disabled, or absent): falling back.');
      continue;
    }
    if (backend === 'webgl' && typeof OffscreenCanvas === 'undefined') {
      reasons.push('WebGL needs OffscreenCanvas in a worker, which this browser lacks.');
      continue;
    }
    try {
      const ok = await tf.setBackend(backend);
      await tf.ready();
      if (ok && tf.getBackend() === backend) {
        const device = deviceInfo(backend, adapter);
        // the device in the browser's own words, for the tooltip
        const words = device && Object.values(device).filter(Boolean).join(' ');
        return { backend, reasons, adapter: words || undefined, device };
      }
      reasons.push(`${backend} failed to initialise (no adapter or context).`);
    } catch (error) {
      reasons.push(`${backend} failed to initialise: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`No compute backend could start. ${reasons.join(' ')}`);
}
