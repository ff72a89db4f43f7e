/**
 * A dataset's training images as an ImageFolder zip (issue 21): the layout
 * the exported train.py (and torchvision's ImageFolder) reads, one folder per
 * class holding that class's images as PNG:
 *
 *   <folder>/<class>/<index>.png       unlabelled images in <folder>/unlabelled/
 *
 * so a run that outgrows the browser moves to PyTorch with the very images it
 * trained on. Class names come from uploads: they are kept as text, with only
 * what a path cannot hold replaced (separators, control characters, a leading
 * dot, names a file system reserves), and two names that end up the same are
 * told apart by a suffix, so no class is merged into another.
 */
import { zipSync, type Zippable } from 'fflate';
import { encodePng } from './png';

export interface ImageFolderSource {
  /** count × S × S × channels bytes, row-major HWC per image, 0…255 */
  images: Uint8Array;
  /** class index per image; −1: unlabelled */
  labels: Int32Array;
  count: number;
  imageSize: number;
  channels: 1 | 3;
  classNames: readonly string[];
}

/** Names Windows reserves for devices, whatever the extension. */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

/** A class name as a folder name: the same text, minus what a path cannot hold. */
export function classFolderName(name: string): string {
  let safe = name
    .normalize('NFC')
    // separators, characters Windows refuses, and control characters
    .replace(/[/\\:*?"<>|\u0000-\u001f\u007f]/g, '_')
    .trim()
    .replace(/^\.+/, '_')
    .replace(/[. ]+$/, '');
  if (safe === '' || RESERVED.test(safe)) safe = `_${safe}`;
  // a folder name of at most 100 UTF-16 units keeps the whole path short
  return safe.length > 100 ? safe.slice(0, 100) : safe;
}

/** The folder of each class, in class order: distinct even when two names come out the same. */
export function classFolders(classNames: readonly string[]): string[] {
  const used = new Set<string>(['unlabelled']);
  return classNames.map((name, k) => {
    const base = classFolderName(name) || `class-${k}`;
    let folder = base;
    for (let n = 2; used.has(folder.toLowerCase()); n++) folder = `${base}-${n}`;
    used.add(folder.toLowerCase());
    return folder;
  });
}

/** The images as an ImageFolder zip under `folder` (stored, not deflated: PNG is compressed already). */
export function imageFolderZip(source: ImageFolderSource, folder = 'data'): Uint8Array {
  const { images, labels, count, imageSize: size, channels, classNames } = source;
  const pixels = size * size * channels;
  if (images.length < count * pixels || labels.length < count) throw new Error(`imageFolderZip: ${count} images of ${size}×${size}×${channels} need ${count * pixels} bytes and ${count} labels`);
  const folders = classFolders(classNames);
  const digits = String(Math.max(count - 1, 0)).length;
  const entries: Zippable = {};
  const rgba = new Uint8Array(size * size * 4);
  for (let i = 0; i < count; i++) {
    const image = images.subarray(i * pixels, (i + 1) * pixels);
    for (let p = 0; p < size * size; p++) {
      const r = image[p * channels];
      rgba[4 * p] = r;
      rgba[4 * p + 1] = channels === 3 ? image[p * 3 + 1] : r;
      rgba[4 * p + 2] = channels === 3 ? image[p * 3 + 2] : r;
      rgba[4 * p + 3] = 255;
    }
    const label = labels[i];
    const classFolder = label >= 0 && label < folders.length ? folders[label] : 'unlabelled';
    entries[`${folder}/${classFolder}/${String(i).padStart(digits, '0')}.png`] = [encodePng(rgba, size, size), { level: 0 }];
  }
  return zipSync(entries);
}
