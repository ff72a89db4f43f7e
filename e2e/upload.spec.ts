import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { makePng } from './fixtures';
import { metricValue, openApp, waitForStep } from './helpers';

const HTML_NAME = '<img src=x onerror="window.__pwned=1">.png';

/** A folder of three classes of generated PNGs, plus junk a user might have lying around. */
function makeUploadFolder(): string {
  const root = mkdtempSync(join(tmpdir(), 'ssp-upload-'));
  const dir = join(root, 'my-shapes');
  const classes: Record<string, (x: number, y: number, k: number) => [number, number, number]> = {
    stripes: (x, _y, k) => ((x + k) % 6 < 3 ? [230, 40, 40] : [20, 20, 20]),
    dots: (x, y, k) => ((x - 8 - (k % 4)) ** 2 + (y - 8) ** 2 < 20 ? [40, 220, 60] : [10, 10, 30]),
    gradient: (x, y, k) => [x * 12, y * 12, 100 + k * 5],
  };
  for (const [name, colour] of Object.entries(classes)) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let k = 0; k < 8; k++) writeFileSync(join(dir, name, `${name}-${k}.png`), makePng(16, (x, y) => colour(x, y, k)));
  }
  writeFileSync(join(dir, 'stripes', 'notes.txt'), 'not an image');
  const truncated = makePng(16, () => [1, 2, 3]);
  writeFileSync(join(dir, 'dots', 'broken.png'), truncated.subarray(0, 40));
  writeFileSync(join(dir, 'gradient', HTML_NAME), 'this is text, not a png');
  return dir;
}

test('upload a folder of classes with junk: counts and reasons shown, no script runs, training starts, the set survives a reload', async ({ page }) => {
  await openApp(page, '?batch=8&size=16&width=4&zdim=32&probeEvery=0&knnEvery=0');
  const dir = makeUploadFolder();
  await page.getByTestId('dataset-upload-folder').setInputFiles(dir);

  const summary = page.getByTestId('upload-summary');
  await expect(summary).toContainText('24 images', { timeout: 60_000 });
  await expect(summary).toContainText('3 classes');
  const skipped = page.getByTestId('dataset-skipped');
  await expect(skipped).toHaveAttribute('data-value', '3');
  await expect(skipped).toContainText('notes.txt');
  await expect(skipped).toContainText('broken.png');
  // the HTML file name is shown as text and never interpreted
  await expect(skipped).toContainText(HTML_NAME);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(await page.locator('img[src="x"]').count()).toBe(0);

  // the upload becomes the active dataset, and training runs on it
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-value', '24', { timeout: 60_000 });
  expect(page.url()).toContain('data=upload');
  await expect(page.getByTestId('train-step')).toBeEnabled();
  await page.getByTestId('train-step').click();
  await waitForStep(page, 1);
  expect(Number.isFinite(await metricValue(page, 'metric-loss'))).toBe(true);

  // still there after a reload, listed in the dataset select
  await page.reload();
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-value', '24', { timeout: 60_000 });
  await expect(page.getByTestId('dataset-select').locator('option', { hasText: 'my-shapes' })).toHaveCount(1);

  // and it can be deleted
  page.on('dialog', (dialog) => dialog.accept());
  await page.getByTestId('dataset-delete').click();
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-value', '12000', { timeout: 60_000 });
  await expect(page.getByTestId('dataset-select').locator('option', { hasText: 'my-shapes' })).toHaveCount(0);
});

test('the synthetic coloured shapes train from the dataset select', async ({ page }) => {
  await openApp(page, '?batch=8&size=16&width=4&zdim=32&probeEvery=0&knnEvery=0');
  await page.getByTestId('dataset-select').selectOption('synthetic-shapes');
  await expect(page.getByTestId('notices')).toContainText('reset');
  await expect(page.getByTestId('dataset-count')).not.toHaveAttribute('data-value', '12000', { timeout: 60_000 });
  await expect(page.getByTestId('train-step')).toBeEnabled();
  await page.getByTestId('train-step').click();
  await waitForStep(page, 1);
  // RGB data: the encoder now has 3 input channels and still trains
  expect(Number.isFinite(await metricValue(page, 'metric-loss'))).toBe(true);
});

test('a zip of unlabelled images trains without a probe and says why', async ({ page }) => {
  const { zipSync } = await import('fflate');
  const files: Record<string, Uint8Array> = {};
  for (let k = 0; k < 6; k++) files[`photo-${k}.png`] = makePng(12, (x, y) => [x * 20, y * 20, k * 40]);
  files['inner.zip'] = zipSync({ 'a.png': makePng(8, () => [0, 0, 0]) });
  const archive = Buffer.from(zipSync(files));

  await openApp(page, '?batch=4&size=16&width=4&zdim=32&probeEvery=0&knnEvery=0');
  await page.getByTestId('dataset-upload').setInputFiles({ name: 'holiday.zip', mimeType: 'application/zip', buffer: archive });
  await expect(page.getByTestId('upload-summary')).toContainText('6 images', { timeout: 60_000 });
  await expect(page.getByTestId('upload-summary')).toContainText('no labels');
  await expect(page.getByTestId('dataset-skipped')).toContainText('nested zip');
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-value', '6', { timeout: 60_000 });
  await expect(page.getByTestId('probe-unavailable-reason')).toContainText('no labels');
  await expect(page.getByTestId('probe-run')).toBeDisabled();
  await page.getByTestId('train-step').click();
  await waitForStep(page, 1);
});

test('an uploaded zip is named after its file, a second one apart from it, and a rename is kept across a reload', async ({ page }) => {
  const { zipSync } = await import('fflate');
  const archive = Buffer.from(zipSync({
    'red/a.png': makePng(12, () => [220, 30, 30]),
    'red/b.png': makePng(12, (x) => [200 + x, 20, 20]),
    'blue/a.png': makePng(12, () => [20, 30, 220]),
    'blue/b.png': makePng(12, (x) => [20, 20, 200 + x]),
  }));
  const upload = { name: 'my-shapes.zip', mimeType: 'application/zip', buffer: archive };
  const select = page.getByTestId('dataset-select');
  const selected = select.locator('option:checked');

  await openApp(page, '?batch=4&size=16&width=4&zdim=32&probeEvery=0&knnEvery=0');
  await page.getByTestId('dataset-upload').setInputFiles(upload);
  await expect(page.getByTestId('upload-summary')).toContainText('my-shapes', { timeout: 60_000 });
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-value', '4', { timeout: 60_000 });
  await expect(selected).toHaveText(/^my-shapes \(4 images\)$/);

  // the same zip again: a name of its own
  await page.getByTestId('dataset-upload').setInputFiles(upload);
  await expect(selected).toHaveText(/^my-shapes \(2\) \(4 images\)$/, { timeout: 60_000 });
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-value', '4', { timeout: 60_000 });

  // Escape cancels
  await page.getByTestId('dataset-rename').click();
  const input = page.getByTestId('dataset-rename-input');
  await expect(input).toBeFocused();
  await expect(input).toHaveValue('my-shapes (2)');
  await input.fill('never saved');
  await input.press('Escape');
  await expect(input).toHaveCount(0);
  await expect(selected).toHaveText(/^my-shapes \(2\)/);

  // a blank name and the other set's name are refused, and say so
  await page.getByTestId('dataset-rename').click();
  await input.fill('   ');
  await input.press('Enter');
  await expect(page.getByTestId('dataset-rename-error')).toContainText('at least one visible character');
  await input.fill('MY-SHAPES');
  await input.press('Enter');
  await expect(page.getByTestId('dataset-rename-error')).toContainText('already called “my-shapes”');
  await expect(selected).toHaveText(/^my-shapes \(2\)/);

  // Enter saves; a name that looks like HTML is shown as text
  const renamed = 'Shapes <b>two</b> & co';
  await input.fill(`  ${renamed}  `);
  await input.press('Enter');
  await expect(input).toHaveCount(0);
  await expect(selected).toHaveText(`${renamed} (4 images)`);
  await expect(page.getByTestId('upload-summary')).toContainText(renamed);
  expect(await page.locator('[aria-label="Dataset"] b').count()).toBe(0);
  // the worker's messages use the new name too: 4 images are too few for 8 + 8 neighbours, and the refusal names the set
  await page.getByTestId('tab-evaluation').click();
  await page.getByTestId('neighbours-random').click();
  await expect(page.getByTestId('neighbours-error')).toContainText(`“${renamed}”`, { timeout: 60_000 });

  // kept across a reload, with the other set untouched
  await page.reload();
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-value', '4', { timeout: 60_000 });
  await expect(selected).toHaveText(`${renamed} (4 images)`);
  await expect(select.locator('option', { hasText: /^my-shapes \(4 images\)$/ })).toHaveCount(1);
});
