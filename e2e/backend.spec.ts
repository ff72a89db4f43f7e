import { expect, test } from '@playwright/test';
import { TINY, openApp, waitForStep, withParams } from './helpers';

test.describe('compute backend', () => {
  test('a backend asked for in the link is used, and the badge says why the others were not', async ({ page }) => {
    await openApp(page, withParams(TINY, 'backend=cpu'));
    await expect(page.getByTestId('backend-badge')).toContainText('cpu');
    await expect(page.getByTestId('backend-reasons')).toContainText('backend=cpu');
    await page.getByTestId('train-step').click();
    await waitForStep(page, 1);
    // the fused loss kernels are WGSL: on cpu the op-composed loss runs, and the metrics say so
    await expect(page.getByTestId('metric-loss-path')).toHaveAttribute('data-value', 'composed');
    await expect(page.getByTestId('metric-encoder-path')).toHaveAttribute('data-value', 'stock');
  });
});
