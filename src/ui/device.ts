/**
 * The device line's words: what the training runs on, told so a student
 * understands it ("WebGPU on a CPU emulation: no GPU found"), and what to do
 * when the device is slow. Pure functions of what the worker reports.
 */
import { DEFAULT_CONFIG, sameSetting, withMethodDefaults, type ExperimentConfig } from '../core/config';
import { cpuEmulatorName } from '../core/device';
import { methodUnfitReason, type DatasetShape } from '../core/methods';
import type { Activity, BackendName, DeviceInfo } from '../train/protocol';

const VENDORS: Record<string, string> = {
  nvidia: 'NVIDIA', amd: 'AMD', ati: 'AMD', intel: 'Intel', apple: 'Apple', qualcomm: 'Qualcomm', arm: 'Arm', google: 'Google',
  'img-tec': 'Imagination', imagination: 'Imagination', mesa: 'Mesa', microsoft: 'Microsoft',
};

export interface DeviceDescription {
  /** one line, e.g. "WebGPU on a CPU emulation (SwiftShader): no GPU found" */
  headline: string;
  /** the work runs on the processor: a CPU emulation of a GPU, or tfjs's CPU backend */
  onCpu: boolean;
  /** the emulator's name when the device is one */
  emulator?: string;
}

const BACKEND_LABEL: Record<BackendName, string> = { webgpu: 'WebGPU', webgl: 'WebGL', cpu: 'CPU' };

/** "ANGLE (NVIDIA, NVIDIA GeForce RTX 3080 Direct3D11 vs_5_0 ps_5_0, D3D11)" → "NVIDIA GeForce RTX 3080". */
export function rendererName(renderer: string): string {
  const angle = /^ANGLE \((.*)\)$/.exec(renderer.trim());
  if (!angle) return renderer.trim();
  const parts = angle[1].split(',').map((p) => p.trim());
  // "ANGLE Metal Renderer: Apple M2" → "Apple M2"
  const name = (parts[1] ?? parts[0]).replace(/^ANGLE \w+ Renderer:\s*/, '');
  return name.replace(/\s*(Direct3D\S*|OpenGL.*|Vulkan.*|vs_\S+|ps_\S+|\(0x[0-9a-f]+\))\s*/gi, ' ').replace(/\s+/g, ' ').trim() || parts[0];
}

/** What the training runs on, from the backend and the browser's description of the device. */
export function describeDevice(backend: BackendName, device: DeviceInfo | null | undefined): DeviceDescription {
  if (backend === 'cpu') {
    return { headline: 'CPU only: no GPU backend could start (tfjs’s plain JavaScript kernels)', onCpu: true };
  }
  const label = BACKEND_LABEL[backend];
  const emulator = cpuEmulatorName(device);
  if (emulator) return { headline: `${label} on a CPU emulation (${emulator}): no GPU found`, onCpu: true, emulator };
  if (device?.renderer) return { headline: `${label} on ${rendererName(device.renderer)}`, onCpu: false };
  if (device?.description) return { headline: `${label} on ${device.description}`, onCpu: false };
  const vendor = device?.vendor ? VENDORS[device.vendor.toLowerCase()] ?? device.vendor : undefined;
  if (vendor) return { headline: `${label} on ${/^([aeiou]|nvidia)/i.test(vendor) ? 'an' : 'a'} ${vendor} GPU${device?.architecture ? ` (${device.architecture})` : ''}`, onCpu: false };
  return { headline: `${label} on a GPU the browser does not name`, onCpu: false };
}

/**
 * The light setup: small enough to train at least a step a second on a CPU
 * emulation (measured with `npm run bench`), and still the same experiment:
 * same method, data, augmentations and loss, fewer and smaller views, a
 * narrower encoder, and probes on fewer images.
 */
export const LIGHT_SETUP = {
  batchSize: 16,
  imageSize: 16,
  encoderWidth: 4,
  projectionDim: 32,
  probeTrainSize: 1000,
  probeTestSize: 500,
  probeEpochs: 100,
} as const satisfies Partial<ExperimentConfig>;

export type SetupPatch = Partial<Pick<ExperimentConfig, keyof typeof LIGHT_SETUP>>;

/** The light setup's values for `config` (`light`) and the values they replace (`full`, to go back). */
export interface SetupChange {
  light: SetupPatch;
  full: SetupPatch;
}

const LIGHT_KEYS = Object.keys(LIGHT_SETUP) as (keyof typeof LIGHT_SETUP)[];

/**
 * A dataset no method refuses for its data (colour, enough images): so a fit
 * rule that still refuses a view size refuses it for the size alone.
 */
const ANY_DATA: DatasetShape = { name: 'any', channels: 3, imageSize: 64, trainCount: Number.MAX_SAFE_INTEGER };

/**
 * The lightest view size from LIGHT_SETUP's up to `config.imageSize` that the
 * method trains on: PIRL, the jigsaw and relative patch location cut 3×3
 * tiles with gaps and need 20 px, CPC's 4×4 grid of patches 10 px. A lighter
 * size the method refuses would make the worker switch the method, which no
 * setup may do.
 */
function lightViewSize(config: ExperimentConfig): number {
  for (let size = LIGHT_SETUP.imageSize; size < config.imageSize; size++) {
    if (methodUnfitReason(config.method, ANY_DATA, { ...config, imageSize: size }) === null) return size;
  }
  return config.imageSize;
}

/**
 * The light setup's values that make `config` lighter, and the values they
 * replace. Never makes a setting heavier than it is, never a view size the
 * method cannot use; `mayChange` leaves out settings that are not the page's
 * to change.
 */
export function lightSetupChange(config: ExperimentConfig, mayChange: (key: keyof typeof LIGHT_SETUP) => boolean = () => true): SetupChange {
  const light: Record<string, number> = {};
  const full: Record<string, number> = {};
  for (const key of LIGHT_KEYS) {
    const value = key === 'imageSize' ? lightViewSize(config) : LIGHT_SETUP[key];
    if (config[key] > value && mayChange(key)) {
      light[key] = value;
      full[key] = config[key];
    }
  }
  return { light, full };
}

/**
 * The light setup the page applies by itself at start when the training runs
 * on the processor: only to settings nobody gave (`userGiven`: named in the
 * opening link, typed, picked, restored from a checkpoint) that still hold the
 * value the app chose, its default for the method in force. A link's or a
 * user's value, even one equal to the default, is theirs and stays.
 */
export function autoLightChange(config: ExperimentConfig, userGiven: ReadonlySet<keyof ExperimentConfig>): SetupChange {
  const appDefaults = withMethodDefaults({ ...DEFAULT_CONFIG, method: config.method });
  return lightSetupChange(config, (key) => !userGiven.has(key) && sameSetting(key, config[key], appDefaults[key]));
}

/** Whether a change changes anything. */
export function changesSomething(change: SetupChange): boolean {
  return Object.keys(change.light).length > 0;
}

/** "N 16, 16 px views, width 4, z 32, probe on 1,000 + 500 images" */
export function describeSetup(patch: SetupPatch): string {
  const parts: string[] = [];
  if (patch.batchSize !== undefined) parts.push(`N ${patch.batchSize}`);
  if (patch.imageSize !== undefined) parts.push(`${patch.imageSize} px views`);
  if (patch.encoderWidth !== undefined) parts.push(`width ${patch.encoderWidth}`);
  if (patch.projectionDim !== undefined) parts.push(`z ${patch.projectionDim}`);
  if (patch.probeTrainSize !== undefined || patch.probeTestSize !== undefined) {
    parts.push(`probe on ${[patch.probeTrainSize, patch.probeTestSize].filter((n) => n !== undefined).map((n) => n!.toLocaleString('en-US')).join(' + ')} images`);
  }
  if (patch.probeEpochs !== undefined) parts.push(`${patch.probeEpochs} probe iterations`);
  return parts.join(', ');
}

/**
 * Each setting `patch` changes in `before`, old → new, in describeSetup's
 * words: "N 256 → 16, 28 → 16 px views, width 32 → 4, z 128 → 32, probe on
 * 10,000 + 2,000 → 1,000 + 500 images, 300 → 100 probe iterations". The probe
 * reads as its two sets together, so a change to one shows the other as it is.
 */
export function describeChange(before: ExperimentConfig, patch: SetupPatch): string {
  const after = { ...before, ...patch };
  const changed = (key: keyof SetupPatch) => patch[key] !== undefined && patch[key] !== before[key];
  const count = (n: number) => n.toLocaleString('en-US');
  const parts: string[] = [];
  if (changed('batchSize')) parts.push(`N ${before.batchSize} → ${after.batchSize}`);
  if (changed('imageSize')) parts.push(`${before.imageSize} → ${after.imageSize} px views`);
  if (changed('encoderWidth')) parts.push(`width ${before.encoderWidth} → ${after.encoderWidth}`);
  if (changed('projectionDim')) parts.push(`z ${before.projectionDim} → ${after.projectionDim}`);
  if (changed('probeTrainSize') || changed('probeTestSize')) {
    parts.push(`probe on ${count(before.probeTrainSize)} + ${count(before.probeTestSize)} → ${count(after.probeTrainSize)} + ${count(after.probeTestSize)} images`);
  }
  if (changed('probeEpochs')) parts.push(`${before.probeEpochs} → ${after.probeEpochs} probe iterations`);
  return parts.join(', ');
}

/**
 * The notice for a light setup the page applied by itself: that no GPU was
 * found and what runs the training instead, what changed (old → new), and
 * what to expect. `light` is the config in force, `change` what was done.
 */
export function autoLightNotice(description: DeviceDescription, light: ExperimentConfig, change: SetupChange): string {
  const runner = description.emulator
    ? `${description.emulator} runs the training on the processor, emulating a GPU`
    : 'tfjs’s CPU backend runs the training on the processor';
  const before = { ...light, ...change.full };
  return `No GPU was found: ${runner}. So that it trains at least a step a second, the settings you had not set were made lighter: ${describeChange(before, change.light)}. The method, data, augmentations and loss are the same.`;
}

/** "0.4 s", "12 s", "3 min", "1 h 20 min" */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 90) return `${Math.round(s)} s`;
  const min = s / 60;
  if (min < 90) return `${Math.round(min)} min`;
  return `${Math.floor(min / 60)} h ${Math.round(min % 60)} min`;
}

/** A step slower than this is slow: the issue's bar is at least a step a second. */
export const SLOW_STEP_MS = 1000;

/**
 * Typical ms per step from the steps so far: the median of the last five,
 * leaving out step 1, which also compiles the kernels. Undefined until a
 * step after the first has been measured.
 */
export function typicalStepMs(steps: readonly { step: number; stepMs: number }[]): number | undefined {
  const recent = steps.filter((s) => s.step > 1 && Number.isFinite(s.stepMs)).slice(-5).map((s) => s.stepMs).sort((a, b) => a - b);
  if (recent.length === 0) return undefined;
  const mid = recent.length >> 1;
  return recent.length % 2 ? recent[mid] : (recent[mid - 1] + recent[mid]) / 2;
}

export interface DeviceAdvice {
  /** what to expect, in words */
  text: string;
  /** whether the light setup is on offer (it is not when the config is already that light) */
  offerLight: boolean;
}

/**
 * What to tell a user about speed: nothing on a device that trains a step a
 * second or faster; on a slow one, how long 100 steps take and the light
 * setup; on a CPU before any step, that the defaults are sized for a GPU.
 */
export function deviceAdvice(description: DeviceDescription, stepMs: number | undefined, config: ExperimentConfig): DeviceAdvice | null {
  const offerLight = changesSomething(lightSetupChange(config));
  if (stepMs !== undefined) {
    if (stepMs <= SLOW_STEP_MS) return null;
    return {
      text: `${formatDuration(stepMs)} a step on this device at these settings: 100 steps take about ${formatDuration(stepMs * 100)}.`,
      offerLight,
    };
  }
  if (!description.onCpu) return null;
  return {
    text: offerLight
      ? 'Training runs on the processor, tens to hundreds of times slower than on a GPU. The default settings are sized for a GPU: expect seconds (a CPU emulation of WebGPU, about 9 s on 2 cores) to minutes (tfjs’s CPU backend) a step, and a first step that also compiles every kernel.'
      : 'Training runs on the processor, tens to hundreds of times slower than on a GPU: expect seconds a step, and a first step that also compiles every kernel.',
    offerLight,
  };
}

export interface ActivityProgress {
  /** seconds since it began */
  elapsedMs: number;
  /** done / total in [0, 1], when counts are known */
  fraction?: number;
  /** the time left at the rate so far, once there is a rate to go by */
  remainingMs?: number;
}

/** How far along an activity is at `now`, and how long is left at the rate so far. */
export function activityProgress(activity: Activity & { since: number }, now: number): ActivityProgress {
  const elapsedMs = Math.max(0, now - activity.since);
  const { done, total } = activity;
  if (done === undefined || total === undefined || !(total > 0)) return { elapsedMs };
  const fraction = Math.min(1, Math.max(0, done / total));
  const remainingMs = fraction > 0 && fraction < 1 && elapsedMs > 500 ? (elapsedMs * (1 - fraction)) / fraction : undefined;
  return { elapsedMs, fraction, remainingMs };
}
