import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { FeaturesExport } from '../train/protocol';
import { projectorFiles } from './projectorExport';

function result(overrides: Partial<FeaturesExport> = {}): FeaturesExport {
  const n = 5;
  const d = 3;
  return {
    requestId: 4, encoder: 'encoder', step: 120, method: 'moco', datasetName: 'My <b>flowers</b>', classNames: ['rose', 'tulip'],
    split: 'test', n, d, vectors: Float32Array.from({ length: n * d }, (_, i) => i / 7), labels: Int32Array.from([0, 1, 0, 1, -1]),
    indices: Int32Array.from([0, 1, 2, 3, 4]), images: new Uint8Array(n * 4 * 4), imageSize: 4, channels: 1, ...overrides,
  };
}

describe('the TensorBoard projector export on the page', () => {
  it('names the file by method, step and dataset (a safe slug of an upload’s name) and says what the vectors are', () => {
    const files = projectorFiles(result());
    expect(files.fileName).toBe('projector-moco-step120-my-b-flowers-b.zip');
    expect([files.requestId, files.n, files.d]).toEqual([4, 5, 3]);
    const unzipped = unzipSync(files.bytes);
    const readme = strFromU8(unzipped['README.txt']);
    expect(readme).toContain('MoCo v2 encoder after 120 steps');
    expect(readme).toContain('My <b>flowers</b>');
    expect(readme).not.toMatch(/untrained/);
    expect(strFromU8(unzipped['vectors.tsv']).trim().split('\n')).toHaveLength(5);
    expect(strFromU8(unzipped['metadata.tsv']).split('\n')[5]).toMatch(/^\tunlabelled\ttest\t4$/);
  });

  it('an export of an encoder that has not trained says so in its files', () => {
    const readme = strFromU8(unzipSync(projectorFiles(result({ step: 0 })).bytes)['README.txt']);
    expect(readme).toMatch(/untrained \(0 steps\)/);
  });

  it('refuses a non-finite h with the row and column, rather than writing a file the projector misreads', () => {
    const vectors = result().vectors.slice();
    vectors[4] = Number.NaN;
    expect(() => projectorFiles(result({ vectors }))).toThrow(/row 2.*column 2|2.*2/);
  });
});
