import { expect, test } from '@playwright/test';

test.describe('the encoder on the project’s WGSL kernels', () => {
  test('a seeded 20-step run trains to the same losses as on tfjs’s stock kernels, and the trained encoders agree', async ({ page }) => {
    test.setTimeout(300_000);
    // RGB shapes (3 input channels) at 16 px, width 3 (channel counts 3, 6, 12, 24: the kernels' scalar paths), 2N = 16
    await page.goto('/checks.html?check=encoder-training&steps=20&width=3&size=16&batch=8&seed=2');
    await expect(page.getByTestId('check-status')).toHaveText(/done|failed/, { timeout: 280_000 });
    const result = JSON.parse((await page.getByTestId('check-result').textContent())!);
    expect(result.error).toBeUndefined();
    expect(result.fused.paths).toEqual(Array(20).fill('fused'));
    expect(result.stock.paths).toEqual(Array(20).fill('stock'));
    // ≈ log(2N − 1) = log 15 at the start
    expect(result.fused.losses[0]).toBeGreaterThan(2.3);
    // float32 rounding only: the two paths sum in different orders, and 20 Adam steps carry the difference along
    expect(result.lossMaxRelativeDiff).toBeLessThan(1e-4);
    // h of the trained encoders in inference mode (batch norm on the running statistics both runs kept)
    expect(result.featuresRelativeDiff).toBeLessThan(1e-4);
    expect(result.leakedTensors).toBe(0);
  });
});
