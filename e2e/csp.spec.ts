import { expect, test, type Page, type Worker } from '@playwright/test';
import { CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_HEADER } from '../src/core/csp';
import { openApp, waitForStep } from './helpers';

const LIGHT = '?batch=4&size=16&width=4&zdim=32&probeEvery=0&knnEvery=0';
const TABS = ['affinity', 'geometry', 'evaluation', 'temperature', 'lecture', 'augment', 'compare'];
const TRAINING_WORKER = /\/assets\/worker-[^/]*\.js$/;
/** marks the worker's violations in its console, which Playwright forwards to the page's */
const WORKER_VIOLATION = '[csp-violation]';

interface Violation {
  directive: string;
  blocked: string;
}

declare global {
  interface Window {
    __cspViolations: Violation[];
    __x?: number;
  }
}

/**
 * Records every `securitypolicyviolation` of the page (from before its first
 * script) and of the training worker. The browser's own CSP messages from a
 * worker do not reach the page's console, and a worker's events fire on its
 * global scope, so the worker's script is served with a listener put in front
 * of it that reports each violation through console.warn.
 */
async function recordViolations(page: Page): Promise<Violation[]> {
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push({ directive: e.effectiveDirective, blocked: e.blockedURI }), true);
  });
  const listener = `self.addEventListener('securitypolicyviolation', (e) => console.warn(${JSON.stringify(WORKER_VIOLATION)}, JSON.stringify({ directive: e.effectiveDirective, blocked: e.blockedURI })));\n`;
  await page.route(TRAINING_WORKER, async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, body: listener + (await response.text()) });
  });
  const inWorker: Violation[] = [];
  page.on('console', (m) => {
    if (m.worker() && m.text().startsWith(WORKER_VIOLATION)) inWorker.push(JSON.parse(m.text().slice(WORKER_VIOLATION.length)) as Violation);
  });
  return inWorker;
}

const pageViolations = (page: Page) => page.evaluate(() => window.__cspViolations);

function trainingWorker(page: Page): Worker {
  const worker = page.workers().find((w) => TRAINING_WORKER.test(w.url()));
  if (!worker) throw new Error(`no training worker among: ${page.workers().map((w) => w.url()).join(', ') || 'none'}`);
  return worker;
}

/**
 * What eval, new Function and WebAssembly do in a context, run from a timer:
 * code Playwright evaluates directly is exempt from the eval check (DevTools'
 * allowUnsafeEvalBlockedByCSP), a callback that runs later is not.
 */
function tryCodeFromStrings(): Promise<Record<string, string>> {
  const attempt = (f: () => unknown) => { try { return String(f()); } catch (e) { return (e as Error).name; } };
  return new Promise((resolve) => setTimeout(() => resolve({
    eval: attempt(() => (0, eval)('1 + 1')),
    function: attempt(() => new Function('return 2')()),
    wasm: attempt(() => new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])) && 'compiled'),
  })));
}
const REFUSED = { eval: 'EvalError', function: 'EvalError', wasm: 'CompileError' };

test('the built app runs under its Content-Security-Policy, in the page and in the worker, and the policy refuses inline script and eval', async ({ page }) => {
  const workerViolations = await recordViolations(page);
  const workerScriptPolicy = page.waitForResponse((r) => TRAINING_WORKER.test(r.url())).then((r) => r.headers()['content-security-policy']);
  const documentPolicy = page.waitForResponse((r) => r.request().resourceType() === 'document').then((r) => r.headers()['content-security-policy']);
  await openApp(page, LIGHT);
  await expect(page.locator('meta[http-equiv="Content-Security-Policy"]')).toHaveAttribute('content', CONTENT_SECURITY_POLICY);
  expect(await documentPolicy).toBe(CONTENT_SECURITY_POLICY_HEADER);
  // a <meta> does not reach a worker loaded from a URL: the header on its script does
  expect(await workerScriptPolicy).toBe(CONTENT_SECURITY_POLICY_HEADER);

  await page.getByTestId('train-start').click();
  await waitForStep(page, 2);
  await page.getByTestId('train-pause').click();
  for (const tab of TABS) {
    await page.getByTestId(`tab-${tab}`).click();
    await expect(page.getByTestId(`instrument-${tab}`)).toBeVisible();
  }
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  expect(await pageViolations(page)).toEqual([]);
  // the one expected refusal: tfjs's dependency `long` tries to compile a tiny wasm module at start-up and falls back to JS
  expect(workerViolations).toEqual([{ directive: 'script-src', blocked: 'wasm-eval' }]);

  // an injected inline script is refused and reported (once per policy: the <meta> and the header)
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__x = 1';
    document.head.append(script);
  });
  await expect.poll(() => pageViolations(page)).toContainEqual({ directive: 'script-src-elem', blocked: 'inline' });
  expect(await page.evaluate(() => window.__x)).toBeUndefined();

  expect(await page.evaluate(tryCodeFromStrings)).toEqual(REFUSED);
  expect(await trainingWorker(page).evaluate(tryCodeFromStrings)).toEqual(REFUSED);
  await expect.poll(() => workerViolations.filter((v) => v.blocked === 'eval').length).toBeGreaterThan(0);
});
