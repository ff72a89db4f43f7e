import { describe, expect, it } from 'vitest';
import { confusionAccuracy, confusionCells, taskSnapshotProblem, toBytes } from './taskPanel';
import type { TaskSnapshot } from '../train/protocol';

describe('task instrument helpers', () => {
  it('turns [0, 1] floats into bytes, clamping and zeroing NaN', () => {
    expect(Array.from(toBytes(Float32Array.from([0, 0.5, 1, -2, 7, Number.NaN])))).toEqual([0, 128, 255, 0, 255, 0]);
  });

  it('shares each cell of the confusion matrix out of its true class', () => {
    const cells = confusionCells([3, 1, 0, 0], 2);
    expect(cells.map((c) => c.share)).toEqual([0.75, 0.25, 0, 0]);
    expect(confusionAccuracy([3, 1, 0, 4], 2)).toBeCloseTo(7 / 8, 12);
  });

  it('names a snapshot whose rows do not hold what they claim', () => {
    const good: TaskSnapshot = {
      step: 1, method: 'rotation', count: 2, captions: ['a', 'b'], summary: '',
      rows: [{ label: 'input', images: new Float32Array(2 * 4 * 4), size: 4, channels: 1 }],
      confusion: { labels: ['0', '1'], counts: [1, 0, 0, 1] },
    };
    expect(taskSnapshotProblem(good)).toBeNull();
    expect(taskSnapshotProblem({ ...good, rows: [{ ...good.rows[0], size: 5 }] })).toMatch(/“input” holds 32 values/);
    expect(taskSnapshotProblem({ ...good, confusion: { labels: ['0', '1'], counts: [1] } })).toMatch(/1 entries for 2 classes/);
  });
});
