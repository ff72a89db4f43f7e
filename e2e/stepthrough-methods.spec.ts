import { expect, test } from '@playwright/test';
import { metricValue, openApp } from './helpers';

/** MoCo with a queue of 64 keys, the tiny encoder of the other tests, no evaluations. */
const MOCO = '?batch=8&size=16&width=4&zdim=32&probeEvery=0&knnEvery=0&queue=64&method=moco';

test('MoCo’s Algorithm 1, step by step: its own lines, its query-keys matrix and one real step', async ({ page }) => {
  await openApp(page, `${MOCO}#lecture`);
  const panel = page.getByTestId('stepthrough-panel');
  const algorithm = panel.getByTestId('stepthrough-algorithm');
  const line = panel.getByTestId('stepthrough-line');
  const next = page.getByTestId('stepthrough-next');

  // MoCo v2's pseudocode, not SimCLR's (subscripts are typeset, so l_pos reads "lpos" as text)
  await expect(algorithm).toHaveAttribute('data-method', 'moco');
  await expect(algorithm).toContainText('k = fk(xk).detach()');
  await expect(algorithm).toContainText('logits = [lpos, lneg]');
  await expect(algorithm).toContainText('L = CrossEntropy(logits / τ, labels)');
  await expect(algorithm).toContainText('fk.params = m · fk.params + (1 − m) · fq.params');
  await expect(algorithm).toContainText('enqueue(queue, k̂); dequeue(queue)');
  await expect(algorithm).not.toContainText('s_ij');

  const stepsBefore = await metricValue(page, 'metric-step');
  await panel.scrollIntoViewIfNeeded();
  await page.getByTestId('stepthrough-start').click();

  // the batch, then its two views (N = 6 by default)
  await expect(line).toHaveAttribute('data-value', '0', { timeout: 120_000 });
  await expect(line).toHaveAttribute('data-stage', 'batch');
  await expect(panel.locator('[data-role="original"]')).toHaveCount(6);
  await next.click();
  await expect(line).toHaveAttribute('data-stage', 'views');
  await expect(panel.locator('[data-role="view"]')).toHaveCount(12);

  // queries and keys
  await next.click();
  await expect(line).toHaveAttribute('data-stage', 'encode');
  await expect(line).toContainText('k = fk(xk).detach()');
  await expect(line).toContainText('rows N…2N−1 the keys');

  // [l_pos, l_neg]: 6 queries against their own key and the 64 queue slots
  await next.click();
  await expect(line).toHaveAttribute('data-stage', 'matrix');
  const canvas = panel.getByTestId('stepthrough-matrix-canvas');
  await expect(canvas).toHaveAttribute('data-kind', 'query-keys');
  await expect(canvas).toHaveAttribute('data-cols', '65');
  await expect(canvas).toHaveAttribute('data-rows', '6');

  // the InfoNCE loss before the update
  await next.click();
  await expect(line).toHaveAttribute('data-stage', 'loss');
  await expect(line).toContainText('InfoNCE loss');
  const lossBefore = Number(await panel.getByTestId('stepthrough-loss-before').getAttribute('data-value'));
  expect(Number.isFinite(lossBefore) && lossBefore > 0).toBe(true);

  // the update: L before and after on the same views, and the run counted the step
  await next.click();
  await expect(line).toHaveAttribute('data-stage', 'update');
  const before = Number(await panel.getByTestId('stepthrough-loss-before').getAttribute('data-value'));
  const after = Number(await panel.getByTestId('stepthrough-loss-after').getAttribute('data-value'));
  expect(before).toBe(lossBefore);
  expect(Number.isFinite(after) && after > 0).toBe(true);
  await expect.poll(() => metricValue(page, 'metric-step')).toBe(stepsBefore + 1);

  // after the update: the momentum step and the queue now holding these 6 keys of 64
  await next.click();
  await expect(line).toHaveAttribute('data-stage', 'after-update');
  await expect(line).toHaveAttribute('data-value', '6');
  await expect(next).toBeDisabled();
  await expect(panel.getByTestId('stepthrough-after-update')).toHaveAttribute('data-state', 'updated');
  await expect(panel.getByTestId('stepthrough-after-update')).toContainText('6 of K = 64');
  expect(await metricValue(page, 'stepthrough-metric-queueFill')).toBeCloseTo(6 / 64, 10);
  expect(await metricValue(page, 'stepthrough-metric-keyDrift')).toBeGreaterThan(0);
});
