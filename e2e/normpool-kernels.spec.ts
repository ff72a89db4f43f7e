import { expect, test } from '@playwright/test';

type Errors = Record<string, { webgpu: number; cpu: number; stockWebgpuVsCpu: number }>;
interface Row {
  case: string;
  offset: number;
  errors: Errors;
  statisticsGradientMaxAbs: number;
  leakedTensors: number;
}

/**
 * max |Δ| / max |ref|: forward outputs to 1e-5, gradients (sums over up to
 * 50,176 rows) to 1e-4. With a mean of 100 the forward gets 3e-5: float32 holds
 * x and μ near 100 only to ±3.8e-6 (half an ulp), which alone moves y = γ(x − μ)/σ
 * + β by up to about 1e-5 of its scale (stock webgpu and cpu differ by 6.5e-6 there).
 */
function tolerance(output: string, offset: number): number {
  if (!/^statistics\.|\.y$/.test(output)) return 1e-4;
  return offset === 0 ? 1e-5 : 3e-5;
}

test.describe('batch norm + ReLU, max-pool and global average pool WebGPU kernels', () => {
  test('match stock tfjs on webgpu and on cpu: forward and every gradient, training and inference, odd sizes and a mean of 100', async ({ page }) => {
    test.setTimeout(120_000);
    // B:H:W:C[:offset]: batch 1; odd sizes 7, 5, 3, 1 and 3×5; C = 3, 5, 6, 1 (not multiples
    // of 4, the scalar path) and 4, 8, 16 (vec4); the encoder's 16, 28 and 32 px; M = 64·28·28
    // rows with a mean of 100 (the variance must survive float32).
    const cases = '1:7:7:3,2:5:5:5,3:3:5:6,1:1:1:1,4:1:1:4,2:16:16:4,2:28:28:8,2:32:32:4,2:14:14:16,2:7:7:6:100,64:28:28:8:100';
    await page.goto(`/checks.html?check=normpool-kernels&seed=3&cases=${cases}`);
    await expect(page.getByTestId('check-status')).toHaveText(/done|failed/, { timeout: 110_000 });
    const result = JSON.parse((await page.getByTestId('check-result').textContent())!);
    expect(result.error).toBeUndefined();
    const rows = result.rows as Row[];
    expect(rows).toHaveLength(11);
    for (const row of rows) {
      expect(Object.keys(row.errors).sort()).toEqual(
        [
          'statistics.mean', 'statistics.variance',
          'training.y', 'training.dx', 'training.dGamma', 'training.dBeta',
          'inference.y', 'inference.dx', 'inference.dGamma', 'inference.dBeta',
          'maxPool.y', 'maxPool.dx', 'maxPoolTies.y', 'maxPoolTies.dx', 'averagePool.y', 'averagePool.dx',
        ].sort(),
      );
      for (const [output, error] of Object.entries(row.errors)) {
        const label = `${row.case} ${output}`;
        expect(error.cpu, `${label} against cpu`).toBeLessThan(tolerance(output, row.offset));
        if (output === 'maxPoolTies.dx') continue; // stock webgpu sends a tie's gradient to the last maximum, cpu (and ours) to the first
        expect(error.webgpu, `${label} against stock webgpu`).toBeLessThan(tolerance(output, row.offset));
      }
      // windows of ReLU zeros: the gradient goes to the first maximum in row-major order, exactly as the cpu backend
      expect(row.errors['maxPoolTies.dx'].cpu, row.case).toBe(0);
      expect(row.errors['maxPool.dx'].cpu, row.case).toBe(0);
      expect(row.statisticsGradientMaxAbs, row.case).toBe(0);
      expect(row.leakedTensors, row.case).toBe(0);
    }
  });
});
