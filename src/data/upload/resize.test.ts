import { describe, expect, it } from 'vitest';
import { fitRect, resizeRgba, rgbaToRgb } from './resize';

describe('fitRect', () => {
  it('crops the centred square of wide, tall and square images', () => {
    expect(fitRect(400, 200, 32, 'crop')).toEqual({ src: { x: 100, y: 0, w: 200, h: 200 }, dst: { x: 0, y: 0, w: 32, h: 32 } });
    expect(fitRect(200, 401, 32, 'crop')).toEqual({ src: { x: 0, y: 100, w: 200, h: 200 }, dst: { x: 0, y: 0, w: 32, h: 32 } });
    expect(fitRect(50, 50, 64, 'crop')).toEqual({ src: { x: 0, y: 0, w: 50, h: 50 }, dst: { x: 0, y: 0, w: 64, h: 64 } });
  });

  it('letterboxes the whole image, centred', () => {
    expect(fitRect(400, 200, 32, 'letterbox')).toEqual({ src: { x: 0, y: 0, w: 400, h: 200 }, dst: { x: 0, y: 8, w: 32, h: 16 } });
    expect(fitRect(100, 300, 16, 'letterbox')).toEqual({ src: { x: 0, y: 0, w: 100, h: 300 }, dst: { x: 5, y: 0, w: 5, h: 16 } });
    expect(fitRect(10, 10, 64, 'letterbox')).toEqual({ src: { x: 0, y: 0, w: 10, h: 10 }, dst: { x: 0, y: 0, w: 64, h: 64 } });
    // a 1000:1 strip still gets a row
    expect(fitRect(10000, 10, 16, 'letterbox').dst).toEqual({ x: 0, y: 7, w: 16, h: 1 });
  });

  it('refuses empty sizes', () => {
    expect(() => fitRect(0, 10, 16, 'crop')).toThrow(RangeError);
  });
});

/** An RGBA image whose pixel (x, y) is (f(x, y), 0, 0, alpha). */
function image(w: number, h: number, f: (x: number, y: number) => number, alpha = 255): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      out.set([f(x, y), 0, 0, alpha], (y * w + x) * 4);
    }
  }
  return out;
}

const red = (rgb: Uint8Array, size: number, x: number, y: number) => rgb[(y * size + x) * 3];

describe('resizeRgba', () => {
  it('averages boxes when shrinking', () => {
    // 4×4 of 2×2 blocks: 0, 100 / 200, 40
    const src = image(4, 4, (x, y) => [[0, 100], [200, 40]][y >> 1][x >> 1]);
    const out = resizeRgba(src, 4, 4, 2, 'crop');
    expect(Array.from(out)).toEqual([0, 0, 0, 100, 0, 0, 200, 0, 0, 40, 0, 0]);
    // a 2-pixel checkerboard averages to mid grey
    const board = resizeRgba(image(8, 8, (x, y) => ((x + y) % 2) * 255), 8, 8, 4, 'crop');
    for (let i = 0; i < 16; i++) expect(board[i * 3]).toBeCloseTo(128, -1);
  });

  it('crops the centre of a wide image', () => {
    // left quarter 10, middle half 100, right quarter 250
    const src = image(8, 4, (x) => (x < 2 ? 10 : x < 6 ? 100 : 250));
    const out = resizeRgba(src, 8, 4, 4, 'crop');
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) expect(red(out, 4, x, y)).toBe(100);
  });

  it('letterboxes a tall image with black bars', () => {
    const out = resizeRgba(image(2, 8, () => 200), 2, 8, 8, 'letterbox');
    for (let y = 0; y < 8; y++) {
      expect([red(out, 8, 0, y), red(out, 8, 2, y), red(out, 8, 3, y), red(out, 8, 4, y), red(out, 8, 5, y), red(out, 8, 7, y)]).toEqual([0, 0, 200, 200, 0, 0]);
    }
  });

  it('interpolates when growing, and composites transparency over black', () => {
    const ramp = resizeRgba(image(2, 2, (x) => x * 200), 2, 2, 4, 'crop');
    expect([0, 1, 2, 3].map((x) => red(ramp, 4, x, 0))).toEqual([0, 50, 150, 200]);
    const half = resizeRgba(image(2, 2, () => 200, 128), 2, 2, 2, 'crop');
    expect(red(half, 2, 0, 0)).toBe(100);
  });

  it('checks the input length', () => {
    expect(() => resizeRgba(new Uint8Array(10), 2, 2, 2, 'crop')).toThrow(/expected 2×2×4/);
  });
});

describe('rgbaToRgb', () => {
  it('drops alpha', () => {
    expect(Array.from(rgbaToRgb(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])))).toEqual([1, 2, 3, 5, 6, 7]);
  });
});
