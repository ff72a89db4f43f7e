import { expect, test, type Locator, type Page } from '@playwright/test';
import { TINY, openApp, waitForStep } from './helpers';

/** Pixels of a canvas, for comparing what the previewer drew. */
async function canvasPixels(canvas: Locator): Promise<number[]> {
  return canvas.evaluate((el: HTMLCanvasElement) => Array.from(el.getContext('2d')!.getImageData(0, 0, el.width, el.height).data));
}

async function previewSettled(page: Page): Promise<void> {
  await expect(page.getByTestId('aug-preview')).toHaveAttribute('data-pending', 'false');
}

test.describe('augmentation previewer', () => {
  test('shows originals with two views each; sliders, resample and presets re-render them', async ({ page }) => {
    // views at the images' own 28 px, named in the link (without a GPU the page would make an unnamed view size 16 px), so
    // that with the `none` preset a view is its original pixel for pixel
    await openApp(page, '?batch=16&size=28&width=4&zdim=32&probeEvery=0&knnEvery=0#augment');
    const preview = page.getByTestId('aug-preview');
    await expect(preview.locator('[data-role="original"]')).toHaveCount(8);
    await expect(preview.locator('[data-role="view"]')).toHaveCount(16);
    await previewSettled(page);

    const firstView = preview.locator('[data-role="view"]').first();
    const before = await canvasPixels(firstView);

    // a slider changes the views
    await page.getByTestId('aug-op-crop-scaleMin').fill('0.9');
    await expect.poll(async () => JSON.stringify(await canvasPixels(firstView)) !== JSON.stringify(before), { timeout: 30_000 }).toBe(true);
    await previewSettled(page);
    expect(page.url()).toContain('aug=');

    // Resample draws new parameters
    const afterSlider = await canvasPixels(firstView);
    await page.getByTestId('aug-resample').click();
    await expect.poll(async () => JSON.stringify(await canvasPixels(firstView)) !== JSON.stringify(afterSlider), { timeout: 30_000 }).toBe(true);

    // with the `none` preset every view equals its original
    await page.getByTestId('aug-preset').selectOption('none');
    await previewSettled(page);
    await expect
      .poll(async () => {
        const originals = preview.locator('[data-role="original"]');
        const views = preview.locator('[data-role="view"]');
        for (let k = 0; k < 8; k++) {
          const original = JSON.stringify(await canvasPixels(originals.nth(k)));
          if (JSON.stringify(await canvasPixels(views.nth(2 * k))) !== original) return false;
          if (JSON.stringify(await canvasPixels(views.nth(2 * k + 1))) !== original) return false;
        }
        return true;
      }, { timeout: 30_000 })
      .toBe(true);
  });

  test('impossible ranges are refused next to the control and the last good pipeline stays', async ({ page }) => {
    await openApp(page, '?batch=16&size=28&width=4&zdim=32&probeEvery=0&knnEvery=0#augment');
    await page.getByTestId('aug-op-crop-scaleMin').fill('0.5');
    await previewSettled(page);
    const goodUrl = page.url();
    await page.getByTestId('aug-op-crop-scaleMax-input').fill('0.3');
    await expect(page.getByTestId('aug-error').first()).toBeVisible();
    await expect(page.getByTestId('aug-error').first()).toContainText(/scale/i);
    expect(page.url()).toBe(goodUrl);
  });

  test('training runs with every operator enabled', async ({ page }) => {
    await openApp(page, `${TINY}#augment`);
    for (const kind of ['rotate', 'cutout', 'noise', 'sobel']) {
      await page.getByTestId(`aug-op-${kind}-enabled`).check();
    }
    await page.getByTestId('train-step').click();
    await waitForStep(page, 1);
    await page.getByTestId('train-step').click();
    await waitForStep(page, 2);
    await expect(page.getByTestId('error-banner')).toHaveCount(0);
  });

  test('the same seed gives the same views on webgpu and on cpu', async ({ page }) => {
    await page.goto('/checks.html?check=augment-backends&all=0&batch=16&size=32&seed=3');
    await expect(page.getByTestId('check-status')).toHaveText(/done|failed/, { timeout: 120_000 });
    const simclr = JSON.parse((await page.getByTestId('check-result').textContent())!);
    expect(simclr.error).toBeUndefined();
    expect(simclr.comparisons[0].b).toBe('cpu');
    expect(simclr.comparisons[0].maxAbsDiff).toBeLessThan(1e-3);

    await page.goto('/checks.html?check=augment-backends&all=1&batch=16&size=32&seed=4');
    await expect(page.getByTestId('check-status')).toHaveText(/done|failed/, { timeout: 120_000 });
    const everything = JSON.parse((await page.getByTestId('check-result').textContent())!);
    expect(everything.error).toBeUndefined();
    expect(everything.comparisons[0].maxAbsDiff).toBeLessThan(1e-3);
  });
});
