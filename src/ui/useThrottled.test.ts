import { describe, expect, it } from 'vitest';
import { nextRedrawAt } from './useThrottled';

describe('nextRedrawAt', () => {
  it('waits for the chart’s own slot of the shared clock', () => {
    // 1 s throttle: the loss chart on slots …000, the similarity chart on slots …500
    expect(nextRedrawAt(10_120, -Infinity, 1000, 0)).toBe(11_000);
    expect(nextRedrawAt(10_120, -Infinity, 1000, 500)).toBe(10_500);
    expect(nextRedrawAt(10_500, -Infinity, 1000, 500)).toBe(10_500); // on the slot: now
  });

  it('never redraws twice within the throttle interval', () => {
    // shown at 10 500: a change at 10 600 waits until 11 500, not 10 500 again
    expect(nextRedrawAt(10_600, 10_500, 1000, 500)).toBe(11_500);
    // shown a little late (timers slip): the next slot at least ms later
    expect(nextRedrawAt(10_600, 10_530, 1000, 500)).toBe(12_500);
  });

  it('keeps two phases apart: their redraw times never coincide', () => {
    const times = (phase: number) => {
      const out: number[] = [];
      let last = -Infinity;
      for (let now = 0; now < 20_000; now += 137) {
        const at = nextRedrawAt(now, last, 1000, phase);
        if (at < now + 137) {
          out.push(at);
          last = at;
        }
      }
      return out;
    };
    const loss = times(0);
    const similarity = times(500);
    expect(loss.length).toBeGreaterThan(10);
    expect(similarity.length).toBeGreaterThan(10);
    for (const t of similarity) expect(loss.every((u) => Math.abs(u - t) >= 500)).toBe(true);
  });
});
