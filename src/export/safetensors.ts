/**
 * The safetensors format (https://github.com/huggingface/safetensors, README "Format"), written and read
 * without dependencies, for the dtypes the app stores:
 *
 *   8 bytes  N, an unsigned little-endian 64-bit integer: the header's length in bytes
 *   N bytes  UTF-8 JSON object, starting with `{` and MAY be trailing-padded with spaces (0x20):
 *              "TENSOR_NAME": {"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]}
 *              "__metadata__": {"key": "value", …}   (optional, a text-to-text map)
 *            BEGIN/END are relative to the start of the byte buffer, END one past the last byte.
 *   rest     the byte buffer: every tensor row-major, little-endian, packed (no strides).
 *
 * The reader treats the file as hostile input (it is the first checkpoint reader the issue fuzzes): every
 * way a file can be wrong ends in a SafetensorsError whose message says what is wrong in the user's
 * words, and a file that reads is one encodeSafetensors could have written, up to JSON spelling
 * (whitespace, key order, escapes), so no number is ever read from the wrong bytes.
 */

/** The dtypes the app stores; the spec has more (F16, BF16, F64, I64, BOOL…), which the reader refuses by name. */
export type SafetensorsDtype = 'F32' | 'I32' | 'U8';

export interface NamedTensor {
  name: string;
  dtype: SafetensorsDtype;
  /** row-major; [] is a scalar (one element), a 0 anywhere makes an empty tensor */
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

/** Thrown by encodeSafetensors and decodeSafetensors, and only that. The message is meant for the user. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Bytes per element, per the spec's dtype names (U = unsigned, I = signed, F = IEEE 754; the number is bits). */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = { F32: 4, I32: 4, U8: 1 };

export interface SafetensorsLimits {
  /** Largest header the reader parses. The reference reader caps it (100 MB) so a hostile length cannot make it parse gigabytes of JSON. */
  maxHeaderBytes: number;
}

export const DEFAULT_SAFETENSORS_LIMITS: Readonly<SafetensorsLimits> = { maxHeaderBytes: 100 * 2 ** 20 };

/** The key the spec reserves for the text-to-text metadata map. */
export const METADATA_KEY = '__metadata__';

/** One tensor as the header declares it. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** [BEGIN, END) relative to the start of the byte buffer */
  dataOffsets: [number, number];
}

/** Where everything lies in a file: what an interop test needs to check the byte layout. */
export interface SafetensorsLayout {
  /** N, from the first 8 bytes */
  headerLength: number;
  /** the N header bytes as text, padding included */
  headerText: string;
  /** where the byte buffer starts in the file: 8 + N */
  dataStart: number;
  /** length of the byte buffer: the file's length − 8 − N */
  dataLength: number;
  /** in data-offset order (ties, which only empty tensors make, in header order) */
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
}

const LENGTH_BYTES = 8;
/** The writer pads the header so the byte buffer starts at a multiple of 8 from the file's start (as the reference writer does), which lets a reader map any dtype in place. */
const ALIGNMENT = 8;
const SPACE = 0x20;
const OPEN_BRACE = 0x7b;
const SUPPORTED = 'F32, I32 and U8';

// ---------------------------------------------------------------------------
// Writing

/**
 * The safetensors file of `tensors` (laid out in the order given) and `metadata` (written as "__metadata__"
 * only when it has entries). Refuses, with a SafetensorsError, what a reader could not read back as given.
 *
 * The byte buffer starts 8-aligned, and each tensor starts where the one before ends, so a tensor stays
 * aligned to its element size only while the ones before it are whole multiples of it: list U8 tensors
 * of odd length last (the reference writer sorts by dtype size for this), or PyTorch code that maps the
 * file in place (torch.frombuffer on the mapping, UntypedStorage.from_file) cannot view F32 after them.
 */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const seen = new Set<string>();
  const parts: string[] = [];
  const metaEntries = Object.entries(metadata);
  for (const [key, value] of metaEntries) {
    if (typeof value !== 'string') {
      throw new SafetensorsError(`Metadata “${show(key)}” is ${describe(value)}; safetensors metadata values must be text.`);
    }
  }
  if (metaEntries.length > 0) {
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${metaEntries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  let offset = 0;
  const placed: { tensor: NamedTensor; begin: number }[] = [];
  for (const tensor of tensors) {
    const { name, dtype, shape, data } = tensor;
    if (typeof name !== 'string' || name === '') throw new SafetensorsError('A tensor has no name; every tensor needs one.');
    if (name === METADATA_KEY) {
      throw new SafetensorsError(`A tensor cannot be named “${METADATA_KEY}”: safetensors reserves that name for the metadata.`);
    }
    if (seen.has(name)) throw new SafetensorsError(`Two tensors are named “${show(name)}”; each name may appear only once.`);
    seen.add(name);
    if (!isSupported(dtype)) {
      throw new SafetensorsError(`Tensor “${show(name)}” has dtype ${String(dtype)}, which this app does not write (it writes ${SUPPORTED}).`);
    }
    if (!matchesDtype(dtype, data)) {
      throw new SafetensorsError(`Tensor “${show(name)}” is declared ${dtype} but its data is ${arrayKind(data)}, not ${ARRAY_NAMES[dtype]}.`);
    }
    if (!Array.isArray(shape) || !shape.every(isDimension)) {
      throw new SafetensorsError(`Tensor “${show(name)}” has shape ${showValue(shape)}; each dimension must be a whole number ≥ 0.`);
    }
    const count = elementCount(shape);
    if (count !== data.length) {
      throw new SafetensorsError(
        `Tensor “${show(name)}” has shape ${showShape(shape)}, which holds ${count} elements, but its data has ${data.length}.`);
    }
    placed.push({ tensor, begin: offset });
    const end = offset + data.length * SAFETENSORS_DTYPE_BYTES[dtype];
    // key order dtype, shape, data_offsets, as the reference writer; written by hand so a name like "0" keeps its place
    parts.push(`${JSON.stringify(name)}:{"dtype":"${dtype}","shape":[${shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil((LENGTH_BYTES + json.length) / ALIGNMENT) * ALIGNMENT - LENGTH_BYTES;
  const dataStart = LENGTH_BYTES + headerLength;
  const out = new Uint8Array(dataStart + offset);
  const view = new DataView(out.buffer);
  // u64 as two u32 halves: exact for any length a Uint8Array can have, without BigInt
  view.setUint32(0, headerLength % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, LENGTH_BYTES);
  out.fill(SPACE, LENGTH_BYTES + json.length, dataStart);
  for (const { tensor, begin } of placed) writeData(view, out, dataStart + begin, tensor);
  return out;
}

/** Little-endian whatever the host; floats go through their bit patterns so NaN payloads and −0 survive exactly. */
function writeData(view: DataView, out: Uint8Array, at: number, { dtype, data }: NamedTensor): void {
  switch (dtype) {
    case 'F32': {
      const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
      for (let i = 0; i < bits.length; i++) view.setUint32(at + 4 * i, bits[i], true);
      return;
    }
    case 'I32':
      for (let i = 0; i < data.length; i++) view.setInt32(at + 4 * i, data[i], true);
      return;
    case 'U8':
      out.set(data, at);
      return;
  }
}

// ---------------------------------------------------------------------------
// Reading

/**
 * Reads and checks a file's header and layout without copying any tensor: the length, the JSON, every
 * entry, and that the entries tile the byte buffer exactly (no overlap, no gap, nothing past the end,
 * nothing after the last tensor; the reference reader guarantees the same). Throws only SafetensorsError.
 */
export function readSafetensorsLayout(
  bytes: Uint8Array, limits: SafetensorsLimits = DEFAULT_SAFETENSORS_LIMITS,
): SafetensorsLayout {
  if (bytes.length < LENGTH_BYTES) {
    throw new SafetensorsError(
      `The file is not a safetensors file: it is ${plural(bytes.length, 'byte')} long, too short even for the 8-byte header length a safetensors file starts with.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength > limits.maxHeaderBytes) {
    throw new SafetensorsError(
      // BigInt only for the message: a garbage length can exceed 2^53, where the double above is inexact
      `The file is not a safetensors file: its first 8 bytes give a header of ${view.getBigUint64(0, true)} bytes, more than the ${limits.maxHeaderBytes} bytes this app reads.`);
  }
  if (headerLength < 2) {
    throw new SafetensorsError(
      `The file is not a safetensors file: its first 8 bytes give a header of ${plural(headerLength, 'byte')}, too short for the JSON object a header is.`);
  }
  if (bytes.length > LENGTH_BYTES && bytes[LENGTH_BYTES] !== OPEN_BRACE) {
    throw new SafetensorsError(
      `The file is not a safetensors file: its header must be a JSON object starting with “{”, but it starts with ${showByte(bytes[LENGTH_BYTES])}.`);
  }
  const available = bytes.length - LENGTH_BYTES;
  if (headerLength > available) {
    throw new SafetensorsError(
      `The file is truncated: the header says ${plural(headerLength, 'byte')}, the file has ${plural(available, 'byte')} after the 8-byte length. Download or export it again.`);
  }
  const dataStart = LENGTH_BYTES + headerLength;
  const dataLength = bytes.length - dataStart;

  let headerText: string;
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(LENGTH_BYTES, dataStart));
  } catch {
    throw new SafetensorsError('The file’s header is not valid UTF-8 text: the file is damaged or not a safetensors file.');
  }
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (error) {
    const why = error instanceof Error ? ` (${error.message})` : '';
    throw new SafetensorsError(`The file’s header is not valid JSON${why}: the file is damaged or not a safetensors file.`);
  }
  if (!isRecord(header)) {
    throw new SafetensorsError(`The file’s header is ${describe(header)}, not a JSON object: the file is damaged or not a safetensors file.`);
  }
  // JSON.parse keeps the last of two equal keys; the spec forbids them, so they are found in the text
  const keyOrder = topLevelKeys(headerText);

  const metadata = readMetadata(header[METADATA_KEY]);
  const entries: { entry: SafetensorsEntry; order: number }[] = [];
  keyOrder.forEach((name, order) => {
    if (name !== METADATA_KEY) entries.push({ entry: readEntry(name, header[name]), order });
  });
  entries.sort((a, b) => a.entry.dataOffsets[0] - b.entry.dataOffsets[0]
    || a.entry.dataOffsets[1] - b.entry.dataOffsets[1] || a.order - b.order);

  let covered = 0;
  let previous: SafetensorsEntry | undefined;
  for (const { entry } of entries) {
    const { name, dtype, shape, dataOffsets: [begin, end] } = entry;
    if (end > dataLength) {
      throw new SafetensorsError(
        `The file is truncated: tensor “${show(name)}” claims bytes ${begin}–${end} of the data, which has only ${plural(dataLength, 'byte')}. Download or export it again.`);
    }
    const needs = elementCount(shape) * SAFETENSORS_DTYPE_BYTES[dtype];
    if (end - begin !== needs) {
      const size = Number.isSafeInteger(needs) ? String(needs) : 'more than any file holds';
      throw new SafetensorsError(
        `Tensor “${show(name)}” claims bytes ${begin}–${end} but its shape ${showShape(shape)} of ${dtype} needs ${size}: the file is damaged.`);
    }
    if (begin < covered && previous) {
      const [previousBegin, previousEnd] = previous.dataOffsets;
      throw new SafetensorsError(
        `Tensor “${show(name)}” (bytes ${begin}–${end}) overlaps tensor “${show(previous.name)}” (bytes ${previousBegin}–${previousEnd}): the file is damaged.`);
    }
    if (begin > covered) {
      throw new SafetensorsError(
        `Bytes ${covered}–${begin} of the data, before tensor “${show(name)}”, belong to no tensor: the file is damaged.`);
    }
    covered = end;
    previous = entry;
  }
  if (covered !== dataLength) {
    throw new SafetensorsError(
      `The file has ${plural(dataLength - covered, 'byte')} after the last tensor that belong to no tensor: it is damaged, or two files were joined.`);
  }
  return { headerLength, headerText, dataStart, dataLength, entries: entries.map(({ entry }) => entry), metadata };
}

/**
 * The tensors (in data-offset order, each in a fresh array of its own) and the metadata of a safetensors
 * file; `bytes` may be any view, at any byteOffset. Throws only SafetensorsError.
 */
export function decodeSafetensors(
  bytes: Uint8Array, limits: SafetensorsLimits = DEFAULT_SAFETENSORS_LIMITS,
): { tensors: NamedTensor[]; metadata: Record<string, string> } {
  const layout = readSafetensorsLayout(bytes, limits);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors = layout.entries.map(({ name, dtype, shape, dataOffsets: [begin, end] }): NamedTensor => {
    const at = layout.dataStart + begin;
    const count = (end - begin) / SAFETENSORS_DTYPE_BYTES[dtype];
    return { name, dtype, shape, data: readData(view, bytes, at, dtype, count) };
  });
  return { tensors, metadata: layout.metadata };
}

/** Little-endian whatever the host: values go through DataView, floats as bit patterns (NaN payloads, −0). */
function readData(view: DataView, bytes: Uint8Array, at: number, dtype: SafetensorsDtype, count: number): NamedTensor['data'] {
  switch (dtype) {
    case 'F32': {
      const data = new Float32Array(count);
      const bits = new Uint32Array(data.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint32(at + 4 * i, true);
      return data;
    }
    case 'I32': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(at + 4 * i, true);
      return data;
    }
    case 'U8':
      return bytes.slice(at, at + count);
  }
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isRecord(value)) {
    throw new SafetensorsError(`The header’s “${METADATA_KEY}” is ${describe(value)}; it must be a map of text to text.`);
  }
  for (const [key, text] of Object.entries(value)) {
    if (typeof text !== 'string') {
      throw new SafetensorsError(`Metadata “${show(key)}” is ${describe(text)}; safetensors metadata values must be text.`);
    }
  }
  // fromEntries defines own properties, so a key like "__proto__" stays a key
  return Object.fromEntries(Object.entries(value as Record<string, string>));
}

const ENTRY_FIELDS = ['dtype', 'shape', 'data_offsets'];

function readEntry(name: string, value: unknown): SafetensorsEntry {
  if (name === '') throw new SafetensorsError('The header lists a tensor with an empty name: the file is damaged.');
  if (!isRecord(value)) {
    throw new SafetensorsError(`Tensor “${show(name)}” is ${describe(value)} in the header, not an object with dtype, shape and data_offsets.`);
  }
  for (const field of Object.keys(value)) {
    if (!ENTRY_FIELDS.includes(field)) {
      throw new SafetensorsError(`Tensor “${show(name)}” has a field “${show(field)}” that safetensors does not define (only dtype, shape and data_offsets).`);
    }
  }
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') {
    throw new SafetensorsError(`Tensor “${show(name)}” has ${dtype === undefined ? 'no dtype' : `dtype ${showValue(dtype)}`}; it must be a name such as "F32".`);
  }
  if (!isSupported(dtype)) {
    throw new SafetensorsError(`Tensor “${show(name)}” has dtype ${show(dtype)}, which this app does not read (it reads ${SUPPORTED}).`);
  }
  if (!Array.isArray(shape) || !shape.every(isDimension)) {
    throw new SafetensorsError(`Tensor “${show(name)}” has shape ${showValue(shape)}; it must be a list of whole numbers ≥ 0.`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isDimension)) {
    throw new SafetensorsError(`Tensor “${show(name)}” has data_offsets ${showValue(offsets)}; they must be two whole numbers ≥ 0, [begin, end].`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) {
    throw new SafetensorsError(`Tensor “${show(name)}” has data_offsets [${begin}, ${end}], which end before they begin: the file is damaged.`);
  }
  return { name, dtype, shape: shape as number[], dataOffsets: [begin, end] };
}

/**
 * The top-level keys of a valid JSON object text, in the order written; throws on a key written twice in
 * any one object (the spec: "Duplicate keys are disallowed"). The text has passed JSON.parse, so only
 * strings, brackets and colons need tracking.
 */
function topLevelKeys(text: string): string[] {
  const order: string[] = [];
  const objects: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') objects.push(new Set());
    else if (c === '[') objects.push(null);
    else if (c === '}' || c === ']') objects.pop();
    else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      let k = j + 1;
      while (text[k] === ' ' || text[k] === '\t' || text[k] === '\n' || text[k] === '\r') k++;
      const keys = objects[objects.length - 1];
      if (text[k] === ':' && keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) {
          throw new SafetensorsError(objects.length === 1
            ? `The header lists “${show(key)}” twice; safetensors allows each name only once.`
            : `The header has the key “${show(key)}” twice in one place; safetensors forbids duplicate keys.`);
        }
        keys.add(key);
        if (objects.length === 1) order.push(key);
      }
      i = j;
    }
  }
  return order;
}

// ---------------------------------------------------------------------------
// Shared helpers

const ARRAY_NAMES: Record<SafetensorsDtype, string> = { F32: 'a Float32Array', I32: 'an Int32Array', U8: 'a Uint8Array' };

function isSupported(dtype: unknown): dtype is SafetensorsDtype {
  return dtype === 'F32' || dtype === 'I32' || dtype === 'U8';
}

function matchesDtype(dtype: SafetensorsDtype, data: unknown): boolean {
  switch (dtype) {
    case 'F32': return data instanceof Float32Array;
    case 'I32': return data instanceof Int32Array;
    case 'U8': return data instanceof Uint8Array;
  }
}

function arrayKind(data: unknown): string {
  if (!ArrayBuffer.isView(data)) return describe(data);
  const name = data.constructor.name;
  return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
}

/** Whole, ≥ 0 and exact in a double (the schema's size_t is at most 48 bits). */
function isDimension(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Product of the dimensions; 1 for a scalar. Exact while below 2^53, which is all a file can hold. */
function elementCount(shape: readonly number[]): number {
  if (shape.includes(0)) return 0;
  return shape.reduce((a, b) => a * b, 1);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'undefined') return 'missing';
  return `a ${typeof value}`;
}

const SHOW_MAX = 80;

/** A name from a file, shortened for a message (the file keeps it whole). */
function show(text: string): string {
  return text.length > SHOW_MAX ? `${text.slice(0, SHOW_MAX)}…` : text;
}

function showValue(value: unknown): string {
  return value === undefined ? 'missing' : show(JSON.stringify(value) ?? String(value));
}

function showShape(shape: readonly number[]): string {
  return show(`[${shape.join(', ')}]`);
}

function showByte(byte: number): string {
  const hex = `0x${byte.toString(16).padStart(2, '0')}`;
  return byte >= 0x20 && byte < 0x7f ? `“${String.fromCharCode(byte)}” (${hex})` : `byte ${hex}`;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
