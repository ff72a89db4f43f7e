import { create } from 'zustand';
import { validatePipeline, type AugmentPipeline, type PipelineError } from '../core/pipeline';
import { configFromSearch, configToSearch, parseField, withMethodDefaults, type ExperimentConfig } from '../core/config';

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
}

function initialConfig(): { config: ExperimentConfig; warnings: string[] } {
  if (typeof window === 'undefined') return configFromSearch('');
  return configFromSearch(window.location.search);
}

/** Keeps the address bar current, so a copied link reproduces the setup. */
function writeUrl(config: ExperimentConfig): void {
  if (typeof window === 'undefined') return;
  const url = `${window.location.pathname}${configToSearch(config)}${window.location.hash}`;
  window.history.replaceState(null, '', url);
}

const initial = initialConfig();
// refused or unknown parameters leave the address bar at once: it always holds the settings in force (the warnings list what was dropped)
if (initial.warnings.length > 0) writeUrl(initial.config);

export const useConfigStore = create<ConfigState>((set, get) => ({
  config: initial.config,
  fieldErrors: {},
  pipelineErrors: [],
  urlWarnings: initial.warnings,
  setField: (key, raw) => {
    const parsed = parseField(key, raw);
    const fieldErrors: FieldErrors = { ...get().fieldErrors };
    delete fieldErrors[key];
    if (!parsed.ok) {
      set({ fieldErrors: { ...fieldErrors, [key]: parsed.error } });
      return false;
    }
    let config: ExperimentConfig = { ...get().config, [key]: parsed.value };
    // picking another method brings its paper's settings at this scale (MoCo's τ 0.2, the bank's τ 0.07)
    if (key === 'method' && parsed.value !== get().config.method) config = withMethodDefaults(config);
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
    let config = get().config;
    const fieldErrors: FieldErrors = { ...get().fieldErrors };
    for (const [key, value] of Object.entries(patch) as [keyof ExperimentConfig, ExperimentConfig[keyof ExperimentConfig]][]) {
      const parsed = parseField(key, String(value));
      delete fieldErrors[key];
      if (parsed.ok) config = { ...config, [key]: parsed.value };
      else fieldErrors[key] = parsed.error;
    }
    set({ config, fieldErrors });
    writeUrl(config);
  },
  setupBeforeLight: null,
}));
