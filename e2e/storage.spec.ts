import { expect, test } from '@playwright/test';
import { makePng } from './fixtures';
import { openApp, waitForStep } from './helpers';

const REFUSAL = 'IndexedDB is turned off for this test';

/** The page's side of a browser that blocks site data: touching IndexedDB throws a SecurityError. */
function blockIndexedDb(refusal: string): void {
  Object.defineProperty(window, 'indexedDB', {
    configurable: true,
    get() {
      throw new DOMException(refusal, 'SecurityError');
    },
  });
}

/**
 * The workers' side: they have globals of their own and no init scripts, so
 * their scripts (the training worker and the upload decoder, assets/worker-*.js
 * and assets/decodeWorker-*.js) are served with a first statement that does
 * the same. It runs before the worker's own code, which opens IndexedDB only
 * when it needs it. Same-origin script, so the app's Content-Security-Policy
 * allows it.
 */
const WORKER_PRELUDE =
  `Object.defineProperty(self, 'indexedDB', { configurable: true, ` +
  `get() { throw new DOMException(${JSON.stringify(REFUSAL)}, 'SecurityError'); } });\n`;
const isWorkerScript = (url: URL) => /^(decodeWorker|worker)[-.]/.test(url.pathname.split('/').pop() ?? '');

test('without IndexedDB an uploaded set trains for this visit, one message says it was not saved, and a hung worker\'s successor trains on it', async ({ page }) => {
  const { zipSync } = await import('fflate');
  const files: Record<string, Uint8Array> = {};
  for (let k = 0; k < 4; k++) {
    files[`red/${k}.png`] = makePng(12, (x) => [200 + x + k, 20, 20]);
    files[`blue/${k}.png`] = makePng(12, (_x, y) => [20, 20, 200 + y + k]);
  }
  const archive = Buffer.from(zipSync(files));

  await page.addInitScript(blockIndexedDb, REFUSAL);
  const blockedWorkers: string[] = [];
  await page.route(isWorkerScript, async (route) => {
    const response = await route.fetch();
    blockedWorkers.push(new URL(route.request().url()).pathname.split('/').pop()!.split(/[-.]/)[0]);
    await route.fulfill({ response, body: WORKER_PRELUDE + (await response.text()) });
  });
  await openApp(page, '?batch=4&size=16&width=4&zdim=32&probeEvery=0&knnEvery=0');
  const warning = page.getByTestId('storage-warning');
  await expect(warning).toHaveCount(1);
  await expect(warning).toContainText('storage is unavailable');

  await page.getByTestId('dataset-upload').setInputFiles({ name: 'two-colours.zip', mimeType: 'application/zip', buffer: archive });
  await expect(page.getByTestId('upload-summary')).toContainText('8 images', { timeout: 60_000 });
  await expect(page.getByTestId('upload-error')).toHaveCount(0);
  // one message, naming the set and saying it was not saved and why
  await expect(warning).toHaveCount(1);
  await expect(warning).toContainText('“two-colours”');
  await expect(warning).toContainText('was not saved');
  await expect(warning).toContainText('SecurityError');
  await expect(warning).toContainText('used for this visit only');
  // both workers ran without IndexedDB: the decoder could not save, the training worker never needed it
  expect(blockedWorkers.sort()).toEqual(['decodeWorker', 'worker']);

  // the set is in use, listed as this visit's, and trains from the worker's memory
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-value', '8', { timeout: 60_000 });
  await expect(page.getByTestId('dataset-select').locator('optgroup[label*="this visit only"] option')).toHaveCount(1);
  await page.getByTestId('train-start').click();
  await waitForStep(page, 2);
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  await expect(warning).toHaveCount(1);

  // the worker hangs (stuck, or killed for memory): the heartbeat notices it (its limit cut to 4 s for the test),
  // and the new worker gets the page's copy of the unsaved upload, so the run carries on on the same images
  await page.evaluate(() => (window as unknown as { __sspInjectFault: (f: string, o: object) => void }).__sspInjectFault('hang', { silentMs: 4_000 }));
  const banner = page.getByTestId('error-banner');
  await expect(banner).toContainText('stopped answering for 4 s', { timeout: 30_000 });
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'error');
  const reached = Number(await page.getByTestId('metric-step').getAttribute('data-value'));
  await page.getByTestId('error-recover').click();
  await expect(banner).toHaveCount(0);
  await expect(page.getByTestId('train-start')).toBeEnabled({ timeout: 120_000 });
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-value', '8');
  await page.getByTestId('train-start').click();
  await waitForStep(page, reached + 1);
  await page.getByTestId('train-pause').click();
  await expect(banner).toHaveCount(0);
  await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-restarts', String(reached));
});
