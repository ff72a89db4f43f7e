import { readFileSync } from 'node:fs';
import type { Plugin } from 'vite';
import { describe, expect, it } from 'vitest';
import config from '../../vite.config';
import { CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_HEADER, parseCsp, withCspMeta } from './csp';

const ENTRIES = ['index.html', 'checks.html'];
const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

/** The CSP plugin as the build runs it. */
function cspPlugin(): Plugin {
  const plugin = (config.plugins ?? []).flat().find((p): p is Plugin => !!p && typeof p === 'object' && 'name' in p && p.name === 'content-security-policy');
  if (!plugin) throw new Error('vite.config.ts has no content-security-policy plugin');
  return plugin;
}

/** Every HTML entry as the production build writes its head. */
function builtHtml(file: string): string {
  const transform = cspPlugin().transformIndexHtml;
  if (typeof transform !== 'function') throw new Error('the CSP plugin should transform the HTML with a plain function');
  const out = (transform as (html: string) => unknown)(read(file));
  if (typeof out !== 'string') throw new Error('the CSP plugin should return the page as a string');
  return out;
}

const metaPolicy = (html: string) => /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1];

/** A source expression that names a host or a scheme other than blob:, i.e. anything reaching beyond our own origin. */
const isRemote = (source: string) => !/^'[a-z-]+'$/.test(source) && source !== 'blob:';

describe('Content-Security-Policy', () => {
  it('every HTML entry the build reads gets the policy from the build, and the dev server does not', () => {
    expect((config.build?.rollupOptions?.input as Record<string, string>)).toEqual({ main: 'index.html', checks: 'checks.html' });
    expect(cspPlugin().apply).toBe('build');
    for (const file of ENTRIES) {
      expect(read(file)).not.toMatch(/Content-Security-Policy/i); // declared once, in csp.ts
      expect(metaPolicy(builtHtml(file))).toBe(CONTENT_SECURITY_POLICY);
    }
  });

  it('the meta comes before every script and stylesheet, and the pages have nothing inline for it to refuse', () => {
    for (const file of ENTRIES) {
      const html = builtHtml(file);
      const meta = html.indexOf('http-equiv="Content-Security-Policy"');
      for (const tag of ['<script', '<link rel="stylesheet"', '<link rel="modulepreload"']) {
        const at = html.indexOf(tag);
        if (at >= 0) expect(at).toBeGreaterThan(meta);
      }
      for (const script of html.match(/<script\b[^>]*>[\s\S]*?<\/script>/g) ?? []) expect(script).toMatch(/^<script\b[^>]*\bsrc="\/[^"]*"[^>]*><\/script>$/);
      expect(html).not.toMatch(/<style\b|\sstyle="|\son[a-z]+="|javascript:/i);
    }
  });

  it('allows no inline script, no eval and no remote origin', () => {
    const policy = parseCsp(CONTENT_SECURITY_POLICY);
    expect(policy.get('default-src')).toEqual(["'none'"]);
    expect(policy.get('script-src')).toEqual(["'self'"]);
    for (const [name, sources] of policy) {
      for (const unsafe of ["'unsafe-inline'", "'unsafe-eval'", "'wasm-unsafe-eval'", "'unsafe-hashes'", 'data:', '*']) expect(sources, name).not.toContain(unsafe);
      expect(sources.filter(isRemote), name).toEqual([]);
    }
    expect(policy.get('object-src')).toEqual(["'none'"]);
    expect(policy.get('base-uri')).toEqual(["'none'"]);
    expect(policy.get('form-action')).toEqual(["'none'"]);
    expect(policy.get('worker-src')).toEqual(["'self'"]);
  });

  it('keeps header-only directives out of the meta and sends them, with the rest, as the preview header', () => {
    // a <meta> policy ignores frame-ancestors, report-uri and sandbox, and says so in the console
    for (const ignored of ['frame-ancestors', 'report-uri', 'report-to', 'sandbox']) expect(parseCsp(CONTENT_SECURITY_POLICY).has(ignored)).toBe(false);
    const header = parseCsp(CONTENT_SECURITY_POLICY_HEADER);
    expect(header.get('frame-ancestors')).toEqual(["'none'"]);
    for (const [name, sources] of parseCsp(CONTENT_SECURITY_POLICY)) expect(header.get(name), name).toEqual(sources);
    expect(config.preview?.headers).toEqual({ 'Content-Security-Policy': CONTENT_SECURITY_POLICY_HEADER });
    expect(config.server?.headers?.['Content-Security-Policy']).toBeUndefined();
  });

  it('the header the README tells hosts to send is the policy in force', () => {
    const line = /`Content-Security-Policy: ([^`]*)`/.exec(read('README.md'));
    expect(line?.[1]).toBe(CONTENT_SECURITY_POLICY_HEADER);
  });

  it('refuses a page that declares a policy of its own or has no charset to anchor it', () => {
    expect(() => withCspMeta(builtHtml('index.html'))).toThrow(/already declares/);
    expect(() => withCspMeta('<html><head><title>x</title></head></html>')).toThrow(/charset/);
  });
});
