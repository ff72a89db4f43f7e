/**
 * The name of an uploaded image set: proposed from what was uploaded
 * (`flowers.zip` → "flowers", the folder `flowers/` → "flowers"), kept apart
 * from the names of the other stored sets ("flowers (2)"), and checked when
 * the user renames a set. Pure: runs in Node tests.
 *
 * Names are plain text. Nothing here escapes markup: a name like
 * `<b>pets</b>` stays exactly that, and the UI shows it as text (React text
 * nodes and `<option>` labels), never as HTML.
 */
import { isHiddenPath, isZipName, splitPath } from './paths';
import { cleanName, nameLength, shortenName as shortenText } from './text';

/** Longest name, in characters as a person counts them (graphemes), the ellipsis included. */
export const NAME_MAX = 60;

export { cleanName, nameLength } from './text';

/** At most `max` characters; a longer name is cut and ends in “…” (within the `max`). */
export function shortenName(name: string, max = NAME_MAX): string {
  return shortenText(name, max);
}

/** A file's name without its last extension: `flowers.zip` → "flowers", `a.tar.zip` → "a.tar". */
function stem(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(0, dot) : fileName;
}

const dayFormat = new Intl.DateTimeFormat('en', { month: 'short', day: 'numeric' });

/** For loose files: what the set holds and when it came, e.g. "3 images (Dec 1)". */
export function looseFilesName(imageCount: number, date: Date): string {
  return `${imageCount} image${imageCount === 1 ? '' : 's'} (${dayFormat.format(date)})`;
}

/**
 * The name an upload suggests, from the paths as uploaded (a folder's files
 * as `flowers/roses/a.png`, a zip as `flowers.zip`), before cleaning:
 * - a single .zip: its file name without the extension;
 * - files that all sit in one top folder: that folder's name;
 * - a single file: its name without the extension;
 * - anything else: how many images it gave and the day, "3 images (Dec 1)".
 * Hidden files (`.DS_Store`, `__MACOSX/`) do not count.
 */
export function proposeUploadName(paths: readonly string[], imageCount: number, date: Date): string {
  const segments = paths.filter((p) => !isHiddenPath(p)).map(splitPath).filter((s) => s.length > 0);
  const only = segments.length === 1 ? segments[0] : null;
  if (only && isZipName(only[only.length - 1])) return stem(only[only.length - 1]);
  const top = segments[0]?.[0];
  if (top !== undefined && segments.every((s) => s.length >= 2 && s[0] === top)) return top;
  if (only) return stem(only[only.length - 1]);
  return looseFilesName(imageCount, date);
}

/** Names compare as a person reads them: cleaned, case and width ignored. */
function sameName(a: string, b: string): boolean {
  return cleanName(a).normalize('NFKC').toLowerCase() === cleanName(b).normalize('NFKC').toLowerCase();
}

/**
 * `name` if no name in `taken` is the same, else the first free of
 * "name (2)", "name (3)", …, each at most NAME_MAX characters (the name is
 * shortened to leave room for the number).
 */
export function uniqueName(name: string, taken: readonly string[]): string {
  const used = (candidate: string) => taken.some((t) => sameName(t, candidate));
  const plain = shortenName(name);
  if (!used(plain)) return plain;
  for (let k = 2; ; k++) {
    const suffix = ` (${k})`;
    const candidate = `${shortenName(name, NAME_MAX - suffix.length)}${suffix}`;
    if (!used(candidate)) return candidate;
  }
}

export interface UploadNaming {
  /** a name the user chose; blank or absent: the name comes from the files */
  given?: string;
  /** the uploaded files' paths */
  paths: readonly string[];
  /** images the upload gave (after skipping what could not be used) */
  imageCount: number;
  /** when the upload was made */
  date: Date;
  /** names of the sets already stored */
  taken: readonly string[];
}

/**
 * The stored name of a new upload: the given name or the proposed one,
 * cleaned, shortened to NAME_MAX, and kept apart from the taken names.
 * A proposed name that cleans to nothing (a zip called `\u0007.zip`)
 * gives way to "N images (day)".
 */
export function nameUpload(naming: UploadNaming): string {
  const given = cleanName(naming.given ?? '');
  const proposed = given || cleanName(proposeUploadName(naming.paths, naming.imageCount, naming.date));
  return uniqueName(proposed || looseFilesName(naming.imageCount, naming.date), naming.taken);
}

export type NameCheck = { ok: true; name: string } | { ok: false; message: string };

/**
 * A name the user typed for a stored set, cleaned as upload names are.
 * Refused, with what to do, when nothing visible is left, when it is longer
 * than NAME_MAX, or when another set (`others`, not the one renamed) has it.
 */
export function checkNewName(raw: string, others: readonly string[]): NameCheck {
  const name = cleanName(raw);
  if (name === '') {
    return { ok: false, message: 'A name needs at least one visible character. Type a name, or press Escape to keep the current one.' };
  }
  const length = nameLength(name);
  if (length > NAME_MAX) {
    return { ok: false, message: `That name is ${length} characters long; a name can have at most ${NAME_MAX}. Shorten it.` };
  }
  const clash = others.find((other) => sameName(other, name));
  if (clash !== undefined) {
    return { ok: false, message: `Another saved set is already called “${clash}”. Choose a different name.` };
  }
  return { ok: true, name };
}
