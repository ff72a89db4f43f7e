import { expect, test } from '@playwright/test';
import { openApp, waitForStep } from './helpers';

const SMALL = '?batch=8&size=16&width=4&zdim=32&probeEvery=0&knnEvery=0&lr=0.01';

/** Luminance of the centre pixel of cell (i, j) of the heatmap canvas. */
async function cellLuminance(page: import('@playwright/test').Page, i: number, j: number): Promise<number> {
  return page.getByTestId('affinity-heatmap').evaluate((canvas: HTMLCanvasElement, [row, col]) => {
    const size = Number(canvas.dataset.size);
    const k = canvas.width / size;
    const [r, g, b] = canvas.getContext('2d')!.getImageData(col * k + Math.floor(k / 2), row * k + Math.floor(k / 2), 1, 1).data;
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }, [i, j]);
}

test('after some training the affinity heatmap shows positives brighter than negatives', async ({ page }) => {
  await openApp(page, SMALL);
  await page.getByTestId('train-start').click();
  await waitForStep(page, 25);
  await page.getByTestId('train-pause').click();
  await page.getByTestId('train-step').click(); // a single step always sends its matrix
  await waitForStep(page, 27);
  const canvas = page.getByTestId('affinity-heatmap');
  await expect(canvas).toHaveAttribute('data-two-n', '16');
  const twoN = 16;
  let positives = 0;
  let negatives = 0;
  let negativeCount = 0;
  for (let i = 0; i < twoN; i++) {
    positives += await cellLuminance(page, i, (i + twoN / 2) % twoN);
    for (const j of [(i + 1) % twoN, (i + 3) % twoN, (i + 5) % twoN]) {
      if (j === (i + twoN / 2) % twoN) continue;
      negatives += await cellLuminance(page, i, j);
      negativeCount++;
    }
  }
  expect(positives / twoN).toBeGreaterThan(negatives / negativeCount + 20);
});

test('the temperature lab follows the live batch and the training τ', async ({ page }) => {
  await openApp(page, `${SMALL}#temperature`);
  await page.getByTestId('train-step').click();
  await waitForStep(page, 1);
  const lab = page.getByTestId('chart-temperature');
  // its tab open, the lab draws the live batch without a further click
  await expect(lab.getByTestId('temperature-normalized')).toBeVisible();
  await expect(lab).toContainText('training τ = 0.5');
  const before = await lab.innerHTML();
  await page.getByTestId('config-temperature').fill('0.1');
  await expect(lab).toHaveAttribute('data-training-tau', '0.1');
  await expect(lab).toContainText('training τ = 0.1');
  expect(await lab.innerHTML()).not.toBe(before);
  // the set of temperatures compared is validated
  await page.getByTestId('temperature-set-normalized').fill('0.05, -1');
  await expect(lab.getByRole('alert')).toContainText('greater than 0');
});
