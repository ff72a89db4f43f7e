import { expect, test, type Page } from '@playwright/test';

async function runCheck(page: Page, search: string, timeout = 240_000) {
  await page.goto(`/checks.html?${search}`);
  await expect(page.getByTestId('check-status')).toHaveText(/done|failed/, { timeout });
  const result = JSON.parse((await page.getByTestId('check-result').textContent())!);
  expect(result.error).toBeUndefined();
  return result;
}

test.describe('fused WebGPU NT-Xent kernels', () => {
  test('match the float64 reference: loss, gradients and metrics, across sizes, widths, τ and normalization', async ({ page }) => {
    test.setTimeout(300_000);
    // twoN:dim:τ:normalize. 2N = 2 (one pair, no negatives), 2N not a multiple of the
    // 64-thread workgroup or of the 4/8 anchors a workgroup takes, d from 2 to 512,
    // τ = 0.01 (logits up to 100), normalization off (unbounded logits).
    const cases = [
      '2:2:0.5:1', '6:3:0.01:1', '10:512:0.1:1', '130:16:0.01:0', '134:128:1:1',
      '202:64:0.01:1', '258:300:0.2:0', '512:128:0.5:1',
    ].join(',');
    const result = await runCheck(page, `check=ntxent-fused&seed=5&cases=${cases}&affinityTwoN=70`);
    expect(result.rows).toHaveLength(8);
    for (const row of result.rows) {
      const label = `2N=${row.twoN} d=${row.dim} τ=${row.temperature} normalize=${row.normalize}`;
      expect(row.finite, label).toBe(true);
      expect(row.lossRelativeError, label).toBeLessThan(1e-4);
      expect(row.gradientRelativeError, label).toBeLessThan(1e-3);
      expect(row.metricsMaxAbsError, label).toBeLessThan(1e-4);
      expect(row.leakedTensors, label).toBe(0);
    }
    // the matrix the same pass hands to the heatmap equals the op-composed one
    expect(result.affinity.affinityMaxDiff).toBeLessThan(1e-5);
    for (let m = 0; m < 3; m++) expect(result.affinity.fusedMetrics[m]).toBeCloseTo(result.affinity.composedMetrics[m], 5);
  });

  test('a seeded run trains to the same loss curve with the fused and the op-composed loss', async ({ page }) => {
    test.setTimeout(300_000);
    const result = await runCheck(page, 'check=ntxent-training&steps=8&seed=3');
    expect(result.fused.paths).toEqual(Array(8).fill('fused'));
    expect(result.composed.paths).toEqual(Array(8).fill('composed'));
    expect(result.fused.losses[0]).toBeGreaterThan(2.5); // ≈ log(2N − 1) = log 31 at the start
    expect(result.maxRelativeDiff).toBeLessThan(1e-3);
    expect(result.leakedTensors).toBe(0);
  });
});
