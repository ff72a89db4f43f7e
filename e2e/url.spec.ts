import { expect, test } from '@playwright/test';
import { TINY, openApp, waitForStep } from './helpers';

test.describe('shareable configuration', () => {
  test('a URL round trip restores every setting', async ({ page, context }) => {
    await openApp(page, `${TINY}#augment`);
    // settings of every kind, through the UI: numbers, a boolean, an enum, the pipeline and the dataset
    await page.getByTestId('config-temperature').fill('0.2');
    await page.getByTestId('config-batch-size').fill('24');
    await page.getByTestId('config-lr').fill('0.0005');
    await page.getByTestId('config-seed').fill('7');
    await page.getByTestId('config-normalize').uncheck();
    await page.getByTestId('config-fused-loss').uncheck();
    await page.getByTestId('config-fused-encoder').uncheck();
    await page.getByTestId('config-projection-head').selectOption('linear');
    await page.getByTestId('config-backend').selectOption('webgpu');
    await page.getByTestId('aug-preset').selectOption('crop-color');
    await page.getByTestId('dataset-select').selectOption('synthetic-shapes');

    const url = page.url();
    for (const part of ['tau=0.2', 'batch=24', 'lr=0.0005', 'seed=7', 'l2=0', 'fused=0', 'fusedf=0', 'head=linear', 'backend=webgpu', 'data=synthetic-shapes', 'size=16', 'width=4', 'aug=']) {
      expect(url).toContain(part);
    }

    const copy = await context.newPage();
    const errors: string[] = [];
    copy.on('pageerror', (e) => errors.push(e.message));
    await copy.goto(url);
    await expect(copy.getByTestId('train-start')).toBeEnabled({ timeout: 120_000 });
    const expected: [string, string][] = [
      ['config-temperature', '0.2'], ['config-batch-size', '24'], ['config-lr', '0.0005'], ['config-seed', '7'],
      ['config-projection-head', 'linear'], ['config-backend', 'webgpu'], ['aug-preset', 'crop-color'],
      ['dataset-select', 'synthetic-shapes'], ['config-image-size', '16'], ['config-encoder-width', '4'],
      ['config-projection-dim', '32'], ['config-probe-every', '20'], ['config-probe-train-size', '600'],
      ['config-probe-test-size', '400'], ['config-probe-epochs', '150'],
    ];
    for (const [testId, value] of expected) await expect(copy.getByTestId(testId), testId).toHaveValue(value);
    await expect(copy.getByTestId('config-normalize')).not.toBeChecked();
    await expect(copy.getByTestId('config-fused-loss')).not.toBeChecked();
    await expect(copy.getByTestId('config-fused-encoder')).not.toBeChecked();
    await expect(copy.getByTestId('url-warnings')).toHaveCount(0);
    // the encoder was built with the link's settings, and the address bar reads the same
    await expect(copy.getByTestId('reset-notice')).toHaveCount(0);
    expect(copy.url()).toBe(url);
    expect(errors).toEqual([]);
  });

  test('a link with garbage parameters opens with a message listing them, and the app still trains', async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const dialogs: string[] = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
    const good = 'batch=16&size=16&width=4&zdim=32&lr=0.003&probeEvery=0&knnEvery=0&probeTrain=200&probeTest=200';
    const bad = 'tau=banana&head=octopus&l2=maybe&seed=1.5&aug=sparkle&data=nowhere&probeIters=-1&bogus=1&utm_source=mail&batch%20=2';
    // hostile: a τ given twice (the last, refused, value counts), a hex number, keys that name object internals, a long value, script in the fragment (the
    // unit tests read a 100 KB value; a page server refuses a request line that long, as vite's does past 16 KB)
    const hostile = `knnK=0x10&__proto__=1&constructor=1&knnTau=${'9'.repeat(8_000)}#<script>alert(1)</script>`;
    await openApp(page, `?tau=0.2&${good}&${bad}&${hostile}`);

    const warnings = page.getByTestId('url-warnings');
    await expect(warnings).toBeVisible();
    await expect(warnings.locator('li')).toHaveCount(16);
    for (const text of ['Temperature', 'Projection head', 'L2-normalize', 'Seed', 'Augmentations', 'Dataset', 'Probe iterations', '“bogus”', '“utm_source”', '“batch ”',
      '“tau” is given 2 times', '“0x10” is not a number', '“__proto__”', '“constructor”', '(8,000 characters)', 'Unknown tab']) {
      await expect(warnings, text).toContainText(text);
    }
    // each warning is one short line: the 100 KB value is not echoed, and no script ran or reached a prototype
    for (const line of await warnings.locator('li').allTextContents()) expect(line.length, line.slice(0, 80)).toBeLessThan(300);
    expect(await page.evaluate(() => Object.keys(Object.prototype))).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(page.url()).not.toContain('9999999999');
    expect(new URL(page.url()).hash).toBe('');
    await expect(warnings).toContainText('banana');
    // the address bar holds the settings in force, not the refused ones
    expect(page.url()).not.toContain('banana');
    expect(page.url()).not.toContain('bogus');
    expect(page.url()).toContain('batch=16');
    // the bad ones are ignored: defaults in force
    await expect(page.getByTestId('config-temperature')).toHaveValue('0.5');
    await expect(page.getByTestId('config-projection-head')).toHaveValue('mlp');
    await expect(page.getByTestId('config-normalize')).toBeChecked();
    await expect(page.getByTestId('config-seed')).toHaveValue('1');
    await expect(page.getByTestId('aug-preset')).toHaveValue('simclr');
    await expect(page.getByTestId('dataset-select')).toHaveValue('fashion-mnist');
    await expect(page.getByTestId('config-probe-epochs')).toHaveValue('300');
    // the good ones are applied
    await expect(page.getByTestId('config-batch-size')).toHaveValue('16');
    await expect(page.getByTestId('config-lr')).toHaveValue('0.003');

    await page.getByTestId('train-start').click();
    await waitForStep(page, 3);
    await page.getByTestId('train-pause').click();
    await expect(page.getByTestId('error-banner')).toHaveCount(0);
    await warnings.getByRole('button', { name: 'Dismiss' }).click();
    await expect(warnings).toHaveCount(0);
    expect(errors).toEqual([]);
  });
});
