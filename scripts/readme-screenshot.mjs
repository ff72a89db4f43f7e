/**
 * node scripts/readme-screenshot.mjs: the README's picture of the page, as a
 * visitor sees it at 1400×1000 after a short run on this machine's device.
 * The light setup (the device line's offer on a CPU emulation), 60 steps with
 * the probe every 20 and kNN every 10, the tour dismissed, the affinity tab
 * open; writes docs/screenshot.png. Env: BUILD=0 reuses dist/.
 */
import { openApp, trainTo } from './lib/appDriver.mjs';

const SEARCH = 'batch=16&size=16&width=4&zdim=32&probeTrain=1000&probeTest=500&probeIters=100&probeEvery=20&knnEvery=10';
const STEPS = Number(process.env.STEPS ?? 60);

const app = await openApp({ port: 4193, build: process.env.BUILD !== '0' });
const { page } = app;
try {
  // a returning visitor: the tour was seen once
  await page.addInitScript(() => localStorage.setItem('ssp.tour', 'done'));
  const result = await trainTo(app, `${SEARCH}#affinity`, STEPS, 'screenshot');
  await page.waitForFunction(() => !document.querySelector('[data-testid="activity"]')?.getAttribute('data-label'), null, { timeout: 300_000 });
  await page.mouse.move(0, 0);
  await page.screenshot({ path: 'docs/screenshot.png' });
  console.log(`docs/screenshot.png: step ${result.steps}, loss ${result.loss}, ${result.trainMinutes} min`);
} finally {
  await app.close();
}
process.exit(0);
