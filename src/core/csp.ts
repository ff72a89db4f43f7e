/**
 * The Content-Security-Policy of the built app, declared once. The build writes
 * it into every HTML entry as a `<meta http-equiv>` (vite.config.ts, not in dev:
 * Vite's dev server and React Refresh need inline scripts), and `vite preview`
 * sends it, plus `frame-ancestors`, as a header.
 *
 * A `<meta>` policy covers the page only. A dedicated worker loaded from a
 * same-origin URL (ours: the training worker and the upload decoder) takes its
 * policy from the response that delivered its script, not from the document
 * (HTML's policy container; only blob:/data: workers inherit the creator's), so
 * the workers are covered only where the host sends the header.
 *
 * What the code needs, and nothing more:
 * - no `eval` or `new Function` on any path the app takes (tfjs, React,
 *   recharts, umap-js and fflate included; the one `Function('return this')`
 *   in the bundles, decimal.js-light's, is reached only where `self` is
 *   undefined, never in a browser), so no 'unsafe-eval';
 * - no WebAssembly: tfjs-core's dependency `long` tries to compile a tiny wasm
 *   module at start-up for 64-bit multiplication and falls back to plain
 *   JavaScript when refused (it is used only by string hashing, which we never
 *   run), so no 'wasm-unsafe-eval'; where the policy is in force that attempt is
 *   reported once as a violation in each context that loads tfjs (the training
 *   worker, checks.html);
 * - WGSL and GLSL shaders are compiled by WebGPU and WebGL, which CSP does not
 *   govern.
 */
export const CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  // everything not named below is refused: fonts, media, frames, manifests
  'default-src': ["'none'"],
  // the bundled modules only; Vite's build emits no inline script
  'script-src': ["'self'"],
  // the bundled stylesheet; React's style prop writes through the CSSOM, which style-src does not govern
  'style-src': ["'self'"],
  // the favicon; blob: for the chart SVG drawn onto a canvas when a comparison chart is saved as PNG
  'img-src': ["'self'", 'blob:'],
  // fetch of the built-in dataset (public/datasets), from the training worker
  'connect-src': ["'self'"],
  // the training worker and the upload decoder, both module workers from our own origin
  'worker-src': ["'self'"],
  'object-src': ["'none'"],
  // nothing may change the base URL the worker and dataset URLs resolve against
  'base-uri': ["'none'"],
  // the page's one form (renaming a dataset) is handled in script and never submitted
  'form-action': ["'none'"],
};

/** Directives a `<meta>` policy ignores (with a console warning), so they are sent as a header only. */
export const CSP_HEADER_ONLY_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  // no site may frame the app (clickjacking)
  'frame-ancestors': ["'none'"],
};

const serialize = (directives: Readonly<Record<string, readonly string[]>>): string =>
  Object.entries(directives).map(([name, sources]) => [name, ...sources].join(' ')).join('; ');

/** The policy as the `<meta>` carries it. */
export const CONTENT_SECURITY_POLICY = serialize(CSP_DIRECTIVES);

/** The policy as a host should send it in the `Content-Security-Policy` header, on the HTML and on the worker scripts. */
export const CONTENT_SECURITY_POLICY_HEADER = serialize({ ...CSP_DIRECTIVES, ...CSP_HEADER_ONLY_DIRECTIVES });

/** The policy parsed back into directives, for the tests. */
export function parseCsp(policy: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of policy.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), sources);
  }
  return directives;
}

const CHARSET = /<meta charset="UTF-8"\s*\/?>/i;

/**
 * `html` with the policy's `<meta>` right after the charset, ahead of every
 * script and stylesheet (a `<meta>` policy applies only to what follows it).
 */
export function withCspMeta(html: string): string {
  if (/http-equiv="Content-Security-Policy"/i.test(html)) throw new Error('This page already declares a Content-Security-Policy: declare it only in src/core/csp.ts.');
  const charset = CHARSET.exec(html);
  if (!charset) throw new Error('The page has no <meta charset="UTF-8" />, after which the Content-Security-Policy goes: add it at the top of <head>.');
  const end = charset.index + charset[0].length;
  return `${html.slice(0, end)}\n    <meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}" />${html.slice(end)}`;
}
