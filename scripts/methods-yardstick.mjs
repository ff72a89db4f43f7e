#!/usr/bin/env node
/**
 * npm run yardstick:methods: the six self-supervised methods judged alike on
 * the real app in headless Chromium. For each method and seed it trains the
 * same encoder on the built-in Fashion-MNIST for METHODS_STEPS steps at the
 * yardstick's config (N 64, width 4, lr 0.003, the PyTorch reference's
 * augmentations, WebGL), each method at its own defaults (`?method=moco` gives
 * MoCo's τ 0.2, K = 4096), then runs the label-efficiency panel at 10% of the
 * labels: linear probe and weighted kNN on the frozen encoder, against the
 * random-init encoder at the same seed. Writes bench/methods-yardstick.{json,md}.
 *
 * Env: METHODS_LIST (comma-separated ids), METHODS_SEEDS, METHODS_STEPS,
 * METHODS_PERCENT (label percentages, e.g. 10 or 10,100), METHODS_PORT,
 * METHODS_BUILD=0 to serve an existing dist/. With `--from a.json b.json`
 * it trains nothing and writes the table from earlier results' runs (seeds
 * measured one at a time). Each finished run is also written at once to
 * bench/methods-yardstick.partial.json, which `--from` accepts. METHODS_OUT
 * (default bench/methods-yardstick) names the files: the pretext tasks go to
 * bench/pretext-yardstick.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { YARDSTICK_SEARCH, labelEfficiency, minutesSince, openApp, stats, trainTo } from './lib/appDriver.mjs';

const METHODS = (process.env.METHODS_LIST ?? 'simclr,memory-bank,moco,byol,simsiam,barlow-twins').split(',');
const SEEDS = (process.env.METHODS_SEEDS ?? '1').split(',').map(Number);
const STEPS = Number(process.env.METHODS_STEPS ?? 200);
const PERCENTAGES = (process.env.METHODS_PERCENT ?? '10').split(',');
/** the supervised and fine-tuned baselines the panel always trains: the least it allows, they are not compared here */
const SUPERVISED_STEPS = 10;
const LABELS = {
  simclr: 'SimCLR', 'memory-bank': 'Memory bank (InstDisc)', moco: 'MoCo v2', byol: 'BYOL', simsiam: 'SimSiam', 'barlow-twins': 'Barlow Twins',
  rotation: 'Rotation (RotNet)', 'relative-patch': 'Relative patch location', jigsaw: 'Jigsaw puzzles', inpainting: 'Inpainting (context encoder)',
  colorization: 'Colorization', exemplar: 'Exemplar CNN',
  cpc: 'CPC', cmc: 'CMC', pirl: 'PIRL', autoencoder: 'Autoencoder', autoregressive: 'Autoregressive (PixelCNN on h)', deepcluster: 'DeepCluster',
};
/**
 * METHODS_EXTRA: settings set over the yardstick's ('data=synthetic-shapes&aug=…' for colorization, which needs
 * colour images), each key once in the link.
 */
const EXTRA = process.env.METHODS_EXTRA ?? '';
function searchFor(method, seed) {
  const params = new URLSearchParams(YARDSTICK_SEARCH);
  for (const [key, value] of new URLSearchParams(`${EXTRA}&method=${method}&seed=${seed}`)) params.set(key, value);
  return params.toString();
}
/** where the tables go: METHODS_OUT=bench/pretext-yardstick keeps the six two-view methods' tables as they are */
const OUT = process.env.METHODS_OUT ?? 'bench/methods-yardstick';
/** each method's own loss reads differently: NT-Xent, InfoNCE, 2 − 2cos, −cos, Σ(1 − C_ii)² + λΣC_ij² */
const LOSS_NAMES = {
  simclr: 'NT-Xent', 'memory-bank': 'NCE over the bank', moco: 'InfoNCE', byol: '2 − 2cos (symmetrized)', simsiam: '−cos (symmetrized)', 'barlow-twins': 'Barlow Twins',
  rotation: '4-way cross-entropy', 'relative-patch': '8-way cross-entropy', jigsaw: 'P-way cross-entropy', inpainting: 'L2 on the masked region',
  colorization: 'ab loss', exemplar: 'K-way cross-entropy',
  cpc: 'InfoNCE over patch codes', cmc: 'cross-view NT-Xent', pirl: 'NCE over the bank, λ-mixed', autoencoder: 'MSE per pixel',
  autoregressive: 'nats per pixel value', deepcluster: 'k-way cross-entropy, cluster-balanced',
};

const backendOf = (app) => app.page.getByTestId('backend-badge').getAttribute('data-value');

/** Trains and scores every method at every seed in the browser. */
async function measure() {
  const app = await openApp({ port: Number(process.env.METHODS_PORT ?? 4182), build: process.env.METHODS_BUILD !== '0' });
  const started = Date.now();
  const runs = [];
  for (const seed of SEEDS) {
    for (const method of METHODS) {
      const tag = `${method} seed ${seed}`;
      const t0 = Date.now();
      const trained = await trainTo(app, searchFor(method, seed), STEPS, tag);
      const collapse = await app.value('metric-collapse');
      const { rows } = await labelEfficiency(app, PERCENTAGES, SUPERVISED_STEPS, tag);
      const run = { method, seed, ...trained, collapse, minutes: minutesSince(t0), rows };
      console.log(JSON.stringify({ method, seed, steps: run.steps, loss: run.loss, collapse, minutes: run.minutes }));
      runs.push(run);
      // every finished run is kept at once, so a stopped session loses only the run in progress
      // (`--from bench/methods-yardstick.partial.json …` merges it later)
      mkdirSync('bench', { recursive: true });
      writeFileSync(`${OUT}.partial.json`, `${JSON.stringify({
        browser: app.browser.version(), backend: await backendOf(app), steps: STEPS, minutes: minutesSince(started), runs,
      }, null, 2)}\n`);
    }
  }
  const backend = await backendOf(app);
  const browserVersion = app.browser.version();
  await app.close();
  return { runs, backend, browserVersion, minutes: minutesSince(started) };
}

/**
 * `--from a.json b.json …`: no training, the table again from the runs of
 * earlier results (seeds measured in separate sessions), minutes added up.
 */
async function merge(files) {
  const results = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
  if (results.some((r) => r.steps !== STEPS)) throw new Error(`Every file must hold ${STEPS}-step runs (METHODS_STEPS).`);
  return {
    runs: results.flatMap((r) => r.runs), backend: results[0].backend, browserVersion: results[0].browser,
    minutes: +results.reduce((sum, r) => sum + r.minutes, 0).toFixed(1),
  };
}

const from = process.argv.indexOf('--from');
const { runs, backend, browserVersion, minutes } = from >= 0 ? await merge(process.argv.slice(from + 1)) : await measure();
SEEDS.splice(0, SEEDS.length, ...[...new Set(runs.map((r) => r.seed))]);

const fractions = PERCENTAGES.map((p) => String(Number(p) / 100));
const accuracy = (method, model, fraction) =>
  runs.filter((r) => r.method === method).flatMap((r) => r.rows.filter((row) => row.model === model && row.fraction === fraction).map((row) => row.accuracy));
const table = Object.fromEntries(METHODS.map((m) => [m, Object.fromEntries(fractions.map((f) => [f, {
  linear: stats(accuracy(m, 'ssl-linear', f)),
  knn: stats(accuracy(m, 'ssl-knn', f)),
  randomLinear: stats(accuracy(m, 'random-init', f)),
  randomKnn: stats(accuracy(m, 'random-init-knn', f)),
}]))]));
const result = {
  date: new Date().toISOString(), browser: browserVersion, backend, search: searchFor('…', '…'), steps: STEPS, seeds: SEEDS,
  minutes, table, runs,
};
mkdirSync('bench', { recursive: true });
writeFileSync(`${OUT}.json`, `${JSON.stringify(result, null, 2)}\n`);
const pct = (s) => (s.n ? `${(s.mean * 100).toFixed(1)}${s.n > 1 ? ` ± ${(s.std * 100).toFixed(1)}` : ''}` : '—');
const gap = (a, b) => {
  if (!a.n || !b.n) return '—';
  const d = (a.mean - b.mean) * 100;
  return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(1)}`;
};
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const lines = [
  `# Methods yardstick: ${METHODS.map((m) => LABELS[m] ?? m).join(', ')}; one encoder, one config`,
  '',
  `${result.date} · Chromium ${browserVersion} · backend ${backend} · ${result.minutes} min · ${STEPS} steps per method · seeds ${SEEDS.join(', ')}`,
  '',
  `Config (URL): \`?${searchFor('…', '…').replace('method=%E2%80%A6', 'method=…').replace('seed=%E2%80%A6', 'seed=…')}\`, each method at its own defaults. Reproduce: \`${process.env.METHODS_LIST ? `METHODS_LIST=${METHODS.join(',')} ` : ''}${process.env.METHODS_OUT ? `METHODS_OUT=${OUT} ` : ''}${EXTRA ? `METHODS_EXTRA='${EXTRA}' ` : ''}npm run yardstick:methods\` (env METHODS_LIST, METHODS_SEEDS, METHODS_STEPS, METHODS_PERCENT, METHODS_OUT, METHODS_EXTRA).`,
  '',
  `Test accuracy (%) on ${EXTRA.includes('data=') ? 'the first 2,000 images of the test split (all of it where it is smaller: 1,000 coloured shapes)' : 'the 2,000-image test split'}; labels are a class-balanced fraction of ${EXTRA.includes('data=') ? 'the dataset\'s probe set (up to 10,000 images: the 2,000 colour-neutral shapes)' : 'the 10,000-image probe set'}, fixed by the seed. "random init" is the same encoder before training, at the same seed.`,
  '',
];
for (const f of fractions) {
  lines.push(
    `## ${Number(f) * 100}% labels`,
    '',
    '| method | final loss | collapse meter (healthy 1/√d: 0.088 for z of 128; a pretext task reads h, 0.177 for 32) | linear probe | kNN | random init, linear | random init, kNN | Δ linear | Δ kNN | minutes |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...METHODS.map((m) => {
      const r = table[m][f];
      const mine = runs.filter((x) => x.method === m);
      return `| ${LABELS[m] ?? m} | ${mean(mine.map((x) => x.loss)).toFixed(3)} (${LOSS_NAMES[m] ?? ''}) | ${mean(mine.map((x) => x.collapse)).toFixed(3)} | ${pct(r.linear)} | ${pct(r.knn)} | ${pct(r.randomLinear)} | ${pct(r.randomKnn)} | ${gap(r.linear, r.randomLinear)} | ${gap(r.knn, r.randomKnn)} | ${mean(mine.map((x) => x.minutes)).toFixed(1)} |`;
    }),
    '',
    'Δ against the random-init encoder of the same seed, linear / kNN, per seed:',
    '',
    ...METHODS.map((m) => {
      const perSeed = SEEDS.map((seed) => {
        const at = (model) => runs.find((r) => r.method === m && r.seed === seed)?.rows.find((row) => row.model === model && row.fraction === f)?.accuracy;
        const d = (a, b) => (a === undefined || b === undefined ? '—' : `${a >= b ? '+' : '−'}${Math.abs((a - b) * 100).toFixed(1)}`);
        return `seed ${seed}: ${d(at('ssl-linear'), at('random-init'))} / ${d(at('ssl-knn'), at('random-init-knn'))}`;
      });
      return `- ${LABELS[m] ?? m}: ${perSeed.join('; ')}`;
    }),
    '',
  );
}
writeFileSync(`${OUT}.md`, `${lines.join('\n')}\n`);
console.log(`wrote ${OUT}.md`);
process.exit(0);
