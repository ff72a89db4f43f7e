import { expect, test, type Page } from '@playwright/test';
import { openApp } from './helpers';

/**
 * Issue 19: a generator trained in the page, and the experiment that pretrains on real plus generated images.
 * Fashion-MNIST (28 px) on WebGPU through SwiftShader: the smallest generator (width 4, z of 8, batch 16) and a few
 * steps; the encoder at the compare tests' tiny config, no periodic probe (each run ends with one).
 */
const TINY_GENERATED = '?batch=16&size=16&width=4&zdim=32&lr=0.003&probeEvery=0&knnEvery=0&probeTrain=200&probeTest=200&probeIters=50';

async function setGenerator(page: Page, kind: 'dcgan' | 'vae', steps: number): Promise<void> {
  await page.getByTestId('generator-kind').selectOption(kind);
  await page.getByTestId('generator-steps').fill(String(steps));
  await page.getByTestId('generator-batch').fill('16');
  await page.getByTestId('generator-width').fill('4');
  await page.getByTestId('generator-zdim').fill('8');
}

/** The fixed-noise grid's pixels, as the page drew them. */
async function gridPixels(page: Page): Promise<string> {
  return page.getByTestId('generator-grid').locator('canvas').first().evaluate((c) => (c as HTMLCanvasElement).toDataURL());
}

test.describe('generated images', () => {
  test('a DCGAN trains a few steps: live losses, a fixed-noise grid that changes, nearest real images, quality, saved and deleted', async ({ page }) => {
    test.setTimeout(300_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('dialog', (dialog) => void dialog.accept());
    await openApp(page, `${TINY_GENERATED}#generated`);
    await expect(page.getByTestId('generator-unfit')).toHaveCount(0);
    await setGenerator(page, 'dcgan', 4);
    await page.getByTestId('generator-train').click();

    const grid = page.getByTestId('generator-grid');
    await expect(grid).toHaveAttribute('data-step', '4', { timeout: 180_000 });
    await expect(page.getByTestId('generator-saved-row')).toHaveCount(1, { timeout: 60_000 });
    const first = await gridPixels(page);
    // both players' losses charted, one point per step
    await expect(page.getByTestId('generator-loss-chart').locator('.recharts-line-curve').first()).toBeVisible();
    // sample quality on the random-init encoder's features: finite, precision and recall in [0, 1]
    for (const id of ['generator-fd', 'generator-precision', 'generator-recall']) {
      const value = Number(await page.getByTestId(id).getAttribute('data-value'));
      expect(Number.isFinite(value), id).toBe(true);
      expect(value, id).toBeGreaterThanOrEqual(0);
      if (id !== 'generator-fd') expect(value, id).toBeLessThanOrEqual(1);
    }
    // the nearest real training images of some samples, each sample marked as generated
    await expect(page.getByTestId('generator-neighbours').locator('canvas').first()).toBeVisible();
    await expect(page.getByTestId('generator-neighbours').getByText('generated').first()).toBeVisible();
    // the dataset gallery can show Z (the grid) besides X, each generated image badged
    await page.getByTestId('gallery-origin-filter').selectOption('generated');
    await expect(page.getByTestId('dataset-gallery').getByTestId('generated-badge')).toHaveCount(16);
    await expect(page.getByTestId('dataset-gallery').locator('[data-origin="real"]')).toHaveCount(0);
    await page.getByTestId('gallery-origin-filter').selectOption('both');

    // four more steps of the same generator: the same noise now draws other images
    await page.getByTestId('generator-steps').fill('4');
    await page.getByTestId('generator-continue').click();
    await expect(grid).toHaveAttribute('data-step', '8', { timeout: 180_000 });
    await expect(page.getByTestId('generator-progress')).toHaveCount(0, { timeout: 60_000 });
    expect(await gridPixels(page)).not.toBe(first);

    // each training is saved; deleting takes a row away
    await expect(page.getByTestId('generator-saved-row')).toHaveCount(2, { timeout: 60_000 });
    await page.getByTestId('generator-delete').first().click();
    await expect(page.getByTestId('generator-saved-row')).toHaveCount(1);
    expect(pageErrors).toEqual([]);
  });

  test('a 2×2 experiment (budgets 1% and 10%, |Z|/|X| 0 and 1) completes with four rows and a chart', async ({ page }) => {
    test.setTimeout(600_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await openApp(page, `${TINY_GENERATED}#generated`);
    // out-of-range settings are refused next to their control
    await page.getByTestId('experiment-ratios').fill('0, 50');
    await expect(page.getByTestId('experiment-error-ratios')).toBeVisible();
    await expect(page.getByTestId('experiment-run')).toBeDisabled();

    await setGenerator(page, 'vae', 3);
    await page.getByTestId('experiment-budgets').fill('1, 10');
    await page.getByTestId('experiment-ratios').fill('0, 1');
    await page.getByTestId('experiment-steps').fill('3');
    await page.getByTestId('experiment-run').click();
    await expect(page.getByTestId('experiment-progress')).toBeVisible();

    const rows = page.getByTestId('experiment-table').getByTestId('experiment-row');
    await expect(rows).toHaveCount(4, { timeout: 540_000 });
    for (const [fraction, ratio] of [['0.01', '0'], ['0.01', '1'], ['0.1', '0'], ['0.1', '1']]) {
      const row = rows.and(page.locator(`[data-fraction="${fraction}"][data-ratio="${ratio}"]`));
      await expect(row, `${fraction} × ${ratio}`).toHaveCount(1);
      const linear = Number(await row.getByTestId('experiment-linear').getAttribute('data-value'));
      expect(linear).toBeGreaterThan(0.1);
      expect(linear).toBeLessThanOrEqual(1);
    }
    await expect(page.getByTestId('experiment-chart').locator('.recharts-line-curve').first()).toBeVisible();
    // the user's own dataset is back once the experiment ends
    await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-value', '12000', { timeout: 120_000 });
    expect(pageErrors).toEqual([]);
  });
});
