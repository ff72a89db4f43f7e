import { create } from 'zustand';
import {
  CROSS_FIELD_KEYS, configFromSearch, configToSearch, crossFieldErrors, parseField,
  type ExperimentConfig,
} from './config';

type FieldErrors = Partial<Record<keyof ExperimentConfig, string>>;

interface ConfigState {
  /** the last valid config: what the worker runs with */
  config: ExperimentConfig;
  /** per-setting message for a value the user typed that was refused */
  fieldErrors: FieldErrors;
  /** problems found in the address bar on load */
  urlWarnings: string[];
  /** Validates user text for one setting; applies it only when valid. Returns whether it was applied. */
  setField: <K extends keyof ExperimentConfig>(key: K, raw: string) => boolean;
  dismissUrlWarnings: () => void;
}

function initialConfig(): { config: ExperimentConfig; warnings: string[] } {
  if (typeof window === 'undefined') return configFromSearch('');
  return configFromSearch(window.location.search);
}

function writeUrl(config: ExperimentConfig): void {
  if (typeof window === 'undefined') return;
  const url = `${window.location.pathname}${configToSearch(config)}${window.location.hash}`;
  window.history.replaceState(null, '', url);
}

const initial = initialConfig();

export const useConfigStore = create<ConfigState>((set, get) => ({
  config: initial.config,
  fieldErrors: {},
  urlWarnings: initial.warnings,
  setField: (key, raw) => {
    const parsed = parseField(key, raw);
    const fieldErrors: FieldErrors = { ...get().fieldErrors };
    delete fieldErrors[key];
    if (!parsed.ok) {
      set({ fieldErrors: { ...fieldErrors, [key]: parsed.error } });
      return false;
    }
    const candidate = { ...get().config, [key]: parsed.value };
    const crossErrors = crossFieldErrors(candidate);
    const crossError = Object.values(crossErrors)[0];
    if (crossError) {
      set({ fieldErrors: { ...fieldErrors, [key]: crossError } });
      return false;
    }
    // a fixed cross-field problem clears the message on the other field too
    for (const k of CROSS_FIELD_KEYS) delete fieldErrors[k];
    set({ config: candidate, fieldErrors });
    writeUrl(candidate);
    return true;
  },
  dismissUrlWarnings: () => set({ urlWarnings: [] }),
}));
