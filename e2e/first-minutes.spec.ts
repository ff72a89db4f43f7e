import { mkdirSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { metricValue, openApp, TINY, waitForStep, withParams } from './helpers';
import { layoutProblems } from './layoutCheck';

/** Screenshots of every panel land here for a person to look at; git ignores the folder. */
const SHOTS = 'e2e-screenshots';

const VIEWPORTS = [
  { width: 1400, height: 1000 },
  { width: 1280, height: 720 }, // a projector
  { width: 1024, height: 768 }, // a tablet held sideways
];
/** The command bar sticks to the top while the page scrolls; in a screenshot of a tall panel it would cover the panel's top. */
const UNSTICK = '[data-testid="command-bar"] { position: static !important; }';

const INSTRUMENTS = ['affinity', 'geometry', 'evaluation', 'temperature', 'lecture', 'augment', 'compare', 'export'];

/** The always-there parts of the page, then each instrument in its tab: no clipped, overlapped or stuck-out box in any. */
async function checkEveryPanel(page: Page, tag: string): Promise<string[]> {
  const problems: string[] = [];
  const folder = `${SHOTS}/${tag}`;
  mkdirSync(folder, { recursive: true });
  for (const [part, selector] of [['header', '.app-header'], ['settings', '.sidebar'], ['command-bar', '[data-testid="command-bar"]'], ['live', '[data-testid="live-rail"]']]) {
    problems.push(...(await layoutProblems(page, selector)).map((p) => `${tag} ${part}: ${p}`));
    await page.locator(selector).screenshot({ path: `${folder}/${part}.png`, style: UNSTICK });
  }
  for (const id of INSTRUMENTS) {
    await page.getByTestId(`tab-${id}`).click();
    await expect(page.getByTestId(`instrument-${id}`)).toBeVisible();
    await page.mouse.move(0, 0); // no chart tooltip left open under the pointer
    problems.push(...(await layoutProblems(page, `[data-testid="instrument-${id}"]`)).map((p) => `${tag} ${id}: ${p}`));
    await page.getByTestId(`instrument-${id}`).screenshot({ path: `${folder}/${id}.png`, style: UNSTICK });
  }
  await page.getByTestId('tab-affinity').click();
  return problems;
}

test('every panel lays out cleanly at 1400×1000, 1280×720 and 1024×768, empty and after training', async ({ page }) => {
  test.setTimeout(420_000);
  await openApp(page, withParams(TINY, 'probeEvery=0&knnEvery=0'));
  const problems: string[] = [];
  // a first visit: the tour's card sits in the command bar; it fits there at every size, then it is skipped
  for (const size of VIEWPORTS) {
    await page.setViewportSize(size);
    await expect(page.getByTestId('tour')).toBeVisible();
    problems.push(...(await layoutProblems(page, '[data-testid="command-bar"]')).map((p) => `${size.width}x${size.height} tour: ${p}`));
    mkdirSync(`${SHOTS}/${size.width}x${size.height}-empty`, { recursive: true });
    await page.getByTestId('command-bar').screenshot({ path: `${SHOTS}/${size.width}x${size.height}-empty/tour.png` });
  }
  await page.getByTestId('tour-skip').click();
  for (const size of VIEWPORTS) {
    await page.setViewportSize(size);
    problems.push(...(await checkEveryPanel(page, `${size.width}x${size.height}-empty`)));
  }
  // before training, every chart says what will appear there and when
  for (const chart of ['chart-loss', 'chart-similarity', 'chart-probe', 'chart-knn']) {
    await expect(page.getByTestId(chart).getByTestId('chart-empty'), chart).toBeVisible();
  }
  await page.getByTestId('train-start').click();
  await waitForStep(page, 4);
  await page.getByTestId('train-pause').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'paused', { timeout: 120_000 });
  // the probe and kNN charts with their baselines; the progress line says what is running, with a bar
  await page.getByTestId('probe-run').click();
  await expect(page.getByTestId('activity')).toHaveAttribute('data-label', /Linear probe|kNN/, { timeout: 10_000 });
  await expect(page.getByTestId('activity').locator('progress')).toBeVisible();
  await expect.poll(() => metricValue(page, 'metric-probe-acc'), { timeout: 240_000 }).toBeGreaterThan(0);
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'paused', { timeout: 120_000 });
  for (const size of VIEWPORTS) {
    await page.setViewportSize(size);
    problems.push(...(await checkEveryPanel(page, `${size.width}x${size.height}-trained`)));
  }
  expect(problems).toEqual([]);
});

test('a newcomer without a GPU: the light setup applied and said, progress during the first step, shortcuts, an error in view, and the full setup back', async ({ page }) => {
  test.setTimeout(540_000);
  await page.setViewportSize({ width: 1280, height: 720 });
  const opened = Date.now();
  // the bare address, as a newcomer opens it
  await page.goto('/');
  const device = page.getByTestId('device-line');
  await expect(device).toContainText('CPU emulation (SwiftShader)', { timeout: 10_000 });
  await expect(device).toHaveAttribute('data-on-cpu', 'true');
  // within seconds of opening the page, the light setup is in force and said so: no GPU, what runs, each change, the speed
  const notice = page.getByTestId('device-auto-light');
  await expect(notice).toContainText('No GPU was found: SwiftShader runs the training on the processor');
  expect(Date.now() - opened).toBeLessThan(15_000);
  for (const change of ['N 256 → 16', '28 → 16 px views', 'width 32 → 4', 'z 128 → 32', 'probe on 10,000 + 2,000 → 1,000 + 500 images', '300 → 100 probe iterations', 'at least a step a second']) {
    await expect(notice).toContainText(change);
  }
  // the settings and the address bar say what runs; the offer by hand is not needed
  const light: [string, string][] = [
    ['config-batch-size', '16'], ['config-image-size', '16'], ['config-encoder-width', '4'], ['config-projection-dim', '32'],
    ['config-probe-train-size', '1000'], ['config-probe-test-size', '500'], ['config-probe-epochs', '100'],
  ];
  for (const [testId, value] of light) await expect(page.getByTestId(testId), testId).toHaveValue(value);
  const search = new URL(page.url()).searchParams;
  expect([search.get('batch'), search.get('size'), search.get('width'), search.get('zdim')]).toEqual(['16', '16', '4', '32']);
  await expect(page.getByTestId('device-light-setup')).toHaveCount(0);

  // the guided tour greets a first visit; it steps through six stops, opening the tab each needs
  const tour = page.getByTestId('tour');
  await expect(tour).toHaveAttribute('data-step', '0');
  await expect(page.locator('.tour-target')).toHaveAttribute('data-testid', 'train-start');
  await page.getByTestId('tour-next').click();
  await expect(tour).toHaveAttribute('data-step', '1');
  await expect(page.getByTestId('tab-augment')).toHaveAttribute('aria-selected', 'true');
  await page.getByTestId('tour-next').click();
  await page.getByTestId('tour-next').click();
  await expect(page.getByTestId('tab-affinity')).toHaveAttribute('aria-selected', 'true');
  await page.getByTestId('tour-next').click();
  await page.getByTestId('tour-next').click();
  await expect(tour).toHaveAttribute('data-step', '5');
  await expect(page.getByTestId('tour-next')).toHaveText('Done');
  await page.getByTestId('tour-next').click();
  await expect(tour).toHaveCount(0);

  // Train, pressed without touching anything: the first step says it is compiling kernels, and training moves
  await expect(page.getByTestId('train-start')).toBeEnabled({ timeout: 120_000 });
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('activity')).toHaveAttribute('data-label', /First step/, { timeout: 10_000 });
  await expect(page.getByTestId('train-start')).toHaveText('Training…');
  await waitForStep(page, 2);
  // the encoder that trains is the light one (the settings panel flags no setting waiting for a reset)
  await expect(page.getByTestId('reset-notice')).toHaveCount(0);
  await page.keyboard.press('Space'); // pause
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'paused', { timeout: 60_000 });

  // shortcuts: ? lists them, 5 opens lecture mode (and the hash), S takes one step
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('?');
  await expect(page.getByTestId('shortcuts-help')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('shortcuts-help')).toHaveCount(0);
  await page.keyboard.press('5');
  await expect(page.getByTestId('tab-lecture')).toHaveAttribute('aria-selected', 'true');
  expect(new URL(page.url()).hash).toBe('#lecture');
  const before = await metricValue(page, 'metric-step');
  await page.keyboard.press('s');
  await waitForStep(page, before + 1);

  // an error while the page is scrolled away: the banner is in view, and the settings point at it
  await page.getByTestId('config-normalize').uncheck();
  await page.getByTestId('config-temperature').fill('1e-38');
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.getByTestId('train-step').click();
  await expect(page.getByTestId('error-banner')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('error-banner')).toBeInViewport();
  await expect(page.getByTestId('error-pointer')).toBeVisible();

  // the full setup is one click back: every replaced setting returns, and a new encoder is built but not trained
  await page.getByTestId('device-full-setup').click();
  const full: [string, string][] = [
    ['config-batch-size', '256'], ['config-image-size', '28'], ['config-encoder-width', '32'], ['config-projection-dim', '128'],
    ['config-probe-train-size', '10000'], ['config-probe-test-size', '2000'], ['config-probe-epochs', '300'],
  ];
  for (const [testId, value] of full) await expect(page.getByTestId(testId), testId).toHaveValue(value);
  await expect(notice).toHaveCount(0);
  for (const name of ['batch', 'size', 'width', 'zdim', 'probeTrain', 'probeTest', 'probeIters']) expect(new URL(page.url()).searchParams.has(name), name).toBe(false);
  await expect(page.getByTestId('metric-step')).toHaveAttribute('data-value', /^(0|)$/, { timeout: 60_000 });
  await expect(page.getByTestId('reset-notice')).toHaveCount(0, { timeout: 120_000 });
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'idle', { timeout: 120_000 });
  // on a CPU the light setup stays on offer by hand
  await expect(page.getByTestId('device-light-setup')).toBeVisible();

  // after a reload the page remembers the choice: the full setup stays; a dismissed tour never returns by itself, and the
  // header's Tour button brings it back
  await page.reload();
  await expect(page.getByTestId('device-line')).toContainText('CPU emulation', { timeout: 30_000 });
  await expect(page.getByTestId('device-light-setup')).toBeVisible();
  await expect(notice).toHaveCount(0);
  await expect(page.getByTestId('config-batch-size')).toHaveValue('256');
  await expect(page.getByTestId('tour')).toHaveCount(0);
  await page.getByTestId('tour-start').click();
  await expect(page.getByTestId('tour')).toHaveAttribute('data-step', '0');
  await page.getByTestId('tour-skip').click();
  await expect(page.getByTestId('tour')).toHaveCount(0);
});
