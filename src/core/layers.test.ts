import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The architecture's arrows run down (README, "Architecture"): a layer imports
 * only the layers below it. These are the rules a reader relies on, checked on
 * the source text of every module (tests included: they show how a layer is used).
 */
const SRC = path.resolve(__dirname, '..');

function modules(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? modules(file) : /\.tsx?$/.test(name) ? [file] : [];
  });
}

/** The src/ layers a module imports at run time (`import type` is erased, so it does not count). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const layers: string[] = [];
  for (const match of text.matchAll(/^\s*import\s+(type\s+)?[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    if (match[1]) continue;
    const target = path.relative(SRC, path.resolve(path.dirname(file), match[2]));
    if (!target.startsWith('..')) layers.push(target.split(path.sep)[0]);
  }
  return layers;
}

function violations(layer: string, forbidden: string[]): string[] {
  return modules(path.join(SRC, layer)).flatMap((file) =>
    runtimeImports(file).filter((l) => forbidden.includes(l)).map((l) => `${path.relative(SRC, file)} imports src/${l}`),
  );
}

describe('layer arrows', () => {
  it('src/core imports no other layer', () => {
    expect(violations('core', ['data', 'augment', 'model', 'methods', 'loss', 'train', 'eval', 'state', 'ui'])).toEqual([]);
  });
  it('src/ui runs no tfjs code: nothing from augment, loss, model or methods but types', () => {
    expect(violations('ui', ['augment', 'loss', 'model', 'methods'])).toEqual([]);
  });
  it('the worker side imports nothing from the page state or UI', () => {
    for (const layer of ['model', 'train', 'methods', 'loss', 'augment', 'eval', 'data']) {
      expect(violations(layer, ['state', 'ui'])).toEqual([]);
    }
  });
});
