import { expect, test, type Page } from '@playwright/test';
import { metricValue, openApp, trainRecordingLoss } from './helpers';
import { layoutProblems } from './layoutCheck';

/** The tiny config with no probe: this spec is about each task training and showing its instrument. */
// 20 px views: the smallest a 3×3 grid of patches with gaps fits (relative patch, jigsaw); jigsaw with P = 4 permutations, so that
// 20 steps of 16 views can show its loss falling (at P = 30 a tiny run barely moves off log P); exemplar with K = 16
// surrogate classes, so each step's batch holds every class (at K = 256 twenty steps see each class about once and the
// loss only wanders around log K, up or down with float32 rounding)
const TINY_PRETEXT = '?batch=16&size=20&width=4&zdim=32&lr=0.003&probeEvery=0&knnEvery=0&probeTrain=200&probeTest=200&probeIters=50&perms=4&exemplars=16';
const STEPS = 20;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The pretext tasks the menu offers on this dataset (enabled options of the "Pretext tasks" group). */
async function offeredPretext(page: Page): Promise<string[]> {
  return page.getByTestId('method-select').locator('optgroup[label="Pretext tasks"] option:not([disabled])')
    .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
}

// One page for every pretext task, as a student would go through them: pick it, Reset, Train
test('every pretext task trains 20 tiny steps with a finite, falling loss and shows its own instrument', async ({ page }) => {
  test.setTimeout(1_200_000);
  await openApp(page, TINY_PRETEXT);
  const methods = await offeredPretext(page);
  expect(methods).toContain('rotation');
  // Fashion-MNIST is greyscale: colorization is in the menu, disabled, with its reason
  const colorization = page.getByTestId('method-select').locator('option[value="colorization"]');
  if (await colorization.count()) await expect(colorization).toBeDisabled();
  await page.getByTestId('tab-affinity').click();
  await page.setViewportSize({ width: 1024, height: 768 });
  const problems: string[] = [];
  for (const method of methods) {
    await test.step(method, async () => {
      await page.getByTestId('method-select').selectOption(method);
      await page.getByTestId('train-reset').click();
      await expect(page.getByTestId('metric-step')).toHaveAttribute('data-value', '0');
      await expect(page.getByTestId('tab-affinity')).toHaveText('Task');
      const losses = await trainRecordingLoss(page, STEPS);
      for (const [step, loss] of losses) expect(Number.isFinite(loss), `${method} step ${step}`).toBe(true);
      const early = losses.filter(([s]) => s <= 5).map(([, l]) => l);
      const late = losses.filter(([s]) => s > STEPS - 5 && s <= STEPS).map(([, l]) => l);
      expect(mean(late), `${method}: loss ${mean(early)} → ${mean(late)}`).toBeLessThan(mean(early));
      // the task's instrument: examples of the latest batch with the head's answers, and a summary with numbers
      const panel = page.getByTestId('task-panel');
      await expect(panel).toBeVisible({ timeout: 30_000 });
      expect(Number(await panel.getAttribute('data-step'))).toBeGreaterThan(0);
      expect(await page.getByTestId('task-example').count()).toBeGreaterThan(0);
      await expect(page.getByTestId('task-summary')).toContainText(/\d/);
      await expect(page.getByTestId('task-summary')).not.toContainText('inconsistent');
      // no positive pairs (exemplar aside: two members of one exemplar are a pair): alignment is not defined and says so;
      // uniformity and the collapse meter are measured
      if (method !== 'exemplar') await expect(page.getByTestId('metric-alignment')).toContainText('—');
      expect(Number.isFinite(await metricValue(page, 'metric-collapse'))).toBe(true);
      // the lecture tab explains that a pretext task has no Algorithm 1 walkthrough
      await expect(page.getByTestId('stepthrough-none')).toHaveCount(1);
      // the instrument lays out cleanly on a tablet (1024×768): nothing sticks out, overlaps or is clipped
      problems.push(...(await layoutProblems(page, '[data-testid="task-panel"]')).map((p) => `${method}: ${p}`));
    });
  }
  expect(problems).toEqual([]);
  await page.setViewportSize({ width: 1400, height: 1000 });
  // RotNet's confusion matrix counts all 4N rotated images of the batch
  await page.getByTestId('method-select').selectOption('rotation');
  await page.getByTestId('train-reset').click();
  await expect(page.getByTestId('metric-step')).toHaveAttribute('data-value', '0');
  await page.getByTestId('train-step').click();
  const confusion = page.getByTestId('task-confusion');
  await expect(confusion).toHaveAttribute('data-classes', '4', { timeout: 60_000 });
  const counts = await confusion.locator('tbody td').allTextContents();
  expect(counts.map(Number).reduce((a, b) => a + b, 0)).toBe(4 * 16);
});

test('colorization trains on the coloured shapes: f sees lightness only, and the head paints the colour back', async ({ page }) => {
  // no augmentation: colour jitter and grayscale would change the very colours the head must predict
  await page.goto(`/${TINY_PRETEXT}&data=synthetic-shapes&method=colorization&aug=`);
  await expect(page.getByTestId('train-start')).toBeEnabled({ timeout: 120_000 });
  await expect(page.getByTestId('method-select')).toHaveValue('colorization');
  await expect(page.getByTestId('notices')).toHaveCount(0);
  await page.getByTestId('tab-affinity').click();
  const losses = await trainRecordingLoss(page, STEPS);
  for (const [step, loss] of losses) expect(Number.isFinite(loss), `step ${step}`).toBe(true);
  const early = losses.filter(([s]) => s <= 5).map(([, l]) => l);
  const late = losses.filter(([s]) => s > STEPS - 5 && s <= STEPS).map(([, l]) => l);
  expect(mean(late), `loss ${mean(early)} → ${mean(late)}`).toBeLessThan(mean(early));
  const panel = page.getByTestId('task-panel');
  await expect(panel).toBeVisible({ timeout: 30_000 });
  // the lightness f sees, the colour the head paints over it, and the truth
  await expect(panel).toContainText('L + predicted ab');
  expect(await page.getByTestId('task-example').count()).toBeGreaterThan(0);
  await expect(page.getByTestId('metric-ab-error')).toBeVisible();
});

test('a link asking for a task the dataset cannot do opens on the previous method, with the reason', async ({ page }) => {
  await openApp(page, `${TINY_PRETEXT}&method=colorization`);
  await expect(page.getByTestId('method-select')).toHaveValue('simclr');
  await expect(page.getByTestId('notices')).toContainText('Colorization cannot train on “Fashion-MNIST');
  await expect(page.getByTestId('notices')).toContainText('greyscale');
  // the address bar holds what runs
  expect(new URL(page.url()).searchParams.get('method')).toBeNull();
});

test('the "pretext" comparison runs every task that fits the dataset side by side', async ({ page }) => {
  test.setTimeout(900_000);
  await openApp(page, `${TINY_PRETEXT}#compare`);
  await page.getByTestId('compare-preset').selectOption('pretext');
  await page.getByTestId('compare-steps').fill('3');
  const methods = await offeredPretext(page);
  await expect(page.getByTestId('compare-left-out')).toContainText('Colorization');
  await page.getByTestId('compare-run').click();
  const rows = page.getByTestId('compare-summary').getByTestId('compare-row');
  await expect(rows).toHaveCount(methods.length, { timeout: 840_000 });
  for (let r = 0; r < methods.length; r++) {
    expect(Number(await rows.nth(r).locator('td[data-col="steps"]').getAttribute('data-value'))).toBe(3);
    expect(Number(await rows.nth(r).locator('td[data-col="probe"]').getAttribute('data-value'))).toBeGreaterThan(0.1);
  }
});
