/**
 * A minimal PNG encoder for exports (the projector's sprite sheet): 8-bit RGBA,
 * no interlace, filter type 0 (None) on every row, one IDAT chunk. Pure
 * TypeScript on fflate's zlib, so it runs in the worker, on the page and in Node
 * without a canvas.
 *
 * Layout (W3C PNG Specification, 2nd ed., §5 "Datastream structure"):
 *
 *     signature  89 50 4E 47 0D 0A 1A 0A
 *     chunk      length (u32 BE, data bytes only) · type (4 ASCII) · data · CRC-32 of type + data
 *     IHDR       width u32 · height u32 · bit depth 8 · colour type 6 (RGBA) · compression 0 · filter 0 · interlace 0
 *     IDAT       zlib stream (RFC 1950) of the scanlines, each = filter byte 0 · width × 4 bytes
 *     IEND       empty
 */
import { zlibSync } from 'fflate';
import { crc32 } from '../data/upload/zip';

/** The eight bytes every PNG starts with (§5.2). */
export const PNG_SIGNATURE: readonly number[] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Largest width or height written. The format allows 2³¹ − 1 (§11.2.2), but
 * browsers refuse to decode far smaller images, and 16384² RGBA is already
 * 1 GiB of pixels; the projector's own sprite limit is 8192.
 */
export const PNG_MAX_SIDE = 16384;

/** CRC-32 over a chunk's type and data (PNG spec Annex D): the same reflected 0xEDB88320 CRC as zip's, so the zip reader's. */
export { crc32 };

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/** One chunk: length · type · data · CRC over type and data (§5.3). */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  writeU32(out, 0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  writeU32(out, 8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function checkSide(name: 'width' | 'height', value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`a PNG's ${name} must be a whole number of pixels ≥ 1, got ${value}`);
  if (value > PNG_MAX_SIDE) throw new Error(`a PNG's ${name} of ${value} px is over the ${PNG_MAX_SIDE} px this exporter writes`);
}

/**
 * Encodes `rgba` (row-major, top row first, 4 bytes per pixel: R, G, B, A,
 * straight not premultiplied alpha) as a PNG file.
 *
 * @throws Error when width or height is not a whole number in [1, 16384], or
 *   `rgba` does not hold exactly width × height × 4 bytes.
 */
export function encodePng(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  checkSide('width', width);
  checkSide('height', height);
  const rowBytes = width * 4;
  if (rgba.length !== rowBytes * height) {
    throw new Error(`a ${width}×${height} RGBA image needs ${rowBytes * height} bytes, got ${rgba.length}`);
  }

  const ihdr = new Uint8Array(13);
  writeU32(ihdr, 0, width);
  writeU32(ihdr, 4, height);
  ihdr[8] = 8; // bit depth: 8 bits per channel
  ihdr[9] = 6; // colour type 6: truecolour with alpha
  // bytes 10–12 stay 0: compression method 0 (deflate), filter method 0, no interlace

  // Filter type 0 (None) on every scanline (§9.2): each row is a 0 byte then its pixels, unchanged.
  const scanlines = new Uint8Array((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    scanlines.set(rgba.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  }

  const parts = [
    Uint8Array.from(PNG_SIGNATURE),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlibSync(scanlines)),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
