/**
 * The safetensors writer and reader against the spec (huggingface/safetensors README, "Format"): a file
 * built byte by byte by hand, round trips, the alignment padding, every refusal of the writer and of the
 * reader with the message the user sees, and a seeded fuzz of the reader (a file from disk is hostile input).
 */
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../core/random';
import {
  decodeSafetensors, encodeSafetensors, readSafetensorsLayout, SafetensorsError, type NamedTensor,
} from './safetensors';

const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

/** A file as a test spells it: the 8-byte little-endian length (the header's, unless given), the header bytes, the data. */
function craft(header: string | Uint8Array, data: ArrayLike<number> = [], declaredLength?: number): Uint8Array {
  const headerBytes = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + headerBytes.length + data.length);
  const view = new DataView(out.buffer);
  const n = declaredLength ?? headerBytes.length;
  view.setUint32(0, n % 2 ** 32, true);
  view.setUint32(4, Math.floor(n / 2 ** 32), true);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.length);
  return out;
}

/** The error decodeSafetensors throws on `bytes`; fails the test if it returns or throws anything but a SafetensorsError. */
function refusal(bytes: Uint8Array, limits?: { maxHeaderBytes: number }): SafetensorsError {
  let thrown: unknown;
  try {
    decodeSafetensors(bytes, limits);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(SafetensorsError);
  return thrown as SafetensorsError;
}

function encodeRefusal(tensors: NamedTensor[], metadata?: Record<string, string>): string {
  let thrown: unknown;
  try {
    encodeSafetensors(tensors, metadata);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(SafetensorsError);
  return (thrown as SafetensorsError).message;
}

const f32 = (name: string, shape: number[], values: number[]): NamedTensor =>
  ({ name, dtype: 'F32', shape, data: Float32Array.from(values) });

/** One F32 tensor "x" of shape [3] at bytes 0–12: the entry the refusal tests vary. */
const ENTRY_X = '"x":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}';
const TWELVE = new Uint8Array(12);

describe('encodeSafetensors', () => {
  it('writes the bytes the spec gives for one F32 tensor [1, 2], built here by hand', () => {
    const header = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes
    const expected = Uint8Array.from([
      56, 0, 0, 0, 0, 0, 0, 0, // N = 56, u64 little-endian: the header padded to a multiple of 8
      ...ascii(header), 0x20, 0x20, // two spaces: 8 + 56 = 64, so the byte buffer starts 8-aligned
      0x00, 0x00, 0x80, 0x3f, // 1.0f = 0x3f800000, little-endian
      0x00, 0x00, 0x00, 0x40, // 2.0f = 0x40000000
    ]);
    expect(encodeSafetensors([f32('w', [2], [1, 2])])).toEqual(expected);
  });

  it('writes "__metadata__" first, as a text-to-text map, and the tensors after it in the order given', () => {
    const bytes = encodeSafetensors(
      [
        { name: 'b', dtype: 'U8', shape: [], data: Uint8Array.of(7) },
        { name: 'a', dtype: 'I32', shape: [2], data: Int32Array.of(-2, 1) },
      ],
      { format: 'pt' },
    );
    const layout = readSafetensorsLayout(bytes);
    expect(layout.headerText.trimEnd()).toBe('{"__metadata__":{"format":"pt"},'
      + '"b":{"dtype":"U8","shape":[],"data_offsets":[0,1]},"a":{"dtype":"I32","shape":[2],"data_offsets":[1,9]}}');
    // the byte buffer: 7, then -2 and 1 as little-endian two's complement
    expect([...bytes.subarray(layout.dataStart)]).toEqual([7, 0xfe, 0xff, 0xff, 0xff, 1, 0, 0, 0]);
  });

  it('leaves "__metadata__" out when there is none', () => {
    const layout = readSafetensorsLayout(encodeSafetensors([f32('w', [1], [0])], {}));
    expect(layout.headerText).not.toContain('__metadata__');
  });

  it('pads the header with spaces so that 8 + N is a multiple of 8, whatever the names', () => {
    for (let length = 1; length <= 24; length++) {
      const bytes = encodeSafetensors([f32('n'.repeat(length), [1], [1])]);
      const { headerLength, headerText, dataStart } = readSafetensorsLayout(bytes);
      expect(dataStart % 8).toBe(0);
      const json = headerText.trimEnd();
      expect(headerText.length - json.length).toBeLessThan(8);
      expect(headerText.slice(json.length)).toMatch(/^ *$/);
      expect(headerLength).toBe(headerText.length);
    }
  });

  it('keeps float bit patterns exactly: −0, infinities and a NaN with a payload', () => {
    const bits = Uint32Array.of(0x80000000, 0x7f800000, 0xff800000, 0x7fc00001, 0x00000001);
    const tensor: NamedTensor = { name: 'odd', dtype: 'F32', shape: [5], data: new Float32Array(bits.buffer) };
    const bytes = encodeSafetensors([tensor]);
    const { dataStart } = readSafetensorsLayout(bytes);
    const view = new DataView(bytes.buffer, dataStart);
    expect([0, 1, 2, 3, 4].map((i) => view.getUint32(4 * i, true))).toEqual([...bits]);
    const back = decodeSafetensors(bytes).tensors[0].data;
    expect([...new Uint32Array(back.buffer)]).toEqual([...bits]);
  });

  it('refuses an empty name, the reserved name and a name given twice', () => {
    expect(encodeRefusal([f32('', [1], [1])])).toBe('A tensor has no name; every tensor needs one.');
    expect(encodeRefusal([f32('__metadata__', [1], [1])])).toContain('safetensors reserves that name for the metadata');
    expect(encodeRefusal([f32('w', [1], [1]), f32('w', [1], [2])]))
      .toBe('Two tensors are named “w”; each name may appear only once.');
  });

  it('refuses a shape that does not hold the data, and dims that are not whole numbers ≥ 0', () => {
    expect(encodeRefusal([f32('w', [2, 2], [1, 2, 3])]))
      .toBe('Tensor “w” has shape [2, 2], which holds 4 elements, but its data has 3.');
    expect(encodeRefusal([f32('w', [], [1, 2])])).toBe('Tensor “w” has shape [], which holds 1 elements, but its data has 2.');
    expect(encodeRefusal([f32('w', [-1, -2], [1, 2])])).toContain('has shape [-1,-2]; each dimension must be a whole number ≥ 0');
    expect(encodeRefusal([f32('w', [1.5, 2], [1, 2, 3])])).toContain('has shape [1.5,2]');
    expect(encodeRefusal([f32('w', [NaN], [1])])).toContain('has shape [null]');
  });

  it('refuses a dtype that does not match the array, or one it does not write', () => {
    expect(encodeRefusal([{ name: 'w', dtype: 'F32', shape: [1], data: Int32Array.of(1) }]))
      .toBe('Tensor “w” is declared F32 but its data is an Int32Array, not a Float32Array.');
    expect(encodeRefusal([{ name: 'w', dtype: 'I32', shape: [1], data: Float32Array.of(1) }])).toContain('not an Int32Array');
    expect(encodeRefusal([{ name: 'w', dtype: 'U8', shape: [1], data: Int32Array.of(1) }])).toContain('not a Uint8Array');
    const f16 = { name: 'w', dtype: 'F16', shape: [1], data: Uint8Array.of(1, 2) } as unknown as NamedTensor;
    expect(encodeRefusal([f16])).toBe('Tensor “w” has dtype F16, which this app does not write (it writes F32, I32 and U8).');
  });

  it('refuses metadata that is not text', () => {
    expect(encodeRefusal([], { epochs: 3 } as unknown as Record<string, string>))
      .toBe('Metadata “epochs” is a number; safetensors metadata values must be text.');
  });
});

describe('decodeSafetensors: round trips', () => {
  const rng = createRng(7);
  const big = Float32Array.from({ length: 10_000 }, () => rng() * 2 - 1);
  const tensors: NamedTensor[] = [
    f32('encoder.conv1.weight', [2, 1, 3, 3], Array.from({ length: 18 }, (_, i) => i / 7 - 1)),
    f32('encoder.fc.bias', [3], [0.5, -0.25, 1e-30]),
    { name: 'encoder.bn1.num_batches_tracked', dtype: 'I32', shape: [], data: Int32Array.of(2_147_483_647) },
    { name: 'labels', dtype: 'I32', shape: [2, 3], data: Int32Array.of(-2_147_483_648, -1, 0, 1, 2, 3) },
    { name: 'empty', dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
    { name: 'mask', dtype: 'U8', shape: [5], data: Uint8Array.of(0, 1, 127, 128, 255) },
    { name: 'scalar', dtype: 'F32', shape: [], data: Float32Array.of(Math.PI) },
    { name: 'big', dtype: 'F32', shape: [100, 100], data: big },
    { name: 'odd_u8', dtype: 'U8', shape: [3, 1], data: Uint8Array.of(9, 8, 7) },
    { name: 'after_odd', dtype: 'F32', shape: [1], data: Float32Array.of(-3) },
  ];
  const metadata = { format: 'pt', method: 'simclr', note: 'trained 200 steps — “untrained” is false' };

  it('gives back every tensor (F32, I32, U8; scalar, empty, 10k floats) and the metadata, in order', () => {
    const { tensors: back, metadata: meta } = decodeSafetensors(encodeSafetensors(tensors, metadata));
    expect(meta).toEqual(metadata);
    expect(back.map((t) => t.name)).toEqual(tensors.map((t) => t.name));
    back.forEach((t, i) => {
      expect(t.dtype).toBe(tensors[i].dtype);
      expect(t.shape).toEqual(tensors[i].shape);
      expect(t.data.constructor).toBe(tensors[i].data.constructor);
      expect([...t.data]).toEqual([...tensors[i].data]);
    });
  });

  it('keeps names and metadata that JSON must escape, and names JavaScript treats specially', () => {
    const names = ['a"b', 'back\\slash', 'line\nbreak', 'tab\t', '名前.重み', '😀', 'lone \uD800 surrogate', '0', '10', '__proto__',
      'constructor', ' padded '];
    const odd = names.map((name, i) => f32(name, [1], [i]));
    const meta = { '__proto__': 'x', '"': '\u0000\u001f', 'ключ': 'значение', '': 'empty key' };
    const back = decodeSafetensors(encodeSafetensors(odd, meta));
    expect(back.tensors.map((t) => t.name)).toEqual(names);
    expect(back.tensors.map((t) => t.data[0])).toEqual(names.map((_, i) => i));
    expect(Object.entries(back.metadata)).toEqual(Object.entries(meta));
  });

  it('re-encodes what it read to the same bytes', () => {
    const bytes = encodeSafetensors(tensors, metadata);
    const back = decodeSafetensors(bytes);
    expect(encodeSafetensors(back.tensors, back.metadata)).toEqual(bytes);
  });

  it('reads a view at an odd byteOffset into fresh, aligned arrays that do not share its memory', () => {
    const bytes = encodeSafetensors(tensors, metadata);
    const host = new Uint8Array(bytes.length + 8);
    host.set(bytes, 3);
    const view = host.subarray(3, 3 + bytes.length);
    const back = decodeSafetensors(view);
    const expected = decodeSafetensors(bytes);
    expect(back).toEqual(expected);
    for (const t of back.tensors) {
      expect(t.data.buffer).not.toBe(host.buffer);
      expect(t.data.byteOffset % t.data.BYTES_PER_ELEMENT).toBe(0);
    }
    host.fill(0xff);
    expect(back).toEqual(expected);
  });

  it('returns the tensors in data-offset order, whatever order the header lists them in', () => {
    const header = '{"second":{"dtype":"U8","shape":[1],"data_offsets":[4,5]},'
      + '"first":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}';
    const { tensors: back } = decodeSafetensors(craft(header, [1, 0, 0, 0, 9]));
    expect(back.map((t) => [t.name, t.data[0]])).toEqual([['first', 1], ['second', 9]]);
  });

  it('reads files other writers spell differently: no padding, whitespace, other padding, other key order, N not a multiple of 8', () => {
    const header = '{ "x" : { "data_offsets" : [ 0 , 4 ] , "shape" : [ ] , "dtype" : "F32" } ,\n'
      + '  "__metadata__" : { "k" : "v" } }\t\r\n ';
    const back = decodeSafetensors(craft(header, [0, 0, 0x80, 0xbf]));
    expect(back).toEqual({ tensors: [{ name: 'x', dtype: 'F32', shape: [], data: Float32Array.of(-1) }], metadata: { k: 'v' } });
    // the spec's smallest file: an empty header "{}" and no data (the reference reader's own test)
    expect(decodeSafetensors(craft('{}'))).toEqual({ tensors: [], metadata: {} });
  });

  it('exposes the layout an interop test checks: N, where the data starts, each tensor’s offsets', () => {
    const bytes = encodeSafetensors([f32('w', [2], [1, 2]), { name: 'm', dtype: 'U8', shape: [3], data: Uint8Array.of(1, 2, 3) }]);
    const layout = readSafetensorsLayout(bytes);
    expect(layout.headerLength).toBe(new DataView(bytes.buffer).getUint32(0, true));
    expect(layout.dataStart).toBe(8 + layout.headerLength);
    expect(layout.dataLength).toBe(11);
    expect(layout.entries).toEqual([
      { name: 'w', dtype: 'F32', shape: [2], dataOffsets: [0, 8] },
      { name: 'm', dtype: 'U8', shape: [3], dataOffsets: [8, 11] },
    ]);
  });
});

describe('decodeSafetensors: refusals, each with its message', () => {
  it('a file shorter than the 8-byte length', () => {
    expect(refusal(Uint8Array.of(1, 2, 3, 4, 5)).message).toBe('The file is not a safetensors file: it is 5 bytes long, '
      + 'too short even for the 8-byte header length a safetensors file starts with.');
    expect(refusal(new Uint8Array(0)).message).toContain('it is 0 bytes long');
  });

  it('a header length larger than the limit (a PNG, a u64 of all ones, a lower limit)', () => {
    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52);
    expect(refusal(png).message).toBe('The file is not a safetensors file: its first 8 bytes give a header of '
      + '727905341920923785 bytes, more than the 104857600 bytes this app reads.');
    expect(refusal(new Uint8Array(16).fill(0xff)).message).toContain('a header of 18446744073709551615 bytes');
    const bytes = encodeSafetensors([f32('w', [2], [1, 2])]);
    expect(refusal(bytes, { maxHeaderBytes: 16 }).message).toContain('a header of 56 bytes, more than the 16 bytes this app reads');
  });

  it('a header length too small for a JSON object', () => {
    expect(refusal(craft('{', [], 1)).message).toContain('a header of 1 byte, too short for the JSON object a header is');
    expect(refusal(craft('', [], 0)).message).toContain('a header of 0 bytes');
  });

  it('a header that is not a JSON object', () => {
    expect(refusal(craft('[1, 2]')).message).toBe('The file is not a safetensors file: its header must be a JSON object '
      + 'starting with “{”, but it starts with “[” (0x5b).');
    expect(refusal(craft(' {}')).message).toContain('but it starts with “ ” (0x20)');
    expect(refusal(craft(Uint8Array.of(0, 0x7b, 0x7d))).message).toContain('but it starts with byte 0x00');
  });

  it('a header length larger than the file: truncated', () => {
    const bytes = encodeSafetensors([f32('w', [2], [1, 2])]).subarray(0, 20);
    expect(refusal(bytes).message).toBe('The file is truncated: the header says 56 bytes, the file has 12 bytes after '
      + 'the 8-byte length. Download or export it again.');
    expect(refusal(craft('', [], 100)).message).toContain('the header says 100 bytes, the file has 0 bytes');
  });

  it('a header that is not UTF-8', () => {
    const header = Uint8Array.of(...ascii('{"'), 0xff, 0xfe, ...ascii('":{}}'));
    expect(refusal(craft(header)).message)
      .toBe('The file’s header is not valid UTF-8 text: the file is damaged or not a safetensors file.');
  });

  it('a header that is not JSON', () => {
    const message = refusal(craft('{"x":{"dtype":"F32",}}')).message;
    expect(message).toMatch(/^The file’s header is not valid JSON \(.+\): the file is damaged or not a safetensors file\.$/);
    // NUL padding instead of spaces is not JSON either
    expect(refusal(craft('{}\u0000\u0000')).message).toContain('not valid JSON');
  });

  it('a tensor name or a key written twice', () => {
    const twice = `{${ENTRY_X},${ENTRY_X}}`;
    expect(refusal(craft(twice, TWELVE)).message).toBe('The header lists “x” twice; safetensors allows each name only once.');
    expect(refusal(craft('{"__metadata__":{"a":"1","a":"2"}}')).message)
      .toBe('The header has the key “a” twice in one place; safetensors forbids duplicate keys.');
    // the same name, spelled with an escape
    expect(refusal(craft(`{${ENTRY_X},"\\u0078":{"dtype":"U8","shape":[0],"data_offsets":[12,12]}}`, TWELVE)).message)
      .toContain('lists “x” twice');
  });

  it('metadata that is not a text-to-text map', () => {
    expect(refusal(craft('{"__metadata__":["a"]}')).message)
      .toBe('The header’s “__metadata__” is a list; it must be a map of text to text.');
    expect(refusal(craft('{"__metadata__":"text"}')).message).toContain('“__metadata__” is text');
    expect(refusal(craft('{"__metadata__":{"steps":200}}')).message)
      .toBe('Metadata “steps” is a number; safetensors metadata values must be text.');
    expect(refusal(craft('{"__metadata__":{"nested":{"a":"b"}}}')).message).toContain('Metadata “nested” is an object');
  });

  it('a tensor with an empty name', () => {
    expect(refusal(craft('{"":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}')).message)
      .toBe('The header lists a tensor with an empty name: the file is damaged.');
  });

  it('a tensor entry that is not an object, or has a field the spec does not define', () => {
    expect(refusal(craft('{"x":[0,12]}', TWELVE)).message)
      .toBe('Tensor “x” is a list in the header, not an object with dtype, shape and data_offsets.');
    expect(refusal(craft('{"x":{"dtype":"F32","shape":[3],"offsets":[0,12]}}', TWELVE)).message)
      .toBe('Tensor “x” has a field “offsets” that safetensors does not define (only dtype, shape and data_offsets).');
  });

  it('a dtype this app does not read', () => {
    expect(refusal(craft('{"x":{"dtype":"F16","shape":[3],"data_offsets":[0,6]}}', new Uint8Array(6))).message)
      .toBe('Tensor “x” has dtype F16, which this app does not read (it reads F32, I32 and U8).');
    expect(refusal(craft('{"x":{"shape":[3],"data_offsets":[0,12]}}', TWELVE)).message)
      .toBe('Tensor “x” has no dtype; it must be a name such as "F32".');
    expect(refusal(craft('{"x":{"dtype":32,"shape":[3],"data_offsets":[0,12]}}', TWELVE)).message)
      .toBe('Tensor “x” has dtype 32; it must be a name such as "F32".');
  });

  it('a shape that is not a list of whole numbers ≥ 0', () => {
    for (const [shape, shown] of [['[-3]', '[-3]'], ['[1.5,2]', '[1.5,2]'], ['"3"', '"3"'], ['[[3]]', '[[3]]'], ['[1e400]', '[null]']]) {
      expect(refusal(craft(`{"x":{"dtype":"F32","shape":${shape},"data_offsets":[0,12]}}`, TWELVE)).message)
        .toBe(`Tensor “x” has shape ${shown}; it must be a list of whole numbers ≥ 0.`);
    }
    expect(refusal(craft('{"x":{"dtype":"F32","data_offsets":[0,12]}}', TWELVE)).message)
      .toBe('Tensor “x” has shape missing; it must be a list of whole numbers ≥ 0.');
  });

  it('data_offsets that are not two whole numbers ≥ 0, or end before they begin', () => {
    for (const offsets of ['[12]', '[0,6,12]', '[-4,8]', '[0,12.5]', '{"0":0,"1":12}', '[0,9007199254740993]']) {
      expect(refusal(craft(`{"x":{"dtype":"F32","shape":[3],"data_offsets":${offsets}}}`, TWELVE)).message)
        .toMatch(/^Tensor “x” has data_offsets .+; they must be two whole numbers ≥ 0, \[begin, end\]\.$/);
    }
    expect(refusal(craft('{"x":{"dtype":"F32","shape":[0],"data_offsets":[12,0]}}', TWELVE)).message)
      .toBe('Tensor “x” has data_offsets [12, 0], which end before they begin: the file is damaged.');
  });

  it('offsets whose length is not what the shape and dtype need', () => {
    expect(refusal(craft('{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Uint8Array(8))).message)
      .toBe('Tensor “x” claims bytes 0–8 but its shape [3] of F32 needs 12: the file is damaged.');
    expect(refusal(craft('{"x":{"dtype":"F32","shape":[1048576,1048576,1048576],"data_offsets":[0,8]}}', new Uint8Array(8))).message)
      .toBe('Tensor “x” claims bytes 0–8 but its shape [1048576, 1048576, 1048576] of F32 needs more than any file holds: the file is damaged.');
  });

  it('offsets past the end of the data: truncated', () => {
    expect(refusal(craft(`{${ENTRY_X}}`, new Uint8Array(8))).message).toBe('The file is truncated: tensor “x” claims bytes '
      + '0–12 of the data, which has only 8 bytes. Download or export it again.');
    const bytes = encodeSafetensors([f32('w', [2], [1, 2])]);
    expect(refusal(bytes.subarray(0, bytes.length - 1)).message).toContain('tensor “w” claims bytes 0–8 of the data, which has only 7 bytes');
  });

  it('tensors that overlap', () => {
    const header = `{${ENTRY_X},"y":{"dtype":"I32","shape":[1],"data_offsets":[8,12]}}`;
    expect(refusal(craft(header, TWELVE)).message)
      .toBe('Tensor “y” (bytes 8–12) overlaps tensor “x” (bytes 0–12): the file is damaged.');
    const empty = `{${ENTRY_X},"e":{"dtype":"U8","shape":[0],"data_offsets":[4,4]}}`;
    expect(refusal(craft(empty, TWELVE)).message).toBe('Tensor “e” (bytes 4–4) overlaps tensor “x” (bytes 0–12): the file is damaged.');
  });

  it('bytes between tensors that belong to none', () => {
    const header = '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}}';
    expect(refusal(craft(header, new Uint8Array(8))).message)
      .toBe('Bytes 2–6 of the data, before tensor “b”, belong to no tensor: the file is damaged.');
    expect(refusal(craft('{"a":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}', new Uint8Array(6))).message)
      .toContain('Bytes 0–4 of the data, before tensor “a”');
  });

  it('bytes after the last tensor', () => {
    const bytes = encodeSafetensors([f32('w', [2], [1, 2])]);
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    expect(refusal(longer).message)
      .toBe('The file has 3 bytes after the last tensor that belong to no tensor: it is damaged, or two files were joined.');
    expect(refusal(craft('{}', [0])).message).toContain('The file has 1 byte after the last tensor');
  });

  it('changes nothing it was given', () => {
    const bytes = encodeSafetensors([f32('w', [2], [1, 2])]);
    const copy = bytes.slice();
    decodeSafetensors(bytes);
    refusal(bytes.subarray(0, 70));
    expect(bytes).toEqual(copy);
  });
});

describe('decodeSafetensors: fuzz', () => {
  /** Seeds: a tiny file, a mixed one with metadata and every dtype, names that need escapes. */
  const seeds = [
    encodeSafetensors([f32('w', [2], [1, 2])]),
    encodeSafetensors([
      f32('encoder.conv.weight', [2, 3], [1, -2, 3.5, 0, -0, 1e-7]),
      { name: 'bn.num_batches_tracked', dtype: 'I32', shape: [], data: Int32Array.of(200) },
      { name: 'mask', dtype: 'U8', shape: [5], data: Uint8Array.of(1, 0, 1, 1, 0) },
      { name: 'empty', dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
      { name: 'labels', dtype: 'I32', shape: [4], data: Int32Array.of(0, 9, -1, 3) },
    ], { format: 'pt', note: 'ünïcode "quoted"' }),
    encodeSafetensors([
      { name: 'a\nb', dtype: 'U8', shape: [3], data: Uint8Array.of(1, 2, 3) },
      { name: '"q"', dtype: 'F32', shape: [1, 1], data: Float32Array.of(0.1) },
      { name: '名前', dtype: 'I32', shape: [1], data: Int32Array.of(-7) },
    ], { '': '\\' }),
  ];

  /** Tokens a hostile header is assembled from: near-valid JSON reaches the checks after the parser. */
  const TOKENS = ['{', '}', '[', ']', ',', ':', ' ', '"x"', '"y"', '"dtype"', '"shape"', '"data_offsets"', '"__metadata__"',
    '"F32"', '"I32"', '"U8"', '"F16"', '0', '1', '3', '4', '12', '-1', '1.5', '1e3', 'null', 'true', '"\\u0078"', '""'];

  const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
  const randomBytes = (rng: Rng, n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(rng, 256));

  function mutate(rng: Rng, seed: Uint8Array, kind: number): Uint8Array {
    const out = seed.slice();
    const dataStart = readSafetensorsLayout(seed).dataStart;
    switch (kind) {
      case 0: { // bytes of the header
        for (let k = 1 + int(rng, 3); k > 0; k--) out[8 + int(rng, dataStart - 8)] = int(rng, 256);
        return out;
      }
      case 1: // a byte of the length
        out[int(rng, 8)] = int(rng, 256);
        return out;
      case 2: { // bytes of the data: no checksum can see this, so it must read back as the changed bytes, exactly
        for (let k = 1 + int(rng, 4); k > 0; k--) out[dataStart + int(rng, out.length - dataStart)] = int(rng, 256);
        return out;
      }
      case 3: { // bytes anywhere
        for (let k = 1 + int(rng, 4); k > 0; k--) out[int(rng, out.length)] = int(rng, 256);
        return out;
      }
      case 4: { // insert bytes
        const at = int(rng, out.length + 1);
        return Uint8Array.from([...out.subarray(0, at), ...randomBytes(rng, 1 + int(rng, 3)), ...out.subarray(at)]);
      }
      case 5: { // delete bytes
        const at = int(rng, out.length);
        return Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + 1 + int(rng, 3))]);
      }
      case 6: // garbage of a random length
        return randomBytes(rng, int(rng, 300));
      case 7: { // a header of JSON tokens, its true length, then random data
        const text = `{${Array.from({ length: int(rng, 30) }, () => TOKENS[int(rng, TOKENS.length)]).join('')}}`;
        return craft(text, randomBytes(rng, int(rng, 20)));
      }
      default:
        return nearlyValid(rng);
    }
  }

  const pick = <T,>(rng: Rng, options: readonly T[]): T => options[int(rng, options.length)];

  /** Valid JSON of entries whose fields are each usually right: reaches the size, overlap, gap and trailing-byte checks. */
  function nearlyValid(rng: Rng): Uint8Array {
    const entries: string[] = [];
    let end = 0;
    for (let k = int(rng, 4); k > 0; k--) {
      const dtype = rng() < 0.9 ? pick(rng, ['F32', 'I32', 'U8'] as const) : pick(rng, ['F16', 'BOOL', 'f32']);
      const shape = Array.from({ length: int(rng, 3) }, () => (rng() < 0.95 ? int(rng, 4) : pick(rng, [-1, 1.5, 1e20])));
      const bytes = shape.reduce((a, b) => a * b, 1) * ({ F32: 4, I32: 4, U8: 1 }[dtype as string] ?? 2);
      let begin = end + (rng() < 0.1 ? pick(rng, [-4, -1, 1, 4]) : 0);
      let stop = begin + bytes + (rng() < 0.1 ? pick(rng, [-4, -1, 1, 4]) : 0);
      if (rng() < 0.05) [begin, stop] = [stop, begin];
      end = stop;
      const name = rng() < 0.95 ? `t${k}` : pick(rng, ['', '__metadata__', 't1']);
      const field = rng() < 0.97 ? 'data_offsets' : pick(rng, ['offsets', 'data_offset']);
      entries.push(`${JSON.stringify(name)}:{"dtype":${JSON.stringify(dtype)},"shape":${JSON.stringify(shape)},"${field}":[${begin},${stop}]}`);
    }
    if (rng() < 0.3) entries.push(`"__metadata__":${pick(rng, ['{"a":"b"}', '{"a":1}', '[]', '{}', '"x"'])}`);
    // a huge dim makes a huge claim; the data stays small (the claim is refused either way)
    const length = Math.min(4096, Math.max(0, end + (rng() < 0.1 ? pick(rng, [-1, 1, 8]) : 0)));
    return craft(`{${entries.join(',')}}${' '.repeat(int(rng, 8))}`, randomBytes(rng, length));
  }

  const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

  /**
   * Refused with a SafetensorsError, or read faithfully: re-encoding what was read gives the same bytes, or,
   * for a file spelled differently (e.g. a tab in the padding), the same header meaning and the same byte buffer.
   */
  function check(input: Uint8Array): 'refused' | 'identical' | 'respelled' | string {
    let read: ReturnType<typeof decodeSafetensors>;
    try {
      read = decodeSafetensors(input);
    } catch (error) {
      return error instanceof SafetensorsError ? 'refused' : `threw ${String(error)}`;
    }
    const again = encodeSafetensors(read.tensors, read.metadata);
    if (bytesEqual(again, input)) return 'identical';
    const a = readSafetensorsLayout(input);
    const b = readSafetensorsLayout(again);
    const sameMeaning = JSON.stringify(meaning(a.headerText)) === JSON.stringify(meaning(b.headerText));
    const sameData = bytesEqual(input.subarray(a.dataStart), again.subarray(b.dataStart));
    return sameMeaning && sameData ? 'respelled' : 'read unfaithfully';
  }

  it('every prefix of a valid file is refused as a SafetensorsError', () => {
    for (const seed of seeds) {
      for (let length = 0; length < seed.length; length++) expect(check(seed.subarray(0, length))).toBe('refused');
    }
  });

  it('thousands of seeded mutations are each refused with a SafetensorsError or read faithfully, quickly', () => {
    const rng = createRng(21);
    const KINDS = 9;
    const CASES = KINDS * 1000;
    const counts: Record<string, number>[] = Array.from({ length: KINDS }, () => ({}));
    const failures: string[] = [];
    const start = performance.now();
    for (let i = 0; i < CASES; i++) {
      const kind = i % KINDS;
      const input = mutate(rng, seeds[Math.floor(i / KINDS) % seeds.length], kind);
      const outcome = check(input);
      counts[kind][outcome] = (counts[kind][outcome] ?? 0) + 1;
      if (!['refused', 'identical', 'respelled'].includes(outcome) && failures.length < 5) {
        failures.push(`case ${i} (kind ${kind}): ${outcome}: [${[...input].join(',')}]`);
      }
    }
    const elapsed = performance.now() - start;
    expect(failures).toEqual([]);
    // damage to the data reads back as exactly the damaged bytes; damage elsewhere is nearly always refused
    expect(counts[2]).toEqual({ identical: 1000 });
    for (const kind of [1, 4, 5, 6]) expect(counts[kind].refused).toBeGreaterThan(900);
    // nearly valid headers reach every check past the JSON parser (about 4 in 10 are read, faithfully)
    expect(counts[8].refused).toBeGreaterThan(200);
    expect(counts[8].identical + (counts[8].respelled ?? 0)).toBeGreaterThan(200);
    // loose: a case takes microseconds; 5 s for 8000 is a hang detector, not a benchmark
    expect(elapsed).toBeLessThan(5000);
  });
});

/** What a header says, whatever its spelling: keys sorted, and an empty "__metadata__" (which the writer leaves out) dropped. */
function meaning(headerText: string): unknown {
  const header = JSON.parse(headerText) as Record<string, unknown>;
  const metadata = header.__metadata__;
  if (metadata && typeof metadata === 'object' && Object.keys(metadata).length === 0) delete header.__metadata__;
  return sortKeys(header);
}

/** A JSON value with every object's keys sorted. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}
