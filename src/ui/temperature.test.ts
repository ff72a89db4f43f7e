import { describe, expect, it } from 'vitest';
import { candidateRow, convertRow, entropy, logSpace, parseTemperatures, softmaxAt } from './temperature';

describe('temperature lab math', () => {
  // 4×4 matrix: anchor 0's candidates are 1, 2, 3 with similarities 0.9, 0.1, −0.5
  const matrix = new Float32Array([1, 0.9, 0.1, -0.5, 0.9, 1, 0, 0, 0.1, 0, 1, 0, -0.5, 0, 0, 1]);

  it('drops the diagonal from the anchor row', () => {
    const { similarities, indices } = candidateRow(matrix, 4, 0);
    expect(Array.from(indices)).toEqual([1, 2, 3]);
    expect(similarities[0]).toBeCloseTo(0.9, 6);
    expect(similarities[2]).toBeCloseTo(-0.5, 6);
  });

  it('gives a softmax that sums to 1 and matches a hand value', () => {
    const { similarities } = candidateRow(matrix, 4, 0);
    const p = softmaxAt(similarities, 0.5);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const e = [Math.exp(1.8), Math.exp(0.2), Math.exp(-1)];
    expect(p[0]).toBeCloseTo(e[0] / (e[0] + e[1] + e[2]), 6);
  });

  it('sharpens as τ falls and flattens to uniform as τ grows; entropy follows', () => {
    const { similarities } = candidateRow(matrix, 4, 0);
    expect(softmaxAt(similarities, 0.001)[0]).toBeCloseTo(1, 10); // no overflow at tiny τ
    const flat = softmaxAt(similarities, 1e6);
    for (const x of flat) expect(x).toBeCloseTo(1 / 3, 5);
    expect(entropy(flat)).toBeCloseTo(Math.log(3), 5);
    expect(entropy(softmaxAt(similarities, 0.05))).toBeLessThan(entropy(softmaxAt(similarities, 1)));
  });

  it('converts cosines to dot products with the norms and back', () => {
    const { similarities, indices } = candidateRow(matrix, 4, 0);
    const norms = new Float32Array([2, 3, 1, 0.5]);
    const dot = convertRow(similarities, indices, 0, norms, true);
    expect(dot[0]).toBeCloseTo(0.9 * 6, 5);
    expect(convertRow(dot, indices, 0, norms, false)[0]).toBeCloseTo(0.9, 5);
  });

  it('parses temperature lists and refuses bad ones', () => {
    expect(parseTemperatures('0.05, 0.1,1')).toEqual({ values: [0.05, 0.1, 1] });
    expect(parseTemperatures('0.1, 0')).toHaveProperty('error');
    expect(parseTemperatures('abc')).toHaveProperty('error');
    expect(parseTemperatures('')).toHaveProperty('error');
    const grid = logSpace(0.01, 10, 4);
    expect(grid[0]).toBeCloseTo(0.01);
    expect(grid[3]).toBeCloseTo(10);
  });
});
