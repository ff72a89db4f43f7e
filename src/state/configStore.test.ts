import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../core/config';
import { readLink } from './configStore';
import { instrumentFromHash } from './layoutStore';

describe('readLink: the address bar on load', () => {
  it('keeps a clean link as it is, tab included', () => {
    expect(readLink('/', '?method=moco&batch=32', '#lecture')).toEqual({
      config: expect.objectContaining({ method: 'moco', batchSize: 32, temperature: 0.2 }),
      warnings: [],
      cleanUrl: null,
    });
    expect(readLink('/', '', '').cleanUrl).toBeNull();
    // `#` alone is no fragment
    expect(readLink('/', '', '#').cleanUrl).toBeNull();
  });

  it('drops refused and unknown parameters from the address bar and keeps the tab', () => {
    // τ given twice, the last value refused: the default stays in force
    const link = readLink('/app/', '?tau=0.2&batch=32&tau=0x1&evil=%3Cscript%3E', '#lecture');
    expect(link.config.batchSize).toBe(32);
    expect(link.config.temperature).toBe(DEFAULT_CONFIG.temperature);
    expect(link.warnings).toHaveLength(3);
    expect(link.cleanUrl).toBe('/app/?batch=32#lecture');
  });

  it('writes a tab spelled with escapes the plain way', () => {
    expect(readLink('/', '?bogus=1', '#%6Cecture').cleanUrl).toBe('/#lecture');
  });

  it('drops a fragment that names no tab, with a warning, even when the parameters are fine', () => {
    const link = readLink('/', '?batch=32', '#%3Cscript%3Ealert(1)%3C/script%3E');
    expect(link.cleanUrl).toBe('/?batch=32');
    expect(link.warnings).toEqual([
      'Unknown tab “#%3Cscript%3Ealert(1)%3C/script%3E” ignored; the tabs are #affinity, #geometry, #evaluation, #temperature, #lecture, #augment, #compare, #generated, #export.',
    ]);
  });

  it('survives a malformed escape in the fragment and quotes a long one short', () => {
    expect(instrumentFromHash('#%')).toBeNull();
    expect(instrumentFromHash('#%E0%A4%A')).toBeNull();
    expect(readLink('/', '', '#%').cleanUrl).toBe('/');
    const long = readLink('/', '', `#${'a'.repeat(100_000)}`);
    expect(long.cleanUrl).toBe('/');
    expect(long.warnings[0].length).toBeLessThan(300);
  });
});
