import { expect, test } from '@playwright/test';

test.describe('3×3 convolution WebGPU kernels', () => {
  test('forward, backprop input and backprop filter match tf.conv2d and its gradients on webgpu and on cpu, leaking nothing', async ({ page }) => {
    test.setTimeout(180_000);
    // the default cases (src/checks/convKernelChecks.ts DEFAULT_CASES): batch 1; 7×7, 5×5, 1×1 and
    // 3×5 images; channel counts 1, 3, 5, 6, 7 on either side; the encoder's four layers at 16, 28
    // and 32 px for width 4; a width-32 layer (8:14:14:32:64)
    await page.goto('/checks.html?check=conv-kernels&seed=4');
    await expect(page.getByTestId('check-status')).toHaveText(/done|failed/, { timeout: 170_000 });
    const result = JSON.parse((await page.getByTestId('check-result').textContent())!);
    expect(result.error).toBeUndefined();
    expect(result.rows).toHaveLength(20);
    for (const row of result.rows) {
      // max |Δ| / max |ref| per output; sums of up to 9·C (forward), 9·O (dx) and B·H·W (dk, 1,568
      // terms) float32 products in different orders: the two references differ by up to ~1e-6 themselves
      for (const reference of ['vsWebgpu', 'vsCpu']) {
        for (const output of ['y', 'dx', 'dk']) expect(row[reference][output], `${row.case} ${output} ${reference}`).toBeLessThan(1e-5);
      }
      expect(row.finite, row.case).toBe(true);
      expect(row.directMatches, `${row.case}: the backprop functions called directly give the customGrad path's numbers`).toBe(true);
      expect(row.leakedTensors, row.case).toBe(0);
    }
  });
});
