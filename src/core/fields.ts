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


// ---------------------------------------------------------------------------
// User text in messages
//
// A link can carry anything: a 100 KB value, a newline, a right-to-left
// override. Every piece of user text a message quotes goes through `quote`,
// so a warning stays one short, readable line of plain text.

/** Most characters of user text one message quotes. */
export const QUOTE_MAX = 40;

/** Characters that break a line or hide or reorder text: controls, format marks (bidi, zero-width), line separators, lone surrogates. */
const UNSAFE_CHAR = /^[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]$/u;

/** The code point as `\u000A` (`\u{1F600}` above U+FFFF), so the reader sees what was there. */
function escapeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  return code > 0xffff ? `\\u{${code.toString(16).toUpperCase()}}` : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * User text fit for a one-line message: unsafe characters escaped, cut to
 * `max` characters (then an ellipsis and, with `sayLength`, its full length).
 * Pure and total (never throws).
 */
export function clipText(text: string, max = QUOTE_MAX, sayLength = true): string {
  let out = '';
  let shown = 0;
  for (const ch of text) {
    const piece = UNSAFE_CHAR.test(ch) ? escapeChar(ch) : ch;
    if (out.length + piece.length > max) break;
    out += piece;
    shown += ch.length;
  }
  if (shown === text.length) return out;
  if (!sayLength) return `${out}…`;
  // count code points, as the reader would count characters
  const total = text.length - (text.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);
  return `${out}… (${total.toLocaleString('en-US')} characters)`;
}

/** User text in “quotes”, made safe and short by `clipText`. */
export function quote(text: string, max = QUOTE_MAX): string {
  return `“${clipText(text, max)}”`;
}

/**
 * Reads a decimal number the grammar has already accepted, refusing what a
 * double cannot hold: `1e400` (it would be Infinity) and `1e-400` (it would
 * silently be 0). Returns the number, or why it was refused in a few words.
 */
export function decimalValue(text: string): number | string {
  const value = Number(text);
  if (!Number.isFinite(value)) return 'is too large to store';
  if (value === 0 && /[1-9]/.test(text.split(/e/i)[0])) return 'is too close to 0 to store (it would read as 0)';
  // -0 reads as 0: no setting means anything different by it
  return value === 0 ? 0 : value;
}
