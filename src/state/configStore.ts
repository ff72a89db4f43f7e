import { create } from 'zustand';
import { validatePipeline, type AugmentPipeline, type PipelineError } from '../core/pipeline';
import { configFromSearch, configToSearch, parseField, withMethodDefaults, type ExperimentConfig } from '../core/config';
import { quote } from '../core/fields';
import { INSTRUMENTS, instrumentFromHash } from './layoutStore';

type FieldErrors = Partial<Record<keyof ExperimentConfig, string>>;

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

function initialConfig(): { config: ExperimentConfig; warnings: string[] } {
  if (typeof window === 'undefined') return configFromSearch('');
  const { pathname, search, hash } = window.location;
  const link = readLink(pathname, search, hash);
  if (link.cleanUrl !== null) window.history.replaceState(null, '', link.cleanUrl);
  return link;
}

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

const initial = initialConfig();

export const useConfigStore = create<ConfigState>((set, get) => ({
  config: initial.config,
  fieldErrors: {},
  pipelineErrors: [],
  urlWarnings: initial.warnings,
  setField: (key, raw) => {
    const { config, fieldErrors, applied } = parseSettings(get().config, get().fieldErrors, { [key]: raw });
    if (applied === 0) {
      set({ fieldErrors });
      return false;
    }
    set({ config, fieldErrors });
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
    set({ config, pipelineErrors: [] });
    writeUrl(config);
    return true;
  },
  dismissUrlWarnings: () => set({ urlWarnings: [] }),
  applySettings: (patch) => {
    const raw = Object.fromEntries(Object.entries(patch).map(([key, value]) => [key, String(value)]));
    const { config, fieldErrors } = parseSettings(get().config, get().fieldErrors, raw);
    set({ config, fieldErrors });
    writeUrl(config);
  },
  setupBeforeLight: null,
  replaceConfig: (config) => {
    set({ config, fieldErrors: {}, pipelineErrors: [] });
    writeUrl(config);
  },
}));
