/**
 * How one setting is declared: its URL key, label, help, limits and whether a
 * change needs a fresh encoder. The experiment config (config.ts) and the
 * methods' own settings (methods.ts) are tables of these.
 */
export interface FieldBase {
  /** short key in the address bar */
  url: string;
  label: string;
  help: string;
  /** true when a change only takes effect on a new encoder */
  needsReset: boolean;
}
export interface NumberField extends FieldBase {
  kind: 'number';
  integer: boolean;
  min: number;
  max: number;
  /** the minimum itself is not allowed (τ > 0, lr > 0) */
  minExclusive?: boolean;
  /** the maximum itself is not allowed (a momentum m < 1) */
  maxExclusive?: boolean;
  step?: number;
}
export interface BooleanField extends FieldBase {
  kind: 'boolean';
}
export interface EnumField extends FieldBase {
  kind: 'enum';
  options: readonly { value: string; label: string }[];
}
/** The augmentation pipeline: validated and encoded by src/core/pipeline.ts. */
export interface PipelineField extends FieldBase {
  kind: 'pipeline';
}
/** A dataset id: a built-in or an upload stored in this browser. */
export interface DatasetField extends FieldBase {
  kind: 'dataset';
}
export type FieldSpec = NumberField | BooleanField | EnumField | PipelineField | DatasetField;

export const num = (
  url: string, label: string, help: string, min: number, max: number,
  opts: { integer?: boolean; minExclusive?: boolean; maxExclusive?: boolean; needsReset?: boolean; step?: number } = {},
): NumberField => ({
  kind: 'number', url, label, help, min, max,
  integer: opts.integer ?? false,
  minExclusive: opts.minExclusive,
  maxExclusive: opts.maxExclusive,
  needsReset: opts.needsReset ?? false,
  step: opts.step,
});

