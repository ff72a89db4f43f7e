import { useEffect, useId, useRef, useState } from 'react';
import './augment.css';
import {
  describeOperator, pipelinesEqual, PRESET_NAMES, validatePipeline,
  type AugmentOperator, type AugmentPipeline, type PresetName,
} from '../core/pipeline';

/** A problem with a pipeline: which operator (index in pipeline order) and which of its fields, if known. */
export interface PipelineIssue {
  operator: number | null;
  field: string | null;
  message: string;
}

export interface AugmentControlsProps {
  pipeline: AugmentPipeline;
  /** called only with pipelines that pass validatePipeline */
  onChange(next: AugmentPipeline): void;
  /** problems found outside (e.g. in the URL), shown next to their controls */
  errors: PipelineIssue[];
  preset: PresetName | 'custom';
  onPreset(name: PresetName): void;
}

type FieldName = 'p' | 'scaleMin' | 'scaleMax' | 'ratioMin' | 'ratioMax' | 'strength' | 'sigmaMin' | 'sigmaMax' | 'count' | 'size' | 'sigma';

/** One numeric parameter: its slider's range and how to read and write it on the operator. */
interface NumberField {
  name: FieldName;
  label: string;
  min: number;
  max: number;
  step: number;
  value: number;
  set(v: number): AugmentOperator;
}

/** Fields shown together, with the errors of `group` (the operator's property name) under them. */
interface FieldGroup {
  group: string;
  label: string;
  fields: NumberField[];
}

const probability = (op: AugmentOperator): FieldGroup => ({
  group: 'p', label: 'probability p',
  fields: [{ name: 'p', label: 'p', min: 0, max: 1, step: 0.05, value: op.p, set: (p) => ({ ...op, p }) }],
});

/** The sliders of one operator, in display order. Slider ranges are the useful ranges; typed values may go beyond. */
function fieldGroupsOf(op: AugmentOperator): FieldGroup[] {
  switch (op.kind) {
    case 'crop':
      // p is ignored for crop (always applied), so it gets no slider
      return [
        { group: 'scale', label: 'area scale', fields: [
          { name: 'scaleMin', label: 'min', min: 0.05, max: 1, step: 0.01, value: op.scale[0], set: (v) => ({ ...op, scale: [v, op.scale[1]] }) },
          { name: 'scaleMax', label: 'max', min: 0.05, max: 1, step: 0.01, value: op.scale[1], set: (v) => ({ ...op, scale: [op.scale[0], v] }) },
        ] },
        { group: 'ratio', label: 'aspect ratio w/h', fields: [
          { name: 'ratioMin', label: 'min', min: 0.25, max: 4, step: 0.05, value: op.ratio[0], set: (v) => ({ ...op, ratio: [v, op.ratio[1]] }) },
          { name: 'ratioMax', label: 'max', min: 0.25, max: 4, step: 0.05, value: op.ratio[1], set: (v) => ({ ...op, ratio: [op.ratio[0], v] }) },
        ] },
      ];
    case 'colorJitter':
      return [probability(op), { group: 'strength', label: 'strength s', fields: [
        { name: 'strength', label: 's', min: 0, max: 2, step: 0.05, value: op.strength, set: (strength) => ({ ...op, strength }) },
      ] }];
    case 'blur':
      return [probability(op), { group: 'sigma', label: 'σ range (px)', fields: [
        { name: 'sigmaMin', label: 'min', min: 0, max: 5, step: 0.05, value: op.sigma[0], set: (v) => ({ ...op, sigma: [v, op.sigma[1]] }) },
        { name: 'sigmaMax', label: 'max', min: 0, max: 5, step: 0.05, value: op.sigma[1], set: (v) => ({ ...op, sigma: [op.sigma[0], v] }) },
      ] }];
    case 'cutout':
      return [
        probability(op),
        { group: 'count', label: 'squares', fields: [
          { name: 'count', label: 'count', min: 1, max: 8, step: 1, value: op.count, set: (count) => ({ ...op, count }) },
        ] },
        { group: 'size', label: 'square side (of image side)', fields: [
          { name: 'size', label: 'size', min: 0.05, max: 1, step: 0.01, value: op.size, set: (size) => ({ ...op, size }) },
        ] },
      ];
    case 'noise':
      return [probability(op), { group: 'sigma', label: 'noise σ', fields: [
        { name: 'sigma', label: 'σ', min: 0, max: 0.5, step: 0.01, value: op.sigma, set: (sigma) => ({ ...op, sigma }) },
      ] }];
    case 'flip':
    case 'grayscale':
    case 'rotate':
    case 'sobel':
      return [probability(op)];
  }
}

/**
 * The control group an error belongs to: its field with any index or Min/Max
 * suffix dropped ('scale[0]', 'scale.1', 'scaleMin' → 'scale').
 */
function groupOf(field: string | null): string | null {
  return field === null ? null : field.replace(/[[.].*$/, '').replace(/(Min|Max)$/, '');
}

const withOperator = (pipeline: AugmentPipeline, index: number, op: AugmentOperator): AugmentPipeline => ({
  ...pipeline,
  operators: pipeline.operators.map((o, i) => (i === index ? op : o)),
});

function without(drafts: Record<string, string>, key: string): Record<string, string> {
  const rest = { ...drafts };
  delete rest[key];
  return rest;
}

/** Enough digits to tell values apart, without float noise such as 0.30000000000000004 or 1.3333333. */
const show = (v: number) => String(Number(v.toFixed(3)));

interface LocalState {
  /** the pipeline prop this state belongs to */
  seen: AugmentPipeline;
  /** the last pipeline this component passed to onChange */
  emitted: AugmentPipeline | null;
  /** the user's refused pipeline, shown instead of the prop until fixed or replaced */
  attempt: AugmentPipeline | null;
  errors: PipelineIssue[];
  /** text typed into number boxes, by `<kind>-<field>`, so half-typed numbers like "0." survive */
  drafts: Record<string, string>;
}

/**
 * Edits an augmentation pipeline: a preset, then one row per operator in
 * pipeline order. Every change is checked with validatePipeline; a refused
 * change is shown with its message and the last good pipeline stays in force.
 */
export function AugmentControls({ pipeline, onChange, errors, preset, onPreset }: AugmentControlsProps) {
  const uid = useId();
  const [local, setLocal] = useState<LocalState>({ seen: pipeline, emitted: null, attempt: null, errors: [], drafts: {} });
  // a pipeline from outside (preset, URL, reset) replaces whatever the user was attempting; our own echo does not
  if (local.seen !== pipeline) {
    const ownEcho = local.emitted !== null && pipelinesEqual(pipeline, local.emitted);
    setLocal(ownEcho ? { ...local, seen: pipeline } : { seen: pipeline, emitted: null, attempt: null, errors: [], drafts: {} });
  }
  const shown = local.attempt ?? pipeline;
  const allErrors = [...errors, ...local.errors];

  // keep keyboard focus on a move button after its row moves (React may re-insert the focused node)
  const focusAfterMove = useRef<{ kind: string; direction: 'up' | 'down' } | null>(null);
  useEffect(() => {
    const target = focusAfterMove.current;
    if (!target) return;
    const byId = (d: string) => document.getElementById(`${uid}-${target.kind}-${d}`) as HTMLButtonElement | null;
    const button = byId(target.direction);
    const fallback = byId(target.direction === 'up' ? 'down' : 'up');
    if (button && !button.disabled) button.focus();
    else fallback?.focus();
    focusAfterMove.current = null;
  });

  function tryChange(next: AugmentPipeline, drafts = local.drafts, keepDraft?: string) {
    const result = validatePipeline(next);
    if (result.errors.length === 0 && result.pipeline) {
      // the box being typed in keeps its text ("0." must not become "0"); the rest show the applied values
      const kept = keepDraft !== undefined && keepDraft in drafts ? { [keepDraft]: drafts[keepDraft] } : {};
      setLocal({ seen: pipeline, emitted: result.pipeline, attempt: null, errors: [], drafts: kept });
      onChange(result.pipeline);
    } else {
      setLocal({ ...local, drafts, attempt: next, errors: result.errors });
    }
  }

  function typeValue(index: number, op: AugmentOperator, field: NumberField, text: string) {
    const key = `${op.kind}-${field.name}`;
    const drafts = { ...local.drafts, [key]: text };
    const value = text.trim() === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(value)) {
      setLocal({
        ...local, drafts, attempt: shown,
        errors: [{ operator: index, field: field.name, message: `“${text}” is not a number: type a value such as ${show(field.value)}.` }],
      });
      return;
    }
    tryChange(withOperator(shown, index, field.set(value)), drafts, key);
  }

  function slide(index: number, op: AugmentOperator, field: NumberField, value: number) {
    tryChange(withOperator(shown, index, field.set(value)), without(local.drafts, `${op.kind}-${field.name}`));
  }

  function move(index: number, direction: 'up' | 'down') {
    const to = direction === 'up' ? index - 1 : index + 1;
    if (to < 0 || to >= shown.operators.length) return;
    const operators = shown.operators.slice();
    [operators[index], operators[to]] = [operators[to], operators[index]];
    focusAfterMove.current = { kind: shown.operators[index].kind, direction };
    tryChange({ ...shown, operators });
  }

  const errorList = (list: PipelineIssue[], id?: string) =>
    list.length > 0 && (
      <ul className="aug-errors" id={id}>
        {list.map((e, k) => (
          <li key={k} role="alert" data-testid="aug-error">{e.message}</li>
        ))}
      </ul>
    );

  return (
    <div className="aug-controls" data-testid="aug-controls">
      <div className="field aug-preset-field">
        <label htmlFor={`${uid}-preset`}>Preset</label>
        <select
          id={`${uid}-preset`}
          data-testid="aug-preset"
          value={preset}
          onChange={(e) => {
            setLocal({ seen: pipeline, emitted: null, attempt: null, errors: [], drafts: {} });
            onPreset(e.target.value as PresetName);
          }}
        >
          {PRESET_NAMES.map((name) => <option key={name} value={name}>{name}</option>)}
          {preset === 'custom' && <option value="custom" disabled>custom</option>}
        </select>
      </div>
      {errorList(allErrors.filter((e) => e.operator === null || e.operator >= shown.operators.length))}
      <ol className="aug-ops">
        {shown.operators.map((op, index) => {
          const { title, tooltip } = describeOperator(op.kind);
          const base = `${uid}-${op.kind}`;
          const opErrors = allErrors.filter((e) => e.operator === index);
          const groups = fieldGroupsOf(op);
          const groupNames = new Set(groups.map((g) => g.group));
          const rowErrors = opErrors.filter((e) => !groupNames.has(groupOf(e.field) ?? ''));
          return (
            <li key={op.kind} className={`aug-op${op.enabled ? '' : ' aug-op-off'}`} data-testid={`aug-op-${op.kind}`}>
              <div className="aug-op-head">
                <input
                  id={`${base}-enabled`}
                  type="checkbox"
                  checked={op.enabled}
                  data-testid={`aug-op-${op.kind}-enabled`}
                  onChange={(e) => tryChange(withOperator(shown, index, { ...op, enabled: e.target.checked }))}
                />
                <label htmlFor={`${base}-enabled`} className="aug-op-title" title={tooltip}>{title}</label>
                <details className="aug-info">
                  <summary aria-label={`About ${title}`} title={tooltip}>i</summary>
                  <p>{tooltip}</p>
                </details>
                <span className="aug-move">
                  <button
                    id={`${base}-up`} type="button" aria-label={`Move ${title} earlier`} title="Apply earlier"
                    disabled={index === 0} onClick={() => move(index, 'up')}
                  >↑</button>
                  <button
                    id={`${base}-down`} type="button" aria-label={`Move ${title} later`} title="Apply later"
                    disabled={index === shown.operators.length - 1} onClick={() => move(index, 'down')}
                  >↓</button>
                </span>
              </div>
              {groups.map((g) => {
                const groupErrors = opErrors.filter((e) => groupOf(e.field) === g.group);
                const errorId = groupErrors.length > 0 ? `${base}-${g.group}-errors` : undefined;
                return (
                  <div key={g.group} className={`aug-param${groupErrors.length ? ' aug-param-invalid' : ''}`} role="group" aria-label={`${title}: ${g.label}`}>
                    <span className="aug-param-label">{g.label}</span>
                    {g.fields.map((f) => {
                      const key = `${op.kind}-${f.name}`;
                      const id = `${base}-${f.name}`;
                      const name = g.fields.length > 1 ? `${title} ${g.label} ${f.label}` : `${title} ${g.label}`;
                      return (
                        <div key={f.name} className="aug-slider">
                          {g.fields.length > 1 && <label htmlFor={id} className="aug-slider-label">{f.label}</label>}
                          <input
                            id={id} type="range" min={f.min} max={f.max} step={f.step}
                            value={Math.min(f.max, Math.max(f.min, f.value))}
                            data-testid={`aug-op-${op.kind}-${f.name}`}
                            aria-label={name} aria-valuetext={show(f.value)}
                            aria-invalid={groupErrors.length ? true : undefined} aria-describedby={errorId}
                            onChange={(e) => slide(index, op, f, Number(e.target.value))}
                          />
                          <input
                            type="text" inputMode="decimal" className="aug-number"
                            value={local.drafts[key] ?? show(f.value)}
                            data-testid={`aug-op-${op.kind}-${f.name}-input`}
                            aria-label={`${name}, typed value`}
                            aria-invalid={groupErrors.length ? true : undefined} aria-describedby={errorId}
                            onChange={(e) => typeValue(index, op, f, e.target.value)}
                            onBlur={() => {
                              if (local.errors.length === 0 && key in local.drafts) setLocal({ ...local, drafts: without(local.drafts, key) });
                            }}
                          />
                        </div>
                      );
                    })}
                    {errorList(groupErrors, errorId)}
                  </div>
                );
              })}
              {errorList(rowErrors)}
            </li>
          );
        })}
      </ol>
    </div>
  );
}
