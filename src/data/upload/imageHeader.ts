/**
 * Image type and size from the first bytes of a file, without decoding it.
 * The decode worker refuses non-images, truncated headers and images too big
 * to decode safely before it hands anything to the browser's decoder.
 * Pure: runs in Node tests.
 */

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'bmp';

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

/**
 * The largest image decoded: 50 megapixels is 200 MB of RGBA once decoded,
 * about what a tab can spare; a phone photo is 12–48 megapixels.
 */
export const MAX_PIXELS = 50_000_000;

export const MIME_TYPES: Record<ImageFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  bmp: 'image/bmp',
};

function startsWith(bytes: Uint8Array, signature: readonly number[], at = 0): boolean {
  if (bytes.length < at + signature.length) return false;
  return signature.every((b, i) => bytes[at + i] === b);
}

function ascii(text: string): number[] {
  return Array.from(text, (c) => c.charCodeAt(0));
}

const u16be = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];
const u16le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8);
const u24le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
const u32be = (b: Uint8Array, i: number) => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
const i32le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
const u32le = (b: Uint8Array, i: number) => i32le(b, i) >>> 0;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const GIF87 = ascii('GIF87a');
const GIF89 = ascii('GIF89a');
const RIFF = ascii('RIFF');
const WEBP = ascii('WEBP');

function sized(format: ImageFormat, width: number, height: number): ImageInfo | null {
  return width > 0 && height > 0 ? { format, width, height } : null;
}

/** PNG: the IHDR chunk comes first: width and height are big-endian u32. */
function sniffPng(b: Uint8Array): ImageInfo | null {
  if (b.length < 24 || !startsWith(b, ascii('IHDR'), 12)) return null;
  return sized('png', u32be(b, 16), u32be(b, 20));
}

/**
 * JPEG: walk the marker segments after SOI until a start-of-frame marker
 * (SOF0 baseline, SOF1 extended, SOF2 progressive, and the rarer SOFn),
 * whose payload is precision(1) height(2) width(2).
 */
function sniffJpeg(b: Uint8Array): ImageInfo | null {
  let i = 2;
  while (i + 1 < b.length) {
    if (b[i] !== 0xff) return null;
    let marker = b[i + 1];
    // fill bytes: any number of 0xFF before a marker
    while (marker === 0xff && i + 2 < b.length) {
      i += 1;
      marker = b[i + 1];
    }
    if (marker === 0xff) return null;
    i += 2;
    // markers without a length: TEM, RST0..7, SOI
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;
    // end of image or start of scan before any frame header: nothing to read
    if (marker === 0xd9 || marker === 0xda) return null;
    if (i + 2 > b.length) return null;
    const length = u16be(b, i);
    if (length < 2) return null;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (i + 7 > b.length) return null;
      return sized('jpeg', u16be(b, i + 5), u16be(b, i + 3));
    }
    i += length;
  }
  return null;
}

/** GIF: the logical screen descriptor follows the 6-byte signature. */
function sniffGif(b: Uint8Array): ImageInfo | null {
  if (b.length < 10) return null;
  return sized('gif', u16le(b, 6), u16le(b, 8));
}

/**
 * BMP: a 14-byte file header, then the info header whose size says its kind:
 * 12 bytes (OS/2 core) has u16 dimensions, the others i32; a negative height
 * means the rows are stored top-down.
 */
function sniffBmp(b: Uint8Array): ImageInfo | null {
  if (b.length < 18) return null;
  const headerSize = u32le(b, 14);
  if (headerSize === 12) {
    if (b.length < 22) return null;
    return sized('bmp', u16le(b, 18), u16le(b, 20));
  }
  if (headerSize < 16 || b.length < 26) return null;
  return sized('bmp', Math.abs(i32le(b, 18)), Math.abs(i32le(b, 22)));
}

/**
 * WebP: RIFF....WEBP, then the first chunk. VP8 (lossy): after a 3-byte frame
 * tag and the start code 9D 01 2A, 14-bit width and height. VP8L (lossless):
 * after the 0x2F signature, 14 bits of width−1 then 14 of height−1. VP8X
 * (extended): 24-bit canvas width−1 and height−1 after 4 bytes of flags.
 */
function sniffWebp(b: Uint8Array): ImageInfo | null {
  if (b.length < 16) return null;
  const chunk = String.fromCharCode(b[12], b[13], b[14], b[15]);
  if (chunk === 'VP8 ') {
    if (b.length < 30 || !startsWith(b, [0x9d, 0x01, 0x2a], 23)) return null;
    return sized('webp', u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff);
  }
  if (chunk === 'VP8L') {
    if (b.length < 25 || b[20] !== 0x2f) return null;
    const bits = u32le(b, 21);
    return sized('webp', (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (chunk === 'VP8X') {
    if (b.length < 30) return null;
    return sized('webp', u24le(b, 24) + 1, u24le(b, 27) + 1);
  }
  return null;
}

/**
 * The format and size of an image from its header, or null when the bytes
 * are not one of the supported formats or the header is cut short.
 */
export function sniffImage(bytes: Uint8Array): ImageInfo | null {
  if (startsWith(bytes, PNG_SIGNATURE)) return sniffPng(bytes);
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return sniffJpeg(bytes);
  if (startsWith(bytes, GIF87) || startsWith(bytes, GIF89)) return sniffGif(bytes);
  if (startsWith(bytes, RIFF) && startsWith(bytes, WEBP, 8)) return sniffWebp(bytes);
  if (startsWith(bytes, ascii('BM'))) return sniffBmp(bytes);
  return null;
}

/** What a file is, from its signature, for the reason it was skipped. */
function detectType(b: Uint8Array): { kind: 'image' | 'unsupported' | 'vector' | 'other'; name: string } | null {
  if (startsWith(b, PNG_SIGNATURE)) return { kind: 'image', name: 'PNG' };
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { kind: 'image', name: 'JPEG' };
  if (startsWith(b, GIF87) || startsWith(b, GIF89)) return { kind: 'image', name: 'GIF' };
  if (startsWith(b, RIFF) && startsWith(b, WEBP, 8)) return { kind: 'image', name: 'WebP' };
  if (startsWith(b, ascii('BM'))) return { kind: 'image', name: 'BMP' };
  if (startsWith(b, ascii('ftyp'), 4)) {
    const brand = String.fromCharCode(...b.subarray(8, 12));
    if (/^(heic|heix|hevc|mif1|msf1)$/.test(brand)) return { kind: 'unsupported', name: 'HEIC' };
    if (/^avi[fs]$/.test(brand)) return { kind: 'unsupported', name: 'AVIF' };
    return { kind: 'other', name: 'video (MP4/MOV)' };
  }
  if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { kind: 'unsupported', name: 'TIFF' };
  }
  if (startsWith(b, [0x00, 0x00, 0x01, 0x00])) return { kind: 'unsupported', name: 'ICO' };
  if (startsWith(b, ascii('PK\x03\x04')) || startsWith(b, ascii('PK\x05\x06'))) return { kind: 'other', name: 'zip archive' };
  if (startsWith(b, ascii('%PDF'))) return { kind: 'other', name: 'PDF' };
  if (startsWith(b, [0x1f, 0x8b])) return { kind: 'other', name: 'gzip archive' };
  const head = new TextDecoder().decode(b.subarray(0, 1024)).trimStart().toLowerCase();
  // an SVG may open with an XML declaration, a doctype or comments before its <svg
  if (head.startsWith('<') && /<svg[\s>/]/.test(head)) return { kind: 'vector', name: 'SVG' };
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return { kind: 'other', name: 'web page (HTML)' };
  // text: no control bytes other than tab, newline, carriage return in the first 512
  const sample = b.subarray(0, 512);
  if (sample.length > 0 && sample.every((c) => c >= 0x20 || c === 0x09 || c === 0x0a || c === 0x0d)) return { kind: 'other', name: 'text' };
  return null;
}

/** Why bytes that `sniffImage` refused cannot be used, in the user's words. */
export function describeUnreadable(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'empty file (0 bytes)';
  const type = detectType(bytes);
  if (!type) return 'not an image: unknown';
  if (type.kind === 'image') return `truncated or corrupt ${type.name} header`;
  if (type.kind === 'unsupported') return `unsupported image format: ${type.name} (convert it to PNG or JPEG)`;
  // never handed to the browser as SVG: a drawing can carry scripts and links, and is not pixels
  if (type.kind === 'vector') return `not a raster image: ${type.name} is a vector drawing, which is not opened here (export it as PNG or JPEG)`;
  return `not an image: ${type.name}`;
}

/** Null when the image may be decoded, or the reason it is refused. */
export function checkImageSize(info: Pick<ImageInfo, 'width' | 'height'>, maxPixels = MAX_PIXELS): string | null {
  const pixels = info.width * info.height;
  if (pixels <= maxPixels) return null;
  const mp = (n: number) => `${Math.round(n / 1e5) / 10} megapixels`;
  return `${info.width}×${info.height} is ${mp(pixels)}, above the limit of ${mp(maxPixels)}; scale it down first`;
}

// ---- is the image data all there ---------------------------------------------------

const CUT_SHORT = 'the file was cut short or damaged: copy or download it again';

/** PNG: chunks are length(4) type(4) data crc(4); a chunk that runs past the end means the file was cut. */
function pngCut(b: Uint8Array): string | null {
  let at = 8;
  while (at < b.length) {
    if (at + 8 > b.length) return `truncated PNG: it ends inside a chunk header (${CUT_SHORT})`;
    const length = u32be(b, at);
    if (length > 0x7fffffff) return 'corrupt PNG: a chunk claims more than 2 GB';
    if (at + 12 + length > b.length) return `truncated PNG: it ends in the middle of its data (${CUT_SHORT})`;
    if (b[at + 4] === 0x49 && b[at + 5] === 0x45 && b[at + 6] === 0x4e && b[at + 7] === 0x44) return null; // IEND
    at += 12 + length;
  }
  // ends on a chunk boundary before IEND: the browser decodes what is there, or says it cannot
  return null;
}

/** JPEG: the marker segments up to the first scan must be whole, and an end-of-image marker must follow it. */
function jpegCut(b: Uint8Array): string | null {
  let at = 2;
  for (;;) {
    while (at < b.length && b[at] === 0xff && b[at + 1] === 0xff) at += 1;
    if (at + 2 > b.length) return `truncated JPEG: it ends inside its headers (${CUT_SHORT})`;
    if (b[at] !== 0xff) return 'corrupt JPEG: its headers are broken';
    const marker = b[at + 1];
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2;
      continue;
    }
    if (marker === 0xd9) return 'not a whole JPEG: it ends before any image data';
    if (at + 4 > b.length) return `truncated JPEG: it ends inside its headers (${CUT_SHORT})`;
    const length = u16be(b, at + 2);
    if (length < 2) return 'corrupt JPEG: its headers are broken';
    if (at + 2 + length > b.length) return `truncated JPEG: it ends inside its headers (${CUT_SHORT})`;
    if (marker === 0xda) break;
    at += 2 + length;
  }
  // entropy-coded data stuffs every 0xFF with 0x00, so FF D9 after the scan is the end marker (data after it is often appended, and harmless)
  for (let i = b.length - 2; i > at; i--) if (b[i] === 0xff && b[i + 1] === 0xd9) return null;
  return `truncated JPEG: it ends before its end-of-image marker (${CUT_SHORT})`;
}

/**
 * GIF: the blocks up to the end of the first frame must be whole. The
 * browser decodes the first frame only, so an animation is used as its first
 * frame, and a file cut after that frame still gives it.
 */
function gifCut(b: Uint8Array): string | null {
  const cut = `truncated GIF: it ends before its first frame does (${CUT_SHORT})`;
  if (b.length < 13) return cut;
  let at = 13;
  if (b[10] & 0x80) at += 3 * 2 ** ((b[10] & 7) + 1);
  /** past a run of data sub-blocks, or -1 when they run off the end */
  const skipSubBlocks = (from: number) => {
    let i = from;
    while (i < b.length) {
      const size = b[i];
      i += 1 + size;
      if (size === 0) return i;
    }
    return -1;
  };
  while (at < b.length) {
    const block = b[at];
    if (block === 0x21) {
      at = skipSubBlocks(at + 2);
      if (at < 0) return cut;
    } else if (block === 0x2c) {
      if (at + 10 > b.length) return cut;
      const flags = b[at + 9];
      at += 10 + (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0) + 1; // descriptor, local colour table, LZW code size
      return at <= b.length && skipSubBlocks(at) >= 0 ? null : cut;
    } else if (block === 0x3b) return 'not a whole GIF: it ends before any frame';
    else return 'corrupt GIF: an unknown block comes before its first frame';
  }
  return cut;
}

/** WebP: the RIFF header says how long the file is. */
function webpCut(b: Uint8Array): string | null {
  const riffEnd = 8 + u32le(b, 4);
  return riffEnd > b.length ? `truncated WebP: it has ${b.length} of its ${riffEnd} bytes (${CUT_SHORT})` : null;
}

/** BMP: the pixels start at the header's offset; uncompressed rows are 4-byte aligned. */
function bmpCut(b: Uint8Array, info: ImageInfo): string | null {
  const pixels = u32le(b, 10);
  if (pixels >= b.length) return `truncated BMP: it ends before its pixels (${CUT_SHORT})`;
  const headerSize = u32le(b, 14);
  if (headerSize < 40 || b.length < 34) return null;
  const bitsPerPixel = u16le(b, 28);
  const compression = u32le(b, 30);
  if (compression !== 0 || ![1, 4, 8, 16, 24, 32].includes(bitsPerPixel)) return null;
  const rowBytes = Math.ceil((info.width * bitsPerPixel) / 32) * 4;
  return pixels + rowBytes * info.height > b.length ? `truncated BMP: it ends before its last row of pixels (${CUT_SHORT})` : null;
}

/**
 * Null when the file, as far as its structure shows without decoding, holds
 * all of its image data; else why not. For bytes `sniffImage` read as `info`.
 * Cheap (no decompression), and it turns what a browser would decode as a
 * half-grey picture, or refuse with a bare "cannot decode", into a reason.
 */
export function checkImageData(bytes: Uint8Array, info: ImageInfo): string | null {
  switch (info.format) {
    case 'png':
      return pngCut(bytes);
    case 'jpeg':
      return jpegCut(bytes);
    case 'gif':
      return gifCut(bytes);
    case 'webp':
      return webpCut(bytes);
    case 'bmp':
      return bmpCut(bytes, info);
    default: {
      const unknown: never = info.format;
      return `unknown format ${String(unknown)}`;
    }
  }
}
