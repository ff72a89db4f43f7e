#!/usr/bin/env node
/**
 * npm run bench: speed and memory of the real app in headless Chromium
 * (WebGPU through SwiftShader where there is no GPU). Writes bench/results.json
 * and bench/results.md with the adapter and browser version and:
 *
 *  - ntxent:   NT-Xent forward + backward, fused WGSL kernels vs op-composed
 *              tfjs ops, 2N ∈ {256, 1024, 4096}, d = 128, median after warm-up
 *              (checks.html?check=ntxent-timing), and the fused kernels checked
 *              against the float64 reference over 2N 2…4096, d 2…512, τ 0.01…1,
 *              normalization on and off (checks.html?check=ntxent-fused);
 *  - trainStep: one SimCLR step per backend (webgpu, webgl, cpu) at 32 px, N ∈
 *              {64, 256}: the app opened with the config in its URL, wall clock
 *              over the measured steps after a warm-up step;
 *  - augmentation throughput per backend (checks.html?check=augment-throughput);
 *  - memory:   live tensors and bytes before and after 200 training steps, and
 *              the longest main-thread task while training, with the app as a
 *              user sees it: every chart live and the linear probe (with its
 *              random-init and raw-pixel baselines) every 50 steps;
 *  - firstStep: a bare link without a GPU: page load to the light-setup
 *              notice, to Train enabled, to the first and fifth step;
 *  - kernels:  one default-config step profiled kernel by kernel (webgpu with
 *              the project's and with tfjs's stock encoder kernels, webgl),
 *              against this adapter's calibrated peak FLOP/s and bandwidth;
 *  - soak:     (only on request: BENCH_PARTS=soak; about half an hour on
 *              SwiftShader) 2,000 steps of the light config with the probe,
 *              kNN and the affinity heatmap live: live tensors, GPU bytes and
 *              the JS heap of the page and of the worker at the start and
 *              every 500 steps, and the longest main-thread task in between.
 *
 * The suite takes about 20 minutes on SwiftShader (12 of them the stock
 * kernels' profiled steps at the default config): the trainStep
 * rows use a narrow encoder (width 4, so h has 32 dimensions) and the memory run
 * the e2e tests' tiny config. Options: BENCH_PARTS (comma-separated: ntxent,
 * accuracy, trainStep, augment, memory, methods, firstStep, kernels, pretext, families, generators, checkpoint, legacy, soak), BENCH_OUT (default
 * bench/results), BENCH_SOAK_STEPS (default 2000), CHROMIUM_PATH. With
 * BENCH_PARTS, the parts not run are kept from the last results.
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { preview } from 'vite';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = process.env.BENCH_OUT ?? 'bench/results';
const PARTS = process.env.BENCH_PARTS?.split(',') ?? ['ntxent', 'accuracy', 'trainStep', 'augment', 'memory', 'methods', 'firstStep', 'kernels'];
const started = Date.now();

const TRAIN_STEP_CASES = ['webgpu', 'webgl', 'cpu'].flatMap((backend) => [
  { backend, batch: 64, imageSize: 32, search: `batch=64&size=32&width=4&zdim=32&backend=${backend}`, steps: 2 },
  { backend, batch: 256, imageSize: 32, search: `batch=256&size=32&width=4&zdim=32&backend=${backend}`, steps: 1 },
]);
/** The issue-2 rows (full-width encoder): minutes per case on SwiftShader, so only on request (BENCH_PARTS=legacy). */
const LEGACY_CASES = [
  { backend: 'webgpu', batch: 256, imageSize: 28, search: 'backend=webgpu', steps: 1, label: 'default config (N 256, width 32)' },
  { backend: 'webgpu', batch: 64, imageSize: 28, search: 'batch=64&width=8&backend=webgpu', steps: 3, label: 'width 8' },
];
const MEMORY_STEPS = 200;
const TINY = 'batch=16&size=16&width=4&zdim=32';
/** The memory run: TINY with the e2e tests' small probe, every 50 steps. */
const MEMORY_PROBE_EVERY = 50;
const MEMORY_CONFIG = `${TINY}&probeTrain=600&probeTest=400&probeIters=150`;
/** Every method at one shared config: ms per step, what each holds beyond f and g, and leaked tensors. */
const METHOD_IDS = ['simclr', 'memory-bank', 'moco', 'byol', 'simsiam', 'barlow-twins'];
const METHOD_CONFIG = 'batch=64&size=28&width=4&zdim=128&backend=webgpu';
/**
 * BENCH_PARTS=pretext (on request: about 10 minutes on SwiftShader): the six
 * pretext tasks measured the same way; colorization on the coloured shapes
 * (Fashion-MNIST is greyscale), the others on Fashion-MNIST.
 */
const PRETEXT_IDS = ['rotation', 'relative-patch', 'jigsaw', 'inpainting', 'colorization', 'exemplar'];
const PRETEXT_EXTRA = { colorization: '&data=synthetic-shapes' };
/**
 * BENCH_PARTS=families (on request: about 10 minutes on SwiftShader): CPC,
 * CMC, PIRL, the autoencoder, the autoregressive model and DeepCluster
 * measured the same way, CMC on the coloured shapes (it needs colour); and
 * the stages of one DeepCluster k-means round (checks.html?check=kmeans) per
 * backend, at the default k = 50 on DeepCluster's fit sample of 4,096 and h of
 * width 4's 32 dimensions.
 */
const FAMILY_IDS = ['cpc', 'cmc', 'pirl', 'autoencoder', 'autoregressive', 'deepcluster'];
const FAMILY_EXTRA = { cmc: '&data=synthetic-shapes' };
const KMEANS_CHECK = 'check=kmeans&backends=webgpu,webgl,cpu&n=4096&d=32&k=50';
/**
 * BENCH_PARTS=generators (on request: a few minutes on SwiftShader): issue 19's
 * DCGAN and VAE at Fashion-MNIST's shape (28 px, grey), width 8, batch 64, per
 * backend: ms per step after two warm-up steps, the time to sample 256 images,
 * and the tensors left after the timed steps (checks.html?check=generators).
 */
const GENERATOR_CHECK = 'check=generators&backends=webgpu,webgl,cpu&size=28&channels=1&width=8&batch=64&steps=5&warmup=2';
const METHOD_STEPS = 10;
/**
 * BENCH_PARTS=kernels (issue 20; about 10 minutes on SwiftShader): one SimCLR
 * step at the default config (N 256, so 2N = 512 views of 28 px, width 32,
 * z 128) profiled kernel by kernel on each backend and kernel path
 * (checks.html?check=step-profile), and this adapter's peak FLOP/s and
 * bandwidth (checks.html?check=calibrate), so each step's achieved FLOP/s
 * reads as a fraction of the peak. BENCH_KERNEL_BATCH scales N down for a
 * quick look.
 */
const KERNEL_BATCH = Number(process.env.BENCH_KERNEL_BATCH ?? 256);
const KERNEL_PROFILE_CASES = [
  { backend: 'webgpu', kernels: 'stock' },
  { backend: 'webgpu', kernels: 'fused' },
  { backend: 'webgl', kernels: 'stock' },
];
const KERNEL_PROFILE_CONFIG = `batch=${KERNEL_BATCH}&size=28&width=32&zdim=128&channels=1&repeats=1`;
/** Kernels listed per profiled step in results.md. */
const KERNEL_TOP = 12;
/**
 * The soak run: the light setup with the probe every 100 steps, kNN every 50
 * and the affinity tab open, read at the start and every SOAK_EVERY steps.
 */
const SOAK_STEPS = Number(process.env.BENCH_SOAK_STEPS ?? 2000);
const SOAK_EVERY = 500;
const SOAK_CONFIG = `${TINY}&probeTrain=600&probeTest=400&probeIters=100`;
const SOAK_PROBE_EVERY = 100;
const SOAK_KNN_EVERY = 50;
/**
 * Steps before the first judged mark: the first probes and kNNs with their
 * baselines, the charts' first draws and the JIT's tier-up all allocate once.
 * A 2,000-step run with a 100-step warm-up (2026-12-01) measured the page's heap
 * at 10.5, 13.8, 16.4, 16.3, 15.4 and 15.7 MB at steps 1, 102, 502, 1002, 1502
 * and 2002, with no tensor leaked: it grew over the first 500 steps and not
 * after (16.4 → 15.7 MB over the last 1,500). So the warm-up is the first
 * SOAK_EVERY steps; growth over them is shown, not judged.
 */
const SOAK_WARMUP = Math.min(SOAK_EVERY, Math.floor(SOAK_STEPS / 2));
/**
 * The one record the page keeps per step is the run store's StepMetrics (13
 * fields, a 3-entry values object, two short strings, its slot in the steps
 * array): 400 bytes each in Node's V8 without pointer compression (200,000
 * structured-cloned copies, measured after gc()), about 250 with the pointer
 * compression Chromium uses. Allowed: 1 KiB a step, and 1 MiB for what a full
 * GC leaves either way (code tiered up, inline caches, React's fibers). The
 * worker keeps no per-step history, so it gets the 1 MiB only. Probe and kNN
 * points (one per 100 and 50 steps, under 100 bytes each) are inside the margin.
 */
const SOAK_PAGE_BYTES_PER_STEP = 1024;
const SOAK_HEAP_SLACK = 2 ** 20;
const FUSED_CASES = [
  '2:2:0.5:1', '2:512:0.01:0', '6:3:0.01:1', '130:16:0.01:0', '258:128:0.1:1', '1000:64:1:0', '1026:512:0.01:1', '4096:128:0.01:1', '4096:2:0.5:0',
];

execSync('npx vite build --logLevel warn', { stdio: 'inherit' });
const server = await preview({ preview: { port: 4180, strictPort: true, host: '127.0.0.1' }, logLevel: 'warn' });
const base = 'http://127.0.0.1:4180/';
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});

const value = async (page, id, attribute = 'data-value') => Number(await page.getByTestId(id).getAttribute(attribute));
async function waitStep(page, atLeast, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const step = await value(page, 'metric-step');
    if (step >= atLeast) return step;
    if (await page.getByTestId('error-banner').count()) throw new Error(await page.getByTestId('error-banner').innerText());
    if (Date.now() > deadline) throw new Error(`timed out at step ${step}`);
    await page.waitForTimeout(50);
  }
}

/** Opens the app with `search` (the probe and the kNN monitor off unless asked for), recording main-thread long tasks from the start. */
async function openApp(search, { probeEvery = 0, knnEvery = 0, sizeToDevice = false } = {}) {
  const page = await browser.newPage();
  // the bench measures the settings it names and the defaults it leaves, not the light setup a page without a GPU puts in force (unless asked)
  if (!sizeToDevice) await page.addInitScript(() => localStorage.setItem('ssp.setup', 'full'));
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    // when each step appeared, to place the long tasks in the run
    window.__stepTimes = [];
    const watchSteps = setInterval(() => {
      const metric = document.querySelector('[data-testid="metric-step"]');
      if (!metric) return;
      clearInterval(watchSteps);
      new MutationObserver(() => window.__stepTimes.push({ t: performance.now(), step: Number(metric.getAttribute('data-value')) })).observe(metric, { attributes: true });
    }, 50);
  });
  await page.goto(`${base}?probeEvery=${probeEvery}&knnEvery=${knnEvery}&${search}`);
  await page.waitForFunction(() => !document.querySelector('[data-testid="train-start"]')?.disabled, null, { timeout: 180_000 });
  return page;
}

async function runCheck(search, timeout = 600_000) {
  const page = await browser.newPage();
  // a webgl check runs on the page's own thread and can hold the load event back for minutes: wait for the navigation only
  await page.goto(`${base}checks.html?${search}`, { waitUntil: 'commit' });
  await page.getByTestId('check-status').filter({ hasText: /done|failed/ }).waitFor({ timeout });
  const out = JSON.parse(await page.getByTestId('check-result').textContent());
  await page.close();
  if (out.error) throw new Error(`${search}: ${out.error}`);
  return out;
}

/**
 * The JS heap of the page and of its training worker, each V8's used size
 * after a full GC, through the DevTools protocol: Chromium exposes no
 * performance.memory in workers, and on the page it is quantized unless the
 * browser runs with --enable-precise-memory-info. Playwright opens protocol
 * sessions on pages only, so the worker is reached through the browser's
 * session, attached without flattening and spoken to by Target.sendMessageToTarget.
 */
async function heapReader(page, workerUrl) {
  const pageSession = await page.context().newCDPSession(page);
  const browserSession = await browser.newBrowserCDPSession();
  const { targetInfos } = await browserSession.send('Target.getTargets');
  const workers = targetInfos.filter((t) => t.type === 'worker' && workerUrl.test(t.url));
  if (workers.length !== 1) throw new Error(`expected one training worker target, found ${workers.length}`);
  const { sessionId } = await browserSession.send('Target.attachToTarget', { targetId: workers[0].targetId, flatten: false });
  let lastId = 0;
  const inWorker = (method) => new Promise((resolve, reject) => {
    const id = ++lastId;
    const timer = setTimeout(() => reject(new Error(`the worker did not answer ${method}`)), 60_000);
    const onMessage = (event) => {
      if (event.sessionId !== sessionId) return;
      const message = JSON.parse(event.message);
      if (message.id !== id) return;
      clearTimeout(timer);
      browserSession.off('Target.receivedMessageFromTarget', onMessage);
      if (message.error) reject(new Error(`${method}: ${message.error.message}`));
      else resolve(message.result);
    };
    browserSession.on('Target.receivedMessageFromTarget', onMessage);
    browserSession.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) }).catch(reject);
  });
  return {
    page: async () => {
      await pageSession.send('HeapProfiler.collectGarbage');
      return (await pageSession.send('Runtime.getHeapUsage')).usedSize;
    },
    worker: async () => {
      await inWorker('HeapProfiler.collectGarbage');
      return (await inWorker('Runtime.getHeapUsage')).usedSize;
    },
    close: async () => {
      await browserSession.detach();
      await pageSession.detach();
    },
  };
}

/**
 * What tfjs itself reports in the worker (live tensors and bytes, and the
 * backend's GPU bytes: in use, and held by its buffer or texture pool). tfjs
 * keeps its engine on the global object, so it can be read without a message.
 */
const tfMemory = (worker) => worker.evaluate(() => {
  const m = self._tfengine?.memory();
  return m ? { numTensors: m.numTensors, numBytes: m.numBytes, gpuBytes: m.numBytesInGPU ?? null, gpuBytesAllocated: m.numBytesAllocatedInGPU ?? m.numBytesInGPUAllocated ?? null } : null;
});

/**
 * BENCH_PARTS=soak: SOAK_STEPS steps with the probe, kNN and the affinity
 * heatmap live. At the start (after the first step's compilation), after the
 * warm-up and every SOAK_EVERY steps it pauses, waits until the worker is idle,
 * reads the live tensors (the app's metric, measured after each step, and
 * tfjs's own count), the GPU bytes and both heaps after a GC, and resumes. Each
 * segment after the warm-up is flat when it leaks no tensor and neither heap
 * grew past its bound.
 */
async function soak() {
  const page = await openApp(SOAK_CONFIG, { probeEvery: SOAK_PROBE_EVERY, knnEvery: SOAK_KNN_EVERY });
  const workerUrl = /\/assets\/worker-[^/]*\.js$/;
  const worker = page.workers().find((w) => workerUrl.test(w.url()));
  if (!worker) throw new Error('the training worker did not start');
  const heaps = await heapReader(page, workerUrl);
  await page.getByTestId('tab-affinity').click();
  const backend = await page.getByTestId('backend-badge').getAttribute('data-value');
  if (backend === 'webgpu') results.adapter = (await page.getByTestId('backend-badge').getAttribute('title'))?.replace('GPU adapter: ', '') ?? null;
  const paused = () => page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.getAttribute('data-value') === 'paused', null, { timeout: 600_000 });
  let segmentStart = 0;
  const read = async () => {
    // the long tasks of the segment (not the forced GC of the last reading), then the records start afresh so the bench's own arrays do not grow the heap
    const longTasks = await page.evaluate((since) => window.__longTasks.splice(0).filter((t) => t.start >= since), segmentStart);
    await page.evaluate(() => window.__stepTimes.splice(0));
    const reading = {
      step: await value(page, 'metric-step'),
      tensors: await value(page, 'metric-tensors'),
      tensorBytes: await value(page, 'metric-tensors', 'data-bytes'),
      tf: await tfMemory(worker),
      pageHeap: await heaps.page(),
      workerHeap: await heaps.worker(),
      longestTaskMs: Math.round(Math.max(0, ...longTasks.map((t) => t.duration))),
      tasksOver50Ms: longTasks.length,
    };
    segmentStart = await page.evaluate(() => performance.now());
    return reading;
  };
  const started = Date.now();
  await page.getByTestId('train-step').click(); // the first step compiles every kernel: not part of the soak
  const first = await waitStep(page, 1, 600_000);
  await paused();
  const marks = [{ ...(await read()), seconds: 0 }];
  const targets = [first + SOAK_WARMUP];
  for (let k = SOAK_EVERY; k < SOAK_STEPS; k += SOAK_EVERY) if (k > SOAK_WARMUP) targets.push(first + k);
  targets.push(first + SOAK_STEPS);
  const t0 = Date.now();
  for (const target of targets) {
    await page.getByTestId('train-start').click();
    await waitStep(page, target, 4 * 3_600_000);
    await page.getByTestId('train-pause').click();
    await paused();
    marks.push({ ...(await read()), seconds: Math.round((Date.now() - t0) / 1000) });
    log('soak mark', marks.at(-1));
  }
  const lossPath = await page.getByTestId('metric-loss-path').getAttribute('data-value');
  const probes = Number(await page.getByTestId('chart-probe').getAttribute('data-points'));
  await heaps.close();
  await page.close();
  const segments = marks.slice(1).map((m, i) => {
    const from = marks[i];
    const steps = m.step - from.step;
    const pageHeapBound = steps * SOAK_PAGE_BYTES_PER_STEP + SOAK_HEAP_SLACK;
    const leakedTensors = m.tensors - from.tensors;
    const pageHeapGrowth = m.pageHeap - from.pageHeap;
    const workerHeapGrowth = m.workerHeap - from.workerHeap;
    return {
      fromStep: from.step, toStep: m.step, warmup: i === 0, leakedTensors, pageHeapGrowth, pageHeapBound, workerHeapGrowth, workerHeapBound: SOAK_HEAP_SLACK,
      // the warm-up is judged on tensors only
      flat: leakedTensors === 0 && (i === 0 || (pageHeapGrowth <= pageHeapBound && workerHeapGrowth <= SOAK_HEAP_SLACK)),
    };
  });
  return {
    config: `probeEvery=${SOAK_PROBE_EVERY}&knnEvery=${SOAK_KNN_EVERY}&${SOAK_CONFIG}`, backend, lossPath, steps: marks.at(-1).step - first, probes,
    minutes: +((Date.now() - started) / 60000).toFixed(1), warmupSteps: SOAK_WARMUP, marks, segments, flat: segments.every((s) => s.flat),
  };
}

const previous = existsSync(`${OUT}.json`) ? JSON.parse(readFileSync(`${OUT}.json`, 'utf8')) : {};
const results = { ...previous, date: new Date().toISOString(), browser: browser.version(), adapter: previous.adapter ?? null };
const log = (...args) => console.log(`[${((Date.now() - started) / 1000).toFixed(0)} s]`, ...args);

async function trainStepRow(c) {
  const page = await openApp(c.search);
  const backend = await page.getByTestId('backend-badge').getAttribute('data-value');
  if (backend === 'webgpu') results.adapter = (await page.getByTestId('backend-badge').getAttribute('title'))?.replace('GPU adapter: ', '') ?? null;
  await page.getByTestId('train-start').click();
  const s1 = await waitStep(page, 1, 600_000); // warm-up: shader compilation, Adam's first allocations
  const t1 = Date.now();
  const s2 = await waitStep(page, s1 + c.steps, 600_000);
  const t2 = Date.now();
  await page.getByTestId('train-pause').click();
  const lossPath = await page.getByTestId('metric-loss-path').getAttribute('data-value');
  await page.close();
  const msPerStep = (t2 - t1) / (s2 - s1);
  return {
    backend, batch: c.batch, imageSize: c.imageSize, encoderWidth: Number(new URLSearchParams(c.search).get('width') ?? 32),
    ...(c.label ? { label: c.label } : {}),
    lossPath, msPerStep: +msPerStep.toFixed(1), imagesPerSecond: +((c.batch * 1000) / msPerStep).toFixed(2), steps: s2 - s1,
  };
}

if (PARTS.includes('ntxent')) {
  results.ntxent = [];
  for (const [twoN, repeats, warmup] of [[256, 5, 1], [1024, 3, 1], [4096, 1, 0]]) {
    const out = await runCheck(`check=ntxent-timing&backends=webgpu&twoN=${twoN}&dim=128&repeats=${repeats}&warmup=${warmup}`);
    for (const row of out.rows) {
      results.ntxent.push({ backend: row.backend, twoN: row.twoN, dim: row.dim, fusedMs: +row.fusedMs.toFixed(1), composedMs: +row.composedMs.toFixed(1), speedup: +row.speedup.toFixed(2), runs: repeats, leakedTensors: row.tensorsAfter });
      log('ntxent', results.ntxent.at(-1));
    }
  }
}
if (PARTS.includes('accuracy')) {
  const out = await runCheck(`check=ntxent-fused&seed=11&cases=${FUSED_CASES.join(',')}`);
  results.fusedAccuracy = out.rows.map((r) => ({
    twoN: r.twoN, dim: r.dim, temperature: r.temperature, normalize: r.normalize,
    lossRelativeError: r.lossRelativeError, gradientRelativeError: r.gradientRelativeError, finite: r.finite,
  }));
  log('fused accuracy: worst loss', Math.max(...results.fusedAccuracy.map((r) => r.lossRelativeError)), 'gradient', Math.max(...results.fusedAccuracy.map((r) => r.gradientRelativeError)));
}
if (PARTS.includes('trainStep')) {
  results.trainStep = [];
  for (const c of TRAIN_STEP_CASES) {
    results.trainStep.push(await trainStepRow(c));
    log('trainStep', results.trainStep.at(-1));
  }
}
if (PARTS.includes('legacy')) {
  results.legacyTrainStep = [];
  for (const c of LEGACY_CASES) {
    results.legacyTrainStep.push(await trainStepRow(c));
    log('legacy', results.legacyTrainStep.at(-1));
  }
}
if (PARTS.includes('augment')) {
  const out = await runCheck('check=augment-throughput&batch=256&size=32&repeats=3&preset=simclr&backends=webgpu,webgl,cpu');
  results.augmentation = out.rows.map((r) => (r.error ? r : { backend: r.backend, batch: r.batch, size: r.size, medianMs: +r.medianMs.toFixed(1), imagesPerSecond: +r.imagesPerSecond.toFixed(1) }));
  log('augmentation', results.augmentation);
}
if (PARTS.includes('memory')) {
  const page = await openApp(MEMORY_CONFIG, { probeEvery: MEMORY_PROBE_EVERY, knnEvery: MEMORY_PROBE_EVERY / 2 });
  await page.getByTestId('train-start').click();
  const first = await waitStep(page, 1, 300_000);
  const tensorsBefore = await value(page, 'metric-tensors');
  const bytesBefore = await value(page, 'metric-tensors', 'data-bytes');
  const since = await page.evaluate(() => performance.now());
  const t1 = Date.now();
  const last = await waitStep(page, first + MEMORY_STEPS, 600_000);
  const seconds = (Date.now() - t1) / 1000;
  await page.getByTestId('train-pause').click();
  const tensorsAfter = await value(page, 'metric-tensors');
  const bytesAfter = await value(page, 'metric-tensors', 'data-bytes');
  // each long task with the training step the page showed when it began (the step metric's text, read in the page)
  const longTasks = await page.evaluate((t) => window.__longTasks.filter((x) => x.start >= t), since);
  const stepAt = await page.evaluate(() => window.__stepTimes ?? []);
  const stepBefore = (t) => stepAt.filter((s) => s.t <= t).at(-1)?.step ?? 0;
  const lossPath = await page.getByTestId('metric-loss-path').getAttribute('data-value');
  const probes = Number(await page.getByTestId('chart-probe').getAttribute('data-points'));
  await page.close();
  results.memory = {
    config: `probeEvery=${MEMORY_PROBE_EVERY}&${MEMORY_CONFIG}`, backend: 'webgpu', lossPath, steps: last - first, seconds: +seconds.toFixed(1), probes,
    leakedTensors: tensorsAfter - tensorsBefore, tensorsBefore, tensorsAfter, bytesBefore, bytesAfter,
  };
  results.mainThread = {
    longestTaskMs: Math.max(0, ...longTasks.map((t) => t.duration)),
    tasksOver50Ms: longTasks.length,
    longTasks: longTasks.map((t) => ({ atStep: stepBefore(t.start), ms: Math.round(t.duration) })),
    during: `${last - first} training steps of ${TINY}`,
  };
  log('memory', results.memory, results.mainThread);
}
/** ms per step, state beyond f and g, leaked tensors and the final loss of each method, at METHOD_CONFIG. */
async function methodRows(ids, extra = {}) {
  const rows = [];
  for (const method of ids) {
    const config = `${METHOD_CONFIG}&method=${method}${extra[method] ?? ''}`;
    const page = await openApp(config);
    await page.getByTestId('train-start').click();
    const s1 = await waitStep(page, 2, 600_000); // warm-up: shader compilation, Adam's and the method's first allocations
    const tensorsBefore = await value(page, 'metric-tensors');
    const t1 = Date.now();
    const s2 = await waitStep(page, s1 + METHOD_STEPS, 600_000);
    const msPerStep = (Date.now() - t1) / (s2 - s1);
    await page.getByTestId('train-pause').click();
    await page.getByTestId('run-status').filter({ hasText: /paused/i }).waitFor({ timeout: 60_000 }).catch(() => {});
    const tensorsAfter = await value(page, 'metric-tensors');
    const methodBytes = await value(page, 'metric-method-memory');
    const loss = await value(page, 'metric-loss');
    await page.close();
    rows.push({ method, config: METHOD_CONFIG, dataset: extra[method] ? extra[method].replace('&data=', '') : 'fashion-mnist', msPerStep: +msPerStep.toFixed(0), steps: s2 - s1, methodBytes, leakedTensors: tensorsAfter - tensorsBefore, loss: +loss.toFixed(3) });
    log('methods', rows.at(-1));
  }
  return rows;
}
if (PARTS.includes('methods')) results.methods = await methodRows(METHOD_IDS);
if (PARTS.includes('pretext')) results.pretext = await methodRows(PRETEXT_IDS, PRETEXT_EXTRA);
if (PARTS.includes('families')) {
  results.families = await methodRows(FAMILY_IDS, FAMILY_EXTRA);
  results.kmeans = await runCheck(KMEANS_CHECK);
  log('kmeans', results.kmeans.timing);
}
if (PARTS.includes('generators')) {
  results.generators = await runCheck(GENERATOR_CHECK, 1_200_000);
  log('generators', results.generators.rows);
}
/**
 * BENCH_PARTS=checkpoint (on request: a few minutes on SwiftShader): issue 21's
 * checkpoints, for the two-view methods at METHOD_CONFIG (MoCo holds the
 * largest state: a 4096-key queue and the key encoder). After 3 steps (Step
 * clicks), Save a checkpoint: ms from the click to the message (the worker
 * reads every variable, Adam's moments and the method's state back, the page
 * encodes the file and IndexedDB commits it); the file's size; Resume: ms from
 * the click to the message (decode, a new trainer built beside the old one,
 * the state assigned, the swap); then one step, and the live tensors after it
 * minus those after step 3 (0: resuming left nothing of the old run behind).
 */
async function checkpointRows(ids) {
  const rows = [];
  for (const method of ids) {
    const page = await openApp(`${METHOD_CONFIG}&method=${method}#export`);
    for (let step = 1; step <= 3; step++) {
      await page.getByTestId('train-step').click();
      await waitStep(page, step, 600_000);
    }
    await page.getByTestId('run-status').filter({ hasText: /paused/i }).waitFor({ timeout: 60_000 }).catch(() => {});
    // let the automatic save that follows a pause go first
    await page.waitForFunction(() => document.querySelector('[data-testid="checkpoint-status"]')?.getAttribute('data-saved-step') === '3', null, { timeout: 120_000 });
    const tensorsBefore = await value(page, 'metric-tensors');
    let t = Date.now();
    await page.getByTestId('checkpoint-save').click();
    await page.getByTestId('checkpoint-message').filter({ hasText: 'Saved step 3' }).waitFor({ timeout: 300_000 });
    const saveMs = Date.now() - t;
    const row = page.locator('[data-testid="checkpoint-row"][data-auto="no"]');
    const bytes = Number(await row.getAttribute('data-bytes'));
    t = Date.now();
    await row.getByTestId('checkpoint-resume').click();
    await page.getByTestId('checkpoint-message').filter({ hasText: 'Resumed' }).waitFor({ timeout: 300_000 });
    const resumeMs = Date.now() - t;
    await page.getByTestId('train-step').click();
    await waitStep(page, 4, 600_000);
    const tensorsAfter = await value(page, 'metric-tensors');
    await page.close();
    rows.push({ method, config: METHOD_CONFIG, saveMs, resumeMs, megabytes: +(bytes / 1e6).toFixed(2), leakedTensors: tensorsAfter - tensorsBefore });
    log('checkpoint', rows.at(-1));
  }
  return rows;
}
/**
 * BENCH_PARTS=firstStep (issue 20): a newcomer's first minute without a GPU.
 * A bare link (only the probe and kNN switched off, so the clock measures
 * training), the page left to size the run to the device (the light setup on
 * a CPU emulation), Train pressed as soon as it is enabled: ms from navigation
 * start to the light-setup notice, to Train enabled and to the first and the
 * fifth step on the page, and the median ms of steps 2–6.
 */
async function firstStepRow() {
  const page = await openApp('', { sizeToDevice: true });
  const at = () => page.evaluate(() => performance.now());
  const noticeMs = await page.getByTestId('device-auto-light').waitFor({ timeout: 60_000 }).then(at, () => null);
  await page.waitForFunction(() => !document.querySelector('[data-testid="train-start"]')?.disabled, null, { timeout: 180_000 });
  const enabledMs = await at();
  await page.getByTestId('train-start').click();
  await waitStep(page, 1, 600_000);
  const firstStepMs = await at();
  const steps = [];
  for (let target = 2; target <= 6; target++) {
    await waitStep(page, target, 600_000);
    steps.push(await value(page, 'metric-step-ms'));
  }
  const fifthStepMs = await at();
  await page.getByTestId('train-pause').click();
  const config = new URL(page.url()).search;
  const encoderPath = await page.getByTestId('metric-encoder-path').getAttribute('data-value');
  await page.close();
  steps.sort((a, b) => a - b);
  return { config, encoderPath, noticeMs, enabledMs, firstStepMs, fifthStepMs, medianStepMs: steps[2] };
}
if (PARTS.includes('firstStep')) {
  results.firstStep = await firstStepRow();
  log('first step', results.firstStep);
}
if (PARTS.includes('kernels')) {
  results.calibration = await runCheck('check=calibrate');
  log('calibration', results.calibration);
  results.stepProfiles = [];
  for (const c of KERNEL_PROFILE_CASES) {
    const out = await runCheck(`check=step-profile&backend=${c.backend}&kernels=${c.kernels}&${KERNEL_PROFILE_CONFIG}`, 3_600_000);
    results.stepProfiles.push({ ...out, kernels: out.kernels.slice(0, 40), kernelsByName: out.kernelsByName.slice(0, 40) });
    log('step profile', c, { stepMs: out.stepMs, phaseMs: out.phaseMs, leakedTensors: out.leakedTensors });
  }
}
if (PARTS.includes('checkpoint')) results.checkpoint = await checkpointRows(METHOD_IDS);
if (PARTS.includes('soak')) {
  results.soak = await soak();
  log('soak', results.soak);
}
await browser.close();
await new Promise((r) => server.httpServer.close(r));
results.totalSeconds = Math.round((Date.now() - started) / 1000);

mkdirSync('bench', { recursive: true });
writeFileSync(`${OUT}.json`, `${JSON.stringify(results, null, 2)}\n`);
const fmt = (x, digits = 1) => (x === null || x === undefined ? '—' : Number(x).toFixed(digits));
const lines = [
  '# Benchmark results',
  '',
  `${results.date} · Chromium ${results.browser} · adapter: ${results.adapter ?? 'unknown'} · ${results.totalSeconds} s`,
  '',
  'Measured by `npm run bench` in headless Chromium. Where the adapter is SwiftShader, the figures come from a CPU emulating Vulkan, not a GPU; compare ratios within one run, not absolute times across machines.',
  '',
  ...(results.ntxent
    ? [
        '## NT-Xent: fused WGSL kernels vs op-composed tfjs ops',
        '',
        'Forward + backward (loss and both gradients read back), d = 128, τ = 0.5, L2 on; median of `runs` timed runs after one warm-up run (none at 2N = 4096).',
        '',
        '| backend | 2N | d | fused ms | composed ms | speed-up | runs |',
        '|---|---|---|---|---|---|---|',
        ...results.ntxent.map((r) => `| ${r.backend} | ${r.twoN} | ${r.dim} | ${fmt(r.fusedMs)} | ${fmt(r.composedMs)} | ${fmt(r.speedup, 2)}× | ${r.runs} |`),
        '',
      ]
    : []),
  ...(results.fusedAccuracy
    ? [
        '## Fused kernels against the float64 reference',
        '',
        '| 2N | d | τ | L2 | loss rel. error | gradient rel. error (max abs / max abs ref.) | finite |',
        '|---|---|---|---|---|---|---|',
        ...results.fusedAccuracy.map((r) => `| ${r.twoN} | ${r.dim} | ${r.temperature} | ${r.normalize ? 'on' : 'off'} | ${r.lossRelativeError.toExponential(1)} | ${r.gradientRelativeError.toExponential(1)} | ${r.finite} |`),
        '',
      ]
    : []),
  ...(results.trainStep
    ? [
        '## Training step per backend',
        '',
        'One SimCLR step (augment both views, f and g forward and backward, NT-Xent, Adam) in the app, 32 px views, encoder width 4 (h = 32, z = 32), after one warm-up step.',
        '',
        '| backend | N | px | loss | ms/step | images/s | steps timed |',
        '|---|---|---|---|---|---|---|',
        ...results.trainStep.map((r) => `| ${r.backend} | ${r.batch} | ${r.imageSize} | ${r.lossPath} | ${fmt(r.msPerStep, 0)} | ${fmt(r.imagesPerSecond, 2)} | ${r.steps} |`),
        '',
      ]
    : []),
  ...(results.legacyTrainStep
    ? [
        '### Wider encoders (BENCH_PARTS=legacy)',
        '',
        '| config | backend | N | px | width | loss | ms/step | images/s |',
        '|---|---|---|---|---|---|---|---|',
        ...results.legacyTrainStep.map((r) => `| ${r.label} | ${r.backend} | ${r.batch} | ${r.imageSize} | ${r.encoderWidth} | ${r.lossPath} | ${fmt(r.msPerStep, 0)} | ${fmt(r.imagesPerSecond, 2)} |`),
        '',
      ]
    : []),
  ...(results.augmentation
    ? [
        '## Augmentation throughput',
        '',
        'The simclr preset (crop, flip, colour jitter, grayscale, blur) on 256 RGB images of 32 px, median of 3 runs after warm-up, read-back included.',
        '',
        '| backend | N | px | median ms | images/s |',
        '|---|---|---|---|---|',
        ...results.augmentation.map((r) => (r.error ? `| ${r.backend} | — | — | ${r.error} | — |` : `| ${r.backend} | ${r.batch} | ${r.size} | ${fmt(r.medianMs)} | ${fmt(r.imagesPerSecond, 0)} |`)),
        '',
      ]
    : []),
  ...(results.memory
    ? [
        '## Memory and main-thread responsiveness over 200 training steps',
        '',
        `Config \`${results.memory.config}\` on ${results.memory.backend} (${results.memory.lossPath} loss), ${results.memory.steps} steps in ${results.memory.seconds} s` +
          (results.memory.probes !== undefined ? `, ${results.memory.probes} linear probes (plus the two baselines) during the run, every chart live.` : '.'),
        '',
        '| live tensors before | after | leaked | bytes before | bytes after | longest main-thread task over 50 ms (0: none) | tasks over 50 ms |',
        '|---|---|---|---|---|---|---|',
        `| ${results.memory.tensorsBefore} | ${results.memory.tensorsAfter} | ${results.memory.leakedTensors} | ${results.memory.bytesBefore} | ${results.memory.bytesAfter} | ${results.mainThread.longestTaskMs} ms | ${results.mainThread.tasksOver50Ms} |`,
        '',
        ...(results.mainThread.longTasks?.length
          ? [`Main-thread tasks over 50 ms: ${results.mainThread.longTasks.map((t) => `${t.ms} ms at step ${t.atStep}`).join(', ')}.`, '']
          : []),
      ]
    : []),
];
if (results.methods) {
  lines.push(
    '## Methods at one shared config',
    '',
    `\`${results.methods[0].config}\` (encoder width 4, z of 128, N 64, 28 px views) on webgpu; ms per step over ${results.methods[0].steps} steps after two warm-up steps; the state each method holds beyond f and g (MoCo: the queue of K = 4096 keys and the key encoder; memory bank: one 128-d entry per training image; BYOL: the target network and the predictor; SimSiam: the predictor); live tensors after the timed steps minus before.`,
    '',
    '| method | ms/step | state beyond f and g | leaked tensors | loss at the end |',
    '|---|---|---|---|---|',
    ...results.methods.map((r) => `| ${r.method} | ${r.msPerStep} | ${(r.methodBytes / 2 ** 20).toFixed(2)} MiB | ${r.leakedTensors} | ${r.loss} |`),
    '',
  );
}
if (results.pretext) {
  lines.push(
    '## Pretext tasks at the same config',
    '',
    `\`${results.pretext[0].config}\` on webgpu, each task at its defaults (jigsaw P = 30, exemplar K = 256); ms per step over ${results.pretext[0].steps} steps after two warm-up steps; the state each task holds beyond f (its head or decoder); live tensors after the timed steps minus before. RotNet encodes 4N images a step, relative patch and jigsaw 9N patches of 8 px, exemplar 2N views.`,
    '',
    '| task | dataset | ms/step | head beyond f | leaked tensors | loss at the end |',
    '|---|---|---|---|---|---|',
    ...results.pretext.map((r) => `| ${r.method} | ${r.dataset} | ${r.msPerStep} | ${(r.methodBytes / 2 ** 20).toFixed(2)} MiB | ${r.leakedTensors} | ${r.loss} |`),
    '',
  );
}
if (results.families) {
  const k = results.kmeans;
  const ms = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  lines.push(
    '## The remaining families at the same config',
    '',
    `\`${results.families[0].config}\` on webgpu, each method at its defaults (DeepCluster k = 50, re-clustering every 50 steps, so none of the timed steps holds a round); CMC on the coloured shapes. ms per step over ${results.families[0].steps} steps after two warm-up steps; the state each holds beyond f and g; live tensors after the timed steps minus before. CPC encodes 16 patches per image, PIRL the view and its 9 tiles, CMC a second encoder on ab.`,
    '',
    '| method | dataset | ms/step | state beyond f and g | leaked tensors | loss at the end |',
    '|---|---|---|---|---|---|',
    ...results.families.map((r) => `| ${r.method} | ${r.dataset} | ${r.msPerStep} | ${(r.methodBytes / 2 ** 20).toFixed(2)} MiB | ${r.leakedTensors} | ${r.loss} |`),
    '',
    `A DeepCluster k-means round (\`checks.html?${KMEANS_CHECK}\`): n = ${k.timing[0].n} points of d = ${k.timing[0].d}, k = ${k.timing[0].k}; ms of the second run (the first compiles the shaders). Whiten: ZCA by Newton–Schulz; seeds: k-means++ (k sequential draws); fit: seeds and 20 Lloyd iterations; assign: one nearest-centroid pass. Every backend's fit matches the float64 reference on seeded blobs (disagreeing labels: ${k.matches.map((m) => `${m.backend} ${m.fit.disagreements}`).join(', ')}).`,
    '',
    '| backend | whiten | seeds | fit | assign |',
    '|---|---|---|---|---|',
    ...k.timing.map((t) => `| ${t.backend} | ${ms(t.ms.whiten)} | ${ms(t.ms.seeds)} | ${ms(t.ms.fit)} | ${ms(t.ms.assign)} |`),
    '',
  );
}
if (results.generators) {
  const g = results.generators.rows;
  lines.push(
    '## The generative models (issue 19)',
    '',
    `\`checks.html?${GENERATOR_CHECK}\`: a DCGAN (z of 64) and a VAE (latent of 16) at ${g[0].size} px, ${g[0].channels} channel, width ${g[0].width}, batch ${g[0].batch}. ms per step over ${g[0].steps} steps after ${g[0].warmup} warm-up steps (a DCGAN step is one D step and one G step, each with its read-back); ms to sample 256 images (second run); tensors left after the timed steps and after disposing both models (0: no leak).`,
    '',
    '| backend | DCGAN ms/step | VAE ms/step | DCGAN: 256 samples, ms | VAE: 256 samples, ms | leaked during steps (DCGAN / VAE) | left after dispose |',
    '|---|---|---|---|---|---|---|',
    ...g.map((r) => `| ${r.backend} | ${r.dcgan.msPerStep} | ${r.vae.msPerStep} | ${r.dcgan.sample256Ms} | ${r.vae.sample256Ms} | ${r.dcgan.leakedTensors} / ${r.vae.leakedTensors} | ${r.tensorsLeftAfterDispose} |`),
    '',
  );
}
if (results.checkpoint) {
  lines.push(
    '## Checkpoints (issue 21)',
    '',
    `\`${results.checkpoint[0].config}\` on webgpu, after 3 steps. Save: ms from the click to the message (the worker reads every variable, Adam's moments and the method's state back; the page encodes the file; IndexedDB commits it). Resume: ms from the click to the message (decode and check the file, build the run beside the old one, assign the state, swap). Leaked: live tensors after one more step minus after step 3 (0: nothing of the old run is left behind).`,
    '',
    '| method | save ms | file MB | resume ms | leaked tensors |',
    '|---|---|---|---|---|',
    ...results.checkpoint.map((r) => `| ${r.method} | ${r.saveMs} | ${r.megabytes} | ${r.resumeMs} | ${r.leakedTensors} |`),
    '',
  );
}
if (results.stepProfiles) {
  const cal = results.calibration;
  const peak = cal.fma.flopsPerSecond;
  const gflops = (x) => (x / 1e9).toFixed(x >= 1e10 ? 0 : 1);
  const ms = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const first = results.stepProfiles[0];
  lines.push(
    '## Where a training step\'s time goes (issue 20)',
    '',
    `This adapter's peak (\`checks.html?check=calibrate\`): ${gflops(peak)} GFLOP/s from a register-tiled FMA kernel (${cal.fma.invocations.toLocaleString('en-US')} invocations × ${cal.fma.iterations} rounds of 16 vec4 FMAs, ${ms(cal.fma.ms)} ms), ${(cal.copy.bytesPerSecond / 1e9).toFixed(1)} GB/s from a vec4 copy of 64 MiB (${ms(cal.copy.ms)} ms). ` +
      `One SimCLR step at the default config (\`checks.html?check=step-profile&${KERNEL_PROFILE_CONFIG}\`: 2N = ${first.views} views of ${first.options.size} px, width ${first.options.width}, z ${first.options.projectionDim}): the step's wall time (after a warm-up step; read-back of the loss included), its FLOPs counted from the layer shapes (conv and dense layers and NT-Xent's two matrix products, forward ${gflops(first.flops.forward)} + backward ${gflops(first.flops.backward)} GFLOP), and the achieved rate as a share of the peak. ` +
      'Then a profiled step (tf.profile): kernel time by phase, GPU timestamps on webgpu (each program in its own pass) and on webgl the wall clock with a read-back after each kernel, so the phases add up to more than the plain step there.',
    '',
    '| backend | encoder kernels | ms/step | GFLOP/s | of peak | first step ms | augment ms | forward ms | backward ms | Adam ms | leaked tensors |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.stepProfiles.map((r) => `| ${r.backend} | ${r.kernelPath} | ${ms(r.stepMs)} | ${gflops(r.achievedFlopsPerSecond)} | ${(100 * r.achievedFlopsPerSecond / peak).toFixed(1)}% | ${ms(r.firstStepMs)} | ${ms(r.phaseMs.augment)} | ${ms(r.phaseMs.forward)} | ${ms(r.phaseMs.backward)} | ${ms(r.phaseMs.optimizer)} | ${r.leakedTensors} |`),
    '',
  );
  const find = (backend, path) => results.stepProfiles.find((r) => r.backend === backend && r.kernelPath === path);
  const fused = find('webgpu', 'fused');
  const stock = find('webgpu', 'stock');
  const webgl = find('webgl', 'stock');
  if (fused && stock) {
    lines.push(
      `Ratios on this adapter: webgpu with the project's encoder kernels is ${(stock.stepMs / fused.stepMs).toFixed(2)}× faster a step than with tfjs-webgpu's stock kernels` +
        (webgl ? ` and ${(webgl.stepMs / fused.stepMs).toFixed(2)}× ${webgl.stepMs >= fused.stepMs ? 'faster' : 'the speed (slower)'} than webgl (stock webgpu vs webgl: ${(webgl.stepMs / stock.stepMs).toFixed(2)}×).` : '.'),
      '',
    );
  }
  for (const r of results.stepProfiles) {
    lines.push(
      `### Top kernels: ${r.backend}, ${r.kernelPath} encoder kernels (${r.timing})`,
      '',
      '| phase | kernel | input shapes | calls | ms | share of kernel time |',
      '|---|---|---|---|---|---|',
      ...r.kernels.slice(0, KERNEL_TOP).map((k) => `| ${k.phase} | ${k.name} | ${k.shapes} | ${k.calls} | ${ms(k.ms)} | ${(100 * k.share).toFixed(1)}% |`),
      '',
    );
  }
}
if (results.firstStep) {
  const r = results.firstStep;
  const sec = (x) => (x === null ? '—' : (x / 1000).toFixed(1));
  lines.push(
    '## A newcomer without a GPU: page load to the first step (issue 20)',
    '',
    `A bare link (probe and kNN off), the page left to size the run to the device; Train pressed as soon as it is enabled. Seconds from navigation start; the settings that ran: \`${r.config}\`, encoder kernels: ${r.encoderPath || '—'}.`,
    '',
    '| light-setup notice | Train enabled | first step | fifth step | median ms of steps 2–6 |',
    '|---|---|---|---|---|',
    `| ${sec(r.noticeMs)} s | ${sec(r.enabledMs)} s | ${sec(r.firstStepMs)} s | ${sec(r.fifthStepMs)} s | ${Math.round(r.medianStepMs)} |`,
    '',
  );
}
if (results.soak) {
  const r = results.soak;
  const mib = (bytes) => (bytes === null || bytes === undefined ? '—' : (bytes / 2 ** 20).toFixed(2));
  const signedMib = (bytes) => (bytes === null || bytes === undefined ? '—' : `${bytes >= 0 ? '+' : '−'}${mib(Math.abs(bytes))}`);
  lines.push(
    `## Soak: ${r.steps} training steps with the probe, kNN and the heatmap live`,
    '',
    `\`${r.config}\` on ${r.backend} (${r.lossPath} loss), the affinity tab open, ${r.probes} linear probes and a kNN every ${SOAK_KNN_EVERY} steps during the run, ${r.minutes} min. ` +
      `At each mark the run pauses until the worker is idle, and the page's and the training worker's JS heaps are read after a full GC (DevTools protocol: \`HeapProfiler.collectGarbage\`, then \`Runtime.getHeapUsage\`, the figure \`performance.memory.usedJSHeapSize\` gives unquantized; workers have no \`performance.memory\`). ` +
      'Live tensors are the app\'s metric (counted after each step); tfjs tensors and GPU bytes come from tfjs\'s engine in the worker (GPU: bytes of live tensors / bytes the backend holds, its pool of reusable buffers included). ' +
      `Flat means no tensor leaked between marks and neither heap grew past its bound: the page keeps one StepMetrics record a step in its run store, about 250 bytes in Chromium (400 in Node's V8 without pointer compression), so it may grow by ${SOAK_PAGE_BYTES_PER_STEP} bytes a step plus ${mib(SOAK_HEAP_SLACK)} MiB for what a full GC leaves either way (optimized code, inline caches); the worker keeps no per-step history and gets the ${mib(SOAK_HEAP_SLACK)} MiB only.`,
    '',
    '| step | live tensors | leaked since the last mark | tfjs tensors | tensor MiB | GPU MiB in use / held | page heap MiB | growth (bound) | worker heap MiB | growth (bound) | longest main-thread task since the last mark | tasks over 50 ms | flat |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.marks.map((m, i) => {
      const g = i > 0 ? r.segments[i - 1] : null;
      const bound = (b) => (g?.warmup ? 'warm-up' : mib(b));
      const verdict = !g ? '—' : g.flat ? (g.warmup ? 'yes (tensors; warm-up)' : 'yes') : '**no**';
      return `| ${m.step} | ${m.tensors} | ${g ? g.leakedTensors : '—'} | ${m.tf?.numTensors ?? '—'} | ${mib(m.tensorBytes)} | ${mib(m.tf?.gpuBytes)} / ${mib(m.tf?.gpuBytesAllocated)} | ${mib(m.pageHeap)} | ${g ? `${signedMib(g.pageHeapGrowth)} (${bound(g.pageHeapBound)})` : '—'} | ${mib(m.workerHeap)} | ${g ? `${signedMib(g.workerHeapGrowth)} (${bound(g.workerHeapBound)})` : '—'} | ${g ? `${m.longestTaskMs} ms` : '—'} | ${g ? m.tasksOver50Ms : '—'} | ${verdict} |`;
    }),
    '',
    `${r.flat ? 'Flat over the whole run.' : '**Not flat**: see the rows marked no.'} The first row is read after the first step, which compiles every kernel; the second after the warm-up (${r.warmupSteps ?? SOAK_WARMUP} steps: the first probe and kNN with their baselines, the charts' first draws, the JIT's tier-up), whose heap growth is shown but not judged.`,
    '',
  );
}
writeFileSync(`${OUT}.md`, lines.join('\n'));
console.log(lines.join('\n'));
process.exit(0);
