import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CONFIG_KEYS, DEFAULT_CONFIG, type ExperimentConfig } from '../core/config';
import { autoLightChange, LIGHT_SETUP, lightSetupChange } from '../ui/device';
import { fullSetupChosen, readLink, SETUP_CHOICE_KEY, settingsNamedIn, useConfigStore } from './configStore';
import { instrumentFromHash } from './layoutStore';

describe('readLink: the address bar on load', () => {
  it('keeps a clean link as it is, tab included', () => {
    expect(readLink('/', '?method=moco&batch=32', '#lecture')).toEqual({
      config: expect.objectContaining({ method: 'moco', batchSize: 32, temperature: 0.2 }),
      warnings: [],
      cleanUrl: null,
    });
    expect(readLink('/', '', '').cleanUrl).toBeNull();
    // `#` alone is no fragment
    expect(readLink('/', '', '#').cleanUrl).toBeNull();
  });

  it('drops refused and unknown parameters from the address bar and keeps the tab', () => {
    // τ given twice, the last value refused: the default stays in force
    const link = readLink('/app/', '?tau=0.2&batch=32&tau=0x1&evil=%3Cscript%3E', '#lecture');
    expect(link.config.batchSize).toBe(32);
    expect(link.config.temperature).toBe(DEFAULT_CONFIG.temperature);
    expect(link.warnings).toHaveLength(3);
    expect(link.cleanUrl).toBe('/app/?batch=32#lecture');
  });

  it('writes a tab spelled with escapes the plain way', () => {
    expect(readLink('/', '?bogus=1', '#%6Cecture').cleanUrl).toBe('/#lecture');
  });

  it('drops a fragment that names no tab, with a warning, even when the parameters are fine', () => {
    const link = readLink('/', '?batch=32', '#%3Cscript%3Ealert(1)%3C/script%3E');
    expect(link.cleanUrl).toBe('/?batch=32');
    expect(link.warnings).toEqual([
      'Unknown tab “#%3Cscript%3Ealert(1)%3C/script%3E” ignored; the tabs are #affinity, #geometry, #evaluation, #temperature, #lecture, #augment, #compare, #generated, #export.',
    ]);
  });

  it('survives a malformed escape in the fragment and quotes a long one short', () => {
    expect(instrumentFromHash('#%')).toBeNull();
    expect(instrumentFromHash('#%E0%A4%A')).toBeNull();
    expect(readLink('/', '', '#%').cleanUrl).toBe('/');
    const long = readLink('/', '', `#${'a'.repeat(100_000)}`);
    expect(long.cleanUrl).toBe('/');
    expect(long.warnings[0].length).toBeLessThan(300);
  });
});

describe('settingsNamedIn: a link’s settings are the link’s', () => {
  it('names every setting the link gives, taken or refused, and nothing unknown', () => {
    expect(settingsNamedIn('?batch=256&tau=banana&probeIters=-1&bogus=1&batch%20=2')).toEqual(new Set(['batchSize', 'temperature', 'probeEpochs']));
    expect(settingsNamedIn('')).toEqual(new Set());
  });
});

describe('sizing the setup to the device', () => {
  type Key = keyof ExperimentConfig;
  /** the device's rule as the page passes it: the light setup on the processor, nothing on a GPU */
  const lighten = (onCpu: boolean) => (config: ExperimentConfig, given: ReadonlySet<Key>) => (onCpu ? autoLightChange(config, given) : null);
  const FULL = { batchSize: 256, imageSize: 28, encoderWidth: 32, projectionDim: 128, probeTrainSize: 10000, probeTestSize: 2000, probeEpochs: 300 };
  const lightKeys = (config: ExperimentConfig) => Object.fromEntries(Object.keys(LIGHT_SETUP).map((k) => [k, config[k as Key]]));
  const state = () => useConfigStore.getState();

  beforeEach(() => {
    // a fresh page with a bare link, and a browser that remembers nothing
    useConfigStore.setState({ config: DEFAULT_CONFIG, fieldErrors: {}, userGiven: new Set(), autoLight: null, setupBeforeLight: null, sizedToDevice: false });
    const stored = new Map<string, string>();
    vi.stubGlobal('localStorage', {
      getItem: (k: string) => stored.get(k) ?? null,
      setItem: (k: string, v: string) => void stored.set(k, v),
      removeItem: (k: string) => void stored.delete(k),
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('applies the light setup once, at the first backend report, as the app’s choice rather than the user’s', () => {
    expect(state().sizeToDevice(lighten(true))).toBe(true);
    expect(lightKeys(state().config)).toEqual(LIGHT_SETUP);
    expect(state().autoLight).toEqual({ light: LIGHT_SETUP, full: FULL });
    expect(state().setupBeforeLight).toEqual(FULL);
    expect([...state().userGiven]).toEqual([]);
    // a second report (a new worker after a failure, a backend picked in the settings) changes nothing
    expect(state().sizeToDevice(lighten(true))).toBe(false);
  });

  it('does nothing on a GPU, and a CPU reported later in the same page is not “at start”', () => {
    expect(state().sizeToDevice(lighten(false))).toBe(false);
    expect(state().sizeToDevice(lighten(true))).toBe(false);
    expect(state().config).toBe(DEFAULT_CONFIG);
    expect(state().autoLight).toBeNull();
  });

  it('never lightens what the user typed before the device was known, even a value equal to the default', () => {
    expect(state().setField('batchSize', '256')).toBe(true);
    // a refused value is the user's too: they are editing it
    expect(state().setField('encoderWidth', 'wide')).toBe(false);
    expect(state().sizeToDevice(lighten(true))).toBe(true);
    expect(state().config.batchSize).toBe(256);
    expect(state().config.encoderWidth).toBe(32);
    expect(state().config.imageSize).toBe(16);
    expect(state().autoLight?.light).toEqual({ imageSize: 16, projectionDim: 32, probeTrainSize: 1000, probeTestSize: 500, probeEpochs: 100 });
  });

  it('the full setup restores every replaced value and is remembered: the next visit is not lightened', () => {
    state().sizeToDevice(lighten(true));
    expect(state().chooseFullSetup()).toBe(true);
    expect(lightKeys(state().config)).toEqual(FULL);
    expect(state().autoLight).toBeNull();
    expect(state().setupBeforeLight).toBeNull();
    expect(localStorage.getItem(SETUP_CHOICE_KEY)).toBe('full');
    expect(fullSetupChosen()).toBe(true);

    // a reload: a fresh page in the same browser keeps the full setup, and still offers the light one by hand
    useConfigStore.setState({ config: DEFAULT_CONFIG, userGiven: new Set(), sizedToDevice: false });
    expect(state().sizeToDevice(lighten(true))).toBe(false);
    expect(state().config).toBe(DEFAULT_CONFIG);
    state().chooseLightSetup(lightSetupChange(state().config));
    expect(lightKeys(state().config)).toEqual(LIGHT_SETUP);
    expect(state().setupBeforeLight).toEqual(FULL);
    // picking the light setup by hand takes back the remembered choice
    expect(fullSetupChosen()).toBe(false);
  });

  it('a resumed checkpoint’s settings replace the light ones, end the notice and are all its own', () => {
    state().sizeToDevice(lighten(true));
    const resumed = { ...DEFAULT_CONFIG, seed: 5 };
    state().replaceConfig(resumed);
    expect(state().config).toBe(resumed);
    expect(state().autoLight).toBeNull();
    expect(state().setupBeforeLight).toBeNull();
    expect(state().userGiven).toEqual(new Set(CONFIG_KEYS));
  });

  it('with storage blocked, the full setup still holds for the page', () => {
    vi.stubGlobal('localStorage', { getItem: () => { throw new Error('blocked'); }, setItem: () => { throw new Error('blocked'); }, removeItem: () => { throw new Error('blocked'); } });
    state().sizeToDevice(lighten(true));
    expect(state().chooseFullSetup()).toBe(true);
    expect(fullSetupChosen()).toBe(false);
    expect(state().sizeToDevice(lighten(true))).toBe(false);
    expect(state().config.batchSize).toBe(256);
  });
});
