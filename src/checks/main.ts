/**
 * checks.html: runs the app's tensor code on several tfjs backends in one
 * page and reports JSON, for checks that need a real browser backend:
 *   ?check=augment-backends  same seed → same views on webgpu and cpu?
 *   ?check=augment-throughput  augmentation images/s per backend
 *   ?check=ntxent-fused  fused WebGPU NT-Xent against the float64 reference;
 *     cases= a list of twoN:dim:temperature:normalize(1|0), comma-separated
 *   ?check=ntxent-timing  fused vs op-composed NT-Xent, forward + backward;
 *     twoN= comma-separated sizes, dim=, backends=, repeats=, warmup=
 *   ?check=ntxent-training  a seeded run with the fused loss and with the
 *     op-composed one: per-step losses side by side; steps=
 *   ?check=kmeans  DeepCluster's k-means per backend against the float64
 *     reference, and the time of each stage of a round; n=, d=, k=
 *   ?check=generators  ms per DCGAN and VAE step (issue 19) per backend, the
 *     time to sample 256 images, leaked tensors; channels=, width=, steps=, warmup=
 *   ?check=encoder-training  a seeded run with the fused encoder kernels and with
 *     tfjs's stock ones: per-step losses and inference-mode h; steps=, width=
 *   ?check=calibrate  this adapter's peak FLOP/s (register FMA) and bandwidth (copy)
 *   ?check=step-profile  one SimCLR step kernel by kernel (tf.profile), by phase,
 *     with its wall time and achieved FLOP/s; backend=, kernels=fused|stock, channels=, width=, zdim=
 * Parameters: seed, batch, size, repeats, preset, backends (comma-separated).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { augmentViews } from '../augment/augmentViews';
import { presetPipeline, type PresetName } from '../core/pipeline';
import { createRng } from '../core/random';
import { kMeansMatches, kMeansTiming } from './kmeansChecks';
import { generatorTiming } from './generatorChecks';
import { calibrate } from './calibrationChecks';
import { stepProfile } from './stepProfileChecks';
import { encoderTrainingMatches } from './encoderChecks';
import { fusedAccuracy, fusedAffinityMatches, fusedTrainingMatches, ntxentTiming, type NtXentCase } from './ntxentChecks';

const params = new URLSearchParams(window.location.search);
const check = params.get('check') ?? 'augment-backends';
const seed = Number(params.get('seed') ?? 1);
const batch = Number(params.get('batch') ?? 16);
const size = Number(params.get('size') ?? 32);
const repeats = Number(params.get('repeats') ?? 5);
const preset = (params.get('preset') ?? 'simclr') as PresetName;
const backends = (params.get('backends') ?? 'webgpu,cpu').split(',');

/** Seeded RGB test images: coloured gradients and a square, so every operator has something to act on. */
function testImages(n: number, side: number): Float32Array {
  const rng = createRng(seed + 1000);
  const out = new Float32Array(n * side * side * 3);
  for (let b = 0; b < n; b++) {
    const [r0, g0, b0] = [rng(), rng(), rng()];
    const cx = Math.floor(rng() * side), cy = Math.floor(rng() * side), half = 2 + Math.floor(rng() * side / 4);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const inSquare = Math.abs(x - cx) <= half && Math.abs(y - cy) <= half;
        const o = ((b * side + y) * side + x) * 3;
        out[o] = inSquare ? 1 - r0 : (r0 * x) / side;
        out[o + 1] = inSquare ? 1 - g0 : (g0 * y) / side;
        out[o + 2] = inSquare ? 0.5 : b0;
      }
    }
  }
  return out;
}

/** Every operator switched on, so the comparison covers all of them. */
function everyOperatorPipeline() {
  const pipeline = presetPipeline(preset);
  if (params.get('all') === '1') for (const op of pipeline.operators) op.enabled = true;
  return pipeline;
}

async function viewsOn(backend: string, pixels: Float32Array): Promise<Float32Array> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available`);
  await tf.ready();
  const images = tf.tensor4d(pixels, [batch, size, size, 3]);
  const views = augmentViews(images, createRng(seed), everyOperatorPipeline(), size);
  const data = (await views.data()) as Float32Array;
  tf.dispose([images, views]);
  return data;
}

async function augmentBackends() {
  const pixels = testImages(batch, size);
  const results: Record<string, Float32Array> = {};
  for (const backend of backends) results[backend] = await viewsOn(backend, pixels);
  const [reference, ...others] = backends;
  const comparisons = others.map((other) => {
    let maxAbsDiff = 0;
    for (let i = 0; i < results[reference].length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(results[reference][i] - results[other][i]));
    }
    return { a: reference, b: other, maxAbsDiff, values: results[reference].length };
  });
  return { check, seed, batch, size, preset, all: params.get('all') === '1', comparisons };
}

async function augmentThroughput() {
  const pixels = testImages(batch, size);
  const rows = [];
  for (const backend of backends) {
    if (!(await tf.setBackend(backend))) {
      rows.push({ backend, error: 'not available' });
      continue;
    }
    await tf.ready();
    const images = tf.tensor4d(pixels, [batch, size, size, 3]);
    const rng = createRng(seed);
    const pipeline = everyOperatorPipeline();
    const once = async () => {
      const views = augmentViews(images, rng, pipeline, size);
      await views.data();
      views.dispose();
    };
    await once(); // warm-up: shader compilation
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      await once();
      times.push(performance.now() - t0);
    }
    images.dispose();
    times.sort((a, b) => a - b);
    const medianMs = times[Math.floor(times.length / 2)];
    rows.push({ backend, batch, size, preset, medianMs, imagesPerSecond: (batch * 1000) / medianMs, tensorsAfter: tf.memory().numTensors });
  }
  return { check, rows };
}

/** "256:128:0.1:1" → { twoN: 256, dim: 128, temperature: 0.1, normalize: true } */
function parseCases(text: string): NtXentCase[] {
  return text.split(',').map((item) => {
    const [twoN, dim, temperature, normalize] = item.split(':');
    return { twoN: Number(twoN), dim: Number(dim), temperature: Number(temperature), normalize: normalize !== '0' };
  });
}

async function ntxentFusedCheck() {
  const cases = parseCases(params.get('cases') ?? '2:2:0.5:1,6:8:0.1:1,130:16:0.01:1,130:16:0.5:0');
  const rows = await fusedAccuracy(cases, seed);
  const affinity = await fusedAffinityMatches(Number(params.get('affinityTwoN') ?? 70), 12, seed);
  return { check, seed, rows, affinity };
}

async function ntxentTimingCheck() {
  const sizes = (params.get('twoN') ?? '256,1024').split(',').map(Number);
  const dim = Number(params.get('dim') ?? 128);
  const rows = [];
  for (const backend of backends) for (const twoN of sizes) rows.push(await ntxentTiming(backend, twoN, dim, repeats, seed, Number(params.get('warmup') ?? 1)));
  return { check, rows };
}

async function kMeansCheck() {
  const matches = [];
  for (const backend of backends) matches.push(await kMeansMatches(backend, seed));
  const timing: Awaited<ReturnType<typeof kMeansTiming>>[] = [];
  if (params.get('timing') === '0') return { check, matches, timing };
  const [n, d, k] = [Number(params.get('n') ?? 4096), Number(params.get('d') ?? 32), Number(params.get('k') ?? 50)];
  for (const backend of backends) timing.push(await kMeansTiming(backend, n, d, k, seed));
  return { check, matches, timing };
}

/** ms per DCGAN and VAE step per backend at size × size × channels, width w; steps=, warmup= */
async function generatorsCheck() {
  const options = {
    size, channels: Number(params.get('channels') ?? 1), width: Number(params.get('width') ?? 8), batch,
    steps: Number(params.get('steps') ?? 5), warmup: Number(params.get('warmup') ?? 2),
  };
  const rows = [];
  for (const backend of backends) rows.push(await generatorTiming(backend, options));
  return { rows };
}

const statusEl = document.querySelector('[data-testid="check-status"]')!;
const resultEl = document.querySelector('[data-testid="check-result"]')!;
/** Each check by its `check=` name; a check module takes the page's URL parameters. */
const CHECKS: Record<string, () => Promise<unknown>> = {
  'augment-backends': augmentBackends,
  'augment-throughput': augmentThroughput,
  'ntxent-fused': ntxentFusedCheck,
  'ntxent-timing': ntxentTimingCheck,
  'ntxent-training': () => fusedTrainingMatches(Number(params.get('steps') ?? 8), seed),
  kmeans: kMeansCheck,
  'conv-kernels': async () => (await import('./convKernelChecks')).convKernelsCheck(params),
  'conv-timing': async () => (await import('./convKernelChecks')).convTimingCheck(params),
  'normpool-kernels': async () => (await import('./normPoolKernelChecks')).normPoolKernelsCheck(params),
  'normpool-timing': async () => (await import('./normPoolKernelChecks')).normPoolTimingCheck(params),
  generators: generatorsCheck,
  calibrate,
  'encoder-training': () => encoderTrainingMatches({
    steps: Number(params.get('steps') ?? 20), seed, width: Number(params.get('width') ?? 3), size: Number(params.get('size') ?? 16), batch: Number(params.get('batch') ?? 8),
  }),
  'step-profile': () => stepProfile({
    backend: params.get('backend') ?? 'webgpu', kernels: params.get('kernels') === 'stock' ? 'stock' : 'fused', batch, size, channels: Number(params.get('channels') ?? 1),
    width: Number(params.get('width') ?? 32), projectionDim: Number(params.get('zdim') ?? 128), repeats: Number(params.get('repeats') ?? 1), seed,
  }),
};
try {
  const run = CHECKS[check];
  if (!run) throw new Error(`no check named “${check}”; the checks are ${Object.keys(CHECKS).join(', ')}`);
  const result = await run();
  resultEl.textContent = JSON.stringify(result, null, 2);
  statusEl.textContent = 'done';
} catch (error) {
  resultEl.textContent = JSON.stringify({ check, error: error instanceof Error ? error.message : String(error) });
  statusEl.textContent = 'failed';
}
