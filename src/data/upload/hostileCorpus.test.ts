/**
 * Issue 16's hostile-upload corpus: bad inputs built in code, each run
 * through the real pipeline (runUpload with Node fakes for decoding and
 * storage, as decodeWorker.test.ts does, plus the zip reader and header
 * sniffer directly), each with good files next to it. For every input: the
 * specific reason it was refused (or that it was accepted, and what then
 * happens), that the good files were kept, and that nothing threw. The
 * tally at the end (tried, refused with a reason, accepted, crashed) is
 * printed once, and crashed must be 0.
 *
 * Decisions the corpus pins down:
 * - an animated GIF is accepted and its first frame used (the browser's
 *   createImageBitmap decodes the first frame only);
 * - 16-bit PNGs and CMYK JPEGs are accepted: browsers decode both to 8-bit RGB;
 * - an SVG is never handed to the browser as SVG: refused as not a raster
 *   image, whatever its name, scripts or not;
 * - names are kept as text: markup and quotes unchanged, bidi overrides and
 *   control characters removed, long names cut in the middle to 80 characters.
 */
import { zipSync, type Zippable } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from '../dataset';
import { runUpload, type UploadIo } from './decodeWorker';
import { bmp, gif, jpeg, locate, png, pngClaiming, setDeclaredSize, setFlags, text, webp, webpClaiming } from './fixtures.testutil';
import { checkImageData, describeUnreadable, sniffImage, type ImageInfo } from './imageHeader';
import { MAX_FILES, type DecodeFromWorker, type DecodeOptions, type SkippedFile, type UploadSummary } from './protocol';
import { DISPLAY_PATH_MAX, graphemes } from './text';
import { ENCRYPTED_ENTRY, ENCRYPTED_ZIP, inflateZip, listZip, planZip, ZipError } from './zip';

const options: DecodeOptions = { imageSize: 16, fit: 'crop', testShare: 0.2, name: 'Corpus' };
const file = (name: string, bytes: Uint8Array) => new File([bytes as Uint8Array<ArrayBuffer>], name);

/** What one upload did. `decoded`: what reached the (fake) browser decoder. */
interface Run {
  last: DecodeFromWorker;
  skipped: SkippedFile[];
  summary?: UploadSummary;
  saved: ImageDataset[];
  decoded: ImageInfo[];
  threw?: unknown;
}

async function upload(files: File[]): Promise<Run> {
  const messages: DecodeFromWorker[] = [];
  const saved: ImageDataset[] = [];
  const decoded: ImageInfo[] = [];
  const io: UploadIo = {
    decode: async (_bytes, info, size) => {
      decoded.push(info);
      return new Uint8Array(size * size * 3).fill(7);
    },
    save: async (dataset) => void saved.push(dataset),
    remove: async () => undefined,
    storedNames: async () => [],
    post: (message) => void messages.push(message),
    isCancelled: () => false,
    pause: () => Promise.resolve(),
    now: () => 0,
  };
  let threw: unknown;
  try {
    await runUpload(files, options, io);
  } catch (error) {
    threw = error;
  }
  const last = messages[messages.length - 1];
  const skipped = last?.type === 'done' ? last.summary.skipped : last?.type === 'failed' ? last.skipped : [];
  return { last, skipped, summary: last?.type === 'done' ? last.summary : undefined, saved, decoded, threw };
}

const tally = { tried: 0, refused: 0, accepted: 0, crashed: 0 };

/** A crash: runUpload threw, posted nothing, or failed with an unexpected error rather than a reason. */
function crashed(run: Run): boolean {
  return run.threw !== undefined || run.last === undefined || (run.last.type === 'failed' && run.last.message.startsWith('The upload failed'));
}

/** Two good images in two class folders, sent next to every hostile input. */
const goods = () => [file('good/cat/1.png', png(4, 4)), file('good/dog/1.jpg', jpeg(8, 8))];

interface Refusal {
  /** the name as the skipped list shows it */
  name: string;
  reason: string | RegExp;
}

/**
 * Uploads the hostile files next to two good ones. `refused`: what must be
 * skipped and why (each counts as tried and refused); `accepted`: how many
 * of the hostile files must become images (each counts as tried and accepted).
 */
async function expectUpload(hostile: File[], refused: Refusal[], accepted = 0, goodInside = 0): Promise<Run> {
  const run = await upload([...goods(), ...hostile]);
  tally.tried += refused.length + accepted;
  if (crashed(run)) {
    tally.crashed += 1;
    throw new Error(`crashed: ${String(run.threw ?? JSON.stringify(run.last))}`);
  }
  for (const r of refused) {
    const hit = run.skipped.find((s) => s.name === r.name);
    expect(hit, `${r.name} should be skipped; skipped: ${JSON.stringify(run.skipped)}`).toBeDefined();
    if (typeof r.reason === 'string') expect(hit!.reason).toBe(r.reason);
    else expect(hit!.reason).toMatch(r.reason);
    tally.refused += 1;
  }
  expect(run.skipped.length, JSON.stringify(run.skipped)).toBe(refused.length);
  // the good files, and those inside the hostile zips, are kept
  expect(run.summary?.imageCount).toBe(2 + goodInside + accepted);
  tally.accepted += accepted;
  return run;
}

afterAll(() => {
  console.log(`hostile corpus: tried ${tally.tried}, refused with a reason ${tally.refused}, accepted ${tally.accepted}, crashed ${tally.crashed}`);
});

// ---- images ---------------------------------------------------------------------

describe('hostile images', () => {
  const wholePng = png(16, 16);
  const wholeJpeg = jpeg(640, 480);
  const wholeGif = gif(10, 10);
  const wholeWebp = webp(10, 10);

  it('refuses empty files, text named .png, and other files that are not images, saying what they are', async () => {
    await expectUpload(
      [
        file('junk/empty.png', new Uint8Array(0)),
        file('junk/notes.png', text('this is a text file renamed to .png\n')),
        file('junk/page.png', text('<!DOCTYPE html><html><body><script>alert(1)</script></body></html>')),
        file('junk/archive.png', zipSync({ 'x.txt': text('x') })),
        file('junk/binary.png', Uint8Array.from([0, 159, 3, 1, 200, 7])),
        file('junk/photo.heic', Uint8Array.from([0, 0, 0, 24, 0x66, 0x74, 0x79, 0x70, 0x68, 0x65, 0x69, 0x63, 0, 0, 0, 0])),
      ],
      [
        { name: 'junk/empty.png', reason: 'empty file (0 bytes)' },
        { name: 'junk/notes.png', reason: 'not an image: text' },
        { name: 'junk/page.png', reason: 'not an image: web page (HTML)' },
        { name: 'junk/archive.png', reason: 'not an image: zip archive' },
        { name: 'junk/binary.png', reason: 'not an image: unknown' },
        { name: 'junk/photo.heic', reason: /^unsupported image format: HEIC/ },
      ],
    );
  });

  it('refuses truncated PNG, JPEG, GIF, WebP and BMP files as cut short', async () => {
    const cut = (bytes: Uint8Array, keep: number) => bytes.slice(0, keep);
    // each format's whole file passes the check; cut, it does not
    for (const whole of [wholePng, wholeJpeg, wholeGif, wholeWebp, bmp(5, 5)]) expect(checkImageData(whole, sniffImage(whole)!)).toBeNull();
    await expectUpload(
      [
        file('cut/header.png', cut(wholePng, 20)),
        file('cut/data.png', cut(wholePng, wholePng.length - 20)),
        file('cut/header.jpg', cut(wholeJpeg, 30)),
        file('cut/scan.jpg', cut(wholeJpeg, wholeJpeg.length - 2)),
        file('cut/screen.gif', cut(wholeGif, 8)),
        file('cut/frame.gif', cut(wholeGif, wholeGif.length - 4)),
        file('cut/riff.webp', cut(wholeWebp, wholeWebp.length - 3)),
        file('cut/rows.bmp', cut(bmp(5, 5), 70)),
      ],
      [
        { name: 'cut/header.png', reason: 'truncated or corrupt PNG header' },
        { name: 'cut/data.png', reason: 'truncated PNG: it ends in the middle of its data (the file was cut short or damaged: copy or download it again)' },
        { name: 'cut/header.jpg', reason: 'truncated or corrupt JPEG header' },
        { name: 'cut/scan.jpg', reason: 'truncated JPEG: it ends before its end-of-image marker (the file was cut short or damaged: copy or download it again)' },
        { name: 'cut/screen.gif', reason: 'truncated or corrupt GIF header' },
        { name: 'cut/frame.gif', reason: /^truncated GIF: it ends before its first frame does/ },
        { name: 'cut/riff.webp', reason: /^truncated WebP: it has \d+ of its \d+ bytes/ },
        { name: 'cut/rows.bmp', reason: /^truncated BMP: it ends before its last row of pixels/ },
      ],
    );
  });

  it('refuses headers that claim 100,000 × 100,000 pixels (and JPEG’s and GIF’s largest) before decoding anything', async () => {
    const run = await expectUpload(
      [
        file('big/huge.png', pngClaiming(100_000, 100_000)),
        file('big/huge.webp', webpClaiming(100_000, 100_000)),
        file('big/widest.png', pngClaiming(0x7fffffff, 1)),
        file('big/huge.jpg', jpeg(65_535, 65_535)),
        file('big/huge.gif', gif(65_535, 65_535)),
      ],
      [
        { name: 'big/huge.png', reason: '100000×100000 is 10000 megapixels, above the limit of 50 megapixels; scale it down first' },
        { name: 'big/huge.webp', reason: '100000×100000 is 10000 megapixels, above the limit of 50 megapixels; scale it down first' },
        { name: 'big/widest.png', reason: /^2147483647×1 is 2147\.5 megapixels, above the limit/ },
        { name: 'big/huge.jpg', reason: /^65535×65535 is 4294\.8 megapixels/ },
        { name: 'big/huge.gif', reason: /^65535×65535 is 4294\.8 megapixels/ },
      ],
    );
    // only the two good images reached the decoder
    expect(run.decoded).toHaveLength(2);
  });

  it('accepts 16-bit PNGs, CMYK JPEGs and animated GIFs (first frame), handing each to the decoder once', async () => {
    const animated = gif(12, 12, 5);
    expect(sniffImage(animated)).toEqual({ format: 'gif', width: 12, height: 12 });
    const run = await expectUpload(
      [
        // screen and colour table 19 bytes, loop extension 19, a frame 23: cut 5 bytes into the second frame
      file('deep/c/16bit.png', png(8, 8, { bitDepth: 16, colorType: 6 })),
        file('deep/c/grey16.png', png(8, 8, { bitDepth: 16, colorType: 0 })),
        file('deep/c/cmyk.jpg', jpeg(20, 10, 4)),
        file('deep/c/animated.gif', animated),
        file('deep/c/animation-cut-after-frame-1.gif', animated.slice(0, 19 + 19 + 23 + 5)),
      ],
      [],
      5,
    );
    expect(run.decoded.slice(2).map((i) => `${i.format} ${i.width}×${i.height}`)).toEqual([
      'png 8×8',
      'png 8×8',
      'jpeg 20×10',
      'gif 12×12',
      'gif 12×12',
    ]);
  });

  it('never opens an SVG, with scripts, event handlers or neither: it is not a raster image', async () => {
    const reason = 'not a raster image: SVG is a vector drawing, which is not opened here (export it as PNG or JPEG)';
    const svgs = {
      'svg/script.svg': '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>',
      'svg/onload.png': '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>',
      'svg/handler.jpg': '\uFEFF  <?xml version="1.0"?>\n<!DOCTYPE svg>\n<!-- hi --><svg><image href="x" onerror="alert(1)"/></svg>',
      'svg/foreign.gif': '<svg><foreignObject><iframe src="javascript:alert(1)"></iframe></foreignObject></svg>',
    };
    const run = await expectUpload(
      Object.entries(svgs).map(([name, body]) => file(name, text(body))),
      Object.keys(svgs).map((name) => ({ name, reason })),
    );
    expect(run.decoded).toHaveLength(2);
  });
});

// ---- names ------------------------------------------------------------------------

describe('hostile names', () => {
  it('gives a traversal name the traversal reason, not the hidden-file one', async () => {
    await expectUpload(
      [file('../../evil.png', png(4, 4)), file('..\\..\\win.png', png(4, 4)), file('good/../../up.png', png(4, 4)), file('/etc/abs.png', png(4, 4))],
      [
        { name: '../../evil.png', reason: 'its path leaves the upload’s folder (../): skipped for safety' },
        { name: '..\\..\\win.png', reason: 'its path leaves the upload’s folder (../): skipped for safety' },
        { name: 'good/../../up.png', reason: 'its path leaves the upload’s folder (../): skipped for safety' },
        { name: '/etc/abs.png', reason: /^its path is absolute .*: skipped for safety$/ },
      ],
    );
  });

  it('keeps markup, quotes and RTL overrides as text, and shortens 300-character names for display', async () => {
    const html = '<img src=x onerror="alert(1)">.png';
    const quotes = `it's "quoted" \`ticked\` & <b>bold</b>.png`;
    const rtl = 'invoice\u202Egnp.exe';
    const long = `${'n'.repeat(296)}.png`;
    const controls = 'bell\u0007tab\there\nnewline\u200B.png';
    const run = await expectUpload(
      [html, quotes, rtl, long, controls].map((name) => file(`names/${name}`, text('not an image'))),
      [
        { name: `names/${html}`, reason: 'not an image: text' },
        { name: `names/${quotes}`, reason: 'not an image: text' },
        { name: 'names/invoicegnp.exe', reason: 'not an image: text' },
        { name: `names/${'n'.repeat(26)}…${'n'.repeat(43)}.png`, reason: 'not an image: text' },
        { name: 'names/bell tab here newline.png', reason: 'not an image: text' },
      ],
    );
    for (const s of run.skipped) {
      expect(graphemes(s.name).length).toBeLessThanOrEqual(DISPLAY_PATH_MAX);
      expect(s.name).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200B\p{Cc}]/u);
    }
  });

  it('keeps images in folders with hostile names, class names as text without bidi overrides', async () => {
    const run = await expectUpload(
      [file('good/<b onmouseover="x()">cat/2.png', png(4, 4)), file('good/dog\u202E/2.png', png(4, 4)), file(`good/${'c'.repeat(300)}/3.png`, png(4, 4))],
      [],
      3,
    );
    // “dog\u202E” is shown as “dog”, so it is the class dog; the 300-character name is whole (the UI shows it as text)
    expect(run.summary?.classNames).toEqual(['<b onmouseover="x()">cat', 'cat', 'c'.repeat(300), 'dog']);
    expect(run.summary?.classCounts).toEqual([1, 1, 1, 2]);
  });
});

// ---- zips -------------------------------------------------------------------------

describe('hostile zips', () => {
  const good: Zippable = { 'cat/a.png': png(4, 4), 'dog/b.jpg': jpeg(4, 4) };

  it('names an entry whose header understates its size as tampered with, not as “not an image”', async () => {
    const central = zipSync({ ...good, 'cat/liar.png': png(32, 32) });
    setDeclaredSize(central, 'cat/liar.png', 40);
    const stored = zipSync({ ...good, 'cat/liar.png': [png(32, 32), { level: 0 }] });
    setDeclaredSize(stored, 'cat/liar.png', 40, 'both');
    const local = zipSync({ ...good, 'cat/liar.png': png(32, 32) });
    setDeclaredSize(local, 'cat/liar.png', 40, 'local');
    const tampered = /^the zip says this file is 40 bytes but it holds more: the zip looks tampered with/;
    await expectUpload(
      [file('central.zip', central), file('stored.zip', stored), file('local.zip', local)],
      [
        { name: 'central.zip/cat/liar.png', reason: tampered },
        { name: 'stored.zip/cat/liar.png', reason: tampered },
        { name: 'local.zip/cat/liar.png', reason: /^the zip’s two records of this file disagree \(40 bytes in one, [\d,]+ in the other\): the zip looks tampered with/ },
      ],
      0,
      6,
    );
  });

  it('names a damaged entry as damaged in the zip: bad checksum, corrupt deflate stream, overstated size', async () => {
    const badCrc = zipSync({ ...good, 'cat/flipped.png': [png(8, 8), { level: 0 }] });
    const at = locate(badCrc, 'cat/flipped.png');
    badCrc[at.data + 40] ^= 0x55;
    const badStream = zipSync({ ...good, 'cat/garbled.png': png(64, 64) });
    const g = locate(badStream, 'cat/garbled.png');
    badStream.fill(0xff, g.data, g.data + g.compressed);
    const overstated = zipSync({ ...good, 'cat/short.png': png(8, 8) });
    setDeclaredSize(overstated, 'cat/short.png', 100_000, 'both');
    await expectUpload(
      [file('crc.zip', badCrc), file('stream.zip', badStream), file('short.zip', overstated)],
      [
        { name: 'crc.zip/cat/flipped.png', reason: 'damaged in the zip (its data does not match its checksum)' },
        { name: 'stream.zip/cat/garbled.png', reason: 'damaged in the zip (its compressed data is corrupt and cannot be unpacked)' },
        { name: 'short.zip/cat/short.png', reason: /^damaged in the zip: the zip says this file is 100,000 bytes but it holds only \d+$/ },
      ],
      0,
      6,
    );
  });

  it('says a password-protected zip needs unzipping first: the whole zip, or the entries that are encrypted', async () => {
    const all = zipSync({ 'cat/a.png': png(4, 4), 'dog/b.png': png(4, 4) });
    setFlags(all, 'cat/a.png', 1);
    setFlags(all, 'dog/b.png', 1);
    const some = zipSync({ ...good, 'cat/secret.png': png(4, 4) });
    setFlags(some, 'cat/secret.png', 1);
    await expectUpload(
      [file('locked.zip', all), file('partly.zip', some)],
      [
        { name: 'locked.zip', reason: ENCRYPTED_ZIP },
        { name: 'partly.zip/cat/secret.png', reason: ENCRYPTED_ENTRY },
      ],
      0,
      2,
    );
    expect(ENCRYPTED_ZIP).toMatch(/password-protected.*unzip it first/);
    // decided from the headers before inflating: the planner refuses it
    expect(planZip('locked.zip', listZip(all)).refused).toBe(ENCRYPTED_ZIP);
  });

  it('keeps entries named like object properties (__proto__, constructor) as ordinary images', async () => {
    const archive = zipSync({ ...good, 'cat/xxproto__': png(4, 4), 'dog/constructor': png(4, 4), 'hasOwnProperty/toString': png(4, 4) });
    // zipSync cannot be handed a key "__proto__": the name is written in over another of the same length
    const at = locate(archive, 'cat/xxproto__');
    const name = text('cat/__proto__');
    archive.set(name, at.central + 46);
    archive.set(name, at.local + 30);
    expect(listZip(archive).map((e) => e.path)).toContain('cat/__proto__');
    const run = await expectUpload([file('proto.zip', archive)], [], 3, 2);
    expect(run.summary?.classNames).toEqual(['cat', 'dog', 'hasOwnProperty']);
  });

  it('skips entries whose paths leave the zip’s folder, each with the reason', async () => {
    const slip = zipSync({
      ...good,
      '../evil.png': png(4, 4),
      'cat/../../../etc/passwd.png': png(4, 4),
      '..\\windows.png': png(4, 4),
      '/absolute.png': png(4, 4),
      'C:/drive.png': png(4, 4),
      '../.hidden.png': png(4, 4),
    });
    const leaves = 'its path leaves the zip’s folder (../): skipped for safety';
    await expectUpload(
      [file('slip.zip', slip)],
      [
        { name: 'slip.zip/../evil.png', reason: leaves },
        { name: 'slip.zip/cat/../../../etc/passwd.png', reason: leaves },
        { name: 'slip.zip/..\\windows.png', reason: leaves },
        { name: 'slip.zip//absolute.png', reason: /^its path is absolute/ },
        { name: 'slip.zip/C:/drive.png', reason: /^its path is absolute/ },
        { name: 'slip.zip/../.hidden.png', reason: leaves },
      ],
      0,
      2,
    );
  });

  it('refuses zip bombs with true headers before inflating, and stops lying ones at their declared size', async () => {
    // true headers over the cap: refused from the directory alone (sizes forged up to 300 MiB each; nothing is inflated)
    const honest = zipSync({ ...good, 'cat/big1.png': png(4, 4), 'cat/big2.png': png(4, 4) });
    setDeclaredSize(honest, 'cat/big1.png', 300 << 20, 'both');
    setDeclaredSize(honest, 'cat/big2.png', 300 << 20, 'both');
    // a real 4 MiB of zeros in a few KiB, over a 1 MiB cap
    const real = zipSync({ 'cat/zeros.png': new Uint8Array(4 << 20) }, { level: 1 });
    expect(real.length).toBeLessThan(64 << 10);
    expect(planZip('real.zip', listZip(real), 1 << 20).refused).toMatch(/^would unzip to 4\.0 MiB, more than the limit of 1\.0 MiB/);
    // lying headers: 4 MiB declared as 100 bytes, in both headers
    const lying = zipSync({ ...good, 'cat/bomb.png': new Uint8Array(4 << 20) }, { level: 1 });
    setDeclaredSize(lying, 'cat/bomb.png', 100, 'both');
    const started = performance.now();
    await expectUpload(
      [file('honest.zip', honest), file('lying.zip', lying)],
      [
        { name: 'honest.zip', reason: /^would unzip to 600\.0 MiB, more than the limit of 512\.0 MiB, so it was not opened/ },
        { name: 'lying.zip/cat/bomb.png', reason: /^the zip says this file is 100 bytes but it holds more: the zip looks tampered with/ },
      ],
      0,
      2,
    );
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('does not open nested zips, and refuses empty, truncated and corrupt zips with a reason', async () => {
    const whole = zipSync(good);
    const nested = zipSync({ ...good, 'inner.zip': zipSync({ 'inner/x.png': png(4, 4) }), 'deeper/bomb.zip': zipSync({ 'x.zip': zipSync({}) }) });
    // a directory that says it lists 65,535 files
    const lyingCount = whole.slice();
    const end = lyingCount.length - 22;
    lyingCount.set([0xff, 0xff, 0xff, 0xff], end + 8);
    // an entry whose header lies past the end of the file
    const pastEnd = whole.slice();
    new DataView(pastEnd.buffer).setUint32(locate(pastEnd, 'dog/b.jpg').central + 42, pastEnd.length + 100, true);
    await expectUpload(
      [
        file('nested.zip', nested),
        file('empty.zip', zipSync({})),
        file('cut.zip', whole.slice(0, whole.length >> 1)),
        file('text.zip', text('PK but not really a zip')),
        file('count.zip', lyingCount),
        file('past.zip', pastEnd),
        file('folders.zip', zipSync({ 'a/': new Uint8Array(0), '__MACOSX/._a.png': text('fork'), '.DS_Store': text('x') })),
      ],
      [
        { name: 'nested.zip/inner.zip', reason: 'nested zip archives are not opened' },
        { name: 'nested.zip/deeper/bomb.zip', reason: 'nested zip archives are not opened' },
        { name: 'empty.zip', reason: 'the zip is empty' },
        { name: 'cut.zip', reason: 'not a readable zip archive (no end-of-archive record: it is not a zip, or the file was cut short)' },
        { name: 'text.zip', reason: 'not a readable zip archive (no end-of-archive record: it is not a zip, or the file was cut short)' },
        { name: 'count.zip', reason: /^not a readable zip archive \(its directory says it lists 65,535 files but has room for at most 2\)$/ },
        { name: 'past.zip/dog/b.jpg', reason: /^missing: the zip ends before this file’s data/ },
        { name: 'folders.zip', reason: /^the zip holds only folders and hidden files/ },
      ],
      0,
      2 + 1,
    );
  });

  it('lists a forged zip64 count of 2³² in no time, and refuses it', () => {
    const whole = zipSync(good);
    const end = whole.length - 22;
    const original = new DataView(whole.buffer);
    // a zip64 end record (56 bytes) and its locator (20) spliced in before the end record, claiming 2³² entries
    const zip64End = new DataView(new ArrayBuffer(56));
    zip64End.setUint32(0, 0x06064b50, true);
    zip64End.setBigUint64(4, 44n, true);
    zip64End.setBigUint64(24, 2n ** 32n, true);
    zip64End.setBigUint64(32, 2n ** 32n, true);
    zip64End.setBigUint64(40, BigInt(original.getUint32(end + 12, true)), true);
    zip64End.setBigUint64(48, BigInt(original.getUint32(end + 16, true)), true);
    const locator = new DataView(new ArrayBuffer(20));
    locator.setUint32(0, 0x07064b50, true);
    locator.setBigUint64(8, BigInt(end), true);
    locator.setUint32(16, 1, true);
    const forged = Uint8Array.from([...whole.subarray(0, end), ...new Uint8Array(zip64End.buffer), ...new Uint8Array(locator.buffer), ...whole.subarray(end)]);
    const started = performance.now();
    expect(() => listZip(forged)).toThrow(ZipError);
    expect(() => listZip(forged)).toThrow('not a readable zip archive (its directory says it lists 4,294,967,296 files but has room for at most 2)');
    expect(performance.now() - started).toBeLessThan(100);
    tally.tried += 1;
    tally.refused += 1;
  });

  it('reads the first MAX_FILES entries of a 25,000-entry zip and says how many were left out', async () => {
    const tiny = png(1, 1);
    const entries: Zippable = {};
    for (let i = 0; i < 25_000; i++) entries[`c${i % 2}/${i}.png`] = [tiny, { level: 0 }];
    const many = zipSync(entries);
    expect(listZip(many)).toHaveLength(25_000);
    // the directory cap, at a smaller number: refused before anything is planned
    expect(() => listZip(many, 20_000)).toThrow('this zip lists 25,000 files, more than the 20,000 a zip may hold here; split it into smaller zips');
    const run = await upload([file('many.zip', many)]);
    expect(crashed(run)).toBe(false);
    expect(run.summary).toMatchObject({ imageCount: MAX_FILES, truncatedAt: MAX_FILES, droppedCount: 5_000 });
    expect(run.skipped).toEqual([{ name: 'many.zip', reason: '5,000 of its 25,000 files were not read: an upload reads at most 20,000 files' }]);
    // one input in the tally, accepted: read up to the cap, with one reason for the rest
    tally.tried += 1;
    tally.accepted += 1;
  });
});

// ---- all junk, and the tally -------------------------------------------------------------

describe('an upload of nothing but junk', () => {
  it('fails with one clear message that says what was wrong, and no crash', async () => {
    const bad = zipSync({ 'cat/a.png': png(4, 4) });
    setFlags(bad, 'cat/a.png', 1);
    const junk = [
      file('a.png', new Uint8Array(0)),
      file('b.png', text('hello')),
      file('c.png', text('world')),
      file('d.svg', text('<svg onload="alert(1)"/>')),
      file('../e.png', png(4, 4)),
      file('f.zip', bad),
      file('g.jpg', jpeg(8, 8).slice(0, 40)),
    ];
    const run = await upload(junk);
    expect(crashed(run)).toBe(false);
    expect(run.saved).toHaveLength(0);
    expect(run.last).toMatchObject({ type: 'failed' });
    expect(run.last.type === 'failed' && run.last.message).toBe(
      'None of the 7 files could be used as an image. Most common: “not an image: text” (2 files), ' +
        '“its path leaves the upload’s folder (../): skipped for safety” (1 file), and 4 other reasons; ' +
        'the list of skipped files says why for each. Choose PNG, JPEG, GIF, WebP or BMP images, a folder of them, or a .zip of them.',
    );
    expect(run.skipped).toHaveLength(7);
    tally.tried += 7;
    tally.refused += run.skipped.filter((s) => s.reason.length > 0).length;
  });

  it('the corpus tally: nothing crashed', () => {
    // direct calls on every kind of bytes above: the sniffer and the describer never throw
    for (const bytes of [new Uint8Array(0), text('x'), pngClaiming(1, 1).slice(0, 9), gif(1, 1).slice(0, 7)]) {
      expect(() => describeUnreadable(bytes)).not.toThrow();
      expect(sniffImage(bytes)).toBeNull();
    }
    // the zip reader's one error type
    expect(() => inflateZip(new Uint8Array(0), []).next()).not.toThrow();
    expect(tally.crashed).toBe(0);
    expect(tally.tried).toBe(tally.refused + tally.accepted);
  });
});
