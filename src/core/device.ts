/**
 * Which devices are a CPU pretending to be a GPU. Shared by the device line
 * (src/ui/device.ts), which tells the user, and the worker, which sizes its
 * work to it (the linear probe fits as arrays there, src/eval/linearProbe.ts).
 */

/** What the browser says about the GPU adapter (WebGPU's adapter info, or WebGL's unmasked renderer). */
export interface DeviceInfo {
  vendor?: string;
  architecture?: string;
  description?: string;
  renderer?: string;
}

/** Renderers that are a CPU pretending to be a GPU: Chrome's SwiftShader, Mesa's llvmpipe/lavapipe/softpipe, Windows' WARP. */
const EMULATORS: [RegExp, string][] = [
  [/swiftshader|subzero/i, 'SwiftShader'],
  [/llvmpipe/i, 'llvmpipe'],
  [/lavapipe/i, 'lavapipe'],
  [/softpipe/i, 'softpipe'],
  [/microsoft basic render|warp/i, 'Microsoft WARP'],
];

/** The emulator's name when `device` is a CPU emulation of a GPU, else undefined. */
export function cpuEmulatorName(device: DeviceInfo | null | undefined): string | undefined {
  const text = [device?.vendor, device?.architecture, device?.description, device?.renderer].filter(Boolean).join(' ');
  return EMULATORS.find(([pattern]) => pattern.test(text))?.[1];
}
