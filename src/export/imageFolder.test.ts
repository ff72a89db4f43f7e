import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../core/config';
import { createRng } from '../core/random';
import { classFolderName, classFolders, imageFolderZip } from './imageFolder';
import { pytorchExportFiles } from './pytorchExport';

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

function unzipTo(dir: string, zip: Uint8Array): string[] {
  const entries = unzipSync(zip);
  for (const [name, bytes] of Object.entries(entries)) {
    mkdirSync(join(dir, dirname(name)), { recursive: true });
    writeFileSync(join(dir, name), bytes);
  }
  return Object.keys(entries).sort();
}

describe('the training images as an ImageFolder', () => {
  it('keeps each class name as text in a folder name a file system takes, and never merges two classes', () => {
    expect(classFolderName('T-shirt/top')).toBe('T-shirt_top');
    expect(classFolderName('<b>cats</b>')).toBe('_b_cats__b_');
    expect(classFolderName('..')).toBe('_');
    expect(classFolderName('CON')).toBe('_CON');
    expect(classFolderName('  spaced name. ')).toBe('spaced name');
    expect(classFolderName('Ünïcödé 猫')).toBe('Ünïcödé 猫');
    expect(classFolders(['cat', 'Cat', 'a/b', 'a_b', '', 'unlabelled'])).toEqual(['cat', 'Cat-2', 'a_b', 'a_b-2', '_', 'unlabelled-2']);
  });

  it('writes every image as a PNG in its class folder, pixel for pixel, and the exported train.py trains on it', () => {
    const rng = createRng(3);
    const size = 12;
    const count = 10;
    const images = Uint8Array.from({ length: count * size * size }, () => Math.floor(rng() * 256));
    const labels = Int32Array.from({ length: count }, (_, i) => (i === 9 ? -1 : i % 3));
    const zip = imageFolderZip({ images, labels, count, imageSize: size, channels: 1, classNames: ['T-shirt/top', 'Trouser', 'Trouser'] });
    const dir = mkdtempSync(join(tmpdir(), 'ssp-imagefolder-'));
    const names = unzipTo(dir, zip);
    expect(names).toEqual([
      'data/T-shirt_top/0.png', 'data/T-shirt_top/3.png', 'data/T-shirt_top/6.png',
      'data/Trouser-2/2.png', 'data/Trouser-2/5.png', 'data/Trouser-2/8.png',
      'data/Trouser/1.png', 'data/Trouser/4.png', 'data/Trouser/7.png',
      'data/unlabelled/9.png',
    ]);
    // Pillow reads back the very pixels (grey, stored as RGBA with R = G = B)
    const read = spawnSync(PYTHON, ['-c', 'import sys; from PIL import Image; print(list(Image.open(sys.argv[1]).convert("L").getdata()))', join(dir, 'data/Trouser/4.png')], { encoding: 'utf8' });
    if (read.status !== 0) throw new Error(`${PYTHON} with Pillow is needed (apt-get install python3-pil): ${read.stderr}`);
    expect(JSON.parse(read.stdout)).toEqual(Array.from(images.subarray(4 * size * size, 5 * size * size)));

    // the export's script takes the folder as its --data
    const files = pytorchExportFiles({ ...DEFAULT_CONFIG, method: 'simclr', encoderWidth: 2, projectionDim: 8, batchSize: 4, imageSize: size }, { imageSize: size, channels: 1 }, { steps: 1 });
    for (const [name, content] of Object.entries(files)) if (content !== undefined) writeFileSync(join(dir, name), content);
    const run = spawnSync(PYTHON, ['train.py', '--config', 'config.json', '--data', 'data', '--out', 'out'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    if (run.status !== 0) throw new Error(`train.py exited with ${run.status}: ${run.stderr}\n${run.stdout}`);
    const steps = run.stdout.split('\n').filter((line) => line.startsWith('{"step"')).map((line) => JSON.parse(line) as { step: number; loss: number });
    expect(steps.map((s) => s.step)).toEqual([1]);
    expect(Number.isFinite(steps[0].loss)).toBe(true);
  }, 60_000);
});
