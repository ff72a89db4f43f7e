import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { metricValue, openApp, waitForStep } from './helpers';

test.describe('SimCLR in the browser', () => {
  test('trains on WebGPU in the worker: loss falls, probe beats chance, main thread stays responsive', async ({ page }) => {
    // 40 steps and two probes with their baselines: about 2.5 min on SwiftShader, which now also paints the live rail's four charts
    test.setTimeout(300_000);
    // record main-thread long tasks from the first moment
    await page.addInitScript(() => {
      const w = window as unknown as { __longTasks: { start: number; duration: number }[] };
      w.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    });
    await openApp(page);
    await expect(page.getByTestId('backend-badge')).toContainText('webgpu');
    await expect(page.getByTestId('dataset-gallery').locator('canvas').first()).toBeVisible();

    const trainingStartedAt = await page.evaluate(() => performance.now());
    await page.getByTestId('train-start').click();

    // sample the loss as training runs
    const seen = new Map<number, number>();
    await expect
      .poll(
        async () => {
          const step = await metricValue(page, 'metric-step');
          const loss = await metricValue(page, 'metric-loss');
          if (step > 0 && Number.isFinite(loss)) seen.set(step, loss);
          return step;
        },
        { timeout: 170_000, intervals: [100] },
      )
      .toBeGreaterThanOrEqual(40);

    const early = [...seen].filter(([s]) => s <= 10).map(([, l]) => l);
    const late = [...seen].filter(([s]) => s >= 30).map(([, l]) => l);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(early.length).toBeGreaterThan(0);
    expect(late.length).toBeGreaterThan(0);
    // at N = 16 the loss starts near log(2N − 1) = log 31 ≈ 3.43
    expect(early[0]).toBeGreaterThan(2.5);
    expect(mean(late)).toBeLessThan(mean(early) - 0.2);

    // the probe ran at step 20 (and the baselines with it): well above the 10% of chance
    await expect.poll(async () => metricValue(page, 'metric-probe-acc'), { timeout: 120_000 }).toBeGreaterThan(0.4);
    const baseline = await metricValue(page, 'metric-probe-baseline');
    expect(baseline).toBeGreaterThan(0.3);
    expect(baseline).toBeLessThanOrEqual(1);
    // the baseline is drawn on the probe chart as a labelled reference line (a horizontal line has no height, so read its label)
    await expect(page.getByTestId('chart-probe').locator('.recharts-reference-line')).toHaveCount(2);
    await expect(page.getByTestId('chart-probe').getByRole('application')).toContainText('random-init encoder');
    await expect(page.getByTestId('chart-probe').locator('.recharts-line-curve')).toBeVisible();
    await expect(page.getByTestId('chart-loss').locator('.recharts-line-curve')).toBeVisible();
    // the loss of an encoder that cannot tell candidates apart, log(2N − 1) = log 31 at N = 16, as a labelled line
    await expect(page.getByTestId('chart-loss').locator('.recharts-reference-line')).toHaveCount(1);
    await expect(page.getByTestId('chart-loss')).toContainText('log(2N − 1) = 3.43');
    // the positive and negative similarity lines, on a chart of their own
    await expect(page.getByTestId('chart-similarity').locator('.recharts-line-curve')).toHaveCount(2);

    const pos = await metricValue(page, 'metric-pos-sim');
    const neg = await metricValue(page, 'metric-neg-sim');
    expect(pos).toBeGreaterThan(neg);
    const contrastAcc = await metricValue(page, 'metric-contrast-acc');
    expect(contrastAcc).toBeGreaterThan(1 / 31);
    // on webgpu the steps ran through the fused WGSL loss kernels (the default)
    await expect(page.getByTestId('metric-loss-path')).toHaveAttribute('data-value', 'fused');
    // and the encoder through the project's WGSL kernels (issue 20's default)
    await expect(page.getByTestId('metric-encoder-path')).toHaveAttribute('data-value', 'fused');

    await page.getByTestId('train-pause').click();
    const longTasks = await page.evaluate(
      (since) => (window as unknown as { __longTasks: { start: number; duration: number }[] }).__longTasks.filter((t) => t.start >= since),
      trainingStartedAt,
    );
    const longest = Math.max(0, ...longTasks.map((t) => t.duration));
    console.log(`longest main-thread task while training: ${longest} ms (${longTasks.length} over 50 ms)`);
    expect(longest, `main-thread long tasks while training: ${JSON.stringify(longTasks)}`).toBeLessThan(200);
  });

  test('pause, resume, single step and reset behave', async ({ page }) => {
    await openApp(page);
    await page.getByTestId('train-step').click();
    await waitForStep(page, 1);
    await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'paused');
    expect(await metricValue(page, 'metric-step')).toBe(1);
    await page.getByTestId('train-step').click();
    await waitForStep(page, 2);
    expect(await metricValue(page, 'metric-step')).toBe(2);

    await page.getByTestId('train-start').click();
    await waitForStep(page, 5);
    await page.getByTestId('train-pause').click();
    await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'paused');
    const paused = await metricValue(page, 'metric-step');
    await page.waitForTimeout(1500);
    expect(await metricValue(page, 'metric-step')).toBe(paused);

    await page.getByTestId('train-start').click(); // resume continues from where it stopped
    await waitForStep(page, paused + 2);
    await page.getByTestId('train-pause').click();
    await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'paused');

    // the run's metrics as a file: one row per step taken, each with its loss
    const steps = await metricValue(page, 'metric-step');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('run-export-csv').click()]);
    expect(download.suggestedFilename()).toBe(`simclr-main-run-step-${steps}.csv`);
    const csv = (await readFile((await download.path())!, 'utf8')).trimEnd().split('\n');
    expect(csv[0].split(',').slice(0, 2)).toEqual(['step', 'loss']);
    expect(csv.slice(1).map((line) => Number(line.split(',')[0]))).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    expect(csv.slice(1).every((line) => Number.isFinite(Number(line.split(',')[1])))).toBe(true);
    // and the loss chart as a PNG image
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-loss-png').click()]);
    expect(png.suggestedFilename()).toBe('simclr-loss.png');
    const bytes = await readFile((await png.path())!);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(bytes.readUInt32BE(16)).toBeGreaterThan(100); // IHDR width: the chart drawn, not an empty canvas

    // an architecture change needs a reset, and the panel says so
    await expect(page.getByTestId('reset-notice')).toHaveCount(0);
    await page.getByTestId('config-encoder-width').fill('6');
    await expect(page.getByTestId('reset-notice')).toContainText('Encoder width');
    await page.getByTestId('train-reset').click();
    await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'idle');
    await expect(page.getByTestId('reset-notice')).toHaveCount(0);
    expect(await metricValue(page, 'metric-step')).toBe(0);
    await expect(page.getByTestId('metric-loss')).toHaveAttribute('data-value', '');
    // the new encoder has the new width: h = 8w = 48 dimensions
    await expect(page.getByText('h 48')).toBeVisible();
  });
});
