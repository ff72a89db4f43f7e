import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../core/config';
import { withMethodDefaults, type ExperimentConfig } from '../core/config';
import {
  activityProgress, autoLightChange, autoLightNotice, describeChange, describeDevice, describeSetup, deviceAdvice, formatDuration, LIGHT_SETUP,
  lightSetupChange, rendererName, typicalStepMs,
} from './device';

// what Debian's Chromium reports headless on this project's test machines (measured)
const SWIFTSHADER_WEBGPU = { vendor: 'google', architecture: 'swiftshader' };
const SWIFTSHADER_WEBGL = { renderer: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)' };

describe('describeDevice', () => {
  it('names SwiftShader as a CPU emulation, on WebGPU and on WebGL', () => {
    expect(describeDevice('webgpu', SWIFTSHADER_WEBGPU)).toEqual({
      headline: 'WebGPU on a CPU emulation (SwiftShader): no GPU found', onCpu: true, emulator: 'SwiftShader',
    });
    expect(describeDevice('webgl', SWIFTSHADER_WEBGL).headline).toBe('WebGL on a CPU emulation (SwiftShader): no GPU found');
  });

  it('knows the other software rasterizers', () => {
    expect(describeDevice('webgl', { renderer: 'llvmpipe (LLVM 15.0.6, 256 bits)' }).onCpu).toBe(true);
    expect(describeDevice('webgl', { renderer: 'ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0, D3D11)' }).emulator).toBe('Microsoft WARP');
  });

  it('names a real GPU by its vendor, or by the renderer string WebGL gives', () => {
    expect(describeDevice('webgpu', { vendor: 'apple', architecture: 'metal-3' })).toEqual({ headline: 'WebGPU on an Apple GPU (metal-3)', onCpu: false });
    expect(describeDevice('webgpu', { vendor: 'nvidia', architecture: 'ampere' }).headline).toBe('WebGPU on an NVIDIA GPU (ampere)');
    expect(describeDevice('webgpu', { vendor: 'intel', architecture: 'gen-12lp', description: 'Intel(R) Iris(R) Xe Graphics' }).headline)
      .toBe('WebGPU on Intel(R) Iris(R) Xe Graphics');
    expect(describeDevice('webgl', { renderer: 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3080 Direct3D11 vs_5_0 ps_5_0, D3D11)' }).headline)
      .toBe('WebGL on NVIDIA GeForce RTX 3080');
    expect(describeDevice('webgl', { renderer: 'ANGLE (Apple, ANGLE Metal Renderer: Apple M2, Unspecified Version)' }).headline)
      .toBe('WebGL on Apple M2');
  });

  it('says so when the browser names nothing, and that the CPU backend is no GPU at all', () => {
    expect(describeDevice('webgpu', null)).toEqual({ headline: 'WebGPU on a GPU the browser does not name', onCpu: false });
    expect(describeDevice('cpu', null).onCpu).toBe(true);
    expect(describeDevice('cpu', null).headline).toMatch(/no GPU/);
  });
});

describe('rendererName', () => {
  it('keeps a plain renderer string', () => expect(rendererName('Mali-G78')).toBe('Mali-G78'));
});

describe('the light setup', () => {
  it('lightens only what is heavier, and remembers the values it replaced', () => {
    const { light, full } = lightSetupChange(DEFAULT_CONFIG);
    expect(light).toEqual(LIGHT_SETUP);
    expect(full).toEqual({ batchSize: 256, imageSize: 28, encoderWidth: 32, projectionDim: 128, probeTrainSize: 10000, probeTestSize: 2000, probeEpochs: 300 });
    const already = lightSetupChange({ ...DEFAULT_CONFIG, batchSize: 8, imageSize: 12, encoderWidth: 4, projectionDim: 16, probeTrainSize: 500, probeTestSize: 200, probeEpochs: 50 });
    expect(already.light).toEqual({});
  });

  it('describes a setup in the settings panel’s words', () => {
    expect(describeSetup(LIGHT_SETUP)).toBe('N 16, 16 px views, width 4, z 32, probe on 1,000 + 500 images, 100 probe iterations');
    expect(describeSetup({ batchSize: 256 })).toBe('N 256');
  });
});

describe('the light setup at start, when no GPU is found', () => {
  const none = new Set<keyof ExperimentConfig>();
  const FULL = { batchSize: 256, imageSize: 28, encoderWidth: 32, projectionDim: 128, probeTrainSize: 10000, probeTestSize: 2000, probeEpochs: 300 };

  it('lightens every setting that holds the app’s default, and keeps the defaults to go back to', () => {
    expect(autoLightChange(DEFAULT_CONFIG, none)).toEqual({ light: LIGHT_SETUP, full: FULL });
  });

  it('never touches a setting the user gave, even one given at its default value', () => {
    // `?batch=256&size=28`: a link's values are the link's
    const given = new Set<keyof ExperimentConfig>(['batchSize', 'imageSize', 'probeEpochs']);
    const { light, full } = autoLightChange(DEFAULT_CONFIG, given);
    expect(light).toEqual({ encoderWidth: 4, projectionDim: 32, probeTrainSize: 1000, probeTestSize: 500 });
    expect(full).toEqual({ encoderWidth: 32, projectionDim: 128, probeTrainSize: 10000, probeTestSize: 2000 });
    // every light setting given: nothing is the page's to change
    expect(autoLightChange(DEFAULT_CONFIG, new Set(Object.keys(LIGHT_SETUP) as (keyof ExperimentConfig)[])).light).toEqual({});
  });

  it('leaves a value that is not the app’s default (set by someone, whatever the record says) and one already lighter', () => {
    const config = { ...DEFAULT_CONFIG, batchSize: 64, encoderWidth: 2 };
    const { light } = autoLightChange(config, none);
    expect(light).toEqual({ imageSize: 16, projectionDim: 32, probeTrainSize: 1000, probeTestSize: 500, probeEpochs: 100 });
  });

  it('reads the defaults of the method in force', () => {
    // a method's own defaults (MoCo's τ 0.2) touch no light setting: the light setup applies to a MoCo link as to the default
    expect(autoLightChange(withMethodDefaults({ ...DEFAULT_CONFIG, method: 'moco' }), new Set(['method'])).light).toEqual(LIGHT_SETUP);
  });

  it('never lightens the views below what the method needs, so the worker never has to switch the method', () => {
    // PIRL's jigsaw tiles and relative patch location need 20 px views; CPC's 4×4 patch grid 10 px, so 16 px suits it
    expect(autoLightChange({ ...DEFAULT_CONFIG, method: 'pirl' }, new Set(['method'])).light.imageSize).toBe(20);
    expect(autoLightChange({ ...DEFAULT_CONFIG, method: 'relative-patch' }, none).light.imageSize).toBe(20);
    expect(autoLightChange({ ...DEFAULT_CONFIG, method: 'cpc' }, none).light.imageSize).toBe(16);
    // the manual offer follows the same rule; at 20 px already there is nothing lighter PIRL takes
    expect(lightSetupChange({ ...DEFAULT_CONFIG, method: 'jigsaw' }).light.imageSize).toBe(20);
    expect(lightSetupChange({ ...DEFAULT_CONFIG, method: 'pirl', imageSize: 20 }).light.imageSize).toBeUndefined();
  });

  it('says what changed, old → new, in the settings panel’s words', () => {
    expect(describeChange(DEFAULT_CONFIG, LIGHT_SETUP)).toBe(
      'N 256 → 16, 28 → 16 px views, width 32 → 4, z 128 → 32, probe on 10,000 + 2,000 → 1,000 + 500 images, 300 → 100 probe iterations',
    );
    // one probe set changed: the other reads as it is
    expect(describeChange({ ...DEFAULT_CONFIG, probeTrainSize: 600 }, { probeTestSize: 500 })).toBe('probe on 600 + 2,000 → 600 + 500 images');
    expect(describeChange(DEFAULT_CONFIG, {})).toBe('');
  });

  it('tells the user that no GPU was found, what runs the training, what changed and what to expect', () => {
    const light = { ...DEFAULT_CONFIG, ...LIGHT_SETUP };
    const swap = { light: LIGHT_SETUP, full: FULL };
    expect(autoLightNotice(describeDevice('webgpu', SWIFTSHADER_WEBGPU), light, swap)).toBe(
      'No GPU was found: SwiftShader runs the training on the processor, emulating a GPU. So that it trains at least a step a second, the settings you had not set were made lighter: N 256 → 16, 28 → 16 px views, width 32 → 4, z 128 → 32, probe on 10,000 + 2,000 → 1,000 + 500 images, 300 → 100 probe iterations. The method, data, augmentations and loss are the same.',
    );
    const onCpuBackend = autoLightNotice(describeDevice('cpu', null), { ...light, batchSize: 64 }, { light: { imageSize: 16 }, full: { imageSize: 28 } });
    expect(onCpuBackend).toMatch(/^No GPU was found: tfjs’s CPU backend runs the training on the processor\./);
    // only what the page changed, not the user's own N 64
    expect(onCpuBackend).toContain('lighter: 28 → 16 px views.');
  });
});

describe('formatDuration', () => {
  it('reads at every scale', () => {
    expect(formatDuration(430)).toBe('0.4 s');
    expect(formatDuration(76_547)).toBe('77 s');
    expect(formatDuration(76_547 * 100)).toBe('2 h 8 min');
    expect(formatDuration(6_270 * 100)).toBe('10 min');
    expect(formatDuration(Number.NaN)).toBe('—');
  });
});

describe('typicalStepMs', () => {
  it('leaves out the first step, which compiles the kernels, and takes the median of the last five', () => {
    expect(typicalStepMs([{ step: 1, stepMs: 24_000 }])).toBeUndefined();
    expect(typicalStepMs([{ step: 1, stepMs: 24_000 }, { step: 2, stepMs: 1200 }])).toBe(1200);
    const steps = [24_000, 900, 1000, 1100, 5000, 1050, 980].map((stepMs, i) => ({ step: i + 1, stepMs }));
    // last five after step 1: 1000, 1100, 5000, 1050, 980 → median 1050
    expect(typicalStepMs(steps)).toBe(1050);
  });
});

describe('deviceAdvice', () => {
  const emulated = describeDevice('webgpu', SWIFTSHADER_WEBGPU);
  const gpu = describeDevice('webgpu', { vendor: 'apple', architecture: 'metal-3' });

  it('warns on a CPU emulation before any step, offering the light setup', () => {
    const advice = deviceAdvice(emulated, undefined, DEFAULT_CONFIG);
    expect(advice?.offerLight).toBe(true);
    expect(advice?.text).toMatch(/processor/);
  });

  it('says nothing on a GPU until a step says it is slow, then how long 100 steps take', () => {
    expect(deviceAdvice(gpu, undefined, DEFAULT_CONFIG)).toBeNull();
    expect(deviceAdvice(gpu, 40, DEFAULT_CONFIG)).toBeNull();
    expect(deviceAdvice(gpu, 6_270, DEFAULT_CONFIG)?.text).toBe('6.3 s a step on this device at these settings: 100 steps take about 10 min.');
  });

  it('stops offering the light setup once the config is that light', () => {
    expect(deviceAdvice(emulated, 1500, { ...DEFAULT_CONFIG, ...LIGHT_SETUP })?.offerLight).toBe(false);
    expect(deviceAdvice(emulated, 800, { ...DEFAULT_CONFIG, ...LIGHT_SETUP })).toBeNull();
  });
});

describe('activityProgress', () => {
  it('estimates the time left from the rate so far', () => {
    const p = activityProgress({ label: 'probe', done: 100, total: 300, since: 1000 }, 7000);
    expect(p.elapsedMs).toBe(6000);
    expect(p.fraction).toBeCloseTo(1 / 3);
    expect(p.remainingMs).toBeCloseTo(12_000);
  });

  it('gives no estimate without counts, before any progress, or too early to tell', () => {
    expect(activityProgress({ label: 'first step', since: 0 }, 5000)).toEqual({ elapsedMs: 5000 });
    expect(activityProgress({ label: 'x', done: 0, total: 10, since: 0 }, 5000).remainingMs).toBeUndefined();
    expect(activityProgress({ label: 'x', done: 5, total: 10, since: 0 }, 200).remainingMs).toBeUndefined();
  });
});
