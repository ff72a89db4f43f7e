/**
 * Labels from file paths, by the ImageFolder convention: an image's class is
 * the name of the folder it sits in (`pets/cat/1.png` → "cat"). Pure: runs in
 * Node tests. Class names stay plain text; nothing here or in the UI ever
 * interprets them as markup.
 */
import { UNLABELLED } from '../dataset';
import { cleanName, displayPath } from './text';

/** Path segments: `\` counts as a separator (zips made on Windows), empty and `.` segments dropped. */
export function splitPath(path: string): string[] {
  return path.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
}

const JUNK_FILES = new Set(['thumbs.db', 'desktop.ini']);

/**
 * Operating-system clutter, ignored without a word: anything inside a folder
 * or named with a leading dot (`.DS_Store`, `._x.png`, `.git/`), macOS's
 * `__MACOSX/` resource forks in zips, and Windows' Thumbs.db and desktop.ini.
 * `..` is not clutter but a way out of the folder: see unsafePathReason.
 */
export function isHiddenPath(path: string): boolean {
  const segments = splitPath(path);
  const last = segments[segments.length - 1] ?? '';
  return segments.some((s) => (s.startsWith('.') && s !== '..') || s === '__MACOSX') || JUNK_FILES.has(last.toLowerCase());
}

/**
 * Why a path is not safe to take, or null when it is. A path that climbs out
 * of its folder (`../evil.png`, `a/../../b.png`, `..\x.png`) or starts at the
 * root of a disk (`/etc/x.png`, `C:\x.png`, `\\server\x.png`) is how a zip
 * writes outside the folder it is unzipped to ("zip slip"). Nothing here
 * writes files, but such a path is never a sensible image's, so it is
 * skipped, with this reason, before anything else is said about it.
 * `where` names the folder it would leave: "the zip's folder", "the upload's folder".
 */
export function unsafePathReason(path: string, where: string): string | null {
  if (splitPath(path).includes('..')) return `its path leaves ${where} (../): skipped for safety`;
  if (/^[\\/]/.test(path) || /^[a-z]:([\\/]|$)/i.test(path)) return `its path is absolute (it starts at the root of a disk, not in ${where}): skipped for safety`;
  return null;
}

export function isZipName(path: string): boolean {
  return /\.zip$/i.test(path);
}

export interface Labelling {
  /** one per path, an index into classNames, or UNLABELLED (−1) for every path of an unlabelled set */
  labels: Int32Array;
  /** sorted; empty when unlabelled */
  classNames: string[];
  /** images per class; empty when unlabelled */
  classCounts: number[];
  labelled: boolean;
  /** why the set has no labels, for the summary */
  unlabelledReason?: string;
}

/** Natural order, so "class2" comes before "class10"; code points break ties. */
const collator = new Intl.Collator('en', { numeric: true });
function compareNames(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Number of leading folders shared by every path, when every path lies
 * below them: the folder the user picked (`root/cat/1.png`) is not a class.
 */
function commonRootDepth(paths: readonly string[][]): number {
  let depth = 0;
  for (;;) {
    const first = paths[0]?.[depth];
    const shared = paths.length > 0 && paths.every((p) => p.length > depth + 1 && p[depth] === first);
    if (!shared) return depth;
    depth += 1;
  }
}

/**
 * Classes from the images' paths (zip entries by their path inside the zip).
 * Folders common to every path are not classes; a file directly in the
 * upload's top level has none. The set is labelled only when every image has
 * a class and there are at least two; otherwise every label is UNLABELLED and
 * `unlabelledReason` says why.
 */
export function labelsFromPaths(paths: readonly string[]): Labelling {
  const segments = paths.map(splitPath);
  const depth = commonRootDepth(segments);
  // cleaned: a folder name's bidi overrides and control characters would reorder or hide the text around it
  const classOf = segments.map((s) => (s.length - depth >= 2 ? cleanName(s[s.length - 2]) || '(no visible name)' : null));

  const unlabelled = (reason: string): Labelling => ({
    labels: new Int32Array(paths.length).fill(UNLABELLED),
    classNames: [],
    classCounts: [],
    labelled: false,
    unlabelledReason: reason,
  });

  if (paths.length === 0) return unlabelled('There are no images.');
  const loose = classOf.filter((c) => c === null).length;
  if (loose === paths.length) {
    const root = depth > 0 ? segments[0][depth - 1] : null;
    return unlabelled(
      root !== null
        ? `All images are in one folder (“${displayPath(root)}”) with no class folders inside it, so the set has no labels. ` +
            'Put each class in its own folder to get labels.'
        : 'No image is inside a folder, so the set has no labels. Put each class in its own folder (cat/1.png, dog/2.png) to get labels.',
    );
  }
  if (loose > 0) {
    const example = paths[classOf.indexOf(null)];
    return unlabelled(
      `${loose} of ${paths.length} images are not inside a class folder (for example “${displayPath(example)}”), so the set has no labels. ` +
        'Put every image in a folder named after its class to get labels.',
    );
  }

  const classNames = [...new Set(classOf as string[])].sort(compareNames);
  if (classNames.length < 2) {
    return unlabelled(`All images are in one class folder (“${displayPath(classNames[0])}”); labels need at least two, so the set has no labels.`);
  }
  const index = new Map(classNames.map((name, k) => [name, k]));
  const labels = Int32Array.from(classOf, (c) => index.get(c as string)!);
  const classCounts = new Array<number>(classNames.length).fill(0);
  for (const label of labels) classCounts[label] += 1;
  return { labels, classNames, classCounts, labelled: true };
}
