import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { locate, setDeclaredSize, setFlags, zip64Stored } from './fixtures.testutil';
import { ENCRYPTED_ENTRY, ENCRYPTED_ZIP, inflateZip, listZip, MAX_UNZIPPED_BYTES, planZip, ZipError, type InflatedEntry } from './zip';

const pngHeader = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 4, 0, 0, 0, 4, 8, 2, 0, 0, 0, 0, 0, 0, 0]);
const text = (s: string) => new TextEncoder().encode(s);

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
    expect('error' in out[0] && out[0].error).toBe('damaged in the zip (its compressed data is corrupt and cannot be unpacked)');
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
    expect('error' in out[0] && out[0].error).toBe('the zip says this file is 10 bytes but it holds more: the zip looks tampered with, so it was not unzipped');
    expect('bytes' in out[1]).toBe(true);
  });

  it('never inflates a deflated entry past its declared size, and says the zip was tampered with', () => {
    const archive = zipSync({ 'a/1.png': new Uint8Array(1 << 20) });
    setDeclaredSize(archive, 'a/1.png', 64);
    const [result] = collect(inflateZip(archive, listZip(archive)));
    expect('error' in result && result.error).toMatch(/^the zip says this file is 64 bytes but it holds more: the zip looks tampered with/);
  });
});

describe('hostile zips, entry by entry', () => {
  const good = { 'cat/1.png': pngHeader, 'dog/2.png': pngHeader };

  it('lists only with ZipError, the one error listZip throws', () => {
    for (const bytes of [new Uint8Array(0), text('not a zip'), zipSync(good).subarray(0, 40)]) {
      expect(() => listZip(bytes)).toThrow(ZipError);
    }
    expect(listZip(zipSync({}))).toEqual([]);
  });

  it('refuses a directory with more entries than the cap, before listing them', () => {
    const archive = zipSync({ 'a/1.png': pngHeader, 'a/2.png': pngHeader, 'a/3.png': pngHeader });
    expect(() => listZip(archive, 2)).toThrow('this zip lists 3 files, more than the 2 a zip may hold here; split it into smaller zips');
    expect(listZip(archive, 3)).toHaveLength(3);
  });

  it('reads zip64 sizes and offsets from the extra field', () => {
    const archive = zip64Stored('cat/64.png', pngHeader);
    const entries = listZip(archive);
    expect(entries).toEqual([expect.objectContaining({ path: 'cat/64.png', declaredSize: pngHeader.length, compressedSize: pngHeader.length, localOffset: 0 })]);
    const [result] = collect(inflateZip(archive, entries));
    expect('bytes' in result && Array.from(result.bytes)).toEqual(Array.from(pngHeader));
  });

  it('refuses a zip whose every file is encrypted as a whole, and names encrypted entries one by one otherwise', () => {
    const all = zipSync(good);
    for (const name of Object.keys(good)) setFlags(all, name, 1);
    expect(planZip('locked.zip', listZip(all))).toEqual({ entries: [], skipped: [], refused: ENCRYPTED_ZIP });
    const some = zipSync({ ...good, 'cat/secret.png': pngHeader });
    setFlags(some, 'cat/secret.png', 1);
    const plan = planZip('partly.zip', listZip(some));
    expect(plan.entries.map((e) => e.path)).toEqual(['cat/1.png', 'dog/2.png']);
    expect(plan.skipped).toEqual([{ name: 'partly.zip/cat/secret.png', reason: ENCRYPTED_ENTRY }]);
    // handed to inflateZip anyway, it is refused there too, not inflated into garbage
    expect(collect(inflateZip(some, listZip(some)))[2]).toEqual({ entry: expect.anything(), error: ENCRYPTED_ENTRY });
  });

  it('skips paths that leave the zip’s folder, with the reason, before the hidden-file rule', () => {
    const plan = planZip('slip.zip', listZip(zipSync({ ...good, '../x.png': pngHeader, 'a/../../.y.png': pngHeader, '/abs.png': pngHeader })));
    expect(plan.entries).toHaveLength(2);
    expect(plan.skipped).toEqual([
      { name: 'slip.zip/../x.png', reason: 'its path leaves the zip’s folder (../): skipped for safety' },
      { name: 'slip.zip/a/../../.y.png', reason: 'its path leaves the zip’s folder (../): skipped for safety' },
      { name: 'slip.zip//abs.png', reason: expect.stringMatching(/^its path is absolute/) },
    ]);
  });

  it('names a checksum mismatch, a size overstated, and local and central headers that disagree', () => {
    const archive = zipSync({ 'a/crc.png': [pngHeader, { level: 0 }], 'a/short.png': pngHeader, 'a/local.png': pngHeader, 'a/ok.png': pngHeader });
    archive[locate(archive, 'a/crc.png').data + 20] ^= 1;
    setDeclaredSize(archive, 'a/short.png', 1000, 'both');
    setDeclaredSize(archive, 'a/local.png', 3, 'local');
    const out = collect(inflateZip(archive, listZip(archive))).map((r) => ('error' in r ? r.error : 'ok'));
    expect(out).toEqual([
      'damaged in the zip (its data does not match its checksum)',
      `damaged in the zip: the zip says this file is 1,000 bytes but it holds only ${pngHeader.length}`,
      `the zip’s two records of this file disagree (3 bytes in one, ${pngHeader.length} in the other): the zip looks tampered with, so it was not used`,
      'ok',
    ]);
  });

  it('says an entry is missing when the zip ends before its data', () => {
    const archive = zipSync(good, { level: 0 });
    const entries = listZip(archive);
    entries[1] = { ...entries[1], compressedSize: archive.length, declaredSize: archive.length };
    expect(collect(inflateZip(archive, entries))[1]).toMatchObject({ error: expect.stringMatching(/^missing: the zip ends before this file’s data does/) });
  });

  it('inflates entries whose compressed data spans many chunks, and stops a lying one within a chunk', () => {
    let x = 7;
    const noise = Uint8Array.from({ length: 200_000 }, () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 24));
    const archive = zipSync({ 'a/noise.bin': noise, 'a/zeros.bin': new Uint8Array(300_000) });
    const out = collect(inflateZip(archive, listZip(archive)));
    expect(out.map((r) => ('bytes' in r ? r.bytes.length : r.error))).toEqual([200_000, 300_000]);
    setDeclaredSize(archive, 'a/zeros.bin', 299_999, 'both');
    expect(collect(inflateZip(archive, listZip(archive)))[1]).toMatchObject({ error: expect.stringMatching(/holds more: the zip looks tampered with/) });
  });
});
