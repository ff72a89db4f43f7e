import { useEffect, useState } from 'react';
import { CONFIG_SCHEMA, type ExperimentConfig } from '../core/config';
import { useConfigStore } from '../state/configStore';
import './selects.css';

/** Test ids from the UI contract; other settings get config-<kebab-case key>. */
const TEST_IDS: Partial<Record<keyof ExperimentConfig, string>> = {
  method: 'method-select',
  batchSize: 'config-batch-size',
  temperature: 'config-temperature',
  normalize: 'config-normalize',
  fusedLoss: 'config-fused-loss',
  fusedEncoder: 'config-fused-encoder',
  learningRate: 'config-lr',
};

export function testIdOf(key: keyof ExperimentConfig): string {
  return TEST_IDS[key] ?? `config-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * One setting, drawn from its schema entry. Text the user types is kept as a
 * draft: a valid value is applied at once, an invalid one is refused with a
 * message next to the control and the last good value stays in force.
 */
export function ConfigField({ name, pendingReset, optionGroups }: {
  name: keyof ExperimentConfig;
  pendingReset?: boolean;
  /** an enum's options in groups, each option disabled where it carries a reason (the method menu) */
  optionGroups?: { label: string; options: { value: string; label: string; reason?: string; note?: string }[] }[];
}) {
  const spec = CONFIG_SCHEMA[name];
  const value = useConfigStore((s) => s.config[name]);
  const error = useConfigStore((s) => s.fieldErrors[name]);
  const setField = useConfigStore((s) => s.setField);
  const [draft, setDraft] = useState(String(value));
  const id = `field-${name}`;
  const testId = testIdOf(name);

  // follow outside changes (another control, a reset) when the draft is not in error
  useEffect(() => {
    if (!error) setDraft(String(value));
  }, [value, error]);

  const labelText = (
    <span className="field-label" title={spec.help}>
      {spec.label}
      {spec.needsReset && <span className="reset-mark" title="Takes effect after Reset">↺</span>}
    </span>
  );

  // the pipeline and the dataset have their own editors (AugmentControls, DatasetPanel)
  if (spec.kind === 'pipeline' || spec.kind === 'dataset') return null;

  let control;
  if (spec.kind === 'boolean') {
    control = (
      <input
        id={id} type="checkbox" data-testid={testId} checked={value as boolean}
        onChange={(e) => setField(name, e.target.checked ? '1' : '0')}
      />
    );
  } else if (spec.kind === 'enum') {
    control = (
      <select id={id} data-testid={testId} value={String(value)} onChange={(e) => setField(name, e.target.value)}>
        {optionGroups
          ? optionGroups.map((g) => (
            <optgroup key={g.label} label={g.label}>
              {g.options.map((o) => (
                <option key={o.value} value={o.value} disabled={o.reason !== undefined && o.value !== value} title={o.reason}>
                  {o.note ? `${o.label} (${o.note})` : o.label}
                </option>
              ))}
            </optgroup>
          ))
          : spec.options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
    );
  } else {
    control = (
      <input
        id={id} type="text" inputMode="decimal" data-testid={testId} value={draft}
        aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => {
          setDraft(e.target.value);
          setField(name, e.target.value);
        }}
      />
    );
  }

  return (
    <div className={`field field-${spec.kind}${error ? ' field-invalid' : ''}${pendingReset ? ' field-pending' : ''}`}>
      <label htmlFor={id}>{labelText}</label>
      {control}
      <small className="field-help">{spec.help}</small>
      {error && (
        <div className="field-error" id={`${id}-error`} role="alert" data-testid={`${testId}-error`}>{error}</div>
      )}
    </div>
  );
}
