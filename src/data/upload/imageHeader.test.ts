import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bmp as wholeBmp, gif as wholeGif, jpeg as wholeJpeg, webp as wholeWebp } from './fixtures.testutil';
import { checkImageData, checkImageSize, describeUnreadable, MAX_PIXELS, sniffImage } from './imageHeader';

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const le16 = (n: number) => [n & 255, (n >>> 8) & 255];
const le32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];

function crc32(bytes: number[]): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: number[]): number[] {
  const body = [...ascii(type), ...data];
  return [...be32(data.length), ...body, ...be32(crc32(body))];
}

/** A complete, valid RGB PNG (grey pixels), or with `headerOnly` just signature and IHDR. */
function png(width: number, height: number, headerOnly = false): Uint8Array {
  const ihdr = chunk('IHDR', [...be32(width), ...be32(height), 8, 2, 0, 0, 0]);
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (headerOnly) return Uint8Array.from([...signature, ...ihdr]);
  const raw = new Uint8Array(height * (1 + width * 3)).fill(128);
  for (let y = 0; y < height; y++) raw[y * (1 + width * 3)] = 0;
  const idat = chunk('IDAT', Array.from(deflateSync(raw)));
  return Uint8Array.from([...signature, ...ihdr, ...idat, ...chunk('IEND', [])]);
}

function jpeg(width: number, height: number, sof = 0xc0): Uint8Array {
  const app0 = [0xff, 0xe0, 0, 16, ...ascii('JFIF'), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const dqt = [0xff, 0xdb, 0, 67, 0, ...new Array(64).fill(1)];
  const frame = [0xff, sof, 0, 17, 8, (height >> 8) & 255, height & 255, (width >> 8) & 255, width & 255, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  // a fill byte before the frame marker is legal
  return Uint8Array.from([0xff, 0xd8, ...app0, ...dqt, 0xff, ...frame, 0xff, 0xd9]);
}

const gif = (w: number, h: number) => Uint8Array.from([...ascii('GIF89a'), ...le16(w), ...le16(h), 0, 0, 0]);

function bmp(w: number, h: number): Uint8Array {
  return Uint8Array.from([...ascii('BM'), ...le32(54), 0, 0, 0, 0, ...le32(54), ...le32(40), ...le32(w), ...le32(h), ...le16(1), ...le16(24), ...new Array(24).fill(0)]);
}

function riff(chunkType: string, payload: number[]): Uint8Array {
  return Uint8Array.from([...ascii('RIFF'), ...le32(4 + 8 + payload.length), ...ascii('WEBP'), ...ascii(chunkType), ...le32(payload.length), ...payload]);
}
const webpLossy = (w: number, h: number) => riff('VP8 ', [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, ...le16(w), ...le16(h), 0, 0]);
function webpLossless(w: number, h: number): Uint8Array {
  const bits = ((w - 1) | ((h - 1) << 14)) >>> 0;
  return riff('VP8L', [0x2f, ...le32(bits), 0, 0]);
}
const le24 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255];
const webpExtended = (w: number, h: number) => riff('VP8X', [0x10, 0, 0, 0, ...le24(w - 1), ...le24(h - 1)]);

describe('sniffImage', () => {
  it('reads PNG dimensions from a real PNG and from its header alone', () => {
    expect(sniffImage(png(7, 5))).toEqual({ format: 'png', width: 7, height: 5 });
    expect(sniffImage(png(300, 200, true))).toEqual({ format: 'png', width: 300, height: 200 });
  });

  it('reads JPEG dimensions from baseline, extended and progressive frames', () => {
    expect(sniffImage(jpeg(640, 480))).toEqual({ format: 'jpeg', width: 640, height: 480 });
    expect(sniffImage(jpeg(33, 1000, 0xc1))).toEqual({ format: 'jpeg', width: 33, height: 1000 });
    expect(sniffImage(jpeg(4032, 3024, 0xc2))).toEqual({ format: 'jpeg', width: 4032, height: 3024 });
  });

  it('reads GIF, BMP and the three kinds of WebP', () => {
    expect(sniffImage(gif(320, 240))).toEqual({ format: 'gif', width: 320, height: 240 });
    expect(sniffImage(bmp(64, 48))).toEqual({ format: 'bmp', width: 64, height: 48 });
    expect(sniffImage(webpLossy(500, 400))).toEqual({ format: 'webp', width: 500, height: 400 });
    expect(sniffImage(webpLossless(1, 16384))).toEqual({ format: 'webp', width: 1, height: 16384 });
    expect(sniffImage(webpExtended(3000, 2000))).toEqual({ format: 'webp', width: 3000, height: 2000 });
  });

  it('takes the absolute height of a top-down BMP, and reads OS/2 core headers', () => {
    expect(sniffImage(bmp(10, -20))).toEqual({ format: 'bmp', width: 10, height: 20 });
    const core = Uint8Array.from([...ascii('BM'), ...le32(26), 0, 0, 0, 0, ...le32(26), ...le32(12), ...le16(9), ...le16(8), ...le16(1), ...le16(24)]);
    expect(sniffImage(core)).toEqual({ format: 'bmp', width: 9, height: 8 });
  });

  it('returns null for truncated headers of every format', () => {
    const whole = [png(7, 5, true), jpeg(64, 64), gif(4, 4), bmp(4, 4), webpLossy(4, 4), webpLossless(4, 4), webpExtended(4, 4)];
    const cuts = [20, 96, 8, 20, 26, 22, 27];
    whole.forEach((bytes, i) => {
      expect(sniffImage(bytes), `format ${i} whole`).not.toBeNull();
      expect(sniffImage(bytes.subarray(0, cuts[i])), `format ${i} cut at ${cuts[i]}`).toBeNull();
      for (const n of [0, 1, 2, 3, 4, 8]) expect(sniffImage(bytes.subarray(0, n))).toBeNull();
    });
  });

  it('returns null for zero-sized images, JPEGs whose scan comes before a frame, and non-images', () => {
    expect(sniffImage(png(0, 5, true))).toBeNull();
    expect(sniffImage(Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0, 8, 0, 0, 0, 0, 0, 0]))).toBeNull();
    expect(sniffImage(new TextEncoder().encode('hello, world'))).toBeNull();
    expect(sniffImage(new Uint8Array(100))).toBeNull();
  });
});

describe('describeUnreadable', () => {
  it('names what the file is', () => {
    expect(describeUnreadable(new Uint8Array(0))).toBe('empty file (0 bytes)');
    expect(describeUnreadable(new TextEncoder().encode('just some notes\n'))).toBe('not an image: text');
    expect(describeUnreadable(new TextEncoder().encode('%PDF-1.7\n\x00\x01'))).toBe('not an image: PDF');
    expect(describeUnreadable(Uint8Array.from([0, 159, 3, 1, 200]))).toBe('not an image: unknown');
    expect(describeUnreadable(png(7, 5).subarray(0, 20))).toBe('truncated or corrupt PNG header');
    const heic = Uint8Array.from([0, 0, 0, 24, ...ascii('ftypheic'), 0, 0, 0, 0]);
    expect(describeUnreadable(heic)).toMatch(/^unsupported image format: HEIC/);
    expect(describeUnreadable(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toMatch(/SVG/);
  });

  it('calls any SVG not a raster image, however it opens, and knows a web page', () => {
    const svg = 'not a raster image: SVG is a vector drawing, which is not opened here (export it as PNG or JPEG)';
    for (const body of ['<svg onload="alert(1)"/>', '\uFEFF<?xml version="1.0"?><!DOCTYPE svg><!-- x --><svg>', '  <svg\n>']) {
      expect(describeUnreadable(new TextEncoder().encode(body)), body).toBe(svg);
    }
    expect(describeUnreadable(new TextEncoder().encode('<!DOCTYPE html><svg></svg>'))).toBe(svg);
    expect(describeUnreadable(new TextEncoder().encode('<!doctype html><p>hi'))).toBe('not an image: web page (HTML)');
    expect(describeUnreadable(new TextEncoder().encode('I like <svgs>'))).toBe('not an image: text');
  });
});

describe('checkImageData', () => {
  const check = (bytes: Uint8Array) => checkImageData(bytes, sniffImage(bytes)!);

  it('finds every whole file whole, trailing bytes and all', () => {
    for (const bytes of [png(7, 5), png(30, 2, true), wholeJpeg(64, 48), wholeGif(5, 5, 3), wholeWebp(9, 9), wholeBmp(4, 4)]) expect(check(bytes)).toBeNull();
    expect(check(Uint8Array.from([...wholeJpeg(8, 8), 1, 2, 3]))).toBeNull();
  });

  it('says which file was cut short, and where', () => {
    const whole = png(7, 5);
    expect(check(whole.subarray(0, whole.length - 15))).toMatch(/^truncated PNG: it ends in the middle of its data/);
    expect(check(whole.subarray(0, 36))).toMatch(/^truncated PNG: it ends inside a chunk header/);
    const jpg = wholeJpeg(64, 48);
    expect(check(jpg.subarray(0, jpg.length - 1))).toMatch(/^truncated JPEG: it ends before its end-of-image marker/);
    expect(check(jpeg(64, 48))).toBe('not a whole JPEG: it ends before any image data');
    const animated = wholeGif(5, 5, 3);
    expect(check(animated.subarray(0, 50))).toMatch(/^truncated GIF: it ends before its first frame does/);
    // the first frame whole, the rest cut: the browser uses the first frame
    expect(check(animated.subarray(0, animated.length - 10))).toBeNull();
    expect(check(wholeWebp(9, 9).subarray(0, 28))).toMatch(/^truncated WebP: it has 28 of its 32 bytes/);
    expect(check(bmp(4, 4))).toMatch(/^truncated BMP: it ends before its pixels/);
    expect(check(wholeBmp(4, 4).subarray(0, 60))).toMatch(/^truncated BMP: it ends before its last row of pixels/);
  });
});

describe('checkImageSize', () => {
  it('refuses a 12000×12000 image from its header alone, naming the size and the limit', () => {
    const info = sniffImage(png(12000, 12000, true));
    expect(info).toEqual({ format: 'png', width: 12000, height: 12000 });
    const reason = checkImageSize(info!);
    expect(reason).toContain('12000×12000');
    expect(reason).toContain('144 megapixels');
    expect(reason).toContain('limit of 50 megapixels');
  });

  it('accepts images up to the limit', () => {
    expect(checkImageSize({ width: 8000, height: 6000 })).toBeNull();
    expect(checkImageSize({ width: MAX_PIXELS, height: 1 })).toBeNull();
    expect(checkImageSize({ width: MAX_PIXELS + 1, height: 1 })).not.toBeNull();
    expect(checkImageSize({ width: 100, height: 100 }, 9999)).toMatch(/limit of 0 megapixels/);
  });
});
