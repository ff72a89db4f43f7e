/**
 * Untrusted text made fit to show: file names, zip entry paths and the
 * reasons that quote them. An upload's names are chosen by whoever made the
 * files, so they may hold markup, quotes, control characters, bidi overrides
 * (U+202E turns `gnp.exe` into what reads as `exe.png`) or hundreds of
 * characters. Nothing here escapes markup: the UI shows these strings as
 * text (React text nodes), never as HTML; this file only makes them one
 * visible line of bounded length. Pure: runs in Node tests.
 */

/** Longest path shown for a skipped file, in characters as a person counts them, the ellipsis included. */
export const DISPLAY_PATH_MAX = 80;
/** Longest reason shown for a skipped file: room for a path and a sentence or two. */
export const DISPLAY_REASON_MAX = 400;

const ELLIPSIS = '…';

/**
 * Invisible characters that would make two names look alike or reorder the
 * text around them: zero-width space, the byte-order mark, and the bidi
 * marks, embeddings, overrides and isolates. The zero-width (non-)joiners
 * stay: emoji sequences and several scripts need them.
 */
const INVISIBLE = /[\u200B\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;
/** C0 and C1 control characters and DEL. */
const CONTROL = /\p{Cc}/gu;
/** A surrogate half without its partner (a file name can hold one); it cannot be shown. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * One line of visible text: every run of whitespace (tabs and line breaks
 * included) becomes one space, control and invisible formatting characters
 * go, the ends are trimmed, and the text is put in Unicode NFC so that
 * names typed and names from file systems compare alike. Not shortened.
 */
export function cleanName(raw: string): string {
  return raw
    .replace(LONE_SURROGATE, '\uFFFD')
    // before whitespace: \s matches the byte-order mark, which goes without a trace
    .replace(INVISIBLE, '')
    .replace(/\s+/g, ' ')
    .replace(CONTROL, ' ')
    .normalize('NFC')
    .replace(/ {2,}/g, ' ')
    .trim();
}

const segmenter = typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;

/** The text's characters as a person counts them: an emoji with modifiers is one. */
export function graphemes(text: string): string[] {
  return segmenter ? Array.from(segmenter.segment(text), (s) => s.segment) : Array.from(text);
}

/** Length in characters as a person counts them. */
export function nameLength(name: string): number {
  return graphemes(name).length;
}

/** At most `max` characters; a longer name is cut and ends in “…” (within the `max`). */
export function shortenName(name: string, max: number): string {
  const chars = graphemes(name);
  if (chars.length <= max) return name;
  return `${chars.slice(0, Math.max(0, max - 1)).join('').trimEnd()}${ELLIPSIS}`;
}

/** More than this many combining marks on one character ("Zalgo" text) are dropped from what is shown. */
const MAX_MARKS = 4;
const MARK_RUN = new RegExp(`(\\p{M}{${MAX_MARKS}})\\p{M}+`, 'gu');

/**
 * A path or file name as the skipped-files list shows it: cleaned
 * (cleanName), combining marks capped at MAX_MARKS a character, and when
 * longer than `max` cut in the middle, so that both where it is
 * (`pets.zip/cat/…`) and the file's own name and extension stay in view. A
 * path that cleans to nothing shows as “(no visible name)”.
 */
export function displayPath(path: string, max = DISPLAY_PATH_MAX): string {
  // a name of a million characters is not cleaned and segmented whole: its two ends are enough (cleanName mends a pair cut in two)
  const window = max * 32;
  const ends = path.length > 2 * window ? `${path.slice(0, window)}${ELLIPSIS}${path.slice(-window)}` : path;
  const clean = cleanName(ends).replace(MARK_RUN, '$1');
  if (clean === '') return '(no visible name)';
  const chars = graphemes(clean);
  if (chars.length <= max) return clean;
  const tail = Math.floor((max - 1) * 0.6);
  const head = max - 1 - tail;
  return `${chars.slice(0, head).join('')}${ELLIPSIS}${chars.slice(chars.length - tail).join('')}`;
}

/** A reason as the skipped-files list shows it: one clean line of at most `max` characters. */
export function displayReason(reason: string, max = DISPLAY_REASON_MAX): string {
  const clean = cleanName(reason.length > max * 8 ? reason.slice(0, max * 8) : reason);
  return shortenName(clean, max);
}
