import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { inflateZip, listZip, MAX_UNZIPPED_BYTES, planZip, type InflatedEntry } from './zip';

const pngHeader = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 4, 0, 0, 0, 4, 8, 2, 0, 0, 0, 0, 0, 0, 0]);
const text = (s: string) => new TextEncoder().encode(s);

/** Offsets of an entry's central-directory header and of its data. */
function locate(zip: Uint8Array, name: string): { central: number; data: number; compressed: number } {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const decoder = new TextDecoder();
  for (let i = 0; i + 46 < zip.length; i++) {
    if (view.getUint32(i, true) !== 0x02014b50) continue;
    const nameLength = view.getUint16(i + 28, true);
    if (decoder.decode(zip.subarray(i + 46, i + 46 + nameLength)) !== name) continue;
    const local = view.getUint32(i + 42, true);
    const data = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    return { central: i, data, compressed: view.getUint32(i + 20, true) };
  }
  throw new Error(`no entry ${name}`);
}

function setDeclaredSize(zip: Uint8Array, name: string, size: number): void {
  new DataView(zip.buffer, zip.byteOffset).setUint32(locate(zip, name).central + 24, size, true);
}

function collect(batches: Iterable<InflatedEntry[]>): InflatedEntry[] {
  return [...batches].flat();
}

describe('listZip and planZip', () => {
  const archive = zipSync({
    'cat/': new Uint8Array(0),
    'cat/1.png': pngHeader,
    'dog/2.png': pngHeader,
    'notes.txt': text('not an image'),
    'more.zip': zipSync({ 'x/1.png': pngHeader }),
    'empty.png': new Uint8Array(0),
    '__MACOSX/cat/._1.png': text('resource fork'),
    '.DS_Store': text('clutter'),
  });

  it('lists every entry with its declared size, inflating nothing', () => {
    const entries = listZip(archive);
    expect(entries.map((e) => e.path)).toEqual(['cat/', 'cat/1.png', 'dog/2.png', 'notes.txt', 'more.zip', 'empty.png', '__MACOSX/cat/._1.png', '.DS_Store']);
    expect(entries[1]).toMatchObject({ index: 1, declaredSize: pngHeader.length });
    expect(entries[5].declaredSize).toBe(0);
  });

  it('keeps files, skips nested zips with a reason, and ignores folders and clutter', () => {
    const plan = planZip('pets.zip', listZip(archive));
    expect(plan.refused).toBeUndefined();
    expect(plan.entries.map((e) => e.path)).toEqual(['cat/1.png', 'dog/2.png', 'notes.txt', 'empty.png']);
    expect(plan.skipped).toEqual([{ name: 'pets.zip/more.zip', reason: 'nested zip archives are not opened' }]);
  });

  it('inflates the planned entries, zero-byte ones included', () => {
    const plan = planZip('pets.zip', listZip(archive));
    const out = collect(inflateZip(archive, plan.entries));
    expect(out.map((r) => ('bytes' in r ? r.bytes.length : r.error))).toEqual([pngHeader.length, pngHeader.length, 12, 0]);
    expect('bytes' in out[0] && Array.from(out[0].bytes)).toEqual(Array.from(pngHeader));
  });

  it('refuses the whole zip when the declared sizes pass the cap, before inflating', () => {
    const bomb = zipSync({ 'a.png': new Uint8Array(4 << 20), 'b.png': pngHeader }, { level: 9 });
    // ruin the compressed data: inflating it would throw, so a clean refusal proves nothing was inflated
    const { data, compressed } = locate(bomb, 'a.png');
    bomb.fill(0xff, data, data + compressed);
    const plan = planZip('bomb.zip', listZip(bomb), 1 << 20);
    expect(plan.entries).toEqual([]);
    expect(plan.refused).toContain('would unzip to 4.0 MiB, more than the limit of 1.0 MiB');
    // under the default cap the same archive is planned, and the ruined entry fails alone
    expect(MAX_UNZIPPED_BYTES).toBe(512 * 1024 * 1024);
    const out = collect(inflateZip(bomb, planZip('bomb.zip', listZip(bomb)).entries));
    expect('error' in out[0] && out[0].error).toMatch(/^could not be unzipped/);
    expect('bytes' in out[1] && out[1].bytes.length).toBe(pngHeader.length);
  });

  it('reports corrupt zip bytes', () => {
    expect(() => listZip(text('this is not a zip at all, just text pretending'))).toThrow(/not a readable zip archive/);
    expect(() => listZip(archive.subarray(0, archive.length - 30))).toThrow(/not a readable zip archive/);
  });

  it('skips repeated paths inside one zip', () => {
    const one = zipSync({ 'cat/1.png': pngHeader });
    const entries = listZip(one);
    const plan = planZip('twice.zip', [...entries, { ...entries[0], index: 1 }]);
    expect(plan.entries).toHaveLength(1);
    expect(plan.skipped).toEqual([{ name: 'twice.zip/cat/1.png', reason: 'duplicate file name' }]);
  });
});

describe('inflateZip guards', () => {
  const files = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`c/${i}.bin`, new Uint8Array(100).fill(i)]));

  it('inflates in batches, in order', () => {
    const archive = zipSync(files);
    const entries = planZip('z', listZip(archive)).entries;
    const batches = [...inflateZip(archive, entries, { batchBytes: 250 })];
    expect(batches.map((b) => b.length)).toEqual([2, 2, 2]);
    expect(batches.flat().map((r) => ('bytes' in r ? r.bytes[0] : -1))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('stops at the cap on bytes actually produced', () => {
    const archive = zipSync(files);
    const entries = planZip('z', listZip(archive)).entries;
    const out = collect(inflateZip(archive, entries, { maxUnzippedBytes: 250, batchBytes: 100 }));
    expect(out.map((r) => 'bytes' in r)).toEqual([true, true, false, false, false, false]);
    expect('error' in out[5] && out[5].error).toMatch(/more than the limit/);
  });

  it('refuses a stored entry larger than its header says', () => {
    const archive = zipSync({ 'a/1.png': [new Uint8Array(5000).fill(7), { level: 0 }], 'a/2.png': pngHeader });
    setDeclaredSize(archive, 'a/1.png', 10);
    const entries = planZip('liar.zip', listZip(archive)).entries;
    expect(entries[0].declaredSize).toBe(10);
    const out = collect(inflateZip(archive, entries));
    expect('error' in out[0] && out[0].error).toBe('unzips to 5000 bytes but the zip declares 10 (damaged or tampered zip)');
    expect('bytes' in out[1]).toBe(true);
  });

  it('never inflates a deflated entry past its declared size', () => {
    const archive = zipSync({ 'a/1.png': new Uint8Array(1 << 20) });
    setDeclaredSize(archive, 'a/1.png', 64);
    const [result] = collect(inflateZip(archive, listZip(archive)));
    expect('bytes' in result && result.bytes.length).toBe(64);
  });
});
