import { create } from 'zustand';
import { validatePipeline, type AugmentPipeline, type PipelineError } from '../core/pipeline';
import { CONFIG_KEYS, CONFIG_SCHEMA, configFromSearch, configToSearch, parseField, withMethodDefaults, type ExperimentConfig } from '../core/config';
import { quote } from '../core/fields';
import { INSTRUMENTS, instrumentFromHash } from './layoutStore';

type FieldErrors = Partial<Record<keyof ExperimentConfig, string>>;
type ConfigKey = keyof ExperimentConfig;

/** A setup the page put in force (`light`) and the values it replaced (`full`, to go back). */
export interface SetupSwap {
  light: Partial<ExperimentConfig>;
  full: Partial<ExperimentConfig>;
}

interface ConfigState {
  /** the last valid config: what the worker runs with */
  config: ExperimentConfig;
  /** per-setting message for a value the user typed that was refused */
  fieldErrors: FieldErrors;
  /** problems with the last pipeline the user tried; the last good one stays in force */
  pipelineErrors: PipelineError[];
  /** problems found in the address bar on load */
  urlWarnings: string[];
  /** Validates user text for one setting; applies it only when valid. Returns whether it was applied. */
  setField: <K extends keyof ExperimentConfig>(key: K, raw: string) => boolean;
  /** Validates and applies a new augmentation pipeline. Returns whether it was applied. */
  setPipeline: (pipeline: AugmentPipeline) => boolean;
  dismissUrlWarnings: () => void;
  /** Applies several settings at once (a setup: each value checked as if typed), keeping the URL current; refused values are reported per field. */
  applySettings: (patch: Partial<ExperimentConfig>) => void;
  /** the settings the light setup replaced, for "Back to the full setup"; null when it is not on */
  setupBeforeLight: Partial<ExperimentConfig> | null;
  /**
   * The settings someone gave rather than the app: named in the opening link
   * (a shared link, even at a default value, or refused and announced as
   * "Using the default"), typed or picked in the page, or restored from a
   * checkpoint. The page never lightens them by itself.
   */
  userGiven: ReadonlySet<ConfigKey>;
  /** the light setup the page applied by itself at start (no GPU found), for its notice; null when it did not or it no longer holds */
  autoLight: SetupSwap | null;
  /** whether the page has sized the setup to the device: once, at the first backend the worker reports */
  sizedToDevice: boolean;
  /**
   * At start, once a page: `lighten` (the device's rule) says what to make
   * lighter, from the config and the settings the user gave; it is applied
   * unless the user chose the full setup before (remembered in this browser).
   * Returns whether the config changed, so the caller builds a new encoder
   * before the first step.
   */
  sizeToDevice: (lighten: (config: ExperimentConfig, userGiven: ReadonlySet<ConfigKey>) => SetupSwap | null) => boolean;
  /** The user picks the light setup: applied as if typed, and the full one kept for going back. */
  chooseLightSetup: (swap: SetupSwap) => void;
  /** The user picks the full setup back: the replaced values return, and the page never lightens by itself again in this browser. Returns whether anything changed. */
  chooseFullSetup: () => boolean;
  /**
   * Puts a whole config in force at once (a resumed checkpoint's, already
   * checked by parseConfig), keeping the URL current; field errors go.
   */
  replaceConfig: (config: ExperimentConfig) => void;
}

/**
 * What a link opens with: the config it asks for, what was refused, and the
 * address to show instead (null when the link is kept as it is). A refused or
 * unknown parameter leaves the address bar at once, so it always holds the
 * settings in force; the fragment stays when it names a tab (`#lecture`) and
 * goes, with a warning, when it names none. Pure, for the tests.
 */
export function readLink(pathname: string, search: string, hash: string): { config: ExperimentConfig; warnings: string[]; cleanUrl: string | null } {
  const { config, warnings } = configFromSearch(search);
  const tab = instrumentFromHash(hash);
  // `#` alone reads as no fragment (location.hash is '')
  const badHash = hash !== '' && hash !== '#' && tab === null;
  if (badHash) warnings.push(`Unknown tab ${quote(hash)} ignored; the tabs are ${INSTRUMENTS.map((i) => `#${i.id}`).join(', ')}.`);
  if (warnings.length === 0) return { config, warnings, cleanUrl: null };
  return { config, warnings, cleanUrl: `${pathname}${configToSearch(config)}${tab ? `#${tab}` : ''}` };
}

/**
 * The settings a query string names, by their URL names, whether their value
 * was taken or refused: a link's are the link's. A refused one stays out of
 * the page's hands too, since its warning says "Using the default, 300" and
 * must stay true.
 */
export function settingsNamedIn(search: string): Set<ConfigKey> {
  const names = new Set(new URLSearchParams(search).keys());
  return new Set(CONFIG_KEYS.filter((key) => names.has(CONFIG_SCHEMA[key].url)));
}

function initialConfig(): { config: ExperimentConfig; warnings: string[]; named: Set<ConfigKey> } {
  if (typeof window === 'undefined') return { ...configFromSearch(''), named: new Set() };
  const { pathname, search, hash } = window.location;
  const link = readLink(pathname, search, hash);
  if (link.cleanUrl !== null) window.history.replaceState(null, '', link.cleanUrl);
  return { ...link, named: settingsNamedIn(search) };
}

/**
 * Where the choice of the full setup is remembered, beside the tour's
 * (src/state/layoutStore.ts: `ssp.tour`): a user who went back to the full
 * setup on a machine without a GPU gets it on every visit.
 */
export const SETUP_CHOICE_KEY = 'ssp.setup';

/** Whether the user chose the full setup on this browser before. */
export function fullSetupChosen(): boolean {
  try {
    return typeof localStorage !== 'undefined' && localStorage.getItem(SETUP_CHOICE_KEY) === 'full';
  } catch {
    return false; // storage blocked: the choice holds for this page only (sizedToDevice)
  }
}

/** Remembers the full setup as the user's choice, or forgets it when they pick the light one themselves. */
function rememberSetupChoice(choice: 'full' | 'light'): void {
  try {
    if (choice === 'full') localStorage.setItem(SETUP_CHOICE_KEY, 'full');
    else localStorage.removeItem(SETUP_CHOICE_KEY);
  } catch {
    // storage blocked: the choice holds for this page only
  }
}

const withKeys = (given: ReadonlySet<ConfigKey>, keys: Iterable<string>): Set<ConfigKey> => new Set([...given, ...(keys as Iterable<ConfigKey>)]);

/** Keeps the address bar current, so a copied link reproduces the setup. */
function writeUrl(config: ExperimentConfig): void {
  if (typeof window === 'undefined') return;
  const url = `${window.location.pathname}${configToSearch(config)}${window.location.hash}`;
  window.history.replaceState(null, '', url);
}

/**
 * Settings as the user typed them, each checked by its field: valid ones are
 * applied, refused ones keep the last good value and get a message.
 */
function parseSettings(current: ExperimentConfig, errors: FieldErrors, raw: Partial<Record<keyof ExperimentConfig, string>>) {
  let config = current;
  const fieldErrors: FieldErrors = { ...errors };
  let applied = 0;
  for (const [key, text] of Object.entries(raw) as [keyof ExperimentConfig, string][]) {
    const parsed = parseField(key, text);
    delete fieldErrors[key];
    if (!parsed.ok) {
      fieldErrors[key] = parsed.error;
      continue;
    }
    applied++;
    config = { ...config, [key]: parsed.value };
    // picking another method brings its paper's settings at this scale (MoCo's τ 0.2, the bank's τ 0.07)
    if (key === 'method' && parsed.value !== current.method) config = withMethodDefaults(config);
  }
  return { config, fieldErrors, applied };
}

/** Settings as text, each to be checked as if typed. */
const asText = (patch: Partial<ExperimentConfig>): Partial<Record<ConfigKey, string>> =>
  Object.fromEntries(Object.entries(patch).map(([key, value]) => [key, String(value)]));

const initial = initialConfig();

export const useConfigStore = create<ConfigState>((set, get) => ({
  config: initial.config,
  fieldErrors: {},
  pipelineErrors: [],
  urlWarnings: initial.warnings,
  // every way a config reaches the page marks what it gives: the link (initialConfig), the settings panel and the dataset
  // menu (setField, setPipeline), the setups' buttons (applySettings), a resumed checkpoint, stored or from a file, the
  // only config the app stores (replaceConfig). A worker's fallback notice goes through setField too, marking the
  // dataset or method, which no setup changes; the comparisons and the generated-data experiment run their own configs
  // on a claimed worker and never write this one, and they start long after the device is known.
  userGiven: initial.named,
  setField: (key, raw) => {
    const { config, fieldErrors, applied } = parseSettings(get().config, get().fieldErrors, { [key]: raw });
    // a value typed, even refused, is the user's: the page does not lighten a setting they are editing
    const userGiven = withKeys(get().userGiven, [key]);
    if (applied === 0) {
      set({ fieldErrors, userGiven });
      return false;
    }
    set({ config, fieldErrors, userGiven });
    writeUrl(config);
    return true;
  },
  setPipeline: (pipeline) => {
    const { pipeline: valid, errors } = validatePipeline(pipeline);
    if (!valid) {
      set({ pipelineErrors: errors });
      return false;
    }
    const config = { ...get().config, augmentation: valid };
    set({ config, pipelineErrors: [], userGiven: withKeys(get().userGiven, ['augmentation']) });
    writeUrl(config);
    return true;
  },
  dismissUrlWarnings: () => set({ urlWarnings: [] }),
  applySettings: (patch) => {
    const { config, fieldErrors } = parseSettings(get().config, get().fieldErrors, asText(patch));
    set({ config, fieldErrors, userGiven: withKeys(get().userGiven, Object.keys(patch)) });
    writeUrl(config);
  },
  setupBeforeLight: null,
  autoLight: null,
  sizedToDevice: false,
  sizeToDevice: (lighten) => {
    if (get().sizedToDevice) return false;
    set({ sizedToDevice: true });
    if (fullSetupChosen()) return false;
    const swap = lighten(get().config, get().userGiven);
    if (!swap || Object.keys(swap.light).length === 0) return false;
    // the app's own choice, so its settings stay unmarked: not the user's, and a later link or edit still wins
    const { config, fieldErrors } = parseSettings(get().config, get().fieldErrors, asText(swap.light));
    set({ config, fieldErrors, autoLight: swap, setupBeforeLight: { ...swap.full, ...(get().setupBeforeLight ?? {}) } });
    // the address bar holds what runs, as after any change: a link copied now reproduces the light run
    writeUrl(config);
    return true;
  },
  chooseLightSetup: (swap) => {
    set((s) => ({ setupBeforeLight: { ...swap.full, ...(s.setupBeforeLight ?? {}) } }));
    get().applySettings(swap.light);
    // picking the light setup takes back an earlier choice of the full one
    rememberSetupChoice('light');
  },
  chooseFullSetup: () => {
    const full = get().setupBeforeLight;
    set({ setupBeforeLight: null, autoLight: null, sizedToDevice: true });
    rememberSetupChoice('full');
    if (!full || Object.keys(full).length === 0) return false;
    get().applySettings(full);
    return true;
  },
  replaceConfig: (config) => {
    // a resumed checkpoint's settings are all its own: none is the page's to lighten, and no earlier setup is there to go back to
    set({ config, fieldErrors: {}, pipelineErrors: [], userGiven: new Set(CONFIG_KEYS), autoLight: null, setupBeforeLight: null });
    writeUrl(config);
  },
}));
