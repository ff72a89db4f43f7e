import { describe, expect, it } from 'vitest';
import {
  checkNewName,
  cleanName,
  looseFilesName,
  NAME_MAX,
  nameLength,
  nameUpload,
  proposeUploadName,
  shortenName,
  uniqueName,
} from './datasetName';

/** Noon local time, so the day is the same in every time zone the tests run in. */
const DEC_1 = new Date(2024, 11, 1, 12);

const name = (paths: string[], taken: string[] = [], imageCount = paths.length) =>
  nameUpload({ paths, imageCount, date: DEC_1, taken });

describe('proposeUploadName', () => {
  it('names a single zip after its file', () => {
    expect(proposeUploadName(['flowers.zip'], 40, DEC_1)).toBe('flowers');
    expect(proposeUploadName(['My Photos.ZIP'], 40, DEC_1)).toBe('My Photos');
    expect(proposeUploadName(['backup.2024.zip'], 40, DEC_1)).toBe('backup.2024');
    // a zip dropped from inside a folder: still the zip's name
    expect(proposeUploadName(['downloads/flowers.zip'], 40, DEC_1)).toBe('flowers');
  });

  it('names a folder after its top folder', () => {
    expect(proposeUploadName(['flowers/roses/a.png', 'flowers/tulips/b.png', 'flowers/c.png'], 3, DEC_1)).toBe('flowers');
    expect(proposeUploadName(['flowers\\roses\\a.png', 'flowers\\tulips\\b.png'], 2, DEC_1)).toBe('flowers');
    // clutter does not hide the common folder
    expect(proposeUploadName(['.DS_Store', 'flowers/a.png', 'flowers/b.png', '__MACOSX/flowers/._a.png'], 2, DEC_1)).toBe('flowers');
  });

  it('says what loose files are and when they came', () => {
    expect(proposeUploadName(['a.png', 'b.jpg', 'c.webp'], 3, DEC_1)).toBe('3 images (Dec 1)');
    // two top folders share nothing
    expect(proposeUploadName(['cats/a.png', 'dogs/b.png'], 2, DEC_1)).toBe('2 images (Dec 1)');
    // several zips, or a zip with loose files
    expect(proposeUploadName(['a.zip', 'b.zip'], 17, DEC_1)).toBe('17 images (Dec 1)');
    expect(proposeUploadName(['a.zip', 'x.png'], 5, DEC_1)).toBe('5 images (Dec 1)');
    expect(looseFilesName(1, DEC_1)).toBe('1 image (Dec 1)');
  });

  it('names a single image after its file', () => {
    expect(proposeUploadName(['cat.png'], 1, DEC_1)).toBe('cat');
    expect(proposeUploadName(['.hidden.png', 'cat.png'], 1, DEC_1)).toBe('cat');
  });

  it('counts the images the upload gave, not the files chosen', () => {
    expect(proposeUploadName(['a.png', 'b.png', 'notes.txt'], 2, DEC_1)).toBe('2 images (Dec 1)');
  });
});

describe('uniqueName', () => {
  it('appends (2), (3) to a name another set has', () => {
    expect(uniqueName('flowers', [])).toBe('flowers');
    expect(uniqueName('flowers', ['pets'])).toBe('flowers');
    expect(uniqueName('flowers', ['flowers'])).toBe('flowers (2)');
    expect(uniqueName('flowers', ['flowers', 'flowers (2)'])).toBe('flowers (3)');
    expect(uniqueName('flowers', ['flowers (2)'])).toBe('flowers');
  });

  it('compares names as a person reads them', () => {
    expect(uniqueName('Flowers', ['flowers'])).toBe('Flowers (2)');
    expect(uniqueName('caf\u00e9', ['cafe\u0301'])).toBe('caf\u00e9 (2)');
  });

  it('stays within the length limit with the number added', () => {
    const long = 'x'.repeat(NAME_MAX);
    const taken = [long];
    const second = uniqueName(long, taken);
    expect(second.endsWith('… (2)')).toBe(true);
    expect(nameLength(second)).toBe(NAME_MAX);
    taken.push(second);
    expect(uniqueName(long, taken).endsWith('… (3)')).toBe(true);
  });
});

describe('nameUpload', () => {
  it('proposes, cleans and keeps apart', () => {
    expect(name(['flowers.zip'])).toBe('flowers');
    expect(name(['flowers.zip'], ['flowers'])).toBe('flowers (2)');
    expect(name(['flowers/a.png', 'flowers/b.png'], ['flowers', 'flowers (2)'])).toBe('flowers (3)');
    expect(name(['a.png', 'b.png', 'c.png'], ['3 images (Dec 1)'])).toBe('3 images (Dec 1) (2)');
  });

  it('uses a name the user gave, and ignores a blank one', () => {
    expect(nameUpload({ given: '  my   pets ', paths: ['flowers.zip'], imageCount: 4, date: DEC_1, taken: [] })).toBe('my pets');
    expect(nameUpload({ given: ' \t ', paths: ['flowers.zip'], imageCount: 4, date: DEC_1, taken: [] })).toBe('flowers');
  });

  it('truncates a very long name with an ellipsis', () => {
    const result = name([`${'long '.repeat(40)}name.zip`]);
    expect(nameLength(result)).toBe(NAME_MAX);
    expect(result.endsWith('…')).toBe(true);
    expect(result.startsWith('long long')).toBe(true);
    // emoji with modifiers count as one character each and are never cut in half
    const emoji = name([`${'👩🏽‍💻'.repeat(100)}.zip`]);
    expect(nameLength(emoji)).toBe(NAME_MAX);
    expect(emoji).toBe(`${'👩🏽‍💻'.repeat(NAME_MAX - 1)}…`);
  });

  it('falls back to the loose-files name when a file name has nothing visible in it', () => {
    expect(name(['   .zip'], [], 4)).toBe('4 images (Dec 1)');
    expect(name(['\u0007\u0000.zip'], [], 4)).toBe('4 images (Dec 1)');
    expect(name(['\u202E\u200B.zip'], [], 4)).toBe('4 images (Dec 1)');
  });

  it('removes control characters and bidi overrides', () => {
    expect(name(['pets\u0000\u001b[31m.zip'])).toBe('pets [31m');
    expect(name(['evil\u202Egnp.exe.zip'])).toBe('evilgnp.exe');
    expect(name(['line\none\r\ntwo.zip'])).toBe('line one two');
    expect(name(['bad\uD800half.zip'])).toBe('bad\uFFFDhalf');
  });

  it('keeps names that look like HTML as they are: they are shown as text', () => {
    expect(name(['<img src=x onerror=alert(1)>.zip'])).toBe('<img src=x onerror=alert(1)>');
    // a folder's name cannot hold a slash, but angle brackets, quotes and ampersands are fine
    expect(name(['<svg onload="alert(1)">/a.png', '<svg onload="alert(1)">/b.png'])).toBe('<svg onload="alert(1)">');
    expect(name(['Tom &amp; Jerry.zip'])).toBe('Tom &amp; Jerry');
  });
});

describe('cleanName and shortenName', () => {
  it('makes one line of visible text', () => {
    expect(cleanName('  my\n  <b>pets</b> ')).toBe('my <b>pets</b>');
    expect(cleanName('a\u00a0\u2028b')).toBe('a b');
    expect(cleanName('   ')).toBe('');
    expect(cleanName('e\u0301')).toBe('\u00e9');
  });

  it('shortens only what is too long', () => {
    expect(shortenName('short')).toBe('short');
    expect(shortenName('x'.repeat(NAME_MAX))).toBe('x'.repeat(NAME_MAX));
    expect(shortenName('x'.repeat(NAME_MAX + 1))).toBe(`${'x'.repeat(NAME_MAX - 1)}…`);
    expect(shortenName('abc def', 5)).toBe('abc…');
  });
});

describe('checkNewName', () => {
  it('accepts a name and returns it cleaned', () => {
    expect(checkNewName('  Shapes,  my   own ', ['pets'])).toEqual({ ok: true, name: 'Shapes, my own' });
    expect(checkNewName('<i>shapes</i>', [])).toEqual({ ok: true, name: '<i>shapes</i>' });
  });

  it('refuses a name with nothing visible in it', () => {
    for (const raw of ['', '   ', '\t\n', '\u0000\u0007', '\u200B\u202E']) {
      const check = checkNewName(raw, []);
      expect(check.ok).toBe(false);
      expect(!check.ok && check.message).toMatch(/at least one visible character/);
    }
  });

  it('refuses a name that is too long, saying how long', () => {
    const check = checkNewName('y'.repeat(NAME_MAX + 5), []);
    expect(check).toEqual({ ok: false, message: `That name is ${NAME_MAX + 5} characters long; a name can have at most ${NAME_MAX}. Shorten it.` });
    expect(checkNewName('y'.repeat(NAME_MAX), []).ok).toBe(true);
  });

  it('refuses the name of another set', () => {
    const check = checkNewName('PETS ', ['flowers', 'pets']);
    expect(check).toEqual({ ok: false, message: 'Another saved set is already called “pets”. Choose a different name.' });
  });
});
