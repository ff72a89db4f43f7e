import { unzlibSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { crc32, encodePng, PNG_MAX_SIDE, PNG_SIGNATURE } from './png';

const ascii = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
const u32 = (b: Uint8Array, at: number) => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

interface Chunk {
  type: string;
  data: Uint8Array;
  crc: number;
}

/** Splits a PNG into its chunks by the spec's layout (§5.3), independently of the encoder. */
function readChunks(png: Uint8Array): Chunk[] {
  const chunks: Chunk[] = [];
  let at = PNG_SIGNATURE.length;
  while (at < png.length) {
    const length = u32(png, at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    chunks.push({ type, data, crc: u32(png, at + 8 + length) });
    at += 12 + length;
  }
  expect(at).toBe(png.length);
  return chunks;
}

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('crc32', () => {
  it('gives the CRC every PNG ends with for "IEND" and the standard check value for "123456789"', () => {
    expect(crc32(ascii('IEND'))).toBe(0xae426082);
    // the CRC-32 catalogue's check value (ISO-HDLC): the same polynomial, reflection and final XOR
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

});

describe('encodePng', () => {
  // 2×2: red, green / blue, half-transparent white
  const pixels = Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 128]);

  it('writes the signature, IHDR, one IDAT and IEND, each with a correct CRC', () => {
    const png = encodePng(pixels, 2, 2);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const chunks = readChunks(png);
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    for (const c of chunks) expect(c.crc).toBe(crc32(Uint8Array.from([...ascii(c.type), ...c.data])));
    // IEND is the same 12 bytes in every PNG
    expect(Array.from(png.subarray(png.length - 12))).toEqual([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
  });

  it('declares width, height, 8-bit RGBA, deflate, no filter method and no interlace in IHDR', () => {
    const ihdr = readChunks(encodePng(pixels, 2, 2))[0].data;
    expect(ihdr.length).toBe(13);
    expect(u32(ihdr, 0)).toBe(2);
    expect(u32(ihdr, 4)).toBe(2);
    expect(Array.from(ihdr.subarray(8))).toEqual([8, 6, 0, 0, 0]);
  });

  it('stores each row as filter byte 0 then the pixels, in a zlib stream that inflates back exactly', () => {
    const idat = readChunks(encodePng(pixels, 2, 2))[1].data;
    // zlib header (RFC 1950 §2.2): CM = 8 (deflate), and CMF·FLG is a multiple of 31
    expect(idat[0] & 0x0f).toBe(8);
    expect(((idat[0] << 8) | idat[1]) % 31).toBe(0);
    expect(Array.from(unzlibSync(idat))).toEqual([0, ...pixels.subarray(0, 8), 0, ...pixels.subarray(8)]);
  });

  it('round-trips a larger, non-square image from a Uint8ClampedArray', () => {
    const width = 37;
    const height = 19;
    const rgba = new Uint8ClampedArray(randomBytes(width * height * 4, 3));
    const chunks = readChunks(encodePng(rgba, width, height));
    expect([u32(chunks[0].data, 0), u32(chunks[0].data, 4)]).toEqual([width, height]);
    const raw = unzlibSync(chunks[1].data);
    expect(raw.length).toBe(height * (width * 4 + 1));
    for (let y = 0; y < height; y++) {
      const row = raw.subarray(y * (width * 4 + 1), (y + 1) * (width * 4 + 1));
      expect(row[0]).toBe(0);
      expect(Array.from(row.subarray(1))).toEqual(Array.from(rgba.subarray(y * width * 4, (y + 1) * width * 4)));
    }
  });

  it('refuses sizes that are not whole numbers ≥ 1 or are over the limit, and data of the wrong length', () => {
    const one = new Uint8Array(4);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => encodePng(one, bad, 1)).toThrow(/width must be a whole number of pixels ≥ 1/);
      expect(() => encodePng(one, 1, bad)).toThrow(/height must be a whole number of pixels ≥ 1/);
    }
    expect(() => encodePng(new Uint8Array(4), PNG_MAX_SIDE + 1, 1)).toThrow(`width of ${PNG_MAX_SIDE + 1} px is over the ${PNG_MAX_SIDE} px`);
    expect(() => encodePng(new Uint8Array(4), 1, PNG_MAX_SIDE + 1)).toThrow(`height of ${PNG_MAX_SIDE + 1} px is over`);
    expect(() => encodePng(new Uint8Array(15), 2, 2)).toThrow('a 2×2 RGBA image needs 16 bytes, got 15');
    expect(() => encodePng(new Uint8Array(17), 2, 2)).toThrow('needs 16 bytes, got 17');
    // a grey or RGB buffer of the right pixel count is still the wrong length
    expect(() => encodePng(new Uint8Array(4 * 3), 2, 2)).toThrow('got 12');
  });
});
