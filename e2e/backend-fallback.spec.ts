import { expect, test } from '@playwright/test';
import { openApp, waitForStep } from './helpers';

// the same Chromium without --enable-unsafe-webgpu: headless, it offers no WebGPU adapter
test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  },
});

test('without WebGPU the worker falls back to the next backend, says why, and still trains', async ({ page }) => {
  await openApp(page);
  const badge = page.getByTestId('backend-badge');
  await expect(badge).not.toContainText('webgpu');
  await expect(badge).toContainText(/webgl|cpu/);
  await expect(page.getByTestId('backend-reasons')).toContainText(/WebGPU|webgpu/);
  await page.getByTestId('train-step').click();
  await waitForStep(page, 1);
});
