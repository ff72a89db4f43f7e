import { readFile, writeFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { decodeSafetensors } from '../src/export/safetensors';
import { openApp, stepAndLoss, TINY, withParams } from './helpers';

/** One optimizer step by the Step button; resolves with the step and its loss once it is charted. */
async function stepOnce(page: Page): Promise<[number, number]> {
  const [before] = await stepAndLoss(page);
  await page.getByTestId('train-step').click();
  let reading: [number, number] = [Number.NaN, Number.NaN];
  await expect.poll(async () => {
    reading = await stepAndLoss(page);
    return reading[0];
  }, { timeout: 60_000, intervals: [100] }).toBe((Number.isFinite(before) ? before : 0) + 1);
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'paused');
  return reading;
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));

test('a run survives a reload and resumes exactly; checkpoints download, load from a file, and bad files change nothing', async ({ page }, testInfo) => {
  test.setTimeout(240_000);
  await openApp(page, withParams(TINY, 'probeEvery=0#export'));
  await expect(page.getByTestId('checkpoint-empty')).toBeVisible();
  for (let i = 0; i < 3; i++) await stepOnce(page);

  // a checkpoint the user keeps; then one step more, whose loss the resumed run must repeat
  await page.getByTestId('checkpoint-save').click();
  await expect(page.getByTestId('checkpoint-message')).toHaveAttribute('data-kind', 'ok');
  await expect(page.getByTestId('checkpoint-message')).toContainText('Saved step 3');
  const [, lossAtFour] = await stepOnce(page);

  const kept = page.locator('[data-testid="checkpoint-row"][data-auto="no"]');
  await expect(kept).toHaveAttribute('data-step', '3');
  await kept.getByTestId('checkpoint-resume').click();
  await expect(page.getByTestId('checkpoint-message')).toContainText('at step 3');
  await expect.poll(async () => (await stepAndLoss(page))[0]).toBe(3);
  const [step, loss] = await stepOnce(page);
  expect(step).toBe(4);
  expect(close(loss, lossAtFour), `step 4 resumed ${loss} vs ${lossAtFour}`).toBe(true);

  // the run is saved automatically once paused; after a reload the page offers it
  await expect(page.getByTestId('checkpoint-status')).toHaveAttribute('data-saved-step', '4', { timeout: 30_000 });
  await page.reload();
  const offer = page.getByTestId('resume-offer');
  await expect(offer).toHaveAttribute('data-step', '4', { timeout: 120_000 });
  await expect(page.getByTestId('train-start')).toBeEnabled({ timeout: 120_000 });
  await page.getByTestId('resume-accept').click();
  await expect(offer).toHaveCount(0);
  await expect.poll(async () => (await stepAndLoss(page))[0], { timeout: 60_000 }).toBe(4);
  // the charts' history came back with it: the loss at step 4 is the one charted before the reload
  expect(close((await stepAndLoss(page))[1], loss)).toBe(true);
  await expect(page.getByTestId('chart-loss')).toBeVisible();

  // a download is one file that any safetensors reader opens
  const download = page.waitForEvent('download');
  await kept.getByTestId('checkpoint-download').click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^checkpoint-simclr-step3-fashion-mnist[a-z0-9-]*\.ckpt\.safetensors$/);
  const bytes = new Uint8Array(await readFile(await file.path()));
  const decoded = decodeSafetensors(bytes);
  expect(decoded.metadata).toMatchObject({ format: 'ssl-playground-checkpoint', step: '3', method: 'simclr' });

  // a damaged file and a file that is not a checkpoint are refused, and the run stays where it was
  const damaged = Uint8Array.from(bytes);
  damaged[damaged.length - 2000] ^= 0x10;
  const damagedPath = testInfo.outputPath('damaged.ckpt.safetensors');
  await writeFile(damagedPath, damaged);
  await page.getByTestId('checkpoint-upload').setInputFiles(damagedPath);
  await expect(page.getByTestId('checkpoint-message')).toHaveAttribute('data-kind', 'error');
  await expect(page.getByTestId('checkpoint-message')).toContainText('damaged or was edited');
  await expect(page.getByTestId('checkpoint-message')).toContainText('Nothing was changed');
  await page.getByTestId('checkpoint-upload').setInputFiles({ name: '<b>notes</b>.ckpt.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('just some text') });
  // the file's name is shown as text, never markup
  await expect(page.getByTestId('checkpoint-message')).toContainText('“<b>notes</b>.ckpt.safetensors” cannot be loaded');
  expect((await stepAndLoss(page))[0]).toBe(4);

  // the good file resumes step 3
  const goodPath = testInfo.outputPath('good.ckpt.safetensors');
  await writeFile(goodPath, bytes);
  await page.getByTestId('checkpoint-upload').setInputFiles(goodPath);
  await expect(page.getByTestId('checkpoint-message')).toContainText('at step 3 from “good.ckpt.safetensors”');
  await expect.poll(async () => (await stepAndLoss(page))[0]).toBe(3);
  const [, lossAgain] = await stepOnce(page);
  expect(close(lossAgain, lossAtFour)).toBe(true);

  // deleting removes it from the list
  const rows = await page.getByTestId('checkpoint-row').count();
  await kept.getByTestId('checkpoint-delete').click();
  await expect(page.getByTestId('checkpoint-row')).toHaveCount(rows - 1);
});

test('the encoder as ONNX and safetensors, and the experiment as a PyTorch script, from the Save & export tab', async ({ page }) => {
  await openApp(page, withParams(TINY, 'probeEvery=0#export'));
  await stepOnce(page);
  const { onnx } = (await import('onnx-proto')).default;
  for (const [testId, outputs] of [['onnx-export', ['h']], ['onnx-export-head', ['h', 'z']]] as const) {
    const download = page.waitForEvent('download');
    await page.getByTestId(testId).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^encoder(-head)?-simclr-step1-fashion-mnist[a-z0-9-]*\.onnx$/);
    const model = onnx.ModelProto.decode(new Uint8Array(await readFile(await file.path())));
    expect(model.graph!.input!.map((i) => i.name)).toEqual(['images']);
    expect(model.graph!.output!.map((o) => o.name)).toEqual(outputs);
    const metadata = Object.fromEntries(model.metadataProps!.map((p) => [p.key, p.value]));
    expect(metadata).toMatchObject({ method: 'simclr', step: '1', trained: 'yes', encoder_width: '4' });
  }
  // the safetensors export lives here too
  const download = page.waitForEvent('download');
  await page.getByTestId('weights-export').click();
  expect((await download).suggestedFilename()).toMatch(/\.safetensors$/);

  // the experiment as a PyTorch script, starting from this encoder (the script itself runs in src/export/pytorchExport.test.ts)
  await expect(page.getByTestId('pytorch-with-encoder')).toBeChecked();
  await page.getByTestId('pytorch-steps').fill('50');
  const zipDownload = page.waitForEvent('download');
  await page.getByTestId('pytorch-export').click();
  const zipFile = await zipDownload;
  expect(zipFile.suggestedFilename()).toBe('pytorch-simclr-step1.zip');
  const { unzipSync, strFromU8 } = await import('fflate');
  const entries = unzipSync(new Uint8Array(await readFile(await zipFile.path())));
  expect(Object.keys(entries).sort()).toEqual(['README.md', 'config.json', 'encoder.safetensors', 'train.py'].map((f) => `pytorch-simclr-step1/${f}`));
  const config = JSON.parse(strFromU8(entries['pytorch-simclr-step1/config.json']));
  expect(config).toMatchObject({ method: 'simclr', steps: 50, batch_size: 16 });
  expect(decodeSafetensors(entries['pytorch-simclr-step1/encoder.safetensors']).metadata).toMatchObject({ step: '1', trained: 'yes' });
  expect(strFromU8(entries['pytorch-simclr-step1/train.py'])).toContain('DistributedDataParallel');
  await expect(page.getByTestId('pytorch-export-result')).toHaveAttribute('data-kind', 'ok');

  // the training images themselves, as the ImageFolder the script reads (Pillow reads these PNGs in src/export/imageFolder.test.ts)
  const imagesDownload = page.waitForEvent('download');
  await page.getByTestId('pytorch-dataset-export').click();
  const images = await imagesDownload;
  expect(images.suggestedFilename()).toMatch(/^imagefolder-fashion-mnist[a-z0-9-]*\.zip$/);
  const pngs = Object.keys(unzipSync(new Uint8Array(await readFile(await images.path()))));
  await expect(page.getByTestId('pytorch-dataset-export-result')).toHaveAttribute('data-kind', 'ok');
  await expect(page.getByTestId('pytorch-dataset-export-result')).toContainText(`${pngs.length.toLocaleString('en-US')} images`);
  expect(pngs.length).toBeGreaterThan(5000);
  // one folder per class, the class “T-shirt/top” kept as text with its slash made safe
  expect(new Set(pngs.map((name) => name.split('/')[1]))).toEqual(new Set(['T-shirt_top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']));
  expect(pngs.every((name) => /^data\/[^/]+\/\d+\.png$/.test(name))).toBe(true);
});
