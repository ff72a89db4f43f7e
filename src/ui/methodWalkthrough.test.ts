import { describe, expect, it } from 'vitest';
import { METHOD_CATALOG, METHOD_IDS, WALKTHROUGH_STAGES } from '../core/methods';
import { methodStages, stopCount } from '../state/walkthroughStore';
import { isWalkthroughMethod, metricText, methodListing, stageMetrics, typeset } from './methodWalkthrough';

const others = METHOD_IDS.filter(isWalkthroughMethod);

describe('the methods’ Algorithm 1 listings', () => {
  it('the six two-view methods walk through, each other than SimCLR with a line for every stage; the rest do not', () => {
    for (const id of METHOD_IDS) expect(METHOD_CATALOG[id].walkthrough, id).toBe(isWalkthroughMethod(id) || id === 'simclr');
    expect(others).toEqual(['memory-bank', 'moco', 'byol', 'simsiam', 'barlow-twins']);
    for (const id of others) {
      expect(methodStages(id), id).toEqual([...WALKTHROUGH_STAGES]);
      const listing = methodListing(id);
      // one line per stage carries its numbers: the stage's last
      expect(listing.filter((l) => l.showsDetail).map((l) => l.stage), id).toEqual([...WALKTHROUGH_STAGES]);
      // stops only grow down the listing
      const stops = listing.filter((l) => l.stop >= 0).map((l) => l.stop);
      expect(stops, id).toEqual([...stops].sort((a, b) => a - b));
      expect(listing.at(-1)!.line).toBe('end for');
    }
  });

  it('names only metrics the method reports, the after-update ones on its after-update lines', () => {
    for (const id of others) {
      const keys = new Set(METHOD_CATALOG[id].metrics.map((m) => m.key));
      for (const line of METHOD_CATALOG[id].algorithm!) for (const key of line.metrics ?? []) expect(keys.has(key), `${id} ${key}`).toBe(true);
    }
    expect(stageMetrics('moco', 'after-update').map((m) => m.key)).toEqual(['queueFill', 'keyDrift']);
    expect(stageMetrics('memory-bank', 'after-update').map((m) => m.key)).toEqual(['bankWritten', 'bankStaleness']);
    expect(stageMetrics('byol', 'after-update').map((m) => m.key)).toEqual(['targetDrift']);
    expect(stageMetrics('simsiam', 'after-update')).toEqual([]);
    expect(stageMetrics('barlow-twins', 'after-update')).toEqual([]);
    expect(stageMetrics('barlow-twins', 'loss').map((m) => m.key)).toEqual(['onDiagonal', 'offDiagonal']);
  });

  it('MoCo’s follows MoCo v2’s Algorithm 1', () => {
    const lines = METHOD_CATALOG.moco.algorithm!.map((l) => l.line);
    expect(lines).toContain('k = f_k(x_k).detach()');
    expect(lines).toContain('logits = [l_{pos}, l_{neg}]');
    expect(lines).toContain('L = CrossEntropy(logits / τ, labels)');
    expect(lines).toContain('f_k.params = m · f_k.params + (1 − m) · f_q.params');
    expect(lines).toContain('enqueue(queue, k̂); dequeue(queue)');
  });

  it('SimCLR keeps its 8 stops; the others have 7', () => {
    expect(stopCount(null)).toBe(8);
    expect(stopCount({ method: 'moco' } as Parameters<typeof stopCount>[0])).toBe(7);
  });
});

describe('typeset', () => {
  it('turns _x and _{…} into subscripts, nested, and leaves the rest', () => {
    expect(typeset('q = f_q(x_q)')).toEqual(['q = f', { sub: ['q'] }, '(x', { sub: ['q'] }, ')']);
    expect(typeset('V_{i_b} ← m')).toEqual(['V', { sub: ['i', { sub: ['b'] }] }, ' ← m']);
    expect(typeset('g_ξ')).toEqual(['g', { sub: ['ξ'] }]);
    expect(typeset('a _ b_')).toEqual(['a _ b_']);
    expect(typeset('x_{unclosed')).toEqual(['x_{unclosed']);
  });
});

describe('metricText', () => {
  it('reads each unit', () => {
    expect(metricText('fraction', 6 / 64)).toBe('9.4%');
    expect(metricText('number', -0.01234)).toBe('−0.012');
    expect(metricText('rank', 3.25)).toBe('3.3');
    expect(metricText('cosine', undefined)).toBe('—');
  });
});
