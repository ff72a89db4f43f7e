import { CONFIG_SCHEMA, type ExperimentConfig } from '../core/config';
import { METHOD_CATALOG, METHOD_SETTING_FIELDS, methodMenu, type MethodEntry } from '../core/methods';
import { useConfigStore } from '../state/configStore';
import { useRunStore } from '../state/runStore';
import { needsReset, training } from '../state/trainingClient';
import { ConfigField } from './ConfigField';

/** Settings that only some methods read: shown when the method in the menu reads them. */
const METHOD_ONLY = new Set<keyof ExperimentConfig>(['temperature', 'normalize', 'fusedLoss', ...(Object.keys(METHOD_SETTING_FIELDS) as (keyof ExperimentConfig)[])]);

const GROUPS: { title: string; keys: (keyof ExperimentConfig)[] }[] = [
  { title: 'Loss and optimizer', keys: ['batchSize', 'temperature', 'normalize', 'fusedLoss', 'learningRate'] },
  { title: 'Encoder f and head g', keys: ['imageSize', 'encoderWidth', 'projectionHead', 'projectionDim', 'fusedEncoder'] },
  { title: 'Linear probe and kNN', keys: ['probeEvery', 'probeTrainSize', 'probeTestSize', 'probeEpochs', 'knnEvery', 'knnK', 'knnTemperature'] },
  { title: 'Run', keys: ['seed', 'backend'] },
];

export function ConfigPanel() {
  const config = useConfigStore((s) => s.config);
  const applied = useRunStore((s) => s.appliedConfig);
  const pending = needsReset(config, applied);
  const method = METHOD_CATALOG[config.method];
  const dataset = useRunStore((s) => s.dataset);
  const menu = methodMenu(dataset, config);
  // methods that exist but cannot train on this dataset, with why (implemented ones only: the menu marks the rest)
  const unavailable = menu.flatMap((g) => g.options).filter((o) => o.reason && METHOD_CATALOG[o.value].available);
  // the method's own settings (queue, momentum, λ, …); τ and normalization stay with the loss settings
  const ownSettings = method.settings.filter((k) => k in METHOD_SETTING_FIELDS) as (keyof ExperimentConfig)[];
  return (
    <section className="panel config-panel" aria-label="Experiment settings">
      <h2>Settings</h2>
      {pending.length > 0 && (
        <div className="reset-notice" data-testid="reset-notice" role="status">
          {pending.map((k) => CONFIG_SCHEMA[k].label).join(', ')} changed: press <button type="button" onClick={training.reset}>Reset</button> to build a new encoder with {pending.length > 1 ? 'them' : 'it'}.
        </div>
      )}
      <fieldset className="method-settings" data-testid="method-settings">
        <legend>Method</legend>
        <ConfigField name="method" pendingReset={pending.includes('method')} optionGroups={menu} />
        <p className="hint method-summary" data-testid="method-summary">
          {method.summary}{' '}
          <a href={method.paper.url} target="_blank" rel="noreferrer">{method.paper.cite}</a>
        </p>
        <details className="method-about" data-testid="method-about">
          <summary>About {method.label}</summary>
          <p>{method.about}</p>
          <p className="hint">
            From {method.paper.cite}, <a href={method.paper.url} target="_blank" rel="noreferrer">“{method.paper.title}”</a>.
          </p>
        </details>
        {unavailable.length > 0 && (
          <p className="hint method-unavailable" data-testid="method-unavailable">
            Not offered on this dataset: {unavailable.map((o) => o.reason).join(' ')}
          </p>
        )}
        {ownSettings.map((k) => <ConfigField key={k} name={k} pendingReset={pending.includes(k)} />)}
        {method.collapseSwitches?.map((c) => <p key={c.setting} className="hint collapse-hint">{c.explanation}</p>)}
      </fieldset>
      {GROUPS.map((group) => (
        <fieldset key={group.title}>
          <legend>{group.title}</legend>
          {group.keys
            .filter((k) => !METHOD_ONLY.has(k) || method.settings.includes(k as MethodEntry['settings'][number]))
            .map((k) => <ConfigField key={k} name={k} pendingReset={pending.includes(k)} />)}
        </fieldset>
      ))}
      <p className="hint">Settings marked ↺ take effect after Reset; the others, augmentations included, apply from the next step. The address bar always holds the current settings, so a copied link reproduces this setup.</p>
    </section>
  );
}
