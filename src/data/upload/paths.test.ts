import { describe, expect, it } from 'vitest';
import { UNLABELLED } from '../dataset';
import { isHiddenPath, isZipName, labelsFromPaths, splitPath, unsafePathReason } from './paths';

describe('splitPath and isHiddenPath', () => {
  it('splits on both slashes and drops empty segments', () => {
    expect(splitPath('a/b\\cat//x.png')).toEqual(['a', 'b', 'cat', 'x.png']);
    expect(splitPath('./x.png')).toEqual(['x.png']);
  });

  it('knows operating-system clutter', () => {
    for (const p of ['.DS_Store', 'cats/.DS_Store', '__MACOSX/cat/._1.png', '.git/config', 'cat/._1.png', 'dogs/Thumbs.db', 'desktop.ini']) {
      expect(isHiddenPath(p), p).toBe(true);
    }
    for (const p of ['cat/1.png', 'my.cats/1.png', 'x.png']) expect(isHiddenPath(p), p).toBe(false);
  });

  it('knows paths that leave their folder or start at a disk’s root, and does not take them for hidden files', () => {
    const where = 'the zip’s folder';
    for (const p of ['../evil.png', '../../evil.png', 'a/../../b.png', '..\\x.png', 'a\\..\\..\\x.png', '../.hidden.png']) {
      expect(unsafePathReason(p, where), p).toBe('its path leaves the zip’s folder (../): skipped for safety');
    }
    for (const p of ['/etc/x.png', '\\\\server\\x.png', 'C:\\x.png', 'c:/x.png']) expect(unsafePathReason(p, where), p).toMatch(/^its path is absolute/);
    for (const p of ['cat/1.png', '..cat/1.png', 'cat../1.png', 'a:b.png', './x.png', '.DS_Store']) expect(unsafePathReason(p, where), p).toBeNull();
    expect(isHiddenPath('../../evil.png')).toBe(false);
    expect(isHiddenPath('../.DS_Store')).toBe(true);
  });

  it('knows zips by name', () => {
    expect(isZipName('pets.ZIP')).toBe(true);
    expect(isZipName('pets.zip.png')).toBe(false);
  });
});

describe('labelsFromPaths', () => {
  it('takes the parent folder as the class, sorted naturally', () => {
    const l = labelsFromPaths(['a/b/dog/1.png', 'a/b/cat/x.png', 'a/c/class10/y.png', 'a/c/class2/z.png']);
    expect(l.labelled).toBe(true);
    expect(l.classNames).toEqual(['cat', 'class2', 'class10', 'dog']);
    expect(Array.from(l.labels)).toEqual([3, 0, 2, 1]);
    expect(l.classCounts).toEqual([1, 1, 1, 1]);
    expect(l.unlabelledReason).toBeUndefined();
  });

  it('does not take a single root folder for a class', () => {
    const l = labelsFromPaths(['root/cat/1.png', 'root/cat/2.png', 'root/dog/3.png']);
    expect(l.classNames).toEqual(['cat', 'dog']);
    expect(Array.from(l.labels)).toEqual([0, 0, 1]);
    expect(l.classCounts).toEqual([2, 1]);
  });

  it('labels zip entries by their path inside the zip', () => {
    const l = labelsFromPaths(['cat/1.png', 'dog/2.png']);
    expect(l.classNames).toEqual(['cat', 'dog']);
  });

  it('leaves a set unlabelled when an image is at the top level, and says why', () => {
    const l = labelsFromPaths(['cat/1.png', 'dog/2.png', 'loose.png']);
    expect(l.labelled).toBe(false);
    expect(l.classNames).toEqual([]);
    expect(l.classCounts).toEqual([]);
    expect(Array.from(l.labels)).toEqual([UNLABELLED, UNLABELLED, UNLABELLED]);
    expect(l.unlabelledReason).toContain('1 of 3 images are not inside a class folder');
    expect(l.unlabelledReason).toContain('loose.png');
  });

  it('treats files directly in the picked folder as top level', () => {
    const l = labelsFromPaths(['root/cat/1.png', 'root/dog/2.png', 'root/3.png']);
    expect(l.labelled).toBe(false);
    expect(l.unlabelledReason).toContain('root/3.png');
  });

  it('leaves loose files, one folder of images, and one class unlabelled', () => {
    expect(labelsFromPaths(['1.png', '2.png']).unlabelledReason).toMatch(/No image is inside a folder/);
    const oneFolder = labelsFromPaths(['holiday/1.png', 'holiday/2.png']);
    expect(oneFolder.labelled).toBe(false);
    expect(oneFolder.unlabelledReason).toContain('one folder (“holiday”)');
    const oneClass = labelsFromPaths(['a/cat/1.png', 'b/cat/2.png']);
    expect(oneClass.labelled).toBe(false);
    expect(oneClass.unlabelledReason).toContain('one class folder (“cat”)');
    expect(labelsFromPaths([]).labelled).toBe(false);
  });

  it('keeps class names verbatim, markup included', () => {
    // a folder name cannot hold a slash, so no closing tags
    const evil = '<img src=x onerror="alert(1)">';
    const l = labelsFromPaths([`${evil}/1.png`, '<script>&amp;/2.png', 'plain/3.png']);
    expect(l.labelled).toBe(true);
    expect(l.classNames).toEqual(['<img src=x onerror="alert(1)">', '<script>&amp;', 'plain']);
  });

  it('drops bidi overrides and control characters from class names, and quotes long ones shortened in reasons', () => {
    const l = labelsFromPaths(['dog\u202E/1.png', 'dog/2.png', 'c\u0007at/3.png']);
    expect(l.classNames).toEqual(['c at', 'dog']);
    expect(l.classCounts).toEqual([1, 2]);
    const long = 'x'.repeat(300);
    const one = labelsFromPaths([`${long}/1.png`, `${long}/2.png`]);
    expect(one.unlabelledReason).toContain(`(“${'x'.repeat(32)}…${'x'.repeat(47)}”)`);
  });

  it('merges the composed and decomposed spellings of a name', () => {
    const l = labelsFromPaths(['caf\u00e9/1.png', 'cafe\u0301/2.png', 'tea/3.png']);
    expect(l.classNames).toEqual(['caf\u00e9', 'tea']);
    expect(l.classCounts).toEqual([2, 1]);
  });
});
