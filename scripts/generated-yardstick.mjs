#!/usr/bin/env node
/**
 * npm run yardstick:generated: issue 19's question measured on the real app
 * in headless Chromium. Does adding images made by a generative model help a
 * self-supervised learner when real images are few? For each seed it runs
 * the generated-data experiment panel on the built-in Fashion-MNIST at the
 * yardstick's config (N 64, width 4, lr 0.003, the PyTorch reference's
 * augmentations, WebGL): per real budget a generator (GEN_KIND, GEN_GEN_STEPS
 * steps, width GEN_WIDTH, batch 64) trained on that budget's X only, then SimCLR
 * (GEN_METHOD) for GEN_STEPS steps on X alone and on X ∪ Z at each ratio,
 * each probed (linear and weighted kNN) on the 2,000 real test images.
 * Writes bench/generated-yardstick.{json,md}.
 *
 * Env: GEN_SEEDS (comma-separated), GEN_BUDGETS (percent, "1,10"),
 * GEN_RATIOS ("0,1"), GEN_STEPS, GEN_KIND (dcgan | vae), GEN_GEN_STEPS,
 * GEN_WIDTH, GEN_METHOD (simclr | moco), GEN_PORT, GEN_BUILD=0 to serve an existing
 * dist/, GEN_OUT (default bench/generated-yardstick). With `--from a.json
 * b.json` it trains nothing and writes the table from earlier results.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { YARDSTICK_SEARCH, minutesSince, openApp, stats } from './lib/appDriver.mjs';

const SEEDS = (process.env.GEN_SEEDS ?? '1').split(',').map(Number);
const BUDGETS = process.env.GEN_BUDGETS ?? '1,10';
const RATIOS = process.env.GEN_RATIOS ?? '0,1';
const STEPS = Number(process.env.GEN_STEPS ?? 200);
const KIND = process.env.GEN_KIND ?? 'dcgan';
const GEN_STEPS = Number(process.env.GEN_GEN_STEPS ?? 200);
/** the generator's width w: 8 keeps a DCGAN step near a second on SwiftShader */
const GEN_WIDTH = Number(process.env.GEN_WIDTH ?? 8);
const METHOD = process.env.GEN_METHOD ?? 'simclr';
const OUT = process.env.GEN_OUT ?? 'bench/generated-yardstick';

/** Runs the experiment panel once at `seed`; returns its table's rows. */
async function experiment(app, seed) {
  const { page, failIfError } = app;
  const params = new URLSearchParams(YARDSTICK_SEARCH);
  params.set('seed', String(seed));
  params.set('method', METHOD);
  await page.goto(`${app.url(params.toString())}#generated`);
  await page.waitForFunction(() => !document.querySelector('[data-testid="train-start"]')?.disabled, null, { timeout: 300_000 });
  await page.getByTestId('generator-kind').selectOption(KIND);
  for (const [id, value] of [['generator-steps', GEN_STEPS], ['generator-batch', 64], ['generator-width', GEN_WIDTH], ['generator-seed', seed]]) {
    await page.getByTestId(id).fill(String(value));
  }
  await page.getByTestId('generator-zdim').fill(KIND === 'vae' ? '16' : '64');
  await page.getByTestId('experiment-method').selectOption(METHOD);
  await page.getByTestId('experiment-budgets').fill(BUDGETS);
  await page.getByTestId('experiment-ratios').fill(RATIOS);
  await page.getByTestId('experiment-steps').fill(String(STEPS));
  await page.getByTestId('experiment-generator').selectOption('train');
  await page.getByTestId('experiment-run').click();
  const started = Date.now();
  let lastLog = 0;
  await page.waitForTimeout(2000);
  for (;;) {
    await failIfError();
    if (await page.getByTestId('experiment-message').count()) {
      const text = await page.getByTestId('experiment-message').innerText();
      if (!(await page.getByTestId('experiment-progress').count())) throw new Error(`seed ${seed}: ${text}`);
    }
    if (!(await page.getByTestId('experiment-progress').count())) break;
    if (Date.now() - lastLog > 60_000) {
      lastLog = Date.now();
      console.log(`seed ${seed}: ${await page.getByTestId('experiment-progress').innerText().catch(() => '')} (${minutesSince(started)} min)`);
    }
    await page.waitForTimeout(2000);
  }
  const rows = await page.getByTestId('experiment-table').getByTestId('experiment-row').evaluateAll((trs) => trs.map((tr) => {
    const cell = (id, attribute = 'data-value') => {
      const raw = tr.querySelector(`[data-testid="${id}"]`)?.getAttribute(attribute);
      return raw === null || raw === undefined || raw === '' ? null : Number(raw);
    };
    const counts = [...tr.querySelectorAll('td')].slice(0, 2).map((td) => Number(td.getAttribute('data-value')));
    return {
      fraction: Number(tr.getAttribute('data-fraction')), ratio: Number(tr.getAttribute('data-ratio')),
      realCount: counts[0], generatedCount: counts[1],
      linear: cell('experiment-linear'), knn: cell('experiment-knn'),
      randomInitLinear: cell('experiment-random-init'), randomInitKnn: cell('experiment-random-init', 'data-knn-value'),
    };
  }));
  return { seed, minutes: minutesSince(started), rows };
}

const pct = (x) => (x === null || x === undefined ? '–' : (100 * x).toFixed(1));
const signed = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}`;

function table(results) {
  const runs = results.runs;
  const keys = [...new Set(runs.flatMap((r) => r.rows.map((row) => `${row.fraction}|${row.ratio}`)))]
    .map((k) => k.split('|').map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const lines = [
    `# Real + generated images (issue 19): ${METHOD === 'moco' ? 'MoCo v2' : 'SimCLR'}, ${results.stepsPerRun} steps per run, generator ${results.kind.toUpperCase()} ${results.generatorSteps} steps`,
    '',
    `Browser: ${results.browser}. Backend: ${results.backend}. Seeds: ${runs.map((r) => r.seed).join(', ')}.`,
    `Command: \`GEN_SEEDS=${runs.map((r) => r.seed).join(',')} GEN_BUDGETS=${BUDGETS} GEN_RATIOS=${RATIOS} GEN_STEPS=${results.stepsPerRun} GEN_KIND=${results.kind} GEN_GEN_STEPS=${results.generatorSteps} GEN_WIDTH=${results.generatorWidth ?? GEN_WIDTH} npm run yardstick:generated\`.`,
    'Encoder: batch 64, width 4, lr 0.003, the PyTorch reference\'s augmentations, on Fashion-MNIST (10,000 training images, 2,000 test).',
    `Per real budget a generator (width ${results.generatorWidth ?? GEN_WIDTH}, batch 64) trained on that budget's X only; Z = ratio · |X| of its samples. Every run takes the same ${results.stepsPerRun} steps at batch 64 (fixed compute).`,
    'The linear probe and weighted kNN are fitted on the budget\'s real labelled images and scored on the 2,000 real test images; gain = the run minus the same budget\'s real-only run, per seed, then mean ± std.',
    '',
    '| real budget | \\|Z\\|/\\|X\\| | real | generated | linear probe | gain | kNN | gain | random init (linear / kNN) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [fraction, ratio] of keys) {
    const cells = runs.map((r) => ({
      row: r.rows.find((x) => x.fraction === fraction && x.ratio === ratio),
      base: r.rows.find((x) => x.fraction === fraction && x.ratio === 0),
    })).filter((c) => c.row);
    const mean = (f) => {
      const values = cells.map(f).filter((v) => v !== null && v !== undefined && Number.isFinite(v));
      return values.length ? stats(values) : null;
    };
    const show = (s, scale = 100) => (s ? `${(scale * s.mean).toFixed(1)} ± ${(scale * s.std).toFixed(1)}` : '–');
    const gain = (key) => {
      if (ratio === 0) return 'reference';
      const s = mean((c) => (c.base && c.row[key] !== null && c.base[key] !== null ? c.row[key] - c.base[key] : null));
      return s ? `${signed(100 * s.mean)} ± ${(100 * s.std).toFixed(1)} (${s.values.map((v) => signed(100 * v)).join(', ')})` : '–';
    };
    const first = cells[0].row;
    lines.push(`| ${+(fraction * 100).toPrecision(3)}% | ${ratio} | ${first.realCount} | ${first.generatedCount} | ${show(mean((c) => c.row.linear))} | ${gain('linear')} | ${show(mean((c) => c.row.knn))} | ${gain('knn')} | ${pct(mean((c) => c.row.randomInitLinear)?.mean)} / ${pct(mean((c) => c.row.randomInitKnn)?.mean)} |`);
  }
  lines.push('', `Wall time: ${runs.map((r) => `seed ${r.seed} ${r.minutes} min`).join(', ')}.`, '');
  return lines.join('\n');
}

async function main() {
  const fromIndex = process.argv.indexOf('--from');
  let results;
  if (fromIndex >= 0) {
    const parts = process.argv.slice(fromIndex + 1).map((f) => JSON.parse(readFileSync(f, 'utf8')));
    results = { ...parts[0], runs: parts.flatMap((p) => p.runs) };
  } else {
    const app = await openApp({ port: Number(process.env.GEN_PORT ?? 4183), build: process.env.GEN_BUILD !== '0' });
    const runs = [];
    try {
      for (const seed of SEEDS) {
        const run = await experiment(app, seed);
        console.log(JSON.stringify(run));
        runs.push(run);
        results = {
          browser: app.browser.version(), backend: await app.page.getByTestId('backend-badge').getAttribute('data-value'),
          kind: KIND, generatorSteps: GEN_STEPS, generatorWidth: GEN_WIDTH, stepsPerRun: STEPS, runs,
        };
        mkdirSync('bench', { recursive: true });
        writeFileSync(`${OUT}.partial.json`, `${JSON.stringify(results, null, 2)}\n`);
      }
    } finally {
      await app.close();
    }
  }
  writeFileSync(`${OUT}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${OUT}.md`, table(results));
  console.log(table(results));
}

await main();
