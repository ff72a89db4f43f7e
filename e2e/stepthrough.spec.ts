import { expect, test } from '@playwright/test';
import { metricValue, openApp, TINY } from './helpers';

test('the step-through panel advances and goes back with the keyboard', async ({ page }) => {
  await openApp(page, `${TINY}#lecture`);
  const panel = page.getByTestId('stepthrough-panel');
  const start = page.getByTestId('stepthrough-start');
  const line = page.getByTestId('stepthrough-line');

  // it waits for training to pause: the walkthrough applies a real update
  await page.getByTestId('train-start').click();
  await expect(start).toBeDisabled();
  await expect(page.getByTestId('stepthrough-blocked')).toContainText('Pause training first');
  await page.getByTestId('train-pause').click();
  await expect(start).toBeEnabled({ timeout: 120_000 });
  const stepsBefore = await metricValue(page, 'metric-step');

  await panel.scrollIntoViewIfNeeded();
  await start.click();
  await expect(line).toHaveAttribute('data-value', '0', { timeout: 120_000 });
  // x_k: N = 6 originals by default
  await expect(panel.locator('[data-role="original"]')).toHaveCount(6);

  // → advances, ← goes back, while the panel has focus
  await page.keyboard.press('ArrowRight');
  await expect(line).toHaveAttribute('data-value', '1');
  await expect(panel.locator('[data-role="view"]')).toHaveCount(12);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(line).toHaveAttribute('data-value', '3');
  await page.keyboard.press('ArrowLeft');
  await expect(line).toHaveAttribute('data-value', '2');
  await expect(line).toContainText('representation');

  // arrows typed into a settings field stay there
  await page.getByTestId('config-batch-size').focus();
  await page.keyboard.press('ArrowRight');
  await expect(line).toHaveAttribute('data-value', '2');

  // the buttons work too, and keep the keyboard in the panel
  await page.getByTestId('stepthrough-next').click();
  await expect(line).toHaveAttribute('data-value', '3');
  await page.getByTestId('stepthrough-prev').click();
  await expect(line).toHaveAttribute('data-value', '2');
  for (let k = 0; k < 10; k++) await page.keyboard.press('ArrowRight');
  await expect(line).toHaveAttribute('data-value', '7');
  await expect(line).toContainText('update networks f and g');

  // after the update: L on the same batch before and after, and the run counted the step
  const before = Number(await page.getByTestId('stepthrough-loss-before').getAttribute('data-value'));
  const after = Number(await page.getByTestId('stepthrough-loss-after').getAttribute('data-value'));
  expect(Number.isFinite(before) && before > 0).toBe(true);
  expect(Number.isFinite(after) && after > 0).toBe(true);
  await expect.poll(() => metricValue(page, 'metric-step')).toBe(stepsBefore + 1);

  // presentation mode: everything else hidden, arrows work anywhere, Esc leaves it
  await page.getByTestId('stepthrough-present').click();
  await expect(page.getByTestId('config-batch-size')).toBeHidden();
  await expect(page.getByTestId('train-start')).toBeHidden();
  await expect(panel).toBeVisible();
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('ArrowLeft');
  await expect(line).toHaveAttribute('data-value', '6');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('config-batch-size')).toBeVisible();
  await expect(page.getByTestId('stepthrough-present')).toHaveAttribute('aria-pressed', 'false');
});
