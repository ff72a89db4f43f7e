import { describe, expect, it } from 'vitest';
import { cleanName, DISPLAY_PATH_MAX, DISPLAY_REASON_MAX, displayPath, displayReason, graphemes, shortenName } from './text';

describe('displayPath', () => {
  it('keeps markup and quotes as they are: the UI shows them as text', () => {
    const name = 'pets/<img src=x onerror="alert(1)">/it\'s "a" `cat`.png';
    expect(displayPath(name)).toBe(name);
  });

  it('removes bidi overrides, invisible and control characters, and makes one line', () => {
    expect(displayPath('invoice\u202Egnp.exe')).toBe('invoicegnp.exe');
    expect(displayPath('a\u2066b\u2069\u200Bc\uFEFF.png')).toBe('abc.png');
    expect(displayPath('line\nbreak\ttab\u0000nul.png')).toBe('line break tab nul.png');
    expect(displayPath('lone \uD800 half.png')).toBe('lone \uFFFD half.png');
    expect(displayPath('\u202E\u0007  ')).toBe('(no visible name)');
  });

  it('cuts a long path in the middle, keeping where it is and the file’s name', () => {
    const long = `pets.zip/${'a'.repeat(300)}/photo-of-my-cat.png`;
    const shown = displayPath(long);
    expect(graphemes(shown)).toHaveLength(DISPLAY_PATH_MAX);
    expect(shown.startsWith('pets.zip/aaa')).toBe(true);
    expect(shown.endsWith('aaa/photo-of-my-cat.png')).toBe(true);
    expect(shown).toContain('…');
    // a million characters cost no more than a few hundred
    expect(graphemes(displayPath('b'.repeat(1_000_000)))).toHaveLength(DISPLAY_PATH_MAX);
    // a cut through a surrogate pair is mended, and piles of combining marks are capped
    expect(displayPath('😀'.repeat(500_000))).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(displayPath(`x${'\u0336'.repeat(1000)}.png`)).toBe(`x${'\u0336'.repeat(4)}.png`);
    expect(displayPath(`x${'\u0336'.repeat(100_000)}.png`).length).toBeLessThan(40);
    // emoji stay whole
    expect(displayPath('👩‍👩‍👧'.repeat(100))).toMatch(/^(👩‍👩‍👧)+…(👩‍👩‍👧)+$/u);
  });
});

describe('displayReason and the name helpers', () => {
  it('bounds a reason to one clean line', () => {
    expect(displayReason('not an image: text')).toBe('not an image: text');
    expect(displayReason(`could not be read (${'e'.repeat(1000)}\n)`)).toHaveLength(DISPLAY_REASON_MAX);
  });

  it('cleans and shortens names as datasetName does', () => {
    expect(cleanName('  my\n  <b>pets</b> ')).toBe('my <b>pets</b>');
    expect(shortenName('abc def', 5)).toBe('abc…');
  });
});
