/**
 * Small files built in code for the upload tests: images of each format
 * (whole, or cut, or with lying headers) and surgery on zips made with
 * fflate's zipSync. Nothing binary is checked in.
 */
import { deflateSync } from 'node:zlib';
import { crc32 } from './zip';

export const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
export const text = (s: string) => new TextEncoder().encode(s);
const be16 = (n: number) => [(n >>> 8) & 255, n & 255];
export const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
export const le16 = (n: number) => [n & 255, (n >>> 8) & 255];
const le24 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255];
export const le32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];

function pngChunk(type: string, data: ArrayLike<number>): number[] {
  const body = Uint8Array.from([...ascii(type), ...Array.from(data)]);
  return [...be32(data.length), ...body, ...be32(crc32(body))];
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A whole, valid PNG of grey pixels; `bitDepth` 8 or 16, `colorType` 0 grey, 2 RGB, 6 RGBA. */
export function png(width: number, height: number, options: { bitDepth?: 8 | 16; colorType?: 0 | 2 | 6 } = {}): Uint8Array {
  const bitDepth = options.bitDepth ?? 8;
  const colorType = options.colorType ?? 2;
  const channels = colorType === 0 ? 1 : colorType === 2 ? 3 : 4;
  const rowBytes = 1 + (width * channels * bitDepth) / 8;
  const raw = new Uint8Array(height * rowBytes).fill(128);
  for (let y = 0; y < height; y++) raw[y * rowBytes] = 0;
  return Uint8Array.from([
    ...PNG_SIGNATURE,
    ...pngChunk('IHDR', [...be32(width), ...be32(height), bitDepth, colorType, 0, 0, 0]),
    ...pngChunk('IDAT', deflateSync(raw)),
    ...pngChunk('IEND', []),
  ]);
}

/** Signature, IHDR and IEND, no pixels: a header that claims any size for the cost of 45 bytes. */
export function pngClaiming(width: number, height: number): Uint8Array {
  return Uint8Array.from([...PNG_SIGNATURE, ...pngChunk('IHDR', [...be32(width), ...be32(height), 8, 2, 0, 0, 0]), ...pngChunk('IEND', [])]);
}

/**
 * A structurally whole baseline JPEG: SOI, JFIF, quantization and Huffman
 * tables, a frame of `components` (3 YCbCr, 4 CMYK with Adobe's marker), a
 * scan and EOI. The scan's bits are not a real picture; the Node tests
 * never decode pixels.
 */
export function jpeg(width: number, height: number, components: 3 | 4 = 3): Uint8Array {
  const app0 = [0xff, 0xe0, 0, 16, ...ascii('JFIF'), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const adobe = components === 4 ? [0xff, 0xee, 0, 14, ...ascii('Adobe'), 0, 100, 0, 0, 0, 0, 0] : [];
  const dqt = [0xff, 0xdb, 0, 67, 0, ...new Array<number>(64).fill(1)];
  const ids = Array.from({ length: components }, (_, k) => k + 1);
  const sof = [0xff, 0xc0, ...be16(8 + 3 * components), 8, ...be16(height), ...be16(width), components, ...ids.flatMap((id) => [id, 0x11, 0])];
  const dht = [0xff, 0xc4, 0, 20, 0x00, 1, ...new Array<number>(15).fill(0), 0];
  const sos = [0xff, 0xda, ...be16(6 + 2 * components), components, ...ids.flatMap((id) => [id, 0]), 0, 63, 0];
  const scan = [0x12, 0x34, 0xff, 0x00, 0x56, 0x78];
  return Uint8Array.from([0xff, 0xd8, ...app0, ...adobe, ...dqt, ...sof, ...dht, ...sos, ...scan, 0xff, 0xd9]);
}

/** A GIF89a of `frames` frames (more than one: an animation that loops, with NETSCAPE2.0). */
export function gif(width: number, height: number, frames = 1): Uint8Array {
  const screen = [...ascii('GIF89a'), ...le16(width), ...le16(height), 0x80, 0, 0, 0, 0, 0, 255, 255, 255];
  const loop = frames > 1 ? [0x21, 0xff, 11, ...ascii('NETSCAPE2.0'), 3, 1, 0, 0, 0] : [];
  const frame = [0x21, 0xf9, 4, 0, 10, 0, 0, 0, 0x2c, 0, 0, 0, 0, ...le16(width), ...le16(height), 0, 2, 2, 0x4c, 0x01, 0];
  return Uint8Array.from([...screen, ...loop, ...Array.from({ length: frames }, () => frame).flat(), 0x3b]);
}

function riff(chunkType: string, payload: number[]): Uint8Array {
  const padded = payload.length % 2 ? [...payload, 0] : payload;
  return Uint8Array.from([...ascii('RIFF'), ...le32(4 + 8 + padded.length), ...ascii('WEBP'), ...ascii(chunkType), ...le32(payload.length), ...padded]);
}

/** A lossless WebP (VP8L) whose RIFF header is true to its length. */
export function webp(width: number, height: number): Uint8Array {
  const bits = ((width - 1) | ((height - 1) << 14)) >>> 0;
  return riff('VP8L', [0x2f, ...le32(bits), 0x10, 0x88, 0x88, 0x08, 0, 0]);
}

/** An extended WebP (VP8X) header: its canvas may claim up to 16777216 px a side. */
export function webpClaiming(width: number, height: number): Uint8Array {
  return riff('VP8X', [0x10, 0, 0, 0, ...le24(width - 1), ...le24(height - 1)]);
}

/** A whole 24-bit BMP, bottom-up. */
export function bmp(width: number, height: number): Uint8Array {
  const rowBytes = Math.ceil((width * 24) / 32) * 4;
  const pixels = rowBytes * Math.abs(height);
  return Uint8Array.from([
    ...ascii('BM'), ...le32(54 + pixels), 0, 0, 0, 0, ...le32(54),
    ...le32(40), ...le32(width), ...le32(height), ...le16(1), ...le16(24), ...le32(0), ...le32(pixels), ...le32(2835), ...le32(2835), ...le32(0), ...le32(0),
    ...new Array<number>(pixels).fill(90),
  ]);
}

// ---- zip surgery ---------------------------------------------------------------

export interface EntryOffsets {
  /** the entry's central-directory header */
  central: number;
  /** its local header */
  local: number;
  /** its data */
  data: number;
  compressed: number;
}

function view(zip: Uint8Array): DataView {
  return new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
}

/** Where an entry's headers and data are, found through the central directory. */
export function locate(zip: Uint8Array, name: string): EntryOffsets {
  const v = view(zip);
  const decoder = new TextDecoder();
  for (let i = 0; i + 46 < zip.length; i++) {
    if (v.getUint32(i, true) !== 0x02014b50) continue;
    const nameLength = v.getUint16(i + 28, true);
    if (decoder.decode(zip.subarray(i + 46, i + 46 + nameLength)) !== name) continue;
    const local = v.getUint32(i + 42, true);
    const data = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    return { central: i, local, data, compressed: v.getUint32(i + 20, true) };
  }
  throw new Error(`no entry ${name}`);
}

/** Sets the uncompressed size the central directory (and with `local`, the local header too) declares. */
export function setDeclaredSize(zip: Uint8Array, name: string, size: number, where: 'central' | 'local' | 'both' = 'central'): void {
  const at = locate(zip, name);
  if (where !== 'local') view(zip).setUint32(at.central + 24, size, true);
  if (where !== 'central') view(zip).setUint32(at.local + 22, size, true);
}

/** Sets general-purpose flag bits on an entry, in both headers (bit 0: encrypted). */
export function setFlags(zip: Uint8Array, name: string, bits: number): void {
  const at = locate(zip, name);
  const v = view(zip);
  v.setUint16(at.central + 8, v.getUint16(at.central + 8, true) | bits, true);
  v.setUint16(at.local + 6, v.getUint16(at.local + 6, true) | bits, true);
}

/**
 * A one-entry zip in zip64 form, stored, as Info-ZIP's `zip -fz` writes it:
 * the central header's sizes and offset are all ones and their values sit in
 * a zip64 extra field, and a zip64 end record and locator precede the end record.
 */
export function zip64Stored(name: string, data: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const crc = crc32(data);
  const u64 = (n: number) => [...le32(n), 0, 0, 0, 0];
  const extra = [1, 0, 24, 0, ...u64(data.length), ...u64(data.length), ...u64(0)];
  const local = [0x50, 0x4b, 3, 4, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...le32(crc), ...le32(data.length), ...le32(data.length), ...le16(nameBytes.length), 0, 0, ...nameBytes];
  const centralStart = local.length + data.length;
  const central = [
    0x50, 0x4b, 1, 2, 45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...le32(crc), ...le32(0xffffffff), ...le32(0xffffffff),
    ...le16(nameBytes.length), ...le16(extra.length), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...le32(0xffffffff), ...nameBytes, ...extra,
  ];
  const zip64EndAt = centralStart + central.length;
  const zip64End = [0x50, 0x4b, 6, 6, ...u64(44), 45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...u64(1), ...u64(1), ...u64(central.length), ...u64(centralStart)];
  const locator = [0x50, 0x4b, 6, 7, 0, 0, 0, 0, ...u64(zip64EndAt), 1, 0, 0, 0];
  const end = [0x50, 0x4b, 5, 6, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, ...le32(0xffffffff), ...le32(0xffffffff), 0, 0];
  return Uint8Array.from([...local, ...data, ...central, ...zip64End, ...locator, ...end]);
}
