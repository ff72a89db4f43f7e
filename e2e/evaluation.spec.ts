import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { makePng } from './fixtures';
import { decodeSafetensors } from '../src/export/safetensors';
import { metricValue, openApp, TINY } from './helpers';

/** TINY with the kNN monitor every 5 steps, probes only on demand and short probe fits. */
const KNN_TINY = `${TINY.replace('probeEvery=20', 'probeEvery=0').replace('probeIters=150', 'probeIters=50').replace('knnEvery=0', 'knnEvery=5')}&knnK=10`;

test('kNN monitor: charted every K steps beside its random-init and raw-pixel baselines; geometry metrics per step', async ({ page }) => {
  await openApp(page, KNN_TINY);
  await page.getByTestId('train-start').click();
  await expect.poll(async () => Number(await page.getByTestId('chart-knn').getAttribute('data-points')), { timeout: 150_000 }).toBeGreaterThanOrEqual(1);
  await page.getByTestId('train-pause').click();
  const knn = await metricValue(page, 'metric-knn-acc');
  const baseline = await metricValue(page, 'metric-knn-baseline');
  expect(knn).toBeGreaterThan(0.1); // 10 classes: above chance
  expect(knn).toBeLessThanOrEqual(1);
  expect(baseline).toBeGreaterThan(0.1);
  expect(baseline).toBeLessThanOrEqual(1);
  await expect(page.getByTestId('chart-knn')).toContainText('raw pixels');
  await expect(page.getByTestId('chart-knn')).toContainText('random-init');

  // alignment ∈ [0, 4], uniformity ∈ [−4, 0] (t = 2), collapse meter ∈ [0, 1]
  const alignment = await metricValue(page, 'metric-alignment');
  const uniformity = await metricValue(page, 'metric-uniformity');
  const collapse = await metricValue(page, 'metric-collapse');
  expect(alignment).toBeGreaterThanOrEqual(0);
  expect(alignment).toBeLessThanOrEqual(4);
  expect(uniformity).toBeGreaterThanOrEqual(-4);
  expect(uniformity).toBeLessThanOrEqual(0);
  expect(collapse).toBeGreaterThan(0);
  expect(collapse).toBeLessThan(1);
});

test('label efficiency at two fractions: every row filled, table and chart, few-shot, dataset named', async ({ page }) => {
  // k = 20 neighbours asked, but 1% of 600 probe images is 10 (one per class): the row says k = 10 was used
  await openApp(page, `${KNN_TINY.replace('knnEvery=5', 'knnEvery=0').replace('knnK=10', 'knnK=20')}#evaluation`);
  await page.getByTestId('train-step').click();
  await expect(page.getByTestId('metric-step')).toHaveAttribute('data-value', '1', { timeout: 60_000 });
  await page.getByTestId('label-efficiency-fraction-100').uncheck();
  await expect(page.getByTestId('label-efficiency-fraction-1')).toBeChecked();
  await expect(page.getByTestId('label-efficiency-fraction-10')).toBeChecked();
  await page.getByTestId('label-efficiency-budget').fill('10');
  await page.getByTestId('label-efficiency-run').click();
  await expect(page.getByTestId('label-efficiency-progress')).toBeVisible();
  const panel = page.getByTestId('label-efficiency');
  const models = ['ssl-linear', 'ssl-knn', 'ssl-finetune', 'random-init', 'raw-pixels', 'supervised'];
  for (const fraction of ['0.01', '0.1']) {
    for (const model of models) {
      const row = panel.locator(`tr[data-fraction="${fraction}"][data-model="${model}"]`);
      await expect(row).toHaveCount(1, { timeout: 170_000 });
      const value = Number(await row.getAttribute('data-value'));
      expect(value, `${model} at ${fraction}`).toBeGreaterThanOrEqual(0);
      expect(value, `${model} at ${fraction}`).toBeLessThanOrEqual(1);
    }
  }
  await expect(page.getByTestId('label-efficiency-run')).toBeEnabled({ timeout: 60_000 });
  await expect(panel.locator('tr[data-fraction="1"]')).toHaveCount(0);
  await expect(panel.locator('tr[data-fraction="0.01"][data-model="ssl-knn"]')).toContainText('k = 10');
  await expect(panel.locator('tr[data-fraction="0.01"][data-model="ssl-knn"]')).toHaveAttribute('data-value', /\d/);
  await expect(page.getByTestId('label-efficiency-source')).toContainText('Fashion-MNIST');
  await expect(page.getByTestId('few-shot-table')).toContainText('5');
  await expect(page.getByTestId('chart-label-efficiency')).toBeVisible();
});

test('embedding map of the test images, and 8 + 8 neighbours of a picked image', async ({ page }) => {
  await openApp(page, `${KNN_TINY.replace('knnEvery=5', 'knnEvery=0')}#evaluation`);
  await page.getByTestId('embedding-map-run').click();
  const map = page.getByTestId('embedding-map');
  await expect.poll(async () => Number(await map.getAttribute('data-count')), { timeout: 120_000 }).toBeGreaterThan(100);
  await expect(page.getByTestId('embedding-map-random-init')).toHaveAttribute('data-count', /\d+/, { timeout: 120_000 });

  // the same images' h, every dimension, as TensorBoard's Embedding Projector reads it (issue 21)
  const download = page.waitForEvent('download');
  await page.getByTestId('projector-export').click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^projector-simclr-step0-fashion-mnist.*\.zip$/);
  const { unzipSync, strFromU8 } = await import('fflate');
  const files = unzipSync(new Uint8Array(await readFile(await file.path())));
  expect(Object.keys(files).sort()).toEqual(['README.txt', 'metadata.tsv', 'projector_config.json', 'projector_config.pbtxt', 'sprite.png', 'vectors.tsv']);
  const vectors = strFromU8(files['vectors.tsv']).trim().split('\n');
  const metadata = strFromU8(files['metadata.tsv']).trim().split('\n');
  expect(metadata.length).toBe(vectors.length + 1);
  expect(vectors.length).toBeGreaterThan(100);
  expect(vectors[0].split('\t').length).toBe(32); // h of width 4: 8w dimensions
  expect(strFromU8(files['README.txt'])).toMatch(/untrained/);
  // the encoder's weights under PyTorch's names (PyTorch itself reads them in src/export/encoderWeights.test.ts)
  await page.getByTestId('tab-export').click();
  const weightsDownload = page.waitForEvent('download');
  await page.getByTestId('weights-export').click();
  const weightsFile = await weightsDownload;
  expect(weightsFile.suggestedFilename()).toMatch(/^encoder-simclr-step0-fashion-mnist.*\.safetensors$/);
  const weights = decodeSafetensors(new Uint8Array(await readFile(await weightsFile.path())));
  expect(weights.tensors.map((t) => t.name)).toContain('encoder.blocks.3.conv.weight');
  expect(weights.tensors.find((t) => t.name === 'encoder.blocks.0.conv.weight')!.shape).toEqual([4, 1, 3, 3]);
  expect(weights.metadata).toMatchObject({ encoder_width: '4', h_dim: '32', step: '0' });
  expect(weights.metadata.trained).toMatch(/^no/);

  await page.getByTestId('tab-evaluation').click();
  await page.getByTestId('gallery-neighbours').first().click();
  const neighbours = page.getByTestId('neighbours');
  await expect(neighbours.locator('[data-role="query"]')).toHaveCount(1, { timeout: 60_000 });
  await expect(neighbours.locator('[data-role="neighbour-h"]')).toHaveCount(8);
  await expect(neighbours.locator('[data-role="neighbour-pixels"]')).toHaveCount(8);
});

test('an unlabelled upload gets the map and neighbours, not the label-efficiency table', async ({ page }) => {
  const { zipSync } = await import('fflate');
  const files: Record<string, Uint8Array> = {};
  for (let k = 0; k < 12; k++) files[`photo-${k}.png`] = makePng(12, (x, y) => [x * 20, y * 20, k * 20]);
  await openApp(page, '?batch=4&size=16&width=4&zdim=32&probeEvery=0&knnEvery=0#evaluation');
  await page.getByTestId('dataset-upload').setInputFiles({ name: 'unlabelled.zip', mimeType: 'application/zip', buffer: Buffer.from(zipSync(files)) });
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-value', '12', { timeout: 60_000 });
  await expect(page.getByTestId('label-efficiency-run')).toBeDisabled();
  await expect(page.getByTestId('label-efficiency-blocked')).toContainText('label');

  await page.getByTestId('neighbours-random').click();
  const neighbours = page.getByTestId('neighbours');
  await expect(neighbours.locator('[data-role="query"]')).toHaveCount(1, { timeout: 60_000 });
  await expect(neighbours.locator('[data-role="neighbour-h"]')).toHaveCount(8);
  await expect(neighbours.locator('[data-role="neighbour-pixels"]')).toHaveCount(8);

  // an unlabelled set has no test split to map: every training image is mapped (the upload keeps 2 of 12 aside)
  await page.getByTestId('embedding-map-run').click();
  await expect(page.getByTestId('embedding-map')).toHaveAttribute('data-count', '10', { timeout: 60_000 });
});
