import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { applyViews, sampleViewParams } from '../augment/augmentViews';
import { DEFAULT_CONFIG, withMethodDefaults, type ExperimentConfig } from '../core/config';
import { METHOD_CATALOG, METHOD_IDS, type MethodId } from '../core/methods';
import type { AugmentOperator } from '../core/pipeline';
import { createRng } from '../core/random';
import { ntXent } from '../loss/ntxent';
import { autoencoder } from '../methods/autoencoder';
import { autoregressive } from '../methods/autoregressive';
import { barlowTwins } from '../methods/barlowTwins';
import { byol } from '../methods/byol';
import { cmc } from '../methods/cmc';
import { cpc } from '../methods/cpc';
import { DEEPCLUSTER_FIT_MAX, deepcluster, encodeImages, ROUND_SALT, whitenAndNormalize, zcaWhitening } from '../methods/deepcluster';
import { kMeans, splitEmptyClusters } from '../methods/kmeans';
import { colorization } from '../methods/colorization';
import { inpainting } from '../methods/inpainting';
import { jigsaw } from '../methods/jigsaw';
import { relativePatch } from '../methods/relativePatch';
import { hammingPermutations } from '../methods/tiles';
import { exemplar } from '../methods/exemplar';
import { memoryBank } from '../methods/memoryBank';
import { pirl } from '../methods/pirl';
import type { SslMethod } from '../methods/method';
import { moco } from '../methods/moco';
import { rotation } from '../methods/rotation';
import { simsiam } from '../methods/simsiam';
import { EncoderNetwork } from '../model/encoderNetwork';
import { convToPytorch, denseToPytorch, encoderSafetensors, pytorchTensors } from './encoderWeights';
import { encodePng } from './png';
import {
  DEFAULT_PYTORCH_STEPS, PYTORCH_EXPORT_METHODS, PYTORCH_TRAIN_SCRIPT, pytorchConfig, pytorchExportFiles, pytorchExportProblem, pytorchExportZip,
  TFJS_ADAM, type PytorchConfig, type PytorchDatasetShape,
} from './pytorchExport';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors';

await tf.setBackend('cpu');

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const DRIVER = join(dirname(fileURLToPath(import.meta.url)), 'pytorch', 'parity_check.py');

let torchChecked = false;
/** A clear failure, not a skip, when the Python these tests run lacks PyTorch. */
function requireTorch(): void {
  if (torchChecked) return;
  const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy, PIL'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `These tests run ${PYTHON} with PyTorch, numpy and Pillow (apt-get install python3-torch python3-numpy python3-pil; ` +
        `.ci/run installs python3-torch; PYTHON=… picks another interpreter): ${probe.error?.message ?? probe.stderr}`,
    );
  }
  torchChecked = true;
}

/** Runs Python; its stdout, or an error carrying its stderr. */
function python(args: string[], options: { cwd?: string; timeout?: number } = {}): { stdout: string; stderr: string; status: number | null } {
  requireTorch();
  const run = spawnSync(PYTHON, args, { encoding: 'utf8', cwd: options.cwd, timeout: options.timeout ?? 25_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (run.error) throw new Error(`${PYTHON} ${args.join(' ')} failed to run: ${run.error.message}`);
  return { stdout: run.stdout, stderr: run.stderr, status: run.status };
}

function pythonOk(args: string[], options: { cwd?: string; timeout?: number } = {}): string {
  const run = python(args, options);
  if (run.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')} exited with ${run.status}:\n${run.stderr}\n${run.stdout}`);
  return run.stdout;
}

const jsonLines = (text: string) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

/** A free TCP port for the ranks' rendezvous (one run at a time may hold it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * torchrun is `python -m torch.distributed.run`; running it through PYTHON
 * keeps it on the interpreter that has torch. `--redirects 2 --tee 2`: torch
 * 1.13's launcher on Python 3.11 crashes on its default of 0 (Std.from_str
 * returns None: 3.11's IntFlag no longer iterates the 0 member); 2 sends the
 * workers' stderr to a log and the console, stdout stays as it is. The
 * launcher looks at its workers every monitor_interval (5 s by default): 0.2 s
 * ends the run soon after they do.
 */
async function torchrun(script: string, args: string[], cwd: string): Promise<string> {
  const port = await freePort();
  return pythonOk([
    '-m', 'torch.distributed.run', '--redirects', '2', '--tee', '2', '--monitor_interval', '0.2', '--nproc_per_node=2',
    '--master_addr=127.0.0.1', `--master_port=${port}`, script, ...args,
  ], { cwd, timeout: 28_000 });
}

function writeFiles(dir: string, files: Record<string, string | Uint8Array | undefined>): void {
  for (const [name, content] of Object.entries(files)) if (content !== undefined) writeFileSync(join(dir, name), content);
}

/** NHWC → NCHW, as PyTorch takes images. */
function toNchw(values: Float32Array, [n, h, w, c]: readonly number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    out[((b * c + k) * h + y) * w + x] = values[((b * h + y) * w + x) * c + k];
  }
  return out;
}

/** A small SimCLR experiment: grey 28 px, encoder width 4, MLP head to 16 dimensions. */
function smallConfig(overrides: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return { ...DEFAULT_CONFIG, seed: 5, encoderWidth: 4, projectionHead: 'mlp', projectionDim: 16, batchSize: 6, imageSize: 28, learningRate: 1e-3, ...overrides };
}

const GREY_28: PytorchDatasetShape = { imageSize: 28, channels: 1 };
/** The methods that need colour images (their f sees the lightness alone). */
const COLOUR_METHODS: readonly MethodId[] = ['colorization', 'cmc'];
const RGB_28: PytorchDatasetShape = { imageSize: 28, channels: 3 };

/**
 * Adam's ε in the two-view parity runs, set alike in the app's optimizer and
 * config.json (so train.py's reading of it is checked too). Adam's step
 * lr·g/(|g| + ε) turns the float32 rounding of an entry with |g| within a few
 * ε of 0 (a sum of terms that nearly cancel; two of f's last kernel here),
 * which no two programs share, into a step difference of up to lr·Δg/ε: with
 * tfjs's 1e-7 that was 5e-5 here, half the tolerance; at 1e-5, 100 times less.
 * The SimCLR run keeps tfjs's default.
 */
const PARITY_ADAM_EPSILON = 1e-5;

/** The app's method factories this file runs against train.py's (SimCLR has its own test). */
const APP_METHODS = {
  'memory-bank': memoryBank, moco, byol, simsiam, 'barlow-twins': barlowTwins, rotation, exemplar, autoencoder,
  'relative-patch': relativePatch, jigsaw, inpainting, colorization, cmc, pirl, cpc, autoregressive, deepcluster,
} as const;
type ParityMethod = keyof typeof APP_METHODS;

/**
 * A method's own trained variables (beyond f and g) under train.py's names,
 * in PyTorch's layouts: the predictor q (W₁, W₂ transposed to [out, in]), a
 * pretext task's classifier head (W [in, K] → [K, in]) or the autoencoder's
 * decoder (dense [h, cells] → [cells, h]; each filter [k, k, out, in] →
 * ConvTranspose2d's [in, out, k, k]).
 */
async function ownTensors(id: ParityMethod, own: tf.Variable[]): Promise<NamedTensor[]> {
  if (own.length === 0) return [];
  const data = await Promise.all(own.map(async (v) => (await v.data()) as Float32Array));
  const shapes = own.map((v) => v.shape);
  if (id === 'rotation' || id === 'exemplar' || id === 'deepcluster') {
    const [inDim, classes] = shapes[0];
    return [
      { name: 'classifier.weight', dtype: 'F32', shape: [classes, inDim], data: denseToPytorch(data[0], [inDim, classes]) },
      { name: 'classifier.bias', dtype: 'F32', shape: [classes], data: data[1] },
    ];
  }
  if (id === 'autoregressive') {
    // the two PixelCNNs, conditional then unconditional: per masked layer the kernel [k, k, C_in, F] → [F, C_in, k, k], b and
    // (conditional) V [h, F] → [F, h]; then the 1×1 output [F, C·B] → [C·B, F] and its bias
    const out: NamedTensor[] = [];
    let i = 0;
    for (const model of ['conditional', 'unconditional']) {
      for (let l = 0; l < 4; l++) {
        const [k, , cin, f] = shapes[i];
        out.push(
          { name: `${model}.convs.${l}.weight`, dtype: 'F32', shape: [f, cin, k, k], data: convToPytorch(data[i], shapes[i]) },
          { name: `${model}.convs.${l}.bias`, dtype: 'F32', shape: [f], data: data[i + 1] },
        );
        i += 2;
        if (model === 'conditional') {
          const [hDim] = shapes[i];
          out.push({ name: `${model}.conditions.${l}.weight`, dtype: 'F32', shape: [f, hDim], data: denseToPytorch(data[i], [hDim, f]) });
          i += 1;
        }
      }
      const [f, outputs] = shapes[i];
      out.push(
        { name: `${model}.out.weight`, dtype: 'F32', shape: [outputs, f], data: denseToPytorch(data[i], [f, outputs]) },
        { name: `${model}.out.bias`, dtype: 'F32', shape: [outputs], data: data[i + 1] },
      );
      i += 2;
    }
    return out;
  }
  if (id === 'cpc') {
    // the context network: W_c [2d, d] and b_c, then W_1 … W_K [d, d]
    const [inDim, dim] = shapes[0];
    return [
      { name: 'context.layer.weight', dtype: 'F32', shape: [dim, inDim], data: denseToPytorch(data[0], [inDim, dim]) },
      { name: 'context.layer.bias', dtype: 'F32', shape: [dim], data: data[1] },
      ...data.slice(2).map((w, k): NamedTensor => ({ name: `context.predictors.${k}.weight`, dtype: 'F32', shape: [dim, dim], data: denseToPytorch(w, [dim, dim]) })),
    ];
  }
  if (id === 'pirl') {
    // the tiles' head: a ClassifierHead [9h, d]
    const [inDim, dim] = shapes[0];
    return [
      { name: 'tiles_head.weight', dtype: 'F32', shape: [dim, inDim], data: denseToPytorch(data[0], [inDim, dim]) },
      { name: 'tiles_head.bias', dtype: 'F32', shape: [dim], data: data[1] },
    ];
  }
  if (id === 'relative-patch' || id === 'jigsaw') {
    // FusionHead: the fusion layer [in, hidden] and the classifier [hidden, K], each W then b
    const [inDim, hidden] = shapes[0] as [number, number];
    const classes = shapes[2][1] as number;
    return [
      { name: 'head.fusion.weight', dtype: 'F32', shape: [hidden, inDim], data: denseToPytorch(data[0], [inDim, hidden]) },
      { name: 'head.fusion.bias', dtype: 'F32', shape: [hidden], data: data[1] },
      { name: 'head.classifier.weight', dtype: 'F32', shape: [classes, hidden], data: denseToPytorch(data[2], [hidden, classes]) },
      { name: 'head.classifier.bias', dtype: 'F32', shape: [classes], data: data[3] },
    ];
  }
  if (id === 'inpainting' || id === 'colorization') {
    // MapDecoder: dense h → hidden, dense hidden → g·g·16, the per-cell layer 16 → Q; each W [in, out] then b
    const prefix = id === 'inpainting' ? 'decoder' : 'head';
    return ['layer1', 'layer2', 'cell'].flatMap((layer, i) => {
      const [inDim, outDim] = shapes[2 * i] as [number, number];
      return [
        { name: `${prefix}.${layer}.weight`, dtype: 'F32' as const, shape: [outDim, inDim], data: denseToPytorch(data[2 * i], [inDim, outDim]) },
        { name: `${prefix}.${layer}.bias`, dtype: 'F32' as const, shape: [outDim], data: data[2 * i + 1] },
      ];
    });
  }
  if (id === 'autoencoder') {
    const [hDim, cells] = shapes[0];
    const out: NamedTensor[] = [
      { name: 'decoder.dense.weight', dtype: 'F32', shape: [cells, hDim], data: denseToPytorch(data[0], [hDim, cells]) },
      { name: 'decoder.dense.bias', dtype: 'F32', shape: [cells], data: data[1] },
    ];
    for (let i = 0; 2 + 2 * i < own.length; i++) {
      const [k, , outC, inC] = shapes[2 + 2 * i];
      out.push(
        { name: `decoder.layers.${i}.weight`, dtype: 'F32', shape: [inC, outC, k, k], data: convToPytorch(data[2 + 2 * i], shapes[2 + 2 * i]) },
        { name: `decoder.layers.${i}.bias`, dtype: 'F32', shape: [outC], data: data[3 + 2 * i] },
      );
    }
    return out;
  }
  const [w1, gamma, beta, w2, b2] = data;
  const [dim, hidden] = shapes[0];
  return [
    { name: 'predictor.layer1.weight', dtype: 'F32', shape: [hidden, dim], data: denseToPytorch(w1, [dim, hidden]) },
    { name: 'predictor.bn.weight', dtype: 'F32', shape: [hidden], data: gamma },
    { name: 'predictor.bn.bias', dtype: 'F32', shape: [hidden], data: beta },
    { name: 'predictor.layer2.weight', dtype: 'F32', shape: [dim, hidden], data: denseToPytorch(w2, [hidden, dim]) },
    { name: 'predictor.layer2.bias', dtype: 'F32', shape: [dim], data: b2 },
  ];
}

/**
 * The method's whole state under train.py's names: f and g (online.), its
 * own trained variables (ownTensors: predictor., classifier., decoder.), the
 * key encoder or target (key_network., target.: read from saveState, where
 * the app keeps them), the queue and the memory bank; with MoCo's pointer.
 */
async function appMethodState(method: SslMethod, network: EncoderNetwork): Promise<{ tensors: NamedTensor[]; pointer: number | null }> {
  const tensors = (await pytorchTensors(network)).map((t) => ({ ...t, name: `online.${t.name}` }));
  // a pretext task trains f without g: what is not the network's is the method's own
  if (method.id !== 'cmc') tensors.push(...(await ownTensors(method.id as ParityMethod, method.trainableVariables.filter((v) => !network.trainableVariables.includes(v)))));
  const state = await method.saveState();
  for (const [appName, name] of [['keyNetwork', 'key_network'], ['target', 'target']] as const) {
    if (!state.arrays[`${appName}.0`]) continue;
    // a network of the same architecture holding the saved variables, to lay them out as pytorchTensors does
    const shadow = new EncoderNetwork(network.config);
    shadow.allVariables.forEach((v, i) => {
      const saved = state.arrays[`${appName}.${i}`];
      tf.tidy(() => v.assign(tf.tensor(saved.data as Float32Array, saved.shape)));
    });
    tensors.push(...(await pytorchTensors(shadow)).map((t) => ({ ...t, name: `${name}.${t.name}` })));
    shadow.dispose();
  }
  if (state.arrays['abRunning.0']) {
    // CMC's f_ab: its trained variables (the method's own, after f and g's) and its running statistics (saveState), laid out as f's
    const own = method.trainableVariables.filter((v) => !network.trainableVariables.includes(v));
    const shadow = new EncoderNetwork({ ...network.config, channels: 2 });
    shadow.trainableVariables.forEach((v, i) => v.assign(own[i]));
    shadow.runningStatistics.forEach((v, i) => {
      const saved = state.arrays[`abRunning.${i}`];
      tf.tidy(() => v.assign(tf.tensor(saved.data as Float32Array, saved.shape)));
    });
    tensors.push(...(await pytorchTensors(shadow)).map((t) => ({ ...t, name: `ab_network.${t.name}` })));
    shadow.dispose();
  }
  for (const name of ['queue', 'bank'] as const) {
    const array = state.arrays[name];
    if (array) tensors.push({ name, dtype: 'F32', shape: array.shape, data: array.data as Float32Array });
  }
  // DeepCluster's pseudo-labels (int32 in the app, int64 in train.py), compared as numbers
  const labels = state.arrays.assignments;
  if (labels) tensors.push({ name: 'assignments', dtype: 'F32', shape: labels.shape, data: Float32Array.from(labels.data as Int32Array) });
  return { tensors, pointer: typeof state.values.pointer === 'number' ? state.values.pointer : null };
}

/**
 * The app's method on tfjs's cpu backend, as the Trainer runs it, for `steps`
 * steps on views of its own (so augmentation is out of it): forward inside
 * tf.variableGrads, one Adam update, afterUpdate. Its f and g are a seed-9
 * network whose running statistics one training-mode pass has moved (a trained
 * encoder, as --init loads it); the method is built for the config's seed 5.
 * The views per image are the catalog's (trainStep: one for RotNet and the
 * autoencoder); each step's training indices are `indices[s]` (0…N−1 when
 * not given). DeepCluster gets training images of k distinct patterns
 * (deepclusterPattern: identical features within a cluster, so no point lies
 * near a boundary that float32 rounding could move it across), its
 * first round's centroids computed beside it by the app's own functions, and
 * its head trained by an Adam of its own, rebuilt at each round, as the
 * Trainer's applyGradients does. Returns the encoder file, and the views,
 * indices, losses and states for the driver.
 */
/** The pattern DeepCluster's parity image i shows: i mod (k + 1), the last pattern twice as often, so the clusters' sizes (and the loss's weights) differ. */
const deepclusterPattern = (i: number, k: number) => Math.min(i % (k + 1), k - 1);

async function appMethodRun(config: ExperimentConfig, steps: number, trainCount: number, indices?: number[][]) {
  const n = config.batchSize;
  const rng = createRng(31);
  // colour views for colorization (its f sees the lightness alone: encoderChannels), grey for the others
  const channels = COLOUR_METHODS.includes(config.method) ? 3 : 1;
  const fChannels = METHOD_CATALOG[config.method].encoderChannels ?? channels;
  const shape = [2 * n, 28, 28, fChannels] as const;
  const viewShape = [(METHOD_CATALOG[config.method].views ?? 2) * n, 28, 28, channels] as const;
  const pixels = (dims: readonly number[] = shape) => Float32Array.from({ length: dims.reduce((a, b) => a * b) }, () => rng());
  const { encoderWidth, projectionHead, projectionDim } = config;
  const network = new EncoderNetwork({ channels: fChannels, encoderWidth, projectionHead, projectionDim, seed: 9 });
  tf.tidy(() => { network.encode(tf.tensor4d(pixels(), [...shape]), true); });
  const init = await encoderSafetensors(network, { method: config.method, step: 3, dataset: 'test', imageSize: 28 });
  const groups = config.method === 'deepcluster' ? config.clusterCount : 0;
  let trainImages = tf.zeros([1, 28, 28, channels]) as tf.Tensor4D;
  const clusterOut: NamedTensor[] = [];
  if (groups > 0) {
    const perImage = 28 * 28 * channels;
    const patterns = Array.from({ length: groups }, () => pixels([28, 28, channels]));
    const values = new Float32Array(trainCount * perImage);
    for (let i = 0; i < trainCount; i++) values.set(patterns[deepclusterPattern(i, groups)], i * perImage);
    trainImages.dispose();
    trainImages = tf.tensor4d(values, [trainCount, 28, 28, channels]);
    clusterOut.push({ name: 'train_images', dtype: 'F32', shape: [trainCount, channels, 28, 28], data: toNchw(values, [trainCount, 28, 28, channels]) });
    // the centroids of a fit on all the images (beyond DEEPCLUSTER_FIT_MAX the fit is on a sample, and only the labels are compared)
    if (trainCount <= DEEPCLUSTER_FIT_MAX) {
      const centroids = tf.tidy(() => {
        const h = encodeImages(network, trainImages, config.imageSize);
        const { mean, transform } = zcaWhitening(h);
        return kMeans(whitenAndNormalize(h, mean, transform), groups, createRng((config.seed ^ ROUND_SALT) >>> 0)).centroids;
      });
      clusterOut.push({ name: 'app.centroids', dtype: 'F32', shape: centroids.shape, data: (await centroids.data()) as Float32Array });
      centroids.dispose();
    }
  }
  const method = APP_METHODS[config.method as ParityMethod].create({ network, config, trainCount, channels, trainImages });
  const initial = await appMethodState(method, network);
  const out: NamedTensor[] = [...clusterOut, ...initial.tensors.filter((t) => !t.name.startsWith('online.')).map((t) => ({ ...t, name: `app.initial.${t.name}` }))];
  const pointers: (number | null)[] = [];
  const adam = () => tf.train.adam(config.learningRate, TFJS_ADAM.beta1, TFJS_ADAM.beta2, PARITY_ADAM_EPSILON);
  const optimizer: tf.Optimizer = adam();
  const restarted = method.restartedVariables;
  let restartedOptimizer: tf.Optimizer | null = null;
  let restartsSeen = -1;
  for (let s = 0; s < steps; s++) {
    const values = pixels(viewShape);
    const views = tf.tensor4d(values, [...viewShape]);
    const batch = { views, indices: Int32Array.from(indices?.[s] ?? Array.from({ length: n }, (_, i) => i)), n };
    const { value: loss, grads } = tf.variableGrads(() => method.forward(batch, { config, capture: false, lossPath: 'composed' }).loss, method.trainableVariables);
    if (restarted) {
      const names = new Set(restarted.variables.map((v) => v.name));
      const own: tf.NamedTensorMap = {};
      const rest: tf.NamedTensorMap = {};
      for (const [name, grad] of Object.entries(grads)) (names.has(name) ? own : rest)[name] = grad;
      if (!restartedOptimizer || restarted.restarts() !== restartsSeen) {
        restartedOptimizer?.dispose();
        restartedOptimizer = adam();
        restartsSeen = restarted.restarts();
      }
      optimizer.applyGradients(rest);
      restartedOptimizer.applyGradients(own);
    } else {
      optimizer.applyGradients(grads);
    }
    await method.afterUpdate(batch, config);
    const after = await appMethodState(method, network);
    out.push(
      { name: `views.${s}`, dtype: 'F32', shape: [viewShape[0], channels, 28, 28], data: toNchw(values, viewShape) },
      { name: `indices.${s}`, dtype: 'F32', shape: [n], data: Float32Array.from(batch.indices) },
      { name: `app.loss.${s}`, dtype: 'F32', shape: [], data: (await loss.data()) as Float32Array },
      ...after.tensors.map((t) => ({ ...t, name: `app.after.${s}.${t.name}` })),
    );
    pointers.push(after.pointer);
    tf.dispose([views, loss, ...Object.values(grads)]);
  }
  optimizer.dispose();
  restartedOptimizer?.dispose();
  method.dispose();
  network.dispose();
  trainImages.dispose();
  return { init, steps: encodeSafetensors(out, { steps: String(steps), train_count: String(trainCount) }), initial, pointers };
}

interface MethodParity {
  initial_names: string[];
  initial: Record<string, number>;
  /** DeepCluster: the first round's centroids against the app's */
  centroids?: number;
  steps: { loss: number; app_loss: number; names_match: boolean; after: Record<string, number>; worst: string | null; moved: Record<string, number>; pointer: number | null }[];
}

/**
 * Small experiments for the parity runs: momentum 0.5, so the moving
 * averages move visibly in two steps. BYOL, SimSiam and Barlow Twins train
 * without a head g (z = h, so d = 32): their losses do not change when a
 * constant is added to g's output (batch standardization, or the predictor's
 * batch norm), so g's last bias (and the first layer's bias of a unit active on
 * every image) have a gradient of exactly zero in exact arithmetic and of
 * rounding noise (~1e-6) in float32, which Adam scales up to a step of ±lr in
 * either program alike. Those steps cannot agree; without g there are none, and
 * the head itself is checked by SimCLR's, MoCo's and the memory bank's runs.
 * The pretext tasks keep g (untrained, it must stay as it was); the
 * autoencoder denoises, so the app's noise stream is compared too.
 */
const PARITY_CONFIGS: Record<ParityMethod, ExperimentConfig> = {
  'memory-bank': smallConfig({ method: 'memory-bank', temperature: 0.1, bankMomentum: 0.5 }),
  moco: smallConfig({ method: 'moco', temperature: 0.2, queueSize: 10, momentum: 0.5 }),
  byol: smallConfig({ method: 'byol', projectionHead: 'none', momentum: 0.5, predictorHidden: 8, usePredictor: true, emaTarget: true }),
  simsiam: smallConfig({ method: 'simsiam', projectionHead: 'none', predictorHidden: 8, stopGradient: true }),
  'barlow-twins': smallConfig({ method: 'barlow-twins', projectionHead: 'none', barlowLambda: 0.05 }),
  rotation: smallConfig({ method: 'rotation' }),
  exemplar: smallConfig({ method: 'exemplar', exemplarCount: 5 }),
  autoencoder: smallConfig({ method: 'autoencoder', denoise: true }),
  'relative-patch': smallConfig({ method: 'relative-patch' }),
  jigsaw: smallConfig({ method: 'jigsaw', jigsawPermutations: 10 }),
  inpainting: smallConfig({ method: 'inpainting', inpaintMask: 'random' }),
  colorization: smallConfig({ method: 'colorization', colorizationMode: 'classification' }),
  cmc: smallConfig({ method: 'cmc', temperature: 0.2 }),
  pirl: smallConfig({ method: 'pirl', temperature: 0.1, bankMomentum: 0.5, pirlLambda: 0.3 }),
  cpc: smallConfig({ method: 'cpc' }),
  // N = 2: tfjs's cpu conv2d gradients of the two PixelCNNs' 7×7 layers take most of the run (8 s at N = 6, 4 s at 2)
  autoregressive: smallConfig({ method: 'autoregressive', batchSize: 2 }),
  // 4 clusters of the 40 images (8, 8, 8 and 16), a round after step 2: step 3 trains the fresh head with a fresh Adam
  deepcluster: smallConfig({ method: 'deepcluster', clusterCount: 4, clusterEvery: 2 }),
};

/**
 * Each step's training indices, where the method reads them: the memory
 * bank's rows among 40 (image 3 twice in the first batch, as in a batch
 * across an epoch's end: its entry is written once, from its first row; 3
 * and 7 again in the second, so a written entry is written again) and the
 * exemplars' classes among K = 5.
 */
const PARITY_INDICES: Partial<Record<ParityMethod, number[][]>> = {
  'memory-bank': [[7, 3, 12, 3, 30, 0], [3, 39, 7, 21, 5, 16]],
  exemplar: [[4, 0, 2, 2, 1, 3], [1, 3, 0, 4, 2, 0]],
  pirl: [[7, 3, 12, 3, 30, 0], [3, 39, 7, 21, 5, 16]],
  deepcluster: [[7, 3, 12, 3, 30, 0], [3, 39, 7, 21, 5, 16], [0, 1, 2, 5, 10, 15]],
};

/** What the method keeps beside f and g, by train.py's first name part. */
const OWN_PARTS: Record<ParityMethod, string[]> = {
  'memory-bank': ['bank'],
  moco: ['key_network', 'queue'],
  byol: ['predictor', 'target'],
  simsiam: ['predictor'],
  'barlow-twins': [],
  rotation: ['classifier'],
  exemplar: ['classifier'],
  autoencoder: ['decoder'],
  'relative-patch': ['head'],
  jigsaw: ['head'],
  inpainting: ['decoder'],
  colorization: ['head'],
  cmc: ['ab_network'],
  pirl: ['bank', 'tiles_head'],
  cpc: ['context'],
  autoregressive: ['conditional', 'unconditional'],
  deepcluster: ['assignments', 'classifier'],
};

/** Steps of the parity runs: 2, and DeepCluster's 3 (a round after the second, then a step of the fresh head). */
const PARITY_STEPS: Partial<Record<ParityMethod, number>> = { deepcluster: 3 };

/** Runs the app's method and train.py's on the same views from the same state, two steps; the driver's JSON. */
async function methodParity(
  method: ParityMethod, overrides: Partial<ExperimentConfig> = {}, run: { steps?: number; trainCount?: number; indices?: number[][] } = {},
): Promise<{ out: MethodParity; app: Awaited<ReturnType<typeof appMethodRun>> }> {
  const config = { ...PARITY_CONFIGS[method], ...overrides };
  const app = await appMethodRun(config, run.steps ?? PARITY_STEPS[method] ?? 2, run.trainCount ?? 40, run.indices ?? PARITY_INDICES[method]);
  const dir = mkdtempSync(join(tmpdir(), `ssp-pytorch-${method}-`));
  const files = pytorchExportFiles(config, COLOUR_METHODS.includes(method) ? RGB_28 : GREY_28, { encoder: app.init });
  const cfg = JSON.parse(files['config.json']) as PytorchConfig;
  writeFiles(dir, { ...files, 'config.json': JSON.stringify({ ...cfg, optimizer: { ...cfg.optimizer, epsilon: PARITY_ADAM_EPSILON } }), 'steps.safetensors': app.steps });
  const out = JSON.parse(pythonOk([DRIVER, 'method', dir, join(dir, 'config.json'), join(dir, 'encoder.safetensors'), join(dir, 'steps.safetensors')])) as MethodParity;
  return { out, app };
}

/** The checks every method shares: the method's own initial state, each step's loss, and every tensor after each step. */
function expectParity(method: ParityMethod, out: MethodParity): void {
  expect(Object.keys(out.initial).sort(), 'initial state').toEqual(OWN_PARTS[method]);
  for (const [group, diff] of Object.entries(out.initial)) expect(diff, `initial ${group}`).toBeLessThan(1e-6);
  expect(out.steps).toHaveLength(PARITY_STEPS[method] ?? 2);
  out.steps.forEach((step, s) => {
    expect(step.names_match, `step ${s + 1}: the same tensors`).toBe(true);
    expect(Math.abs(step.loss - step.app_loss), `step ${s + 1} loss ${step.loss} vs ${step.app_loss}`).toBeLessThan(1e-4);
    expect(Object.keys(step.after).sort()).toEqual(['online', ...OWN_PARTS[method]].sort());
    for (const [group, diff] of Object.entries(step.after)) expect(diff, `step ${s + 1} ${group} (worst: ${step.worst})`).toBeLessThan(1e-4);
    // each compared part did move in the step, so the comparison above is not of untouched starting values
    // (DeepCluster's pseudo-labels change only in a round, and may come out the same: its own test checks them)
    for (const [group, moved] of Object.entries(step.moved)) if (group !== 'assignments') expect(moved, `step ${s + 1}: ${group} moved`).toBeGreaterThan(2e-4);
  });
}

describe('the PyTorch export’s files', () => {
  it('config.json carries every setting train.py reads, and nothing of the dataset but its image shape', () => {
    const config: ExperimentConfig = {
      ...DEFAULT_CONFIG, dataset: 'upload:Secret_Holiday_42', seed: 7, batchSize: 64, learningRate: 0.002, temperature: 0.2,
      normalize: false, imageSize: 24, encoderWidth: 8, projectionHead: 'linear', projectionDim: 32,
    };
    // the whole dataset object, as the caller may hold it: only the shape may leave
    const dataset = {
      imageSize: 32, channels: 3 as const, name: 'Alice’s holiday photos', classNames: ['alice-at-home', 'bob-at-sea'],
      train: { images: new Uint8Array([201, 202, 203]), labels: new Int32Array([0]), count: 1 },
    };
    const cfg = pytorchConfig(config, dataset, { steps: 250 });
    expect(cfg).toEqual({
      format: 'ssl-playground-pytorch-config', version: 2, method: 'simclr', seed: 7, steps: 250, batch_size: 64, learning_rate: 0.002,
      optimizer: { name: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      method_settings: { temperature: 0.2, normalize: false },
      model: { in_channels: 3, encoder_width: 8, projection_head: 'linear', projection_dim: 32, batch_norm: { momentum: 0.1, epsilon: 1e-5 } },
      data: { image_size: 32, channels: 3, source: 'upload' },
      view_size: 24,
      augmentation: DEFAULT_CONFIG.augmentation.operators,
    });
    const text = JSON.stringify(cfg);
    for (const secret of ['Secret_Holiday_42', 'Alice', 'alice-at-home', 'bob-at-sea', '201']) expect(text).not.toContain(secret);
    // a built-in dataset is named; a run that has not trained gets the default step count
    expect(pytorchConfig({ ...config, dataset: 'fashion-mnist' }, GREY_28).data).toEqual({ image_size: 28, channels: 1, source: 'fashion-mnist' });
    expect(pytorchConfig(config, GREY_28, { steps: 0 }).steps).toBe(DEFAULT_PYTORCH_STEPS);
    expect(() => pytorchConfig(config, { imageSize: 0, channels: 1 })).toThrow(/image size \(0\)/);
  });

  it('every method of the catalog is covered; a method id the app does not know gets the message, and no files', () => {
    expect(PYTORCH_EXPORT_METHODS).toEqual([
      'simclr', 'memory-bank', 'moco', 'byol', 'simsiam', 'barlow-twins', 'rotation', 'exemplar', 'autoencoder', 'relative-patch', 'jigsaw', 'inpainting', 'colorization',
      'cmc', 'pirl', 'cpc', 'autoregressive', 'deepcluster',
    ]);
    expect([...PYTORCH_EXPORT_METHODS].sort()).toEqual([...METHOD_IDS].sort());
    for (const method of PYTORCH_EXPORT_METHODS) expect(pytorchExportProblem(withMethodDefaults(smallConfig({ method }))), method).toBeNull();
    // a config from elsewhere (another version of the app, a hand-edited URL) naming a method this app has not: named as it came
    const covered = 'PyTorch export covers SimCLR, Memory bank (InstDisc), MoCo v2, BYOL, SimSiam, Barlow Twins, Rotation (RotNet), Exemplar CNN, Autoencoder, '
      + `${METHOD_CATALOG['relative-patch'].label}, ${METHOD_CATALOG.jigsaw.label}, ${METHOD_CATALOG.inpainting.label}, ${METHOD_CATALOG.colorization.label}, CMC, PIRL, `
      + `${METHOD_CATALOG.cpc.label}, ${METHOD_CATALOG.autoregressive.label}, DeepCluster so far`;
    const unknown = smallConfig({ method: 'swav' as MethodId });
    expect(pytorchExportProblem(unknown)).toBe(`${covered}; swav is not covered yet`);
    expect(() => pytorchExportFiles(unknown, GREY_28)).toThrow(`${covered}; swav is not covered yet`);
    const broken = smallConfig({ augmentation: { operators: [{ kind: 'blur', enabled: true, p: 0.5, sigma: [2, 1] }] } });
    expect(pytorchExportProblem(broken)).toMatch(/^The augmentation pipeline needs fixing.*Gaussian blur: σ min \(2\) is greater than max \(1\)/);
  });

  it('writes train.py, config.json and README.md, and the encoder’s bytes unchanged when given', () => {
    const config = smallConfig({ batchSize: 64 });
    const files = pytorchExportFiles(config, GREY_28, { steps: 120 });
    expect(Object.keys(files).sort()).toEqual(['README.md', 'config.json', 'train.py']);
    expect(files['train.py']).toBe(PYTORCH_TRAIN_SCRIPT);
    expect(files['train.py'].startsWith('#!/usr/bin/env python3\n')).toBe(true);
    expect(files['train.py']).toContain("METHODS = {'simclr': SimCLR, 'memory-bank': MemoryBank, 'moco': MoCo, 'byol': BYOL, 'simsiam': SimSiam,\n"
      + "           'barlow-twins': BarlowTwins, 'rotation': RotNet, 'exemplar': Exemplar, 'autoencoder': Autoencoder,\n"
      + "           'relative-patch': RelativePatch, 'jigsaw': Jigsaw, 'inpainting': Inpainting, 'colorization': Colorization,\n"
      + "           'cmc': CMC, 'pirl': PIRL, 'cpc': CPC, 'autoregressive': Autoregressive, 'deepcluster': DeepCluster}");
    expect(JSON.parse(files['config.json'])).toEqual(pytorchConfig(config, GREY_28, { steps: 120 }));
    expect(files['README.md']).toContain('torchrun --nproc_per_node=K train.py --config config.json --data DIR');
    expect(files['README.md']).toContain('the global batch is K × 64');
    expect(files['README.md']).not.toContain('--init');
    const encoder = Uint8Array.from([1, 2, 3, 4]);
    const withEncoder = pytorchExportFiles(config, GREY_28, { encoder });
    expect(withEncoder['encoder.safetensors']).toBe(encoder);
    expect(withEncoder['README.md']).toContain('python train.py --config config.json --data DIR --init encoder.safetensors');
  });

  it('each covered method exports exactly the settings it reads, in snake_case, and a README that says what it keeps', () => {
    const base = smallConfig({
      temperature: 0.3, normalize: false, queueSize: 512, momentum: 0.95, predictorHidden: 24, usePredictor: false, emaTarget: true,
      stopGradient: false, barlowLambda: 0.02, bankMomentum: 0.6, exemplarCount: 300, denoise: true, jigsawPermutations: 24,
      inpaintMask: 'random', colorizationMode: 'classification', pirlLambda: 0.25, clusterCount: 30, clusterEvery: 40,
    });
    const expected: Record<string, Record<string, number | boolean | string>> = {
      simclr: { temperature: 0.3, normalize: false },
      moco: { temperature: 0.3, queue_size: 512, momentum: 0.95 },
      byol: { momentum: 0.95, predictor_hidden: 24, use_predictor: false, ema_target: true },
      simsiam: { predictor_hidden: 24, stop_gradient: false },
      'barlow-twins': { barlow_lambda: 0.02 },
      'memory-bank': { temperature: 0.3, bank_momentum: 0.6 },
      rotation: {},
      exemplar: { exemplar_count: 300 },
      autoencoder: { denoise: true },
      'relative-patch': {},
      jigsaw: { jigsaw_permutations: 24 },
      inpainting: { inpaint_mask: 'random' },
      colorization: { colorization_mode: 'classification' },
      cmc: { temperature: 0.3 },
      pirl: { temperature: 0.3, bank_momentum: 0.6, pirl_lambda: 0.25 },
      cpc: {},
      autoregressive: {},
      deepcluster: { cluster_count: 30, cluster_every: 40 },
    };
    expect(Object.keys(expected).sort()).toEqual([...PYTORCH_EXPORT_METHODS].sort());
    for (const method of PYTORCH_EXPORT_METHODS) {
      const cfg = pytorchConfig({ ...base, method }, COLOUR_METHODS.includes(method) ? RGB_28 : GREY_28);
      expect(cfg.method, method).toBe(method);
      expect(cfg.method_settings, method).toEqual(expected[method]);
    }
    // what each keeps, and what --init leaves to the method: f and g are loaded, its own parts start as the method starts them
    // paragraphs are wrapped at 115 characters: read them as one line
    const readme = (method: MethodId, encoder: boolean, overrides: Partial<ExperimentConfig> = {}) =>
      pytorchExportFiles({ ...base, method, ...overrides }, COLOUR_METHODS.includes(method) ? RGB_28 : GREY_28, encoder ? { encoder: Uint8Array.of(1) } : {})['README.md'].replace(/\s*\n\s*/g, ' ');
    expect(readme('moco', true)).toContain('MoCo v2 keeps a key encoder and a queue. The key encoder is a moving average of f and g (momentum m = 0.95, batch-norm running statistics included)');
    expect(readme('moco', true)).toContain('The queue holds 512 keys');
    expect(readme('moco', true)).toContain('It loads f and g only: the key encoder starts as a copy of the loaded f and g and the queue as the random unit vectors of the seed');
    expect(readme('moco', false)).toContain('the keys of all processes are gathered and enqueued, so every process holds the same queue');
    expect(readme('moco', false)).not.toContain('It loads f and g only');
    expect(readme('byol', true)).toContain('BYOL keeps a target network and a predictor q (24 hidden units). The target is a moving average of f and g (momentum m = 0.95');
    expect(readme('byol', true)).toContain('Predictor q: off; target = moving average: on');
    expect(readme('byol', true)).toContain('It loads f and g only: the target starts as a copy of the loaded f and g and the predictor q from the seed');
    expect(readme('simsiam', true)).toContain('SimSiam keeps a predictor q (24 hidden units)');
    expect(readme('simsiam', true)).toContain('Stop-gradient on the target: off.');
    expect(readme('simsiam', true)).toContain('It loads f and g only: the predictor q starts from the seed');
    expect(readme('barlow-twins', true)).toContain('Barlow Twins keeps nothing beside f and g; λ = 0.02.');
    expect(readme('barlow-twins', false)).toContain('the cross-correlation C are over the global batch');
    expect(readme('barlow-twins', true)).toContain('It loads f and g only.');
    expect(readme('simclr', false)).toContain('(τ = 0.3, L2-normalized z: off)');
    expect(readme('memory-bank', true)).toContain('The memory bank (InstDisc) keeps a bank of one unit vector per training image');
    expect(readme('memory-bank', true)).toContain('softmax at τ = 0.3');
    expect(readme('memory-bank', true)).toContain('normalize(m · entry + (1 − m) · the two views\' mean unit feature), m = 0.6');
    expect(readme('memory-bank', true)).toContain('It loads f and g only: the bank starts as the random unit vectors of the seed');
    expect(readme('memory-bank', false)).toContain('every process writes the K × N entries of the global batch, so the banks stay identical');
    expect(readme('rotation', true)).toContain('RotNet keeps a linear head on h that names the rotation');
    expect(readme('rotation', true)).toContain('It loads f and g only: the rotation head starts from the seed');
    expect(readme('exemplar', true)).toContain('Exemplar CNN takes the first 300 images of the ImageFolder');
    expect(readme('exemplar', false)).toContain('Every process draws its share of the same pool of exemplars');
    expect(readme('autoencoder', true)).toContain('Denoising: on (f sees the view under Gaussian noise of σ 0.2, the same noise as the app\'s for the seed');
    expect(readme('autoencoder', true)).toContain('It loads f and g only: the decoder starts from the seed');
    expect(readme('autoencoder', false)).toContain('each process draws its own noise');
    expect(pytorchExportFiles({ ...base, method: 'autoencoder', denoise: false }, GREY_28)['README.md'].replace(/\s*\n\s*/g, ' ')).toContain('Denoising: off. g plays no part');
    expect(readme('relative-patch', true)).toContain('Relative patch location keeps a head that names where a neighbour patch sat around the centre patch');
    expect(readme('relative-patch', true)).toContain('It loads f and g only: the head starts from the seed');
    expect(readme('relative-patch', false)).toContain('Every process draws the jitter of the K × N views of the step from the same seeded stream');
    expect(readme('jigsaw', true)).toContain('The jigsaw keeps 24 fixed permutations of the 3×3 tiles (the app\'s greedy maximal-Hamming-distance set, recomputed)');
    expect(readme('inpainting', true)).toContain('Masked region: a square at a random place, drawn from the app\'s seeded stream');
    expect(readme('inpainting', true, { inpaintMask: 'central' })).toContain('Masked region: the central square; it is filled with the batch\'s mean visible colour');
    expect(readme('inpainting', false)).toContain('the fill colour is the mean over the global batch');
    expect(readme('colorization', true)).toContain('Colour head: classification over the ab bins of side 10 that sRGB reaches');
    expect(readme('colorization', true, { colorizationMode: 'regression' })).toContain('Colour head: regression of a/110 and b/110');
    expect(readme('colorization', true)).toContain('It loads f and g only: the colour head starts from the seed');
    // colorization on grey images: the app's own refusal, before any file is written
    const grey = 'Colorization needs colour images: this dataset is greyscale, so there is no colour for the head to predict from the lightness.';
    expect(() => pytorchExportFiles({ ...base, method: 'colorization' }, GREY_28)).toThrow(grey);
    expect(pytorchConfig({ ...base, method: 'colorization' }, RGB_28).model.in_channels).toBe(1);
    expect(readme('cmc', true)).toContain('CMC keeps a second encoder f_ab, of f\'s architecture with a projection head like g, that sees the colour channels a and b of CIE Lab');
    expect(readme('cmc', true)).toContain('(cross-entropy over the cosines at τ = 0.3, the two directions averaged)');
    expect(readme('cmc', true)).toContain('It loads f and g only: f_ab and its head start from the seed');
    expect(readme('cmc', false)).toContain('Each process\'s lightness views are scored against the colour views gathered from all K processes');
    expect(() => pytorchExportFiles({ ...base, method: 'cmc' }, GREY_28)).toThrow(
      'CMC needs colour images: this dataset is greyscale, so it cannot be split into a lightness view and a colour view.');
    expect(pytorchConfig({ ...base, method: 'cmc' }, RGB_28).model.in_channels).toBe(1);
    expect(readme('pirl', true)).toContain('PIRL keeps a memory bank of one unit vector per training image');
    expect(readme('pirl', true)).toContain('(softmax at τ = 0.3); λ = 0.25 weighs the tiles\' term and 1 − λ the view\'s');
    expect(readme('pirl', true)).toContain('normalize(m · entry + (1 − m) · the view\'s unit embedding), m = 0.6; the tiles\' embedding is never written');
    expect(readme('pirl', true)).toContain('It loads f and g only: the bank starts as the random unit vectors of the seed and the tiles\' head from the seed');
    expect(readme('pirl', false)).toContain('every process writes the K × N entries of the global batch, so the banks stay identical');
    expect(readme('cpc', true)).toContain('CPC keeps a context network, starting with the app\'s initial weights for the seed (its three prediction maps W_k at zero, so the loss starts at log(16 N))');
    expect(readme('cpc', true)).toContain('It loads f and g only: the context network starts from the seed');
    expect(readme('cpc', false)).toContain('Each process\'s predictions are scored against the patch codes gathered from all K processes');
    expect(readme('autoregressive', true)).toContain('The PixelCNN auto-encoder keeps two PixelCNNs, each starting with the app\'s initial weights for the seed');
    expect(readme('autoregressive', true)).toContain('The second PixelCNN, without h, trains beside it as the baseline by its own gradient, outside the loss\'s value');
    expect(readme('autoregressive', true)).toContain('It loads f and g only: both PixelCNNs start from the seed');
    expect(readme('autoregressive', false)).toContain('Each process\'s loss is the mean over its own views\' pixel values');
    expect(readme('deepcluster', true)).toContain('DeepCluster keeps a pseudo-label for every training image (its row: the image\'s place in the sorted ImageFolder) and a 30-way linear head on h');
    expect(readme('deepcluster', true)).toContain('Before the first step, and again after every 40 steps, a k-means round as the app\'s');
    expect(readme('deepcluster', true)).toContain('each image weighted by 1 / the size of its cluster');
    expect(readme('deepcluster', true)).toContain('fitted on a sample of at most 4,096 images, every image then joining its nearest centroid');
    expect(readme('deepcluster', true)).toContain('It loads f and g only: the first round clusters the loaded f\'s features, and the head starts from the seed');
    expect(readme('deepcluster', false)).toContain('Process 0 runs each k-means round over all training images and broadcasts the labels, so every process holds the same ones');
    // a setting outside its field's limits is named; one the method does not read does not stop it
    const problem = (overrides: Partial<ExperimentConfig>) => pytorchExportProblem({ ...base, ...overrides });
    expect(problem({ method: 'jigsaw', jigsawPermutations: 101 })).toBe('The setting “Permutations P” (101) cannot be exported: set a valid value first');
    expect(problem({ method: 'inpainting', inpaintMask: 'corner' as 'central' })).toBe('The setting “Masked region” (corner) cannot be exported: set a valid value first');
    expect(problem({ method: 'moco', momentum: 1 })).toBe('The setting “Momentum m” (1) cannot be exported: set a valid value first');
    expect(problem({ method: 'moco', queueSize: 0 })).toBe('The setting “Queue size K” (0) cannot be exported: set a valid value first');
    expect(problem({ method: 'byol', predictorHidden: 2.5 })).toBe('The setting “Predictor hidden units” (2.5) cannot be exported: set a valid value first');
    expect(problem({ method: 'barlow-twins', barlowLambda: 0 })).toBe('The setting “Off-diagonal weight λ” (0) cannot be exported: set a valid value first');
    expect(problem({ method: 'simclr', temperature: 0 })).toBe('The setting “Temperature τ” (0) cannot be exported: set a valid value first');
    expect(problem({ method: 'byol', temperature: 0 })).toBeNull();
    expect(problem({ method: 'memory-bank', bankMomentum: 1 })).toBe('The setting “Bank momentum” (1) cannot be exported: set a valid value first');
    expect(problem({ method: 'exemplar', exemplarCount: 1 })).toBe('The setting “Exemplars K” (1) cannot be exported: set a valid value first');
    expect(problem({ method: 'rotation', temperature: 0 })).toBeNull();
    expect(() => pytorchConfig({ ...base, method: 'moco', momentum: 1 }, GREY_28)).toThrow('“Momentum m” (1)');
  });
});

describe('train.py against the app (PyTorch)', () => {
  it('refuses, in words, a run without --data, a hand-edited config for another method and weights for another encoder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssp-pytorch-refuse-'));
    const files = pytorchExportFiles(smallConfig(), GREY_28);
    writeFiles(dir, files);
    const noData = python(['train.py', '--config', 'config.json'], { cwd: dir });
    expect(noData.status).toBe(2);
    expect(noData.stderr).toMatch(/^train\.py: no --data: give your images as an ImageFolder directory/);
    writeFileSync(join(dir, 'swav.json'), JSON.stringify({ ...JSON.parse(files['config.json']), method: 'swav' }));
    const other = python(['train.py', '--config', 'swav.json', '--data', dir], { cwd: dir });
    expect(other.status).toBe(2);
    expect(other.stderr).toContain('config.json asks for method "swav"; this train.py covers autoencoder, autoregressive, barlow-twins, byol, cmc, colorization, '
      + 'cpc, deepcluster, exemplar, inpainting, jigsaw, memory-bank, moco, pirl, relative-patch, rotation, simclr, simsiam');
    expect(other.stderr).not.toContain('Traceback');
    // a setting another method reads, left in by hand: refused by name, not ignored
    const mixed = JSON.parse(files['config.json']) as { method_settings: Record<string, unknown> };
    writeFileSync(join(dir, 'mixed.json'), JSON.stringify({ ...mixed, method_settings: { ...mixed.method_settings, queue_size: 5 } }));
    const stray = python(['train.py', '--config', 'mixed.json', '--data', dir], { cwd: dir });
    expect(stray.status).toBe(2);
    expect(stray.stderr).toContain('config.json: method_settings.queue_size is not a setting of simclr (it reads temperature, normalize)');
    const wider = new EncoderNetwork({ channels: 1, encoderWidth: 8, projectionHead: 'mlp', projectionDim: 16, seed: 5 });
    writeFileSync(join(dir, 'wider.safetensors'), await encoderSafetensors(wider, { method: 'simclr', step: 40, dataset: 'test', imageSize: 28 }));
    wider.dispose();
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'one.png'), encodePng(new Uint8Array(4 * 28 * 28).fill(255), 28, 28));
    // colorization handed grey images (a hand-edited config): the app's own words; an inpainting mask it does not know: named
    const colour = JSON.parse(pytorchExportFiles(smallConfig({ method: 'colorization', colorizationMode: 'regression' }), RGB_28)['config.json']) as PytorchConfig;
    writeFileSync(join(dir, 'grey-colour.json'), JSON.stringify({ ...colour, data: { ...colour.data, channels: 1 } }));
    const greyColour = python(['train.py', '--config', 'grey-colour.json', '--data', 'data', '--steps', '1'], { cwd: dir });
    expect(greyColour.status).toBe(2);
    expect(greyColour.stderr).toBe('train.py: Colorization needs colour images: this dataset is greyscale, so there is no colour for the head to predict from the lightness.\n');
    // CMC likewise, in its own words; PIRL's λ outside [0, 1]: named
    const cmcConfig = JSON.parse(pytorchExportFiles(smallConfig({ method: 'cmc' }), RGB_28)['config.json']) as PytorchConfig;
    writeFileSync(join(dir, 'grey-cmc.json'), JSON.stringify({ ...cmcConfig, data: { ...cmcConfig.data, channels: 1 } }));
    const greyCmc = python(['train.py', '--config', 'grey-cmc.json', '--data', 'data', '--steps', '1'], { cwd: dir });
    expect(greyCmc.status).toBe(2);
    expect(greyCmc.stderr).toBe('train.py: CMC needs colour images: this dataset is greyscale, so it cannot be split into a lightness view and a colour view.\n');
    const pirlConfig = JSON.parse(pytorchExportFiles(withMethodDefaults(smallConfig({ method: 'pirl' })), GREY_28)['config.json']) as PytorchConfig;
    writeFileSync(join(dir, 'lambda.json'), JSON.stringify({ ...pirlConfig, method_settings: { ...pirlConfig.method_settings, pirl_lambda: 1.5 } }));
    const lambda = python(['train.py', '--config', 'lambda.json', '--data', 'data'], { cwd: dir });
    expect(lambda.status).toBe(2);
    expect(lambda.stderr).toBe('train.py: config.json: method_settings.pirl_lambda must be ≤ 1, got 1.5\n');
    const inpaint = JSON.parse(pytorchExportFiles(smallConfig({ method: 'inpainting' }), GREY_28)['config.json']) as PytorchConfig;
    writeFileSync(join(dir, 'corner.json'), JSON.stringify({ ...inpaint, method_settings: { inpaint_mask: 'corner' } }));
    const corner = python(['train.py', '--config', 'corner.json', '--data', 'data'], { cwd: dir });
    expect(corner.status).toBe(2);
    expect(corner.stderr).toContain('config.json: method_settings.inpaint_mask must be "central" or "random", got "corner"');
    // DeepCluster asked for more clusters than --data has images: the app's rule, in the script's words
    writeFileSync(join(dir, 'deepcluster.json'), pytorchExportFiles(withMethodDefaults(smallConfig({ method: 'deepcluster' })), GREY_28)['config.json']);
    const fewImages = python(['train.py', '--config', 'deepcluster.json', '--data', 'data', '--steps', '1'], { cwd: dir });
    expect(fewImages.status).toBe(2);
    expect(fewImages.stderr).toBe('train.py: DeepCluster needs at least as many training images as clusters: it asks for k = 50 clusters and --data holds 1 '
      + 'image(s). Lower method_settings.cluster_count in config.json to 1 or fewer, or give it more images\n');
    const mismatch = python(['train.py', '--config', 'config.json', '--data', 'data', '--init', 'wider.safetensors'], { cwd: dir });
    expect(mismatch.status).toBe(2);
    expect(mismatch.stderr).toContain('wider.safetensors holds an encoder with encoder_width 8, but config.json says 4: export both from the same run');
  }, 30_000);

  it('the same initial weights for the seed, the same h, z and NT-Xent loss on one batch of views, and the same weights after one Adam step (max |Δ| < 1e-4)', async () => {
    const config = smallConfig();
    const network = new EncoderNetwork({ channels: 1, encoderWidth: 4, projectionHead: 'mlp', projectionDim: 16, seed: 5 });
    const initial = await encoderSafetensors(network, { method: 'simclr', step: 0, dataset: 'test', imageSize: 28 });
    const rng = createRng(11);
    const shape = [2 * config.batchSize, 28, 28, 1] as const;
    const pixels = Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng());
    const views = tf.tensor4d(pixels, [...shape]);
    // the training step: a training-mode forward over both views, NT-Xent on z, one Adam update (tfjs's defaults)
    let h: tf.Tensor2D | undefined;
    let z: tf.Tensor2D | undefined;
    const optimizer: tf.Optimizer = tf.train.adam(config.learningRate);
    const { value: loss, grads } = tf.variableGrads(() => {
      h = tf.keep(network.encode(views, true));
      z = tf.keep(network.project(h));
      const [z1, z2] = tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
      return ntXent(z1, z2, { temperature: config.temperature, normalize: config.normalize });
    }, network.trainableVariables);
    optimizer.applyGradients(grads);
    const after = await pytorchTensors(network);
    const batch = encodeSafetensors([
      { name: 'parity.views', dtype: 'F32', shape: [shape[0], 1, 28, 28], data: toNchw(pixels, shape) },
      { name: 'parity.h', dtype: 'F32', shape: h!.shape, data: (await h!.data()) as Float32Array },
      { name: 'parity.z', dtype: 'F32', shape: z!.shape, data: (await z!.data()) as Float32Array },
      { name: 'parity.loss', dtype: 'F32', shape: [], data: (await loss.data()) as Float32Array },
      ...after.map((t) => ({ ...t, name: `parity.after.${t.name}` })),
    ]);
    tf.dispose([views, h!, z!, loss, ...Object.values(grads)]);
    optimizer.dispose();
    network.dispose();

    const dir = mkdtempSync(join(tmpdir(), 'ssp-pytorch-parity-'));
    writeFiles(dir, { ...pytorchExportFiles(config, GREY_28, { encoder: initial }), 'batch.safetensors': batch });
    const out = JSON.parse(pythonOk([DRIVER, 'model', dir, join(dir, 'config.json'), join(dir, 'encoder.safetensors'), join(dir, 'batch.safetensors')]));
    expect(out.names).toEqual(after.map((t) => t.name).sort());
    // without --init, train.py starts from the app's own initial weights for the seed
    expect(out.max_abs_initial_weights).toBeLessThan(1e-6);
    expect(out.h_shape).toEqual([12, 32]);
    expect(out.z_shape).toEqual([12, 16]);
    expect(out.max_abs_h).toBeLessThan(1e-4);
    expect(out.max_abs_z).toBeLessThan(1e-4);
    expect(Math.abs(out.loss - out.app_loss)).toBeLessThan(1e-4);
    expect(out.app_loss).toBeGreaterThan(1);
    expect(out.max_abs_running).toBeLessThan(1e-4);
    expect(out.largest_step_move).toBeGreaterThan(5e-4);
    expect(out.max_abs_after_step).toBeLessThan(1e-4);
  }, 30_000);

  it('MoCo v2: from the app’s f and g (--init), the same queue of unit rows from the seed and key encoder; for 2 steps of the app’s views (shuffled key halves) the same InfoNCE loss, and after Adam, the EMA and the enqueue the same weights, key encoder and queue, wrapping at K = 10 (max |Δ| < 1e-4)', async () => {
    const { out, app } = await methodParity('moco');
    expectParity('moco', out);
    const queue = app.initial.tensors.find((t) => t.name === 'queue')!;
    expect(queue.shape).toEqual([10, 16]);
    // random unit rows: each of norm 1
    for (let r = 0; r < 10; r++) expect(Math.hypot(...queue.data.subarray(16 * r, 16 * r + 16))).toBeCloseTo(1, 5);
    // 6 keys a step into 10 slots: written 0…5, then 6…9 and 0, 1
    expect(app.pointers).toEqual([6, 2]);
    expect(out.steps.map((s) => s.pointer)).toEqual([6, 2]);
  }, 30_000);

  it('BYOL: from the app’s f and g (--init), the target a copy of them and the same predictor from the seed; for 2 steps the same symmetrized loss, and after Adam and the EMA the same weights, predictor and target, running statistics included (max |Δ| < 1e-4)', async () => {
    const { out } = await methodParity('byol');
    expectParity('byol', out);
    expect(out.steps[0].app_loss).toBeGreaterThan(0.5);
  }, 30_000);

  it('SimSiam: the same predictor from the seed; for 2 steps the same negative-cosine loss behind the stop-gradient, and the same weights and predictor after Adam (max |Δ| < 1e-4)', async () => {
    const { out } = await methodParity('simsiam');
    expectParity('simsiam', out);
    expect(out.steps[0].app_loss).toBeLessThan(0);
  }, 30_000);

  it('Barlow Twins: for 2 steps the same loss of the batch-standardized cross-correlation with λ, and the same weights after Adam (max |Δ| < 1e-4)', async () => {
    const { out } = await methodParity('barlow-twins');
    expectParity('barlow-twins', out);
    expect(out.steps[0].app_loss).toBeGreaterThan(1);
  }, 30_000);

  it('memory bank (InstDisc): the same bank of 40 random unit rows from the seed; for 2 steps of the app’s views and training indices the same softmax over all 40 entries, and after Adam and the bank write the same weights and bank, a repeated image written once (max |Δ| < 1e-4)', async () => {
    const { out, app } = await methodParity('memory-bank');
    expectParity('memory-bank', out);
    const bank = app.initial.tensors.find((t) => t.name === 'bank')!;
    expect(bank.shape).toEqual([40, 16]);
    for (let r = 0; r < 40; r++) expect(Math.hypot(...bank.data.subarray(16 * r, 16 * r + 16))).toBeCloseTo(1, 5);
    // a random bank: the loss starts near log 40
    expect(out.steps[0].app_loss).toBeGreaterThan(Math.log(40) - 1);
    // the rows the first step wrote are the batch's images, each once, and only they (train.py's bank equals this one)
    const saved = decodeSafetensors(app.steps).tensors;
    const after = saved.find((t) => t.name === 'app.after.0.bank')!.data as Float32Array;
    const written = Array.from({ length: 40 }, (_, r) => r).filter((r) => after.subarray(16 * r, 16 * r + 16).some((v, k) => v !== bank.data[16 * r + k]));
    expect(written).toEqual([0, 3, 7, 12, 30]);
  }, 30_000);

  it('RotNet: the same rotation head from the seed; for 2 steps of the app’s single views the same cross-entropy over the four quarter turns, and after Adam the same f and head, g untouched (max |Δ| < 1e-4)', async () => {
    const { out, app } = await methodParity('rotation');
    expectParity('rotation', out);
    expect(app.initial.tensors.find((t) => t.name === 'classifier.weight')!.shape).toEqual([4, 32]);
    expect(out.steps[0].app_loss).toBeGreaterThan(0.5);
  }, 30_000);

  it('Exemplar CNN: the same K = 5 head from the seed; for 2 steps of the app’s views of exemplars 0…4 the same cross-entropy, and after Adam the same f and head (max |Δ| < 1e-4)', async () => {
    const { out, app } = await methodParity('exemplar');
    expectParity('exemplar', out);
    expect(app.initial.tensors.find((t) => t.name === 'classifier.weight')!.shape).toEqual([5, 32]);
    expect(out.steps[0].app_loss).toBeGreaterThan(0.5);
  }, 30_000);

  it('denoising autoencoder: the same decoder from the seed, the same noise from the app’s stream (tf.randomNormal’s), for 2 steps the same reconstruction error of the clean views, and after Adam the same f and decoder (max |Δ| < 1e-4)', async () => {
    const { out, app } = await methodParity('autoencoder');
    expectParity('autoencoder', out);
    const names = app.initial.tensors.filter((t) => !t.name.startsWith('online.')).map((t) => `${t.name} [${t.shape.join(', ')}]`);
    expect(names).toEqual([
      'decoder.dense.weight [256, 32]', 'decoder.dense.bias [256]', 'decoder.layers.0.weight [16, 8, 4, 4]', 'decoder.layers.0.bias [8]',
      'decoder.layers.1.weight [8, 4, 4, 4]', 'decoder.layers.1.bias [4]', 'decoder.layers.2.weight [4, 1, 4, 4]', 'decoder.layers.2.bias [1]',
    ]);
    expect(out.steps[0].app_loss).toBeGreaterThan(0.01);
  }, 30_000);

  it('relative patch location: the same head from the seed (last layer zero); for 2 steps the same jitter from the app’s stream, the same cross-entropy over the 8N centre–neighbour pairs, and after Adam the same f and head (max |Δ| < 1e-4)', async () => {
    const { out, app } = await methodParity('relative-patch');
    expectParity('relative-patch', out);
    const names = app.initial.tensors.filter((t) => !t.name.startsWith('online.')).map((t) => `${t.name} [${t.shape.join(', ')}]`);
    expect(names).toEqual(['head.fusion.weight [32, 64]', 'head.fusion.bias [32]', 'head.classifier.weight [8, 32]', 'head.classifier.bias [8]']);
    // the head starts as a uniform guess over the 8 positions
    expect(out.steps[0].app_loss).toBeCloseTo(Math.log(8), 5);
  }, 30_000);

  it('jigsaw: the same P = 10 permutations (all 100 of the greedy set), the same head from the seed; for 2 steps the same jitter and permutation draws, cross-entropy and weights after Adam (max |Δ| < 1e-4)', async () => {
    const { out, app } = await methodParity('jigsaw');
    expectParity('jigsaw', out);
    const names = app.initial.tensors.filter((t) => !t.name.startsWith('online.')).map((t) => `${t.name} [${t.shape.join(', ')}]`);
    expect(names).toEqual(['head.fusion.weight [32, 288]', 'head.fusion.bias [32]', 'head.classifier.weight [10, 32]', 'head.classifier.bias [10]']);
    expect(out.steps[0].app_loss).toBeCloseTo(Math.log(10), 5);
    const script = join(dirname(fileURLToPath(import.meta.url)), 'pytorch');
    const permutations = JSON.parse(pythonOk(['-c', 'import json, train; print(json.dumps(train.hamming_permutations(100)))'], { cwd: script }));
    expect(permutations).toEqual(hammingPermutations(100));
  }, 30_000);

  it('inpainting (random squares): the same decoder from the seed, the same squares from the app’s stream and the same fill; for 2 steps the same error over the hidden pixels, and after Adam the same f and decoder (max |Δ| < 1e-4)', async () => {
    const { out, app } = await methodParity('inpainting');
    expectParity('inpainting', out);
    const names = app.initial.tensors.filter((t) => !t.name.startsWith('online.')).map((t) => `${t.name} [${t.shape.join(', ')}]`);
    expect(names).toEqual([
      'decoder.layer1.weight [32, 32]', 'decoder.layer1.bias [32]', 'decoder.layer2.weight [1024, 32]', 'decoder.layer2.bias [1024]',
      'decoder.cell.weight [1, 16]', 'decoder.cell.bias [1]',
    ]);
    expect(out.steps[0].app_loss).toBeGreaterThan(0.01);
    // the central square too: no draws, the same loss
    const central = await methodParity('inpainting', { inpaintMask: 'central' });
    expectParity('inpainting', central.out);
  }, 30_000);

  it('colorization: on colour views, f on L / 100; the classification head over the 261 ab bins and the regression head, the same from the seed; for 2 steps the same loss, and after Adam the same f and head (max |Δ| < 1e-4)', async () => {
    const { out, app } = await methodParity('colorization');
    expectParity('colorization', out);
    expect(app.initial.tensors.find((t) => t.name === 'head.cell.weight')!.shape).toEqual([261, 16]);
    expect(out.steps[0].app_loss).toBeGreaterThan(1);
    const regression = await methodParity('colorization', { colorizationMode: 'regression' });
    expectParity('colorization', regression.out);
    expect(regression.app.initial.tensors.find((t) => t.name === 'head.cell.weight')!.shape).toEqual([2, 16]);
  }, 30_000);

  it('CMC: on colour views, f and g on L / 100, the second encoder f_ab and its head on ab / 110 the same from the seed; for 2 steps the same cross-view loss, and after Adam the same f, g and f_ab, running statistics included (max |Δ| < 1e-4)', async () => {
    const { out, app } = await methodParity('cmc');
    expectParity('cmc', out);
    const names = app.initial.tensors.filter((t) => !t.name.startsWith('online.')).map((t) => `${t.name} [${t.shape.join(', ')}]`);
    // f's architecture on two input channels, with its head, under f's own names
    expect(names.slice(0, 5)).toEqual([
      'ab_network.encoder.blocks.0.conv.weight [4, 2, 3, 3]', 'ab_network.encoder.blocks.0.bn.weight [4]', 'ab_network.encoder.blocks.0.bn.bias [4]',
      'ab_network.encoder.blocks.0.bn.running_mean [4]', 'ab_network.encoder.blocks.0.bn.running_var [4]',
    ]);
    expect(names).toContain('ab_network.head.2.weight [16, 32]');
    // encoders that cannot yet tell the 6 images apart: near log 6
    expect(Math.abs(out.steps[0].app_loss - Math.log(6))).toBeLessThan(0.5);
  }, 30_000);

  it('PIRL: the same bank of 40 unit rows and tiles’ head from the seed; for 2 steps the same jitter and shuffles from the app’s stream, the same λ-mixed softmax over the bank for the view and its shuffled tiles, and after Adam and the bank write the same f, g, head and bank (max |Δ| < 1e-4)', async () => {
    const { out, app } = await methodParity('pirl');
    expectParity('pirl', out);
    const names = app.initial.tensors.filter((t) => !t.name.startsWith('online.')).map((t) => `${t.name} [${t.shape.join(', ')}]`);
    expect(names).toEqual(['tiles_head.weight [16, 288]', 'tiles_head.bias [16]', 'bank [40, 16]']);
    // a random bank: both terms start near log 40
    expect(out.steps[0].app_loss).toBeGreaterThan(Math.log(40) - 1);
    // the first step wrote the batch's images' entries, each once, and only they
    const bank = app.initial.tensors.find((t) => t.name === 'bank')!;
    const after = decodeSafetensors(app.steps).tensors.find((t) => t.name === 'app.after.0.bank')!.data as Float32Array;
    const written = Array.from({ length: 40 }, (_, r) => r).filter((r) => after.subarray(16 * r, 16 * r + 16).some((v, k) => v !== bank.data[16 * r + k]));
    expect(written).toEqual([0, 3, 7, 12, 30]);
  }, 30_000);

  it('CPC: the same context network from the seed (every W_k zero); for 2 steps the same 4×4 patch grid, causal context, predictions and InfoNCE over the batch’s 96 patch codes, and after Adam the same f and context network (max |Δ| < 1e-4)', async () => {
    const { out, app } = await methodParity('cpc');
    expectParity('cpc', out);
    const names = app.initial.tensors.filter((t) => !t.name.startsWith('online.')).map((t) => `${t.name} [${t.shape.join(', ')}]`);
    expect(names).toEqual([
      'context.layer.weight [32, 64]', 'context.layer.bias [32]', 'context.predictors.0.weight [32, 32]', 'context.predictors.1.weight [32, 32]',
      'context.predictors.2.weight [32, 32]',
    ]);
    // zero predictions score every candidate alike: log(16 N) exactly
    expect(out.steps[0].app_loss).toBeCloseTo(Math.log(96), 5);
  }, 30_000);

  it('PixelCNN: the same two PixelCNNs from the seed (masked taps at zero); for 2 steps of the app’s views quantized to 16 levels the same likelihood given h, the baseline outside the loss’s value, and after Adam the same f and both PixelCNNs, masked taps still zero (max |Δ| < 1e-4)', async () => {
    const { out, app } = await methodParity('autoregressive');
    expectParity('autoregressive', out);
    const own = app.initial.tensors.filter((t) => !t.name.startsWith('online.'));
    expect(own.map((t) => `${t.name} [${t.shape.join(', ')}]`).slice(0, 4)).toEqual([
      'conditional.convs.0.weight [8, 1, 7, 7]', 'conditional.convs.0.bias [8]', 'conditional.conditions.0.weight [8, 32]', 'conditional.convs.1.weight [8, 8, 3, 3]',
    ]);
    expect(own.map((t) => t.name)).toContain('unconditional.out.weight');
    expect(own.map((t) => t.name).filter((n) => n.startsWith('unconditional.conditions'))).toEqual([]);
    // mask A: the centre and every tap after it in reading order are zero, before and after the steps (here and in train.py, which matches it)
    const after = decodeSafetensors(app.steps).tensors.find((t) => t.name === 'app.after.1.conditional.convs.0.weight')!.data as Float32Array;
    for (const kernel of [own[0].data, after]) {
      for (let f = 0; f < 8; f++) for (let t = 0; t < 49; t++) if (t >= 24) expect(Math.abs(kernel[f * 49 + t]), `filter ${f} tap ${t}`).toBe(0);
      expect(kernel.subarray(0, 24).some((v) => v !== 0)).toBe(true);
    }
    expect(out.steps[0].app_loss).toBeGreaterThan(1);
  }, 30_000);

  it('DeepCluster: from the app’s f (--init), the same first k-means round over the 40 training images (encoded in inference mode, ZCA-whitened, k-means++ seeds from the app’s stream, 20 Lloyd iterations): the same centroids (max |Δ| < 1e-3), the same pseudo-labels and head from the seed; for 3 steps the same cluster-weighted cross-entropy, a round after step 2 with a fresh head and a fresh Adam for it, and the same f, head and labels after each (max |Δ| < 1e-4)', async () => {
    const { out, app } = await methodParity('deepcluster');
    expectParity('deepcluster', out);
    // the centroids are whitened features: W = (C + λI)^{−1/2} with λ = 1e-3 · tr(C)/d has a condition number up to ~d/1e-3,
    // which turns float32's rounding of C (~1e-7 relative) in tfjs and PyTorch into differences of ~1e-4 in W; the labels,
    // which every later number depends on, are exact (checked above and below)
    expect(out.centroids, 'the first round’s centroids').toBeLessThan(1e-3);
    expect(out.initial.assignments, 'the first round’s labels').toBe(0);
    for (const [s, step] of out.steps.entries()) expect(step.after.assignments, `step ${s + 1}: the labels`).toBe(0);
    // the round after step 2 numbered the clusters anew (other k-means++ draws), so the labels compared after it are not the first round's
    expect(out.steps[1].moved.assignments).toBeGreaterThan(0);
    // the app's labels are the 4 patterns, of 8, 8, 8 and 16 images: images with one pattern share a label, the 4 patterns have 4
    const labels = Array.from(app.initial.tensors.find((t) => t.name === 'assignments')!.data);
    expect(new Set(labels.slice(0, 4)).size).toBe(4);
    labels.forEach((label, i) => expect(label, `image ${i}`).toBe(labels[deepclusterPattern(i, 4)]));
    expect(labels.filter((l) => l === labels[3])).toHaveLength(16);
    const own = app.initial.tensors.filter((t) => !t.name.startsWith('online.'));
    expect(own.map((t) => `${t.name} [${t.shape.join(', ')}]`)).toEqual(['classifier.weight [4, 32]', 'classifier.bias [4]', 'assignments [40]']);
    // step 3 runs on the fresh head: its loss starts again near a uniform guess over the 4 clusters, log 4
    expect(Math.abs(out.steps[2].app_loss - Math.log(4))).toBeLessThan(1);
  }, 30_000);

  it(`DeepCluster beyond ${DEEPCLUSTER_FIT_MAX} training images: the same fit sample drawn from the app’s stream, whitening and k-means fitted on it and every image assigned, the same labels; one step after it the same loss and weights (max |Δ| < 1e-4)`, async () => {
    const n = DEEPCLUSTER_FIT_MAX + 4;
    const { out, app } = await methodParity('deepcluster', {}, { steps: 1, trainCount: n, indices: [[n - 1, n - 2, n - 3, n - 4, 0, 1]] });
    expect(out.centroids).toBeUndefined();
    expect(out.initial.assignments, 'the labels of all the images').toBe(0);
    expect(out.steps[0].after.assignments).toBe(0);
    expect(Math.abs(out.steps[0].loss - out.steps[0].app_loss)).toBeLessThan(1e-4);
    for (const [group, diff] of Object.entries(out.steps[0].after)) expect(diff, group).toBeLessThan(1e-4);
    const labels = Array.from(app.initial.tensors.find((t) => t.name === 'assignments')!.data);
    expect(labels).toHaveLength(n);
    labels.forEach((label, i) => { if (label !== labels[deepclusterPattern(i, 4)]) expect(label, `image ${i}`).toBe(labels[deepclusterPattern(i, 4)]); });
  }, 30_000);

  it('k-means as the app’s: the same k-means++ seeds from the app’s stream and 20 Lloyd iterations give the same centroids (max |Δ| < 1e-6) and labels; empty clusters refilled by the same splits, bit for bit', () => {
    // 60 points in 4 loose groups, k = 6: two groups are split, and no point lies near a boundary
    const rng = createRng(12);
    const rows = Array.from({ length: 4 }, () => Array.from({ length: 6 }, () => rng() * 4 - 2));
    const points = Float32Array.from({ length: 60 * 6 }, (_, i) => rows[Math.floor(i / 6) % 4][i % 6] + (rng() - 0.5) * 0.2);
    const seed = 77;
    // the repair alone: clusters 1, 4 and 5 empty; donors the largest, ties to the lower number; cluster 3's single point is no donor
    const splitCentroids = Float32Array.from({ length: 6 * 6 }, () => rng() * 2 - 1);
    const splitSizes = Int32Array.from([9, 0, 9, 1, 0, 0]);
    const fit = tf.tidy(() => {
      const f = kMeans(tf.tensor2d(points, [60, 6]), 6, createRng(seed));
      return [f.centroids, f.assignments, f.sizes, splitEmptyClusters(tf.tensor2d(splitCentroids, [6, 6]), tf.tensor1d(splitSizes, 'int32'))];
    });
    const [centroids, assignments, sizes, split] = fit.map((t) => t.dataSync());
    tf.dispose(fit);
    const dir = mkdtempSync(join(tmpdir(), 'ssp-pytorch-kmeans-'));
    writeFiles(dir, { 'train.py': PYTORCH_TRAIN_SCRIPT });
    writeFileSync(join(dir, 'kmeans.safetensors'), encodeSafetensors([
      { name: 'points', dtype: 'F32', shape: [60, 6], data: points },
      { name: 'app.centroids', dtype: 'F32', shape: [6, 6], data: Float32Array.from(centroids) },
      { name: 'app.assignments', dtype: 'F32', shape: [60], data: Float32Array.from(assignments) },
      { name: 'split.centroids', dtype: 'F32', shape: [6, 6], data: splitCentroids },
      { name: 'split.sizes', dtype: 'F32', shape: [6], data: Float32Array.from(splitSizes) },
      { name: 'app.split', dtype: 'F32', shape: [6, 6], data: Float32Array.from(split) },
    ], { k: '6', seed: String(seed) }));
    const out = JSON.parse(pythonOk([DRIVER, 'kmeans', dir, join(dir, 'kmeans.safetensors')])) as { centroids: number; labels_differ: number; sizes: number[]; split: number };
    expect(out.centroids).toBeLessThan(1e-6);
    expect(out.labels_differ).toBe(0);
    expect(out.sizes).toEqual(Array.from(sizes));
    expect(out.split).toBe(0);
    // the split did something: clusters 1 and 4 took copies of 0 and 2, cluster 5 (no donor left with two points) kept its centroid
    expect(split[6]).not.toBe(splitCentroids[6]);
    expect(split.slice(30)).toEqual(splitCentroids.slice(30));
  });

  it('apply_views makes the app’s views from the app’s ViewParams, every operator, before and after the crop (max |Δ| < 1e-4)', () => {
    const crop = (enabled = true): AugmentOperator => ({ kind: 'crop', enabled, p: 1, scale: [0.3, 1], ratio: [3 / 4, 4 / 3] });
    const op = {
      flip: { kind: 'flip', enabled: true, p: 0.5 },
      jitter: { kind: 'colorJitter', enabled: true, p: 1, strength: 1 },
      grey: { kind: 'grayscale', enabled: true, p: 0.5 },
      blur: { kind: 'blur', enabled: true, p: 1, sigma: [0.5, 2] },
      rotate: { kind: 'rotate', enabled: true, p: 1 },
      cutout: { kind: 'cutout', enabled: true, p: 1, count: 2, size: 0.3 },
      noise: { kind: 'noise', enabled: true, p: 1, sigma: 0.1 },
      sobel: { kind: 'sobel', enabled: true, p: 0.5 },
    } satisfies Record<string, AugmentOperator>;
    const cases: { name: string; shape: [number, number, number, number]; size: number; operators: AugmentOperator[] }[] = [
      { name: 'RGB, every operator after the crop', shape: [4, 12, 12, 3], size: 10, operators: [crop(), op.flip, op.jitter, op.grey, op.blur, op.rotate, op.cutout, op.noise, op.sobel] },
      // rotation before the crop of a 12×16 source turns only by half turns; a 50 px view has a 5-tap blur
      { name: 'RGB 12×16, rotate, cutout and jitter before the crop, blur after', shape: [4, 12, 16, 3], size: 50, operators: [op.rotate, op.cutout, op.jitter, crop(), { ...op.blur, sigma: [1, 3] }] },
      { name: 'grey, a disabled crop in the middle', shape: [3, 12, 12, 1], size: 9, operators: [op.flip, op.jitter, op.grey, op.blur, crop(false), op.rotate, op.cutout, op.noise, { ...op.sobel, p: 1 }] },
      { name: 'RGB, no crop: resized first', shape: [3, 12, 12, 3], size: 9, operators: [op.flip, op.grey, op.sobel] },
    ];
    const payload = cases.map(({ name, shape, size, operators }, i) => {
      const rng = createRng(100 + i);
      const pixels = Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng());
      const params = sampleViewParams(createRng(200 + i), shape[0], shape[1], shape[2], shape[3], { operators }, size);
      // every enabled operator acts on some image, so the case tests its math
      for (const step of params.steps.filter((s) => s.enabled)) {
        const acts = step.kind === 'crop' || (step.kind === 'rotate' ? step.quarterTurns.some((t) => t > 0) : step.kind === 'noise' ? step.noise !== null : step.mask.some((m) => m > 0));
        expect(acts, `${name}: ${step.kind}`).toBe(true);
      }
      const images = tf.tensor4d(pixels, shape);
      const views = applyViews(images, params);
      const expected = views.dataSync() as Float32Array;
      tf.dispose([images, views]);
      return { name, shape, images: pixels, params, pipeline: operators, expected };
    });
    const dir = mkdtempSync(join(tmpdir(), 'ssp-pytorch-views-'));
    writeFiles(dir, pytorchExportFiles(smallConfig(), GREY_28));
    // typed arrays as plain lists; float32 values print as the doubles they are, so nothing is rounded on the way
    writeFileSync(join(dir, 'cases.json'), JSON.stringify(payload, (_, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v)));
    const out = JSON.parse(pythonOk([DRIVER, 'views', dir, join(dir, 'cases.json')])) as { name: string; max_abs: number; shape: number[]; sampler_layout_matches: boolean; sampled_views_in_range: boolean }[];
    expect(out.map((c) => c.name)).toEqual(cases.map((c) => c.name));
    out.forEach((result, i) => {
      const [b, , , c] = cases[i].shape;
      expect(result.shape, result.name).toEqual([b, c, cases[i].size, cases[i].size]);
      expect(result.max_abs, result.name).toBeLessThan(1e-4);
      // train.py's own sampler draws the same kinds of choices, laid out as the app's
      expect(result.sampler_layout_matches, result.name).toBe(true);
      expect(result.sampled_views_in_range, result.name).toBe(true);
    });
  }, 30_000);

  it('torchrun --nproc_per_node=2 on CPU (gloo) trains 3 steps on an ImageFolder: finite losses, both ranks end with the same weights', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssp-pytorch-ddp-'));
    const rng = createRng(21);
    for (const label of ['boots', 'shirts']) {
      mkdirSync(join(dir, 'data', label), { recursive: true });
      for (let i = 0; i < 8; i++) {
        const rgba = new Uint8Array(28 * 28 * 4);
        for (let p = 0; p < 28 * 28; p++) rgba.fill(Math.floor(rng() * 256), 4 * p, 4 * p + 3).fill(255, 4 * p + 3, 4 * p + 4);
        writeFileSync(join(dir, 'data', label, `${i}.png`), encodePng(rgba, 28, 28));
      }
    }
    writeFiles(dir, pytorchExportFiles(smallConfig({ seed: 3, batchSize: 4 }), GREY_28, { steps: 3 }));
    const lines = jsonLines(await torchrun('train.py', ['--config', 'config.json', '--data', 'data', '--out', 'trained', '--device', 'cpu'], dir));
    expect(lines[0]).toMatchObject({ event: 'start', images: 16, world_size: 2, batch_per_rank: 4, global_batch: 8, steps: 3 });
    const steps = lines.filter((l) => 'step' in l);
    expect(steps.map((l) => l.step)).toEqual([1, 2, 3]);
    for (const { loss } of steps) expect(Number.isFinite(loss) && (loss as number) > 0).toBe(true);
    const done = lines.find((l) => l.event === 'done')!;
    const digests = done.weights_sha256 as string[];
    expect(digests).toHaveLength(2);
    expect(digests[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(digests[1]).toBe(digests[0]);
    // the saved file is the app's format: same names, trained 3 steps
    const saved = decodeSafetensors(readFileSync(join(dir, 'trained', 'encoder.safetensors')));
    const network = new EncoderNetwork({ channels: 1, encoderWidth: 4, projectionHead: 'mlp', projectionDim: 16, seed: 3 });
    const initial = await pytorchTensors(network);
    network.dispose();
    expect(saved.tensors.map((t) => t.name)).toEqual(initial.map((t) => t.name));
    expect(saved.metadata).toMatchObject({ format: 'ssl-playground-encoder', method: 'simclr', step: '3', trained: 'yes', in_channels: '1', encoder_width: '4' });
    const kernel = saved.tensors.find((t) => t.name === 'encoder.blocks.0.conv.weight')!.data as Float32Array;
    const start = initial.find((t) => t.name === 'encoder.blocks.0.conv.weight')!.data;
    expect(Math.max(...kernel.map((v, i) => Math.abs(v - start[i])))).toBeGreaterThan(1e-4);
  }, 30_000);

  it('over 2 ranks with half the batch each, batch norm and NT-Xent with gathered negatives equal one process over the whole batch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssp-pytorch-distributed-'));
    writeFiles(dir, pytorchExportFiles(smallConfig(), GREY_28));
    await torchrun(DRIVER, ['distributed', dir], dir);
    const ranks = [0, 1].map((rank) => JSON.parse(readFileSync(join(dir, `rank${rank}.json`), 'utf8')) as Record<string, number>);
    expect(ranks.map((r) => r.rank).sort()).toEqual([0, 1]);
    for (const r of ranks) {
      expect(r.world).toBe(2);
      // batch norm: output, gradients (input, γ and β), running mean and variance over two steps
      for (const key of ['output', 'input_grad', 'weight_grad', 'running_mean', 'running_var']) expect(r[key], `rank ${r.rank} ${key}`).toBeLessThan(1e-5);
      expect(r.running_var_moved).toBeGreaterThan(0.1);
      expect(r.batches_tracked).toBe(2);
      // NT-Xent: the ranks' mean loss is the whole batch's, and so is the averaged gradient
      expect(r.loss, `rank ${r.rank} loss`).toBeLessThan(1e-5);
      expect(r.loss_grad, `rank ${r.rank} loss gradient`).toBeLessThan(1e-6);
      expect(r.local_loss).not.toBeCloseTo(r.global_loss as number, 3);
    }
  }, 30_000);

  it('torchrun --nproc_per_node=2 (gloo): MoCo v2, BYOL, SimSiam, Barlow Twins, the memory bank, RotNet, Exemplar CNN, the denoising autoencoder, relative patch location, the jigsaw, inpainting, colorization, CMC, PIRL, CPC, the PixelCNN and DeepCluster each train 3 steps and the ranks end with the same state, MoCo’s queue, the banks and DeepCluster’s labels included; Barlow Twins’ C, the predictor’s batch norm, CMC’s and CPC’s losses over two half batches equal one process over the whole batch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssp-pytorch-methods-'));
    writeFiles(dir, pytorchExportFiles(smallConfig(), GREY_28));
    const methods = ['moco', 'byol', 'simsiam', 'barlow-twins', 'memory-bank', 'rotation', 'exemplar', 'autoencoder', 'relative-patch', 'jigsaw', 'inpainting', 'colorization', 'cmc', 'pirl', 'cpc', 'autoregressive', 'deepcluster'] as const;
    // the configs as the export writes them; 4 images a rank, so MoCo enqueues 8 keys a step into its 10 slots; Exemplar's pool is the first 5 of the 16 images;
    // the inpainting squares at random places (each rank its share of one stream's draws); colorization and CMC on colour images;
    // DeepCluster's 4 clusters of the 16 images made again after every step (rank 0's, broadcast)
    const configs = methods.map((method) => pytorchConfig(
      withMethodDefaults(smallConfig({
        method, seed: 3, batchSize: 4, queueSize: 10, exemplarCount: 5, denoise: true, jigsawPermutations: 10, inpaintMask: 'random', colorizationMode: 'classification',
        clusterCount: 4, clusterEvery: 1,
      })), COLOUR_METHODS.includes(method) ? RGB_28 : GREY_28, { steps: 3 },
    ));
    writeFileSync(join(dir, 'configs.json'), JSON.stringify(configs));
    await torchrun(DRIVER, ['methods', dir, join(dir, 'configs.json')], dir);
    type Trained = {
      losses: number[]; digests: string[]; indices: number[]; pointer: number | null; queue_rows: number | null; bank_rows_written: number | null;
      rounds: number | null; clusters_in_use: number | null;
    };
    type RankOut = { rank: number; world: number; methods: Record<string, Trained>; barlow: Record<string, number>; predictor: Record<string, number>; cmc: Record<string, number>; cpc: Record<string, number> };
    const ranks = [0, 1].map((rank) => JSON.parse(readFileSync(join(dir, `methods-rank${rank}.json`), 'utf8')) as RankOut);
    expect(ranks.map((r) => [r.rank, r.world])).toEqual([[0, 2], [1, 2]]);
    for (const method of methods) {
      const [a, b] = ranks.map((r) => r.methods[method]);
      expect(a.losses, method).toHaveLength(3);
      for (const loss of a.losses) expect(Number.isFinite(loss), `${method} loss ${loss}`).toBe(true);
      // the ranks' mean loss, reported alike on both
      expect(b.losses, method).toEqual(a.losses);
      // the digest of the whole method state (f, g, predictor, key encoder or target, queue and its pointer) agrees
      expect(a.digests[0], method).toMatch(/^[0-9a-f]{64}$/);
      expect(a.digests[1], `${method}: rank 1's state is rank 0's`).toBe(a.digests[0]);
      expect(b.digests, method).toEqual(a.digests);
    }
    // MoCo: 3 steps of 2 × 4 gathered keys into 10 slots, every rank's pointer at 24 mod 10
    expect(ranks.map((r) => [r.methods.moco.queue_rows, r.methods.moco.pointer])).toEqual([[10, 4], [10, 4]]);
    // the memory bank and PIRL's: each rank's batches held images the other's did not, and both banks hold the writes of all of them
    for (const method of ['memory-bank', 'pirl'] as const) {
      const [bank0, bank1] = ranks.map((r) => r.methods[method]);
      expect(bank0.indices.some((i) => !bank1.indices.includes(i)), method).toBe(true);
      const union = new Set([...bank0.indices, ...bank1.indices]);
      expect([bank0.bank_rows_written, bank1.bank_rows_written], method).toEqual([union.size, union.size]);
    }
    // DeepCluster: 4 rounds (before step 1 and after each), made on rank 0 and held alike (the digests above include the labels)
    expect(ranks.map((r) => [r.methods.deepcluster.rounds, r.methods.deepcluster.clusters_in_use])).toEqual([[3, 4], [3, 4]]);
    // Exemplar CNN: both ranks drew from the same pool of the first 5 images, all of them between the two
    for (const r of ranks) expect(Math.max(...r.methods.exemplar.indices), `rank ${r.rank}`).toBeLessThan(5);
    expect(new Set([...ranks[0].methods.exemplar.indices, ...ranks[1].methods.exemplar.indices]).size).toBe(5);
    for (const r of ranks) {
      // Barlow Twins: the ranks' C and loss are the whole batch's, and DDP's averaged gradient is its gradient
      expect(r.barlow.c, `rank ${r.rank} C`).toBeLessThan(1e-5);
      expect(r.barlow.loss, `rank ${r.rank} loss`).toBeLessThan(1e-4);
      expect(r.barlow.grad, `rank ${r.rank} gradient`).toBeLessThan(1e-5);
      // a half batch's own C is far from the whole batch's: the check is not of two equal things
      expect(r.barlow.c_local_differs).toBeGreaterThan(0.05);
      // the predictor's batch norm: output and gradients of half a batch per rank are the whole batch's
      for (const key of ['output', 'input_grad', 'weight_grad']) expect(r.predictor[key], `rank ${r.rank} predictor ${key}`).toBeLessThan(1e-5);
      // CMC: the ranks' mean loss is the whole batch's (each rank's views against every rank's candidates), and so is the averaged gradient
      expect(r.cmc.loss, `rank ${r.rank} CMC loss`).toBeLessThan(1e-5);
      expect(r.cmc.grad, `rank ${r.rank} CMC gradient`).toBeLessThan(1e-6);
      expect(r.cmc.local_differs).toBeGreaterThan(0.01);
      // CPC: each rank's predictions against every rank's patch codes: the whole batch's loss and gradient
      expect(r.cpc.loss, `rank ${r.rank} CPC loss`).toBeLessThan(1e-5);
      expect(r.cpc.grad, `rank ${r.rank} CPC gradient`).toBeLessThan(1e-6);
      expect(r.cpc.global_loss).toBeGreaterThan(1);
    }
  }, 30_000);
});

describe('the PyTorch export as one zip', () => {
  it('puts every file in one folder named after the run, byte for byte, with train.py executable', async () => {
    const { unzipSync, strFromU8 } = await import('fflate');
    const encoder = Uint8Array.from([1, 2, 3, 250]);
    const files = pytorchExportFiles({ ...DEFAULT_CONFIG, method: 'simclr' }, { imageSize: 28, channels: 1 }, { encoder, steps: 10 });
    const zipped = pytorchExportZip(files, 'pytorch simclr/step 10 <b>');
    const entries = unzipSync(zipped);
    expect(Object.keys(entries).sort()).toEqual(['pytorch-simclr-step-10-b/README.md', 'pytorch-simclr-step-10-b/config.json', 'pytorch-simclr-step-10-b/encoder.safetensors', 'pytorch-simclr-step-10-b/train.py']);
    expect(strFromU8(entries['pytorch-simclr-step-10-b/train.py'])).toBe(PYTORCH_TRAIN_SCRIPT);
    expect(JSON.parse(strFromU8(entries['pytorch-simclr-step-10-b/config.json'])).steps).toBe(10);
    expect(Array.from(entries['pytorch-simclr-step-10-b/encoder.safetensors'])).toEqual([1, 2, 3, 250]);
    // the central directory's external attributes of train.py: a regular file, rwxr-xr-x (zip spec 4.4.15, Unix in the high 16 bits)
    const view = new DataView(zipped.buffer, zipped.byteOffset, zipped.byteLength);
    const name = new TextEncoder().encode('pytorch-simclr-step-10-b/train.py');
    let found = -1;
    for (let i = zipped.length - 46; i >= 0; i--) {
      if (view.getUint32(i, true) === 0x02014b50 && view.getUint16(i + 28, true) === name.length
        && zipped.subarray(i + 46, i + 46 + name.length).every((b, k) => b === name[k])) { found = i; break; }
    }
    expect(found).toBeGreaterThanOrEqual(0);
    expect(view.getUint32(found + 38, true) >>> 16).toBe(0o100755);
  });
});
