import { expect, type Page } from '@playwright/test';

/** A config small enough for SwiftShader: 16 images of 16 px, a narrow encoder, a small probe. */
export const TINY =
  '?batch=16&size=16&width=4&zdim=32&lr=0.003&probeEvery=20&probeTrain=600&probeTest=400&probeIters=150&knnEvery=0';

/**
 * `search` with `overrides` ('probeEvery=0&method=simsiam#compare') set in it: each key once, as a link the app writes,
 * so no test leans on the rule for repeated keys (the last one wins, with a warning).
 */
export function withParams(search: string, overrides: string): string {
  const [query, hash] = overrides.split('#');
  const params = new URLSearchParams(search.replace(/^\?/, ''));
  for (const [key, value] of new URLSearchParams(query)) params.set(key, value);
  return `?${params.toString()}${hash !== undefined ? `#${hash}` : ''}`;
}

export async function metricValue(page: Page, testId: string): Promise<number> {
  const raw = await page.getByTestId(testId).getAttribute('data-value');
  return raw === null || raw === '' ? Number.NaN : Number(raw);
}

/** Opens the app and waits until the dataset is loaded and the encoder built. */
export async function openApp(page: Page, search = TINY): Promise<void> {
  await page.goto(`/${search}`);
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-value', '12000', { timeout: 120_000 });
  await expect(page.getByTestId('train-start')).toBeEnabled({ timeout: 120_000 });
}

export async function waitForStep(page: Page, atLeast: number, timeout = 150_000): Promise<void> {
  await expect
    .poll(async () => metricValue(page, 'metric-step'), { timeout, intervals: [200] })
    .toBeGreaterThanOrEqual(atLeast);
}

/**
 * The step counter and the loss as one reading: both read in one task of the page, so the loss is that step's (two
 * separate reads could straddle a redraw and pair a step with the one before's loss).
 */
export async function stepAndLoss(page: Page): Promise<[number, number]> {
  return page.evaluate(() => {
    const read = (id: string) => {
      const raw = document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-value');
      return raw === null || raw === undefined || raw === '' ? Number.NaN : Number(raw);
    };
    return [read('metric-step'), read('metric-loss')] as [number, number];
  });
}

/** Trains until `steps`, recording the loss of every step seen, then pauses; the losses by step, in order. */
export async function trainRecordingLoss(page: Page, steps: number): Promise<[number, number][]> {
  const seen = new Map<number, number>();
  await page.getByTestId('train-start').click();
  await expect
    .poll(async () => {
      const [step, loss] = await stepAndLoss(page);
      if (step > 0) seen.set(step, loss);
      return step;
    }, { timeout: 150_000, intervals: [50] })
    .toBeGreaterThanOrEqual(steps);
  await page.getByTestId('train-pause').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'paused');
  return [...seen].sort((a, b) => a[0] - b[0]);
}
