#!/usr/bin/env python3
"""
The experiment you ran in the Self-Supervised Playground, as one PyTorch script.

    python train.py --config config.json --data DIR [--init encoder.safetensors] [--steps K] [--out DIR]
    torchrun --nproc_per_node=K train.py --config config.json --data DIR ...

DIR is an ImageFolder directory: DIR/<class>/<image>.png|jpg (images directly in
DIR are read too; self-supervised training uses no labels). Each image is
centre-cropped to a square and resized to the dataset's image size, as the app
does with uploads, then converted to the config's channels.

What it reproduces, from config.json (written by the app's "Export as PyTorch"):
  - the encoder f (4 × [conv3×3 → BatchNorm → ReLU], widths w, 2w, 4w, 8w,
    2×2 max-pool after the first three, global average pool → h) and the head g,
    under the names the app's encoder.safetensors uses, so --init loads it with
    load_state_dict; without --init, the app's own initial weights for the seed
    (the same He-normal values, drawn from the app's mulberry32 generator);
  - the augmentation pipeline t ~ T: the same operators, parameters, order,
    probabilities and pixel math (apply_views; src/augment in the app);
  - the method, in the app's formulation (src/methods, src/loss), one class each
    (METHODS below): its loss, what it keeps beside f and g, and what it updates
    after the optimizer step:
      SimCLR        NT-Xent over the 2N×2N cosine similarities at temperature τ;
      MoCo v2       InfoNCE of each query against its key and a queue of K keys; the
                    key encoder is an EMA of f and g (running statistics included),
                    the queue starts as random unit rows from the seed, the keys are
                    enqueued after the step; shuffling BN over two halves;
      BYOL          2 − 2·cos of the predictor's output with the target network's
                    projection of the other view, symmetrized; target = EMA of f and g;
      SimSiam       −cos of the predictor's output with the other view's projection
                    behind a stop-gradient, symmetrized;
      Barlow Twins  Σ(1 − C_ii)² + λ Σ_{i≠j} C_ij² of the cross-correlation C of the
                    batch-standardized projections;
      Memory bank   (InstDisc) the non-parametric softmax of both views' z over a bank of
                    one unit vector per training image (row: its index in DIR's sorted
                    order), which starts random from the seed; after the step each
                    image's entry moves to normalize(m·entry + (1 − m)·mean unit feature);
      RotNet        one view of each image at four quarter turns, a linear head on h
                    names the turn (cross-entropy);
      Exemplar      the first K images of DIR are K classes, batches drawn from them; a
                    K-way linear head on h names each of the two views' image;
      Autoencoder   a decoder of transposed convolutions rebuilds one view from h (mean
                    squared error); with denoise, f sees the view under the app's
                    Gaussian noise (σ 0.2, the same numbers as the app's for the seed);
      Relative patch location  each view cut into the app's 3×3 grid of patches with gaps and
                    a seeded jitter per patch; a head on [h_centre, h_neighbour] names each of
                    the 8 neighbours' positions (cross-entropy);
      Jigsaw        the 3×3 tiles shuffled by one of P fixed permutations (the app's greedy
                    maximal-Hamming set), jitter and permutation drawn from the app's stream; a
                    head on the 9 tiles' h side by side names the permutation;
      Inpainting    a square of half the side (central, or at a seeded random place) filled
                    with the batch's mean visible colour; a decoder paints it back from h
                    (mean squared error over the hidden pixels);
      Colorization  colour data only: f sees Lab's L / 100, a head predicts ab (regression of
                    ab / 110, or cross-entropy over the ab bins sRGB reaches);
      CMC           colour data only: f and g see L / 100, a second encoder of f's architecture
                    with its own head sees ab / 110; each L view picks its image's ab view among
                    the batch's and each ab view its L view (cross-entropy at τ, averaged);
      PIRL          a view and its jigsaw tiles (shuffled by a uniform σ from the app's stream,
                    a linear head on the 9 tiles' h) both pick the image's memory-bank entry
                    (λ-weighted softmaxes over the bank); the bank is written with g(f(view));
      CPC           a 4×4 grid of half-overlapping patches, f on each; a causal context network
                    predicts the code 1–3 rows below (InfoNCE over every patch code of the batch);
      PixelCNN      each view quantized to 16 levels; a PixelCNN of masked convolutions, h = f(view) a bias
                    in each layer, predicts every pixel value's level from the pixels before it (cross-entropy,
                    nats); a second PixelCNN without h trains beside it as the baseline, outside the loss's value;
      DeepCluster   k-means rounds (before step 1, then every cluster_every steps) over h of every training
                    image in inference mode, ZCA-whitened and ℓ2-normalized, with the app's k-means++ seeds and
                    Lloyd iterations, give each image a pseudo-label; a k-way head on h, fresh from the seed with
                    a fresh Adam each round, names it (cross-entropy weighted by 1 / cluster size);
    the method's own parts (predictor, queue, shuffle order, bank, classifier head,
    decoder, noise) start from the app's seeded streams, as the app starts them; a
    key encoder or target starts as a copy of f and g (after --init, of the loaded
    ones); CMC's second encoder starts, as f does, from the app's weights for its own
    seed; the pretext tasks (RotNet, Exemplar, Autoencoder, Relative patch location,
    Jigsaw, Inpainting, Colorization, CPC, PixelCNN, DeepCluster) train f and their own
    head or decoder, and leave g as it is, as the app does;
  - Adam with tfjs's defaults (β1 0.9, β2 0.999, ε 1e-7);
  - batch size N, learning rate, steps, seed and view size.
What differs: the random numbers of the data. The app draws crops, jitter, noise
and the batch order from its own generator; this script draws the same
distributions from torch's. Runs agree in distribution, not image for image.

Scaling out: under torchrun each of the K processes (ranks) takes N images per
step, so the global batch is K × N, and DistributedDataParallel averages the
gradients. Batch norm statistics are taken over the global batch
(SyncBatchNorm's rule) in f, g and the predictor, MoCo's excepted, so K ranks of
N images train as one process with K × N would; per method:
  - SimCLR: NT-Xent compares each rank's 2N views with the 2·K·N views gathered
    from all ranks (as SimCLR does at scale);
  - MoCo v2: batch norm stays per process and per half (shuffling BN needs it
    local); the keys' images are shuffled across all ranks and the keys put back
    (MoCo's batch_shuffle_ddp), the keys of all ranks are gathered before they
    are enqueued (MoCo's concat_all_gather), so every rank holds the same queue,
    and the running statistics are averaged over the ranks after each step;
  - BYOL, SimSiam: the loss is each rank's mean over its pairs; the target's and
    the predictor's batch norm see the global batch;
  - Barlow Twins: the standardization and C are over the global batch (their
    sums all-reduced, as the paper's implementation does), so every rank has
    the global loss;
  - Memory bank: every rank holds the whole bank and scores its own views
    against it; the features and indices of all ranks are gathered and every
    rank writes the global batch's entries, so the banks stay identical;
  - RotNet, Exemplar, Autoencoder: each rank's loss is the mean over its own
    views, DDP averages the gradients; Exemplar's ranks draw from the same
    K-image pool; the denoising noise is a stream of its own per rank;
  - Relative patch location, Jigsaw, Inpainting: the jitter, permutations and random
    squares of all K × N views are drawn from the app's stream alike on every rank and
    each rank takes its N; the inpainting fill is the global batch's mean visible colour.
  - CMC: each rank's L views are scored against the ab views gathered from all ranks and
    the other way round (in-batch candidates of the global batch, as SimCLR's negatives);
  - PIRL: the jitter and shuffles drawn as the jigsaw's, the bank written as the memory
    bank's (every rank writes the global batch's entries);
  - CPC: each rank's predictions are scored against the patch codes gathered from all ranks.
  - PixelCNN: each rank's loss is the mean over its own views' pixels, DDP averages the gradients.
  - DeepCluster: rank 0 runs each k-means round over all the images and broadcasts the labels, so every rank holds
    the same ones; each rank's loss is over its own views, DDP averages the gradients.
To keep the app's batch, set batch_size to N / K in config.json. Backend: nccl
on CUDA, gloo on CPU.

Output: one JSON line per step from rank 0, {"step": k, "loss": L}; at the end
the trained weights as OUT/encoder.safetensors (same names and layout as the
app's export) and a line with each rank's digest of the method's whole state
(f, g, predictor, key encoder or target, queue, bank, head or decoder: they
must agree).

DeepCluster holds every training image as float32 while it trains (4 bytes a pixel value), to encode them all each round.

Needs torch, numpy and Pillow only.
"""
import argparse
import copy
import hashlib
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

CONFIG_FORMAT = 'ssl-playground-pytorch-config'
CONFIG_VERSION = 2
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg')


class UserError(Exception):
    """Something the user can fix (a file, a flag); printed as one message, no traceback."""


# ---------------------------------------------------------------------------
# Config

def _require(ok, message):
    if not ok:
        raise UserError(message)


def _number(section, key, value, *, integer=False, low=None, low_open=False, high=None):
    what = f'config.json: {section}{key}'
    _require(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
             f'{what} must be a number, got {json.dumps(value)}')
    if integer:
        _require(isinstance(value, int), f'{what} must be a whole number, got {value}')
    if low is not None:
        _require(value > low if low_open else value >= low, f'{what} must be {">" if low_open else "≥"} {low}, got {value}')
    if high is not None:
        _require(value <= high, f'{what} must be ≤ {high}, got {value}')
    return int(value) if integer else float(value)


def validate_config(config):
    """Checks a config.json (hand-edited ones too); returns it, or raises UserError saying what to fix."""
    _require(isinstance(config, dict), 'config.json must hold a JSON object, as the app exports it')
    _require(config.get('format') == CONFIG_FORMAT,
             f'config.json is not a Self-Supervised Playground export (format {json.dumps(config.get("format"))}, expected "{CONFIG_FORMAT}")')
    _require(config.get('version') == CONFIG_VERSION,
             f'config.json is version {json.dumps(config.get("version"))}; this train.py reads version {CONFIG_VERSION}: export both again from the app')
    method = config.get('method')
    _require(method in METHODS, f'config.json asks for method {json.dumps(method)}; this train.py covers {", ".join(sorted(METHODS))}')
    _number('', 'seed', config.get('seed'), integer=True, low=0, high=2 ** 31 - 1)
    for key in ('steps', 'batch_size', 'view_size'):
        _number('', key, config.get(key), integer=True, low=0 if key == 'steps' else 1)
    _number('', 'learning_rate', config.get('learning_rate'), low=0, low_open=True)
    for name in ('optimizer', 'method_settings', 'model', 'data'):
        _require(isinstance(config.get(name), dict), f'config.json has no "{name}" object')
    optimizer, model, data = config['optimizer'], config['model'], config['data']
    for key in ('beta1', 'beta2'):
        _number('optimizer.', key, optimizer.get(key), low=0)
        _require(optimizer[key] < 1, f'config.json: optimizer.{key} must be below 1, got {optimizer[key]}')
    _number('optimizer.', 'epsilon', optimizer.get('epsilon'), low=0, low_open=True)
    for key in ('in_channels', 'encoder_width', 'projection_dim'):
        _number('model.', key, model.get(key), integer=True, low=1)
    for key in ('image_size', 'channels'):
        _number('data.', key, data.get(key), integer=True, low=1)
    _require(config['optimizer'].get('name') == 'adam', 'config.json: optimizer.name must be "adam"')
    validate_method_settings(method, config['method_settings'])
    _require(config['model'].get('projection_head') in ('none', 'linear', 'mlp'),
             'config.json: model.projection_head must be "none", "linear" or "mlp"')
    bn = config['model'].get('batch_norm')
    _require(isinstance(bn, dict), 'config.json: model.batch_norm must be an object {"momentum", "epsilon"}')
    _number('model.batch_norm.', 'momentum', bn.get('momentum'), low=0, high=1)
    _number('model.batch_norm.', 'epsilon', bn.get('epsilon'), low=0, low_open=True)
    _require(config['data']['channels'] in (1, 3), 'config.json: data.channels must be 1 (grey) or 3 (RGB)')
    validate_pipeline(config.get('augmentation'))
    return config


def validate_method_settings(method, settings):
    """method_settings: exactly the settings the method reads (its class's SETTINGS), each in its range."""
    wanted = METHODS[method].SETTINGS
    for key in settings:
        _require(key in wanted, f'config.json: method_settings.{key} is not a setting of {method} '
                                f'(it reads {", ".join(wanted) or "none"}); export the config again from the app')
    for key, kind in wanted.items():
        _require(key in settings, f'config.json: method_settings has no "{key}", which {method} reads')
        value = settings[key]
        if kind == 'switch':
            _require(isinstance(value, bool), f'config.json: method_settings.{key} must be true or false, got {json.dumps(value)}')
        elif kind == 'positive':
            _number('method_settings.', key, value, low=0, low_open=True)
        elif kind == 'count':
            _number('method_settings.', key, value, integer=True, low=1)
        elif kind == 'permutations':
            _number('method_settings.', key, value, integer=True, low=2, high=JIGSAW_MAX_PERMUTATIONS)
        elif isinstance(kind, tuple):
            _require(value in kind, f'config.json: method_settings.{key} must be {" or ".join(json.dumps(k) for k in kind)}, got {json.dumps(value)}')
        elif kind == 'weight':
            _number('method_settings.', key, value, low=0, high=1)
        elif kind == 'momentum':
            _number('method_settings.', key, value, low=0)
            _require(value < 1, f'config.json: method_settings.{key} must be below 1 (θ ← m·θ + (1 − m)·θ_online), got {value}')


def validate_pipeline(operators):
    """The app's pipeline rules (src/core/pipeline.ts validatePipeline), so apply_views never meets a value it cannot use."""
    _require(isinstance(operators, list), 'config.json: augmentation must be the list of operators the app exports')
    seen = set()
    for i, op in enumerate(operators):
        where = f'config.json: augmentation[{i}]'
        _require(isinstance(op, dict) and op.get('kind') in OPERATOR_KINDS,
                 f'{where} must be an operator with "kind" one of {", ".join(OPERATOR_KINDS)}')
        kind = op['kind']
        _require(kind not in seen, f'{where}: {kind} appears twice; each operator can be used once')
        seen.add(kind)
        _require(isinstance(op.get('enabled'), bool), f'{where} ({kind}): "enabled" must be true or false')
        _number(f'augmentation[{i}].', 'p', op.get('p'), low=0, high=1)

        def pair(key, low, low_open, high=None):
            v = op.get(key)
            _require(isinstance(v, list) and len(v) == 2, f'{where} ({kind}): {key} must be [min, max]')
            a = _number(f'augmentation[{i}].{key}', '[0]', v[0], low=low, low_open=low_open, high=high)
            b = _number(f'augmentation[{i}].{key}', '[1]', v[1], low=low, low_open=low_open, high=high)
            _require(a <= b, f'{where} ({kind}): {key} min {a} is greater than max {b}')

        if kind == 'crop':
            pair('scale', 0, True, 1)
            pair('ratio', 0, True)
        elif kind == 'colorJitter':
            _number(f'augmentation[{i}].', 'strength', op.get('strength'), low=0)
        elif kind == 'blur':
            pair('sigma', 0, False)
        elif kind == 'cutout':
            _number(f'augmentation[{i}].', 'count', op.get('count'), integer=True, low=1, high=MAX_CUTOUT_COUNT)
            _number(f'augmentation[{i}].', 'size', op.get('size'), low=0, low_open=True, high=1)
        elif kind == 'noise':
            _number(f'augmentation[{i}].', 'sigma', op.get('sigma'), low=0)


def load_config(path):
    try:
        with open(path, 'rb') as f:
            text = f.read().decode('utf-8')
    except OSError as e:
        raise UserError(f'cannot read the config {path}: {e.strerror or e}')
    except UnicodeDecodeError:
        raise UserError(f'{path} is not a text file; pass the config.json the app exported')
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise UserError(f'{path} is not valid JSON ({e.msg} at line {e.lineno}); export it again from the app')
    return validate_config(config)


# ---------------------------------------------------------------------------
# The app's initial weights (src/model/encoderNetwork.ts): He-normal from mulberry32

_U32 = np.uint64(0xFFFFFFFF)


def mulberry32(seed, count, skip=0):
    """Draws skip+1 … skip+count of the app's generator (src/core/random.ts createRng), uniform in [0, 1).

    mulberry32's state after k draws is seed + k·0x6D2B79F5 (mod 2³²) and each draw
    is a function of that state alone, so the draws are computed all at once.
    """
    k = np.arange(skip + 1, skip + count + 1, dtype=np.uint64)
    t = (np.uint64(seed & 0xFFFFFFFF) + k * np.uint64(0x6D2B79F5)) & _U32

    def imul(a, b):
        return (a * b) & _U32

    t = imul(t ^ (t >> np.uint64(15)), t | np.uint64(1))
    t = t ^ ((t + imul(t ^ (t >> np.uint64(7)), t | np.uint64(61))) & _U32)
    return (t ^ (t >> np.uint64(14))).astype(np.float64) / 4294967296.0


class AppRng:
    """One of the app's seeded streams, createRng(seed), continued draw after draw as the app's closure is.

    The app seeds each stream from the run's seed XOR a constant of its own (the
    network 0x5EED, MoCo's queue and shuffle 0x40C0, the predictor 0x9E3D, the memory
    bank 0xBA4C, the rotation and exemplar heads 0x4F7A and 0xE8E3, the decoder 0xAE0D and
    the denoising noise 0xDE70, the patch jitter 0x9A7C and head 0x5E1A, the jigsaw's draws 0x7A11 and head 0x1195,
    the inpainting squares 0x3B5D and decoder 0x1A9E, the colour head 0xC010, the PixelCNNs 0xA7E1 and 0xA7E2, DeepCluster's rounds 0xDC2 and heads 0xDC1 + round), so the streams are independent of each other and of
    the order things are built in.
    """

    def __init__(self, seed):
        self.seed = seed & 0xFFFFFFFF  # createRng's seed >>> 0
        self.drawn = 0

    def uniform(self, count):
        r = mulberry32(self.seed, count, self.drawn)
        self.drawn += count
        return r

    def normal(self, count):
        """count standard normals, float64: Box–Muller on two draws each, u clamped at 1e-12 (random.ts normal)."""
        r = self.uniform(2 * count)
        u, v = np.maximum(r[0::2], 1e-12), r[1::2]
        return np.sqrt(-2 * np.log(u)) * np.cos(2 * math.pi * v)

    def gaussian(self, shape, std):
        """normal · std in float64, then float32, row-major in the app's (tfjs) layout."""
        return (self.normal(int(np.prod(shape))) * std).astype(np.float32).reshape(shape)

    def he_normal(self, shape, fan_in):
        """gaussian with std √(2 / fan_in) (He et al. 2015)."""
        return self.gaussian(shape, math.sqrt(2 / fan_in))

    def permutation(self, n):
        """random.ts permutation: Fisher–Yates from the end, j = ⌊r·(i + 1)⌋, n − 1 draws."""
        p = np.arange(n, dtype=np.int64)
        r = self.uniform(max(n - 1, 0))
        for k, i in enumerate(range(n - 1, 0, -1)):
            j = int(math.floor(r[k] * (i + 1)))
            p[i], p[j] = p[j], p[i]
        return p


def app_unit_rows(rows, dim, rng):
    """normalize.ts randomUnitRows: Gaussian rows (float32) ℓ2-normalized, how MoCo's queue and the memory bank start."""
    raw = torch.from_numpy(rng.normal(rows * dim).astype(np.float32).reshape(rows, dim))
    return l2_normalize(raw)


def _uint32(x):
    """JavaScript's x >>> 0 of a non-negative double."""
    return int(x) % 4294967296


def _alea(seed_text):
    """seedrandom 3.0.5's alea(seed_text) (Baagøe 2010), the generator tfjs seeds from a number's decimal text: uniform in [0, 1)."""
    n = 0xEFC8249D

    def mash(data):
        nonlocal n
        for ch in data:
            n += ord(ch)
            h = 0.02519603282416938 * n
            n = _uint32(h)
            h -= n
            h *= n
            n = _uint32(h)
            h -= n
            n += h * 4294967296
        return _uint32(n) * 2.3283064365386963e-10

    s = [mash(' '), mash(' '), mash(' ')]
    for i in range(3):
        s[i] -= mash(seed_text)
        if s[i] < 0:
            s[i] += 1
    c = 1

    def next_value():
        nonlocal c
        t = 2091639 * s[0] + c * 2.3283064365386963e-10
        s[0], s[1] = s[1], s[2]
        c = int(t)  # t | 0: t is positive and below 2³¹
        s[2] = t - c
        return s[2]

    return next_value


def tfjs_random_normal(count, std, seed):
    """tf.randomNormal([count], 0, std, 'float32', seed) of tfjs 4.22 (rand_util.ts MPRandGauss): Marsaglia's polar
    method on alea(String(seed)), both values of each accepted pair used in turn, float32. Pure Python: a sequence
    no vectorized generator reproduces; about a microsecond a value."""
    random = _alea(str(seed))
    out = np.empty(count, dtype=np.float64)
    i = 0
    while i < count:
        while True:
            v1 = 2 * random() - 1
            v2 = 2 * random() - 1
            s = v1 * v1 + v2 * v2
            if 0 < s < 1:
                break
        mul = math.sqrt(-2.0 * math.log(s) / s)
        out[i] = std * v1 * mul
        if i + 1 < count:
            out[i + 1] = std * v2 * mul
        i += 2
    return out.astype(np.float32)


def app_initial_state(config):
    """The weights the app starts from for config's seed, as a state dict: the same float32 values as the browser's."""
    model = config['model']
    he_normal = AppRng(config['seed'] ^ 0x5EED).he_normal

    state = {}
    w = model['encoder_width']
    c_in = model['in_channels']
    for i, c_out in enumerate((w, 2 * w, 4 * w, 8 * w)):
        kernel = he_normal((3, 3, c_in, c_out), 9 * c_in)  # tfjs layout [kh, kw, in, out]
        state[f'encoder.blocks.{i}.conv.weight'] = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
        state[f'encoder.blocks.{i}.bn.weight'] = torch.ones(c_out)
        state[f'encoder.blocks.{i}.bn.bias'] = torch.zeros(c_out)
        state[f'encoder.blocks.{i}.bn.running_mean'] = torch.zeros(c_out)
        state[f'encoder.blocks.{i}.bn.running_var'] = torch.ones(c_out)
        c_in = c_out
    h_dim, z_dim = 8 * w, model['projection_dim']
    layers = {'none': [], 'linear': [(h_dim, z_dim)], 'mlp': [(h_dim, h_dim), (h_dim, z_dim)]}[model['projection_head']]
    for k, (fan_in, fan_out) in enumerate(layers):
        weight = he_normal((fan_in, fan_out), fan_in)  # tfjs layout [in, out]
        state[f'head.{2 * k}.weight'] = torch.from_numpy(weight.T.copy())
        state[f'head.{2 * k}.bias'] = torch.zeros(fan_out)
    return state


# ---------------------------------------------------------------------------
# The encoder f and the head g

def _world():
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


class BatchNorm2d(nn.BatchNorm2d):
    """nn.BatchNorm2d; in training under several ranks, its statistics are over the global batch.

    What nn.SyncBatchNorm does, on CPU (gloo) as well as CUDA (torch 1.13's refuses CPU
    tensors): per channel, Σx is all-reduced for the mean μ, then Σ(x − μ)² for the biased
    variance σ², both with the differentiable all_reduce, so the gradient is the
    global batch's. The running statistics move as nn.BatchNorm2d's over the whole batch:
    running ← (1 − m)·running + m·batch, with the unbiased variance for running_var.
    Parameters and buffers keep nn.BatchNorm2d's names: the state dict is the same.
    With sync False (MoCo's shuffling BN) the statistics are this process's batch's.
    """

    sync = True

    def forward(self, x):
        if not self.training or _world() == 1 or not self.sync:
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce
        channels = x.shape[1]
        # the count rides with the sums (one collective); float32 holds it exactly below 2²⁴ values per channel, and beyond
        # that to the sums' own precision
        local_count = x.new_tensor([x.numel() / channels])
        sums = all_reduce(torch.cat([x.sum(dim=(0, 2, 3)), local_count]))
        count = sums[channels].detach()
        mean = sums[:channels] / count
        centred = x - mean.view(1, -1, 1, 1)
        variance = all_reduce((centred * centred).sum(dim=(0, 2, 3))) / count
        with torch.no_grad():
            m = self.momentum
            self.running_mean.mul_(1 - m).add_(mean.detach(), alpha=m)
            self.running_var.mul_(1 - m).add_(variance.detach() * (count / torch.clamp(count - 1, min=1)), alpha=m)
            self.num_batches_tracked.add_(1)
        scale = self.weight * torch.rsqrt(variance + self.eps)
        return centred * scale.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class Block(nn.Module):
    def __init__(self, c_in, c_out, pool, bn):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn = BatchNorm2d(c_out, eps=bn['epsilon'], momentum=bn['momentum'])
        self.pool = pool

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        # tfjs's 'same' max-pool pads only at the end: ceil_mode
        return F.max_pool2d(x, 2, ceil_mode=True) if self.pool else x


class Encoder(nn.Module):
    """f: images [B, C, S, S] in [0, 1] → h [B, 8w]."""

    def __init__(self, channels, width, bn):
        super().__init__()
        widths = (width, 2 * width, 4 * width, 8 * width)
        c_in = channels
        blocks = []
        for i, c_out in enumerate(widths):
            blocks.append(Block(c_in, c_out, i < 3, bn))
            c_in = c_out
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x.mean(dim=(2, 3))


class Model(nn.Module):
    """f and g; forward gives (h, z)."""

    def __init__(self, model_config):
        super().__init__()
        w = model_config['encoder_width']
        h_dim, z_dim = 8 * w, model_config['projection_dim']
        self.encoder = Encoder(model_config['in_channels'], w, model_config['batch_norm'])
        kind = model_config['projection_head']
        if kind == 'mlp':
            self.head = nn.Sequential(nn.Linear(h_dim, h_dim), nn.ReLU(), nn.Linear(h_dim, z_dim))
        elif kind == 'linear':
            self.head = nn.Sequential(nn.Linear(h_dim, z_dim))
        else:
            self.head = nn.Sequential()

    def forward(self, x):
        h = self.encoder(x)
        return h, self.head(h)


def build_model(config):
    """Model with the app's initial weights for the seed."""
    model = Model(config['model'])
    model.load_state_dict(app_initial_state(config), strict=False)
    return model


def weight_tensors(model):
    """The tensors the app's encoder.safetensors holds (num_batches_tracked is PyTorch's own), in its order."""
    return {k: v for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}


# ---------------------------------------------------------------------------
# safetensors (https://github.com/huggingface/safetensors, "Format"), read and written with json + struct

_DTYPES = {'F32': (torch.float32, 4)}


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file of F32 tensors; UserError when it is not one."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise UserError(f'cannot read {path}: {e.strerror or e}')
    _require(len(data) >= 8, f'{path} is too short to be a safetensors file ({len(data)} bytes)')
    (n,) = struct.unpack('<Q', data[:8])
    _require(n <= len(data) - 8, f'{path} is truncated: its header claims {n} bytes, the file has {len(data) - 8} after the length')
    try:
        header = json.loads(data[8:8 + n].decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UserError(f'{path} is not a safetensors file (its header is not JSON)')
    _require(isinstance(header, dict), f'{path} is not a safetensors file (its header is not a JSON object)')
    metadata = header.pop('__metadata__', None) or {}
    body = memoryview(data)[8 + n:]
    tensors = {}
    for name, entry in header.items():
        ok = isinstance(entry, dict) and isinstance(entry.get('shape'), list) and isinstance(entry.get('data_offsets'), list) \
            and len(entry['data_offsets']) == 2 and all(isinstance(v, int) and v >= 0 for v in entry['shape'] + entry['data_offsets'])
        _require(ok, f'{path}: the entry for {json.dumps(name)} is malformed')
        _require(entry.get('dtype') in _DTYPES, f'{path}: tensor {json.dumps(name)} is {entry.get("dtype")}; this script reads F32 weights')
        dtype, size = _DTYPES[entry['dtype']]
        begin, end = entry['data_offsets']
        count = int(np.prod(entry['shape'])) if entry['shape'] else 1
        _require(begin <= end <= len(body) and end - begin == count * size,
                 f'{path} is truncated or damaged: tensor {json.dumps(name)} does not fit its bytes; export it again')
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype) if count else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry['shape'])
    return tensors, {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {}


def write_safetensors(path, tensors, metadata):
    """F32 tensors in the given order, header padded with spaces so the data starts 8-aligned (as the app writes)."""
    header = {'__metadata__': metadata} if metadata else {}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        blob = t.detach().to('cpu', torch.float32).contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((-(8 + len(text))) % 8)
    tmp = f'{path}.part'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def load_weights(model, path, config):
    """--init: the app's encoder.safetensors into the model; UserError when it was made for another architecture."""
    tensors, metadata = read_safetensors(path)
    m = config['model']
    checks = [('in_channels', m['in_channels']), ('encoder_width', m['encoder_width']), ('projection_head', m['projection_head'])]
    if m['projection_head'] != 'none':
        checks.append(('projection_dim', m['projection_dim']))  # with no head the file's z is h, whatever the config says
    for key, expected in checks:
        if key in metadata:
            _require(metadata[key] == str(expected),
                     f'{path} holds an encoder with {key} {metadata[key]}, but config.json says {expected}: export both from the same run')
    expected = weight_tensors(model)
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    _require(not missing, f'{path} lacks {len(missing)} weight(s) this model needs (first: {missing[:3]}); is it the app\'s encoder.safetensors for this config?')
    _require(not unexpected, f'{path} has weight(s) this model does not (first: {unexpected[:3]}); is it the app\'s encoder.safetensors for this config?')
    for k, t in expected.items():
        _require(tuple(tensors[k].shape) == tuple(t.shape),
                 f'{path}: {k} has shape {list(tensors[k].shape)}, this model needs {list(t.shape)}: export both from the same run')
        _require(bool(torch.isfinite(tensors[k]).all()), f'{path}: {k} holds NaN or infinite values; export it again')
    model.load_state_dict(tensors, strict=False)
    return metadata


# ---------------------------------------------------------------------------
# Losses (src/loss in the app): small functions of tensors; the methods below assemble them

def _rank():
    return dist.get_rank() if _world() > 1 else 0


def l2_normalize(x):
    """x̂ = x / max(‖x‖, 1e-12) per row, computed as x·rsqrt(max(‖x‖², 1e-24)) as the app's l2NormalizeRows: finite gradient at a zero row."""
    return x * torch.rsqrt(torch.clamp((x * x).sum(dim=1, keepdim=True), min=1e-24))


def cosine_per_row(a, b):
    """cos(a_b, b_b) of each row pair (normalize.ts cosinePerRow)."""
    return (l2_normalize(a) * l2_normalize(b)).sum(dim=1)


def global_sum(x):
    """Σ of x over the ranks, differentiable (the gradient of the sum is every rank's gradient, summed); x on one process."""
    if _world() == 1:
        return x
    from torch.distributed.nn.functional import all_reduce
    return all_reduce(x)


def gather_rows(x):
    """Every rank's rows of x, concatenated in rank order, without gradient (MoCo's concat_all_gather); x on one process."""
    if _world() == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(_world())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts)


def row_moments(x):
    """(μ, σ², B) of each column of x [B, d] over its rows, σ² biased (tf.moments over axis 0); under several ranks over
    the global batch: Σx, then Σ(x − μ)², all-reduced with their gradients, as BatchNorm2d here does per channel."""
    if _world() == 1:
        mean = x.mean(dim=0)
        centred = x - mean
        return mean, (centred * centred).mean(dim=0), x.shape[0]
    d = x.shape[1]
    sums = global_sum(torch.cat([x.sum(dim=0), x.new_tensor([x.shape[0]])]))
    count = sums[d].detach()
    mean = sums[:d] / count
    centred = x - mean
    return mean, global_sum((centred * centred).sum(dim=0)) / count, count


def nt_xent(z1, z2, temperature, normalize):
    """NT-Xent (Chen et al. 2020, Algorithm 1), with negatives gathered from every rank.

    z1, z2 [N, d]: this rank's projections of the first and second views. With K ranks,
    z = concat(z1 of ranks 0…K−1, z2 of ranks 0…K−1) has 2KN rows and the positive of
    row i is (i + KN) mod 2KN (rows concatenated, not interleaved, as the app's
    src/loss/ntxent.ts). s_ij = ẑ_i·ẑ_j (ẑ = z / max(‖z‖, 1e-12) when normalize, else z),
    ℓ_i = log Σ_{k≠i} exp(s_ik/τ) − s_{i,pos(i)}/τ, and this rank's loss is the mean of ℓ
    over its own 2N rows. DistributedDataParallel averages the K ranks' gradients, so the
    update is that of L = 1/(2KN) Σ_i ℓ_i, NT-Xent over the global batch; with K = 1 it
    is exactly the app's loss. The gather is differentiable (torch.distributed.nn), so
    gradients reach the rank each row came from.
    """
    n = z1.shape[0]
    world = _world()
    rank = _rank()
    if world > 1:
        from torch.distributed.nn.functional import all_gather
        gathered = all_gather(torch.cat([z1, z2]))
        z = torch.cat([g[:n] for g in gathered] + [g[n:] for g in gathered])
    else:
        z = torch.cat([z1, z2])
    if normalize:
        z = l2_normalize(z)
    total = world * n  # KN
    own = torch.arange(n, device=z.device) + rank * n
    anchors = torch.cat([own, own + total])  # this rank's rows of z
    similarity = z[anchors] @ z.T  # [2N, 2KN]
    rows = torch.arange(2 * n, device=z.device)
    self_mask = torch.zeros_like(similarity, dtype=torch.bool)
    self_mask[rows, anchors] = True
    logits = similarity.masked_fill(self_mask, float('-inf')) / temperature
    positive = logits[rows, (anchors + total) % (2 * total)]
    return (torch.logsumexp(logits, dim=1) - positive).mean()


def info_nce(q, k, queue, temperature):
    """InfoNCE with a queue (He et al. 2020, Eq. 1; src/loss/infoNce.ts).

    l_pos(b) = q̂_b·k̂_b / τ, l_neg(b, j) = q̂_b·queue_j / τ (the queue's rows used as
    stored, unit already), L = 1/B Σ_b [logsumexp(l_pos(b), l_neg(b, ·)) − l_pos(b)]:
    cross-entropy with label 0 over [l_pos, l_neg], as Algorithm 1.
    """
    q_hat, k_hat = l2_normalize(q), l2_normalize(k)
    positive = (q_hat * k_hat).sum(dim=1, keepdim=True) / temperature
    negative = q_hat @ queue.T / temperature
    logits = torch.cat([positive, negative], dim=1)
    return (torch.logsumexp(logits, dim=1) - positive[:, 0]).mean()


def byol_loss(p, z):
    """BYOL's regression loss (Grill et al. 2020, Eq. 2; src/loss/byol.ts): mean over rows of ‖p̂ − ẑ‖² = 2 − 2·cos(p, z)."""
    return (2 - 2 * cosine_per_row(p, z)).mean()


def negative_cosine(p, z):
    """SimSiam's D(p, z) (Chen & He 2021, Eq. 1; src/loss/simsiam.ts): −mean over rows of cos(p, z)."""
    return -cosine_per_row(p, z).mean()


def barlow_twins(z1, z2, lam):
    """Barlow Twins (Zbontar et al. 2021, Eq. 1–2; src/loss/barlowTwins.ts); returns (L, C).

    ẑ = (z − μ) / √(σ² + 1e-5) per column, μ and the biased σ² over the batch; C = ẑ1ᵀẑ2 / B
    (d × d); L = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij². Under K ranks, μ, σ² and C are over the
    global batch of KN rows: their sums are all-reduced (the paper's main.py all-reduces
    C) with their gradients, so every rank holds the global C and L, and DDP's average of
    the ranks' gradients is the gradient of L.
    """
    def standardize(z):
        mean, variance, count = row_moments(z)
        return (z - mean) * torch.rsqrt(variance + 1e-5), count

    a, count = standardize(z1)
    b, _ = standardize(z2)
    c = global_sum(a.T @ b) / count
    on_diagonal = ((1 - torch.diagonal(c)) ** 2).sum()
    # masked, not Σ C² − Σ C_ii², which cancels in float32 when the diagonal dominates (as the app)
    off_diagonal = (c * c * (1 - torch.eye(c.shape[0], device=c.device))).sum()
    return on_diagonal + lam * off_diagonal, c


def memory_bank_loss(v, indices, bank, temperature):
    """InstDisc's non-parametric softmax (Wu et al. 2018, Eq. 2; src/loss/memoryBank.ts), exact over all n entries.

    v̂_b = v_b / max(‖v_b‖, 1e-12), s_bj = v̂_b·bank_j (the bank's rows used as stored, unit
    already), L = 1/B Σ_b [logsumexp_j(s_bj / τ) − s_{b,i_b} / τ], i_b = indices[b]. The bank
    is a constant here: the method writes it after the step, outside the gradient.
    """
    logits = l2_normalize(v) @ bank.T / temperature
    positive = logits.gather(1, indices.view(-1, 1))[:, 0]
    return (torch.logsumexp(logits, dim=1) - positive).mean()


def reconstruction_mse(reconstruction, target):
    """The autoencoder's loss (src/loss/reconstruction.ts): L = 1/(N·H·W·C) Σ (x̂ − x)², pixels in [0, 1]."""
    return ((reconstruction - target) ** 2).mean()


# ---------------------------------------------------------------------------
# Methods (src/methods in the app): one class each, its loss and what it keeps.
#
# forward(views, indices) takes the views, VIEWS per image (the catalog's `views`):
# two, 2N rows (0…N−1 t(x), N…2N−1 t′(x), as the app's MethodBatch); one, N rows t(x),
# from which a pretext task builds its task; and each image's index in the training
# images (the ImageFolder loader's order: the memory bank's row, the exemplar's
# class). It returns {'loss', 'z', …}; after_step() runs after the optimizer step
# (EMA, enqueue, bank write). SETTINGS: the keys of config.json's method_settings it
# reads, with their kind (validate_method_settings). POOL, when set: batches are drawn
# from the first POOL images only (the app's batchPool). The online network f, g is
# `online`, under the names the app's encoder.safetensors uses; a pretext task trains
# f alone (g plays no part in it and stays as it was, as in the app).

# Below 4 images a half would hold one image: MoCo encodes the batch as one group (moco.ts MIN_SHUFFLE_BATCH)
MIN_SHUFFLE_BATCH = 4


def z_dim(config):
    m = config['model']
    return 8 * m['encoder_width'] if m['projection_head'] == 'none' else m['projection_dim']


def frozen_copy(online):
    """A key encoder or target network: a copy of f and g (MoCo's param_k.data.copy_(param_q.data)) that no optimizer sees."""
    network = copy.deepcopy(online)
    network.requires_grad_(False)
    return network


def _ema_tensors(network):
    """What a moving average follows: every parameter and the running statistics (EncoderNetwork.allVariables)."""
    return [t for _, t in network.named_parameters()] + \
        [b for name, b in network.named_buffers() if name.endswith(('running_mean', 'running_var'))]


@torch.no_grad()
def follow_ema(target, online, momentum):
    """θ_target ← m·θ_target + (1 − m)·θ_online over every weight and running statistic (EncoderNetwork.followEma)."""
    for t, s in zip(_ema_tensors(target), _ema_tensors(online)):
        t.mul_(momentum).add_(s, alpha=1 - momentum)


def project_in_groups(network, x):
    """z = g(f(x)) in training mode, batch norm over each half of x (moco.ts projectInGroups: two virtual devices)."""
    n = x.shape[0]
    if n < MIN_SHUFFLE_BATCH:
        return network(x)[1]
    half = n // 2
    return torch.cat([network(x[:half])[1], network(x[half:])[1]])


class BatchNorm1d(nn.BatchNorm1d):
    """The predictor's batch norm (siamese.ts): the batch's statistics, always (the app's keeps no running ones);
    under several ranks, the global batch's (row_moments)."""

    def __init__(self, features):
        super().__init__(features, eps=1e-5, track_running_stats=False)

    def forward(self, x):
        if _world() == 1:
            return super().forward(x)
        mean, variance, _ = row_moments(x)
        return (x - mean) * (self.weight * torch.rsqrt(variance + self.eps)) + self.bias


class Predictor(nn.Module):
    """q of BYOL and SimSiam (siamese.ts Predictor): p = W₂ ReLU(BN(W₁ z)) + b₂, d → hidden → d.

    W₁ has no bias (batch norm follows). Its initial weights are the app's: He-normal
    from the stream seed ^ 0x9E3D, W₁ then W₂, drawn in tfjs's [in, out] layout.
    """

    def __init__(self, dim, hidden, seed):
        super().__init__()
        self.layer1 = nn.Linear(dim, hidden, bias=False)
        self.bn = BatchNorm1d(hidden)
        self.layer2 = nn.Linear(hidden, dim)
        rng = AppRng(seed ^ 0x9E3D)
        w1 = rng.he_normal((dim, hidden), dim)
        w2 = rng.he_normal((hidden, dim), hidden)
        with torch.no_grad():
            self.layer1.weight.copy_(torch.from_numpy(w1.T.copy()))
            self.layer2.weight.copy_(torch.from_numpy(w2.T.copy()))
            self.layer2.bias.zero_()

    def forward(self, z):
        return self.layer2(torch.relu(self.bn(self.layer1(z))))


class SimCLR(nn.Module):
    """SimCLR (Chen et al. 2020; simclr.ts): NT-Xent over both views' z. Keeps nothing beside f and g."""

    SETTINGS = {'temperature': 'positive', 'normalize': 'switch'}
    VIEWS = 2

    def __init__(self, online, config, train_count):
        super().__init__()
        self.online = online
        s = config['method_settings']
        self.temperature, self.normalize = s['temperature'], s['normalize']

    def forward(self, views, indices):
        n = views.shape[0] // 2
        h, z = self.online(views)
        return {'loss': nt_xent(z[:n], z[n:], self.temperature, self.normalize), 'h': h, 'z': z}

    def after_step(self):
        pass


class MoCo(nn.Module):
    """MoCo v2 (He et al. 2020; Chen et al. 2020; moco.ts).

    Queries q = g(f(t(x))), keys k = g_k(f_k(t′(x))) from the key encoder, an EMA of f and g
    (running statistics included) that starts as their copy; L = InfoNCE(q, k̂, queue) at τ.
    The queue holds K = min(queue_size, training images) unit keys; it starts as random
    unit rows from the stream seed ^ 0x40C0, and after each step the batch's k̂ are
    written at the pointer, FIFO. Shuffling BN: queries are encoded in two halves, keys in
    two halves of a shuffle drawn from the same stream, then put back in order; batch norm
    is per half (local to each process), so a query and its key never share statistics.

    Under K ranks: the shuffle (one permutation of the K·N images, the same on every rank)
    spans all ranks and each rank encodes its slice, as MoCo's batch_shuffle_ddp; the keys
    of every rank are gathered before the enqueue, so each rank's queue is the same; and
    since batch norm is local, the running statistics of both encoders are averaged over
    the ranks after each step (MoCo's own code lets DDP copy rank 0's instead).
    """

    SETTINGS = {'temperature': 'positive', 'queue_size': 'count', 'momentum': 'momentum'}
    VIEWS = 2

    def __init__(self, online, config, train_count):
        super().__init__()
        s = config['method_settings']
        self.online = online
        self.key_network = frozen_copy(online)
        for module in self.modules():
            if isinstance(module, BatchNorm2d):
                module.sync = False
        self.temperature, self.momentum = s['temperature'], s['momentum']
        self.rng = AppRng(config['seed'] ^ 0x40C0)
        self.register_buffer('queue', app_unit_rows(max(1, min(s['queue_size'], train_count)), z_dim(config), self.rng))
        self.register_buffer('pointer', torch.zeros((), dtype=torch.int64))
        self.pending = None

    def forward(self, views, indices):
        n = views.shape[0] // 2
        q = project_in_groups(self.online, views[:n])
        with torch.no_grad():
            k = self.shuffled_keys(views[n:])
            self.pending = l2_normalize(k)
        loss = info_nce(q, self.pending, self.queue, self.temperature)
        return {'loss': loss, 'z': torch.cat([q, k])}

    def shuffled_keys(self, x):
        """g_k(f_k(x)) of this rank's images, encoded in halves of the global batch's seeded shuffle, in x's order."""
        world, rank, n = _world(), _rank(), x.shape[0]
        total = world * n
        if total < MIN_SHUFFLE_BATCH:
            return project_in_groups(self.key_network, x)
        order = torch.from_numpy(self.rng.permutation(total)).to(x.device)
        everyone = gather_rows(x)
        mine = project_in_groups(self.key_network, everyone[order[rank * n:(rank + 1) * n]])
        shuffled = gather_rows(mine)  # row i: the key of image order[i]
        keys = torch.empty_like(shuffled)
        keys[order] = shuffled
        return keys[rank * n:(rank + 1) * n]

    @torch.no_grad()
    def after_step(self):
        world = _world()
        if world > 1:
            for name, buffer in self.named_buffers():
                if name.endswith(('running_mean', 'running_var')):
                    dist.all_reduce(buffer)
                    buffer /= world
        follow_ema(self.key_network, self.online, self.momentum)
        self.enqueue(gather_rows(self.pending))
        self.pending = None

    def enqueue(self, keys):
        """moco.ts enqueueKeys: row (pointer + i) mod K ← keys[i], as one-by-one FIFO writes (of more than K keys, the last K stay)."""
        size, count, pointer = self.queue.shape[0], keys.shape[0], int(self.pointer)
        slots = (pointer + torch.arange(count, device=keys.device)) % size
        last = slice(max(0, count - size), count)
        self.queue[slots[last]] = keys[last]
        self.pointer.fill_((pointer + count) % size)


class BYOL(nn.Module):
    """BYOL (Grill et al. 2020; byol.ts).

    z = g(f(v)) of both views, p = q(z) (or z without the predictor); the target's
    projections z′ = g_ξ(f_ξ(v)) of both views, in training mode, without gradient (or
    sg(z) when ema_target is off); L = ½[(2 − 2cos(p₁, z′₂)) + (2 − 2cos(p₂, z′₁))]; after
    the step ξ ← m·ξ + (1 − m)·θ, running statistics included. ξ starts as a copy of f and g.
    """

    SETTINGS = {'momentum': 'momentum', 'predictor_hidden': 'count', 'use_predictor': 'switch', 'ema_target': 'switch'}
    VIEWS = 2

    def __init__(self, online, config, train_count):
        super().__init__()
        s = config['method_settings']
        self.online = online
        self.predictor = Predictor(z_dim(config), s['predictor_hidden'], config['seed'])
        self.target = frozen_copy(online)
        self.momentum, self.use_predictor, self.ema_target = s['momentum'], s['use_predictor'], s['ema_target']
        # without the predictor q has no gradient (the app's Adam skips it) and DDP must not wait for one
        self.predictor.requires_grad_(self.use_predictor)

    def forward(self, views, indices):
        n = views.shape[0] // 2
        _, z = self.online(views)
        p = self.predictor(z) if self.use_predictor else z
        if self.ema_target:
            with torch.no_grad():
                _, target = self.target(views)
        else:
            target = z.detach()
        loss = (byol_loss(p[:n], target[n:]) + byol_loss(p[n:], target[:n])) / 2
        return {'loss': loss, 'z': z}

    @torch.no_grad()
    def after_step(self):
        if self.ema_target:
            follow_ema(self.target, self.online, self.momentum)


class SimSiam(nn.Module):
    """SimSiam (Chen & He 2021; simsiam.ts): L = ½[D(p₁, sg(z₂)) + D(p₂, sg(z₁))], p = q(z); no stop-gradient when stop_gradient is off."""

    SETTINGS = {'predictor_hidden': 'count', 'stop_gradient': 'switch'}
    VIEWS = 2

    def __init__(self, online, config, train_count):
        super().__init__()
        s = config['method_settings']
        self.online = online
        self.predictor = Predictor(z_dim(config), s['predictor_hidden'], config['seed'])
        self.stop_gradient = s['stop_gradient']

    def forward(self, views, indices):
        n = views.shape[0] // 2
        _, z = self.online(views)
        p = self.predictor(z)
        target = z.detach() if self.stop_gradient else z
        loss = (negative_cosine(p[:n], target[n:]) + negative_cosine(p[n:], target[:n])) / 2
        return {'loss': loss, 'z': z}

    def after_step(self):
        pass


class BarlowTwins(nn.Module):
    """Barlow Twins (Zbontar et al. 2021; barlowTwins.ts): barlow_twins(z₁, z₂, λ) over the (global) batch. Keeps nothing beside f and g."""

    SETTINGS = {'barlow_lambda': 'positive'}
    VIEWS = 2

    def __init__(self, online, config, train_count):
        super().__init__()
        _require(_world() * config['batch_size'] >= 2, 'Barlow Twins standardizes each feature over the batch: '
                                                       'batch_size × processes must be at least 2 in config.json')
        self.online = online
        self.lam = config['method_settings']['barlow_lambda']

    def forward(self, views, indices):
        n = views.shape[0] // 2
        _, z = self.online(views)
        loss, c = barlow_twins(z[:n], z[n:], self.lam)
        return {'loss': loss, 'z': z, 'c': c}

    def after_step(self):
        pass


@torch.no_grad()
def write_bank_entries(bank, indices, features, momentum):
    """memoryBank.ts writeBankEntries: bank_i ← normalize(m·bank_i + (1 − m)·features_r) for each index i, once (its
    first row: an index may repeat in a batch that spans an epoch's end). Written as the app's bank + (new − old)."""
    rows, seen = [], set()
    for row, index in enumerate(indices.tolist()):
        if index not in seen:
            seen.add(index)
            rows.append(row)
    rows = torch.tensor(rows, dtype=torch.int64, device=bank.device)
    entries = indices[rows]
    old = bank[entries]
    written = l2_normalize(old * momentum + features[rows] * (1 - momentum))
    bank[entries] = old + (written - old)


class MemoryBank(nn.Module):
    """Instance discrimination with a memory bank (Wu et al. 2018, InstDisc; memoryBank.ts).

    The bank holds one unit vector per training image, n rows, random unit rows from the
    stream seed ^ 0xBA4C to start with. Both views' z of image b are scored against all
    n entries, its own (row i_b, its index in the training images) the positive:
    L = memory_bank_loss over the 2N views at τ. After the step, bank_{i_b} ←
    normalize(m·bank_{i_b} + (1 − m)·(v̂_b + v̂′_b)/2), the mean of the two views' unit
    features (m = bank_momentum).

    Under K ranks every rank holds the whole bank; each scores its own 2N views against it
    (DDP's average of the gradients is the global batch's mean loss's), and the features
    and indices of every rank are gathered before the write, so every rank writes the K·N
    entries of the global batch (first occurrence in rank order) and the banks stay equal.
    """

    SETTINGS = {'temperature': 'positive', 'bank_momentum': 'momentum'}
    VIEWS = 2

    def __init__(self, online, config, train_count):
        super().__init__()
        s = config['method_settings']
        self.online = online
        self.temperature, self.momentum = s['temperature'], s['bank_momentum']
        self.register_buffer('bank', app_unit_rows(train_count, z_dim(config), AppRng(config['seed'] ^ 0xBA4C)))
        self.pending = None

    def forward(self, views, indices):
        n = views.shape[0] // 2
        _require(int(indices.max()) < self.bank.shape[0], f'image {int(indices.max())} has no row in the memory bank of {self.bank.shape[0]}')
        _, z = self.online(views)
        loss = memory_bank_loss(z, torch.cat([indices, indices]), self.bank, self.temperature)
        with torch.no_grad():
            v = l2_normalize(z)
            self.pending = ((v[:n] + v[n:]) / 2, indices)
        return {'loss': loss, 'z': z}

    @torch.no_grad()
    def after_step(self):
        features, indices = self.pending
        write_bank_entries(self.bank, gather_rows(indices), gather_rows(features), self.momentum)
        self.pending = None


class ClassifierHead(nn.Linear):
    """pretextHead.ts ClassifierHead: logits = h W + b, K classes; W Glorot-normal, √(2 / (in + K)), from the stream
    seed ^ salt, drawn in tfjs's [in, K] layout; b zero. Stored as nn.Linear's [K, in]."""

    def __init__(self, in_dim, classes, seed, salt):
        super().__init__(in_dim, classes)
        weight = AppRng(seed ^ salt).gaussian((in_dim, classes), math.sqrt(2 / (in_dim + classes)))
        with torch.no_grad():
            self.weight.copy_(torch.from_numpy(weight.T.copy()))
            self.bias.zero_()


def pretext_online(online):
    """f for a pretext task: g plays no part, so it is frozen (no gradient, and DDP waits for none), as the app's
    optimizer leaves it out."""
    online.head.requires_grad_(False)
    return online


class RotNet(nn.Module):
    """RotNet (Gidaris et al. 2018; rotation.ts): the N views at 0°, 90°, 180° and 270° (counter-clockwise quarter
    turns, rows kN … kN + N − 1 turned k times, labelled k), f encodes the 4N, a linear head on h names the rotation,
    L = softmax cross-entropy (log 4 for a head that cannot tell). The head starts from the stream seed ^ 0x4F7A."""

    SETTINGS = {}
    VIEWS = 1

    def __init__(self, online, config, train_count):
        super().__init__()
        self.online = pretext_online(online)
        self.classifier = ClassifierHead(8 * config['model']['encoder_width'], 4, config['seed'], 0x4F7A)

    def forward(self, views, indices):
        n = views.shape[0]
        inputs = torch.cat([torch.rot90(views, k, dims=(2, 3)) for k in range(4)])
        labels = torch.arange(4, device=views.device).repeat_interleave(n)
        h = self.online.encoder(inputs)
        return {'loss': F.cross_entropy(self.classifier(h), labels), 'z': h[:n]}

    def after_step(self):
        pass


class Exemplar(nn.Module):
    """Exemplar CNN (Dosovitskiy et al. 2014; exemplar.ts): the first K training images are K surrogate classes and
    batches are drawn from them only (POOL = K, at most the images there are), so an image's index is its class; f
    encodes the 2N views, a K-way linear head on h names the exemplar of each, L = softmax cross-entropy. The head
    starts from the stream seed ^ 0xE8E3. Under K ranks every rank draws its share of the same K-image pool."""

    SETTINGS = {'exemplar_count': 'count'}
    VIEWS = 2

    def __init__(self, online, config, train_count):
        super().__init__()
        self.online = pretext_online(online)
        self.classes = min(config['method_settings']['exemplar_count'], train_count)
        self.POOL = self.classes
        self.classifier = ClassifierHead(8 * config['model']['encoder_width'], self.classes, config['seed'], 0xE8E3)

    def forward(self, views, indices):
        _require(int(indices.max()) < self.classes, f'Exemplar CNN was handed image {int(indices.max())}, outside its {self.classes} exemplars')
        h = self.online.encoder(views)
        return {'loss': F.cross_entropy(self.classifier(h), torch.cat([indices, indices])), 'z': h}

    def after_step(self):
        pass


# the decoder's transposed convolutions: 4×4 kernels at stride 2 (a side divisible by the stride overlaps evenly), three doublings
DECODER_KERNEL, DECODER_DOUBLINGS = 4, 3
AUTOENCODER_NOISE_STD = 0.2


class ConvDecoder(nn.Module):
    """autoencoder.ts ConvDecoder: h → dense onto a g×g map of 4w channels (g = ⌈S/8⌉), ReLU, then transposed
    convolutions 4w → 2w → w → C (4×4, stride 2, tfjs's 'same': padding 1 each side) with ReLU between, the central
    S×S (an odd margin leaves the extra pixel below and to the right), sigmoid.

    Initial weights from the stream seed ^ 0xAE0D, in this order, drawn in tfjs's layouts: the dense layer
    [h, g·g·4w] He-normal √(2 / h), then each filter [4, 4, out, in], He-normal √(2 / (4·in)) (at stride 2 each
    output pixel is reached by 2×2 taps of every input channel), the last Glorot √(2 / (4·in + 4·out)); zero biases.
    The dense layer's outputs are in tfjs's g×g×4w (NHWC) order; a filter [k, k, out, in] is ConvTranspose2d's
    [in, out, k, k] with no flip (both are the adjoint of the same cross-correlation).
    """

    def __init__(self, h_dim, width, size, channels, seed):
        super().__init__()
        rng = AppRng(seed ^ 0xAE0D)
        self.size = size
        self.side = -(-size // 2 ** DECODER_DOUBLINGS)
        self.seed_channels = 4 * width
        cells = self.side * self.side * self.seed_channels
        self.dense = nn.Linear(h_dim, cells)
        widths = (4 * width, 2 * width, width, channels)
        self.layers = nn.ModuleList(nn.ConvTranspose2d(widths[i], widths[i + 1], DECODER_KERNEL, stride=2, padding=1)
                                    for i in range(DECODER_DOUBLINGS))
        taps = (DECODER_KERNEL // 2) ** 2
        with torch.no_grad():
            self.dense.weight.copy_(torch.from_numpy(rng.gaussian((h_dim, cells), math.sqrt(2 / h_dim)).T.copy()))
            self.dense.bias.zero_()
            for i, layer in enumerate(self.layers):
                c_in, c_out = widths[i], widths[i + 1]
                last = i == DECODER_DOUBLINGS - 1
                std = math.sqrt(2 / (taps * c_in + taps * c_out)) if last else math.sqrt(2 / (taps * c_in))
                kernel = rng.gaussian((DECODER_KERNEL, DECODER_KERNEL, c_out, c_in), std)
                layer.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
                layer.bias.zero_()

    def forward(self, h):
        a = torch.relu(self.dense(h)).view(h.shape[0], self.side, self.side, self.seed_channels).permute(0, 3, 1, 2)
        for i, layer in enumerate(self.layers):
            a = layer(a)
            if i < DECODER_DOUBLINGS - 1:
                a = torch.relu(a)
        margin = (a.shape[2] - self.size) // 2
        return torch.sigmoid(a[:, :, margin:margin + self.size, margin:margin + self.size])


class Autoencoder(nn.Module):
    """Autoencoder (Hinton & Salakhutdinov 2006; autoencoder.ts): f encodes each view to h, the decoder rebuilds the
    view from h alone, L = reconstruction_mse against the clean view. With denoise (Vincent et al. 2008) f sees
    x̃ = clip(x + ε, 0, 1), ε ~ N(0, 0.2²) per pixel and channel: each step draws u from the stream seed ^ 0xDE70 and
    ε is tf.randomNormal's sequence for the seed ⌊u·2³¹⌋ over the views in NHWC order (tfjs_random_normal), the
    app's own noise. Under K ranks each step draws K values from that stream, the same on every rank, and rank r
    uses the r-th (with one process, the app's).
    """

    SETTINGS = {'denoise': 'switch'}
    VIEWS = 1

    def __init__(self, online, config, train_count):
        super().__init__()
        m = config['model']
        self.online = pretext_online(online)
        self.decoder = ConvDecoder(8 * m['encoder_width'], m['encoder_width'], config['view_size'], m['in_channels'], config['seed'])
        self.denoise = config['method_settings']['denoise']
        self.noise_rng = AppRng(config['seed'] ^ 0xDE70)

    def corrupt(self, views):
        n, c, s, _ = views.shape
        seed = int(math.floor(self.noise_rng.uniform(_world())[_rank()] * 2 ** 31))
        noise = torch.from_numpy(tfjs_random_normal(n * s * s * c, AUTOENCODER_NOISE_STD, seed)).view(n, s, s, c)
        return (views + noise.permute(0, 3, 1, 2).to(views.device)).clamp(0, 1)

    def forward(self, views, indices):
        x = self.corrupt(views) if self.denoise else views
        h = self.online.encoder(x)
        return {'loss': reconstruction_mse(self.decoder(h), views), 'z': h}

    def after_step(self):
        pass


# ---------------------------------------------------------------------------
# The tile tasks (tiles.ts): a 3×3 grid of patches with gaps and a jitter per patch, f on each patch

# tiles.ts GridLayout: (gap, jitter) as fractions of the pitch S / 3
RELATIVE_PATCH_LAYOUT = (48 / 144, 7 / 144)  # Doersch et al.: 96 px patches 48 px apart on a 144 px pitch, up to 7 px of jitter
JIGSAW_LAYOUT = (11 / 75, 5.5 / 75)  # Noroozi & Favaro: a 64 px tile at a random place in each 75 px cell
MIN_PATCH_SIDE = 4  # below 4 px a patch holds too little to be placed
ENCODER_MIN_SIDE = 8  # f's three 2×2 pools: smaller patches are resized up to 8 px (8 → 4 → 2 → 1)
JIGSAW_MAX_PERMUTATIONS = 100


def tile_grid(view_size, layout):
    """tiles.ts tileGrid: (patch p, gap g, jitter j, origin) for views of side S, or None when p < 4.

    j = max(1, round(jitter · S/3)), g = max(2j + 1, round(gap · S/3)), p = ⌊(S − 2g − 2j) / 3⌋, the grid centred."""
    pitch = view_size / 3
    jitter = max(1, int(js_round(layout[1] * pitch)))
    gap = max(2 * jitter + 1, int(js_round(layout[0] * pitch)))
    patch = (view_size - 2 * gap - 2 * jitter) // 3
    if patch < MIN_PATCH_SIDE:
        return None
    return patch, gap, jitter, (view_size - 3 * patch - 2 * gap) // 2


def jittered_boxes(grid, rng):
    """tiles.ts jitteredBoxes: the 9 patches' (top, left) of one view, cell 0 first, dy then dx each ⌊r·(2j + 1)⌋ − j."""
    patch, gap, jitter, origin = grid
    r = rng.uniform(18)
    pitch = patch + gap
    return [(origin + (cell // 3) * pitch + int(math.floor(r[2 * cell] * (2 * jitter + 1))) - jitter,
             origin + (cell % 3) * pitch + int(math.floor(r[2 * cell + 1] * (2 * jitter + 1))) - jitter) for cell in range(9)]


def cut_patches(views, boxes, side):
    """tiles.ts cutTiles then encoderPatches: boxes[b] (top, left) of view b, pixel for pixel, [Σ boxes, C, p, p]; patches
    under 8 px resized up bilinearly, corners on corners (tf.image.resizeBilinear with alignCorners)."""
    patches = torch.stack([views[b, :, top:top + side, left:left + side] for b, per_view in enumerate(boxes) for top, left in per_view])
    if side < ENCODER_MIN_SIDE:
        patches = F.interpolate(patches, size=(ENCODER_MIN_SIDE, ENCODER_MIN_SIDE), mode='bilinear', align_corners=True)
    return patches


def rank_slice(items, n):
    """This rank's n of the K·n per-view draws made, in rank order, from a stream every rank holds alike (with one process, all of them)."""
    rank = _rank()
    return items[rank * n:(rank + 1) * n]


class FusionHead(nn.Module):
    """tiles.ts FusionHead: logits = W₂ ReLU(W₁ x + b₁) + b₂ on the patches' features side by side; W₁ a ClassifierHead
    (stream seed ^ salt), W₂ from the stream seed ^ (salt + 1) but set to zero, so the head starts at log K exactly."""

    def __init__(self, in_dim, hidden, classes, seed, salt):
        super().__init__()
        self.fusion = ClassifierHead(in_dim, hidden, seed, salt)
        self.classifier = ClassifierHead(hidden, classes, seed, salt + 1)
        with torch.no_grad():
            self.classifier.weight.zero_()

    def forward(self, x):
        return self.classifier(torch.relu(self.fusion(x)))


RELATIVE_PATCH_CENTRE = 4
RELATIVE_PATCH_NEIGHBOURS = (0, 1, 2, 3, 5, 6, 7, 8)


class RelativePatch(nn.Module):
    """Relative patch location (Doersch et al. 2015; relativePatch.ts): each view is cut into the 3×3 grid of
    RELATIVE_PATCH_LAYOUT (at 28 px: 6 px patches 3 px apart, ±1 px of jitter, resized to 8 px), the jitter drawn per
    view from the stream seed ^ 0x9A7C; f encodes the 9N patches, and for each of the 8 neighbours a FusionHead
    (stream seed ^ 0x5E1A, hidden width dim h) on [h_centre, h_neighbour] names its position, L = softmax
    cross-entropy over the 8N pairs (log 8 to start with). Under K ranks each step draws the jitter of all K·N views
    from the stream, the same on every rank, and rank r cuts the r-th N (with one process, the app's)."""

    SETTINGS = {}
    VIEWS = 1

    def __init__(self, online, config, train_count):
        super().__init__()
        size = config['view_size']
        self.grid = tile_grid(size, RELATIVE_PATCH_LAYOUT)
        _require(self.grid is not None, f'Relative patch location needs views of at least {smallest_grid_view(RELATIVE_PATCH_LAYOUT)} px '
                                        f'for its 3×3 grid; these are {size} px. Raise view_size in config.json.')
        h_dim = 8 * config['model']['encoder_width']
        self.online = pretext_online(online)
        self.head = FusionHead(2 * h_dim, h_dim, 8, config['seed'], 0x5E1A)
        self.rng = AppRng(config['seed'] ^ 0x9A7C)

    def forward(self, views, indices):
        n = views.shape[0]
        boxes = rank_slice([jittered_boxes(self.grid, self.rng) for _ in range(_world() * n)], n)
        h = self.online.encoder(cut_patches(views, boxes, self.grid[0]))
        per_view = h.view(n, 9, -1)
        centres = per_view[:, RELATIVE_PATCH_CENTRE:RELATIVE_PATCH_CENTRE + 1].expand(n, 8, per_view.shape[2])
        pairs = torch.cat([centres, per_view[:, list(RELATIVE_PATCH_NEIGHBOURS)]], dim=2).reshape(8 * n, -1)
        labels = torch.arange(8, device=views.device).repeat(n)  # row 8b + k: neighbour k
        return {'loss': F.cross_entropy(self.head(pairs), labels), 'z': per_view.mean(dim=1)}

    def after_step(self):
        pass


def smallest_grid_view(layout, up_to=256):
    """tiles.ts smallestGridView: the smallest side from which every larger one has a grid."""
    smallest = up_to + 1
    for s in range(up_to, 0, -1):
        if tile_grid(s, layout) is None:
            break
        smallest = s
    return smallest


def hamming_permutations(count):
    """tiles.ts hammingPermutations: the first `count` of the greedy maximal-Hamming-distance sequence over all 9!
    permutations in lexicographic order. The identity first; then each pick is the candidate with the largest minimum
    Hamming distance to the chosen ones, then the largest summed distance, then the first in lexicographic order:
    the lowest rank most·1024 + total, most = the slots it shares with its closest chosen one, total = its shared slots
    summed over them (the app's packing)."""
    import itertools
    perms = np.array(list(itertools.permutations(range(9))), dtype=np.int8)  # lexicographic, as the app's walk
    most = np.zeros(len(perms), dtype=np.int64)
    total = np.zeros(len(perms), dtype=np.int64)
    taken = np.zeros(len(perms), dtype=bool)
    pick, chosen = 0, []
    for round_ in range(count):
        taken[pick] = True
        chosen.append(perms[pick].astype(np.int64).tolist())
        if round_ == count - 1:
            break
        shared = (perms == perms[pick]).sum(axis=1)
        most = np.maximum(most, shared)
        total += shared
        rank = np.where(taken, np.iinfo(np.int64).max, most * 1024 + total)
        pick = int(np.argmin(rank))
    return chosen


class Jigsaw(nn.Module):
    """Jigsaw puzzles (Noroozi & Favaro 2016; jigsaw.ts): each view is cut into the 3×3 tiles of JIGSAW_LAYOUT (at 28 px:
    6 px tiles 3 px apart, ±1 px, resized to 8 px) and shuffled by one of P fixed permutations (hamming_permutations;
    slot i shows tile σ_u[i]); per view, the stream seed ^ 0x7A11 draws the 18 jitters, then u = ⌊r·P⌋. f encodes each
    tile alone, the 9 features are laid side by side in slot order and a FusionHead (stream seed ^ 0x1195, hidden
    width dim h) gives P logits, L = softmax cross-entropy against u (log P to start with). Under K ranks each step
    draws all K·N views' jitters and permutations, the same on every rank, and rank r takes the r-th N."""

    SETTINGS = {'jigsaw_permutations': 'permutations'}
    VIEWS = 1

    def __init__(self, online, config, train_count):
        super().__init__()
        size = config['view_size']
        self.grid = tile_grid(size, JIGSAW_LAYOUT)
        _require(self.grid is not None, f'The jigsaw needs views of at least {smallest_grid_view(JIGSAW_LAYOUT)} px for its 3×3 tiles; '
                                        f'these are {size} px. Raise view_size in config.json.')
        h_dim = 8 * config['model']['encoder_width']
        self.count = config['method_settings']['jigsaw_permutations']
        self.permutations = hamming_permutations(self.count)
        self.online = pretext_online(online)
        self.head = FusionHead(9 * h_dim, h_dim, self.count, config['seed'], 0x1195)
        self.rng = AppRng(config['seed'] ^ 0x7A11)

    def forward(self, views, indices):
        n = views.shape[0]
        drawn = []
        for _ in range(_world() * n):
            boxes = jittered_boxes(self.grid, self.rng)
            u = int(math.floor(self.rng.uniform(1)[0] * self.count))
            drawn.append(([boxes[t] for t in self.permutations[u]], u))  # cutting in shuffled order is the shuffle
        mine = rank_slice(drawn, n)
        h = self.online.encoder(cut_patches(views, [boxes for boxes, _ in mine], self.grid[0]))
        labels = torch.tensor([u for _, u in mine], dtype=torch.int64, device=views.device)
        logits = self.head(h.reshape(n, -1))
        return {'loss': F.cross_entropy(logits, labels), 'z': h.view(n, 9, -1).mean(dim=1)}

    def after_step(self):
        pass


# ---------------------------------------------------------------------------
# The map tasks (inpainting.ts, colorization.ts): a decoder paints a map from h

DECODER_MAX_GRID = 8
DECODER_CELL_FEATURES = 16


class MapDecoder(nn.Module):
    """inpainting.ts MapDecoder: h → dense (hidden) → ReLU → dense onto a g×g grid of 16 features per cell → ReLU → the
    same linear layer 16 → Q at every cell; returns the grid [M, g, g, Q] (NHWC, before any output non-linearity).
    Weights from the stream seed ^ salt in this order, in tfjs's [in, out] layouts: He-normal √(2/in), √(2/hidden),
    then Glorot √(2/(16 + Q)); zero biases. The second layer's outputs are in tfjs's g×g×16 order."""

    def __init__(self, in_dim, hidden, grid, out_channels, seed, salt):
        super().__init__()
        rng = AppRng(seed ^ salt)
        self.grid = grid
        cells = grid * grid * DECODER_CELL_FEATURES
        self.layer1 = nn.Linear(in_dim, hidden)
        self.layer2 = nn.Linear(hidden, cells)
        self.cell = nn.Linear(DECODER_CELL_FEATURES, out_channels)
        with torch.no_grad():
            for layer, (fan_in, fan_out), std in ((self.layer1, (in_dim, hidden), math.sqrt(2 / in_dim)),
                                                  (self.layer2, (hidden, cells), math.sqrt(2 / hidden)),
                                                  (self.cell, (DECODER_CELL_FEATURES, out_channels),
                                                   math.sqrt(2 / (DECODER_CELL_FEATURES + out_channels)))):
                layer.weight.copy_(torch.from_numpy(rng.gaussian((fan_in, fan_out), std).T.copy()))
                layer.bias.zero_()

    def forward(self, h):
        hidden = torch.relu(self.layer1(h))
        cells = torch.relu(self.layer2(hidden)).view(h.shape[0], self.grid, self.grid, DECODER_CELL_FEATURES)
        return self.cell(cells)


def upsample_map(grid_map, side):
    """inpainting.ts upsampleMap: [M, g, g, Q] (NHWC) to [M, Q, side, side], bilinear with corners on corners; as it is when g = side."""
    x = grid_map.permute(0, 3, 1, 2)
    return x if x.shape[2] == side else F.interpolate(x, size=(side, side), mode='bilinear', align_corners=True)


class Inpainting(nn.Module):
    """Context encoder (Pathak et al. 2016; inpainting.ts), its L2 loss alone. A square of side ⌊S/2⌋ of each view is
    hidden: the central one (an odd margin leaves the extra pixel below and to the right) or, with inpaint_mask
    "random", one at (⌊r·(S − side + 1)⌋, ⌊r′·(S − side + 1)⌋), top then left, drawn per view from the stream
    seed ^ 0x3B5D. f sees x̃ = x ⊙ (1 − m) + fill ⊙ m, fill the mean colour of the batch's visible pixels per channel;
    a MapDecoder (stream seed ^ 0x1A9E, hidden dim h, grid min(side, 8), C outputs) paints the square,
    sigmoid(upsample), and L = the mean squared error over the hidden pixels and channels. Under K ranks the regions
    of all K·N views are drawn alike on every rank and rank r takes the r-th N, and the fill is the global batch's
    (its sums all-reduced), so K ranks of N mask as one process with K·N would."""

    SETTINGS = {'inpaint_mask': ('central', 'random')}
    VIEWS = 1

    def __init__(self, online, config, train_count):
        super().__init__()
        m = config['model']
        self.size = config['view_size']
        self.side = self.size // 2
        _require(self.side >= 1, f'Inpainting hides half the view\'s side; view_size {self.size} leaves nothing to hide')
        h_dim = 8 * m['encoder_width']
        self.online = pretext_online(online)
        self.decoder = MapDecoder(h_dim, h_dim, min(self.side, DECODER_MAX_GRID), m['in_channels'], config['seed'], 0x1A9E)
        self.mask = config['method_settings']['inpaint_mask']
        self.rng = AppRng(config['seed'] ^ 0x3B5D)

    def regions(self, n):
        places = self.size - self.side + 1
        if self.mask == 'central':
            corner = (self.size - self.side) // 2
            return [(corner, corner)] * n
        r = self.rng.uniform(2 * _world() * n)
        every = [(int(math.floor(r[2 * i] * places)), int(math.floor(r[2 * i + 1] * places))) for i in range(_world() * n)]
        return rank_slice(every, n)

    def forward(self, views, indices):
        n, s = views.shape[0], self.side
        regions = self.regions(n)
        masks = torch.zeros(n, 1, self.size, self.size, device=views.device)
        for b, (top, left) in enumerate(regions):
            masks[b, :, top:top + s, left:left + s] = 1
        visible = 1 - masks
        with torch.no_grad():
            sums = torch.cat([(views * visible).sum(dim=(0, 2, 3)), visible.sum().view(1)])
            if _world() > 1:
                dist.all_reduce(sums)
            fill = (sums[:-1] / sums[-1]).view(1, -1, 1, 1)
        masked = views * visible + masks * fill
        truth = torch.stack([views[b, :, top:top + s, left:left + s] for b, (top, left) in enumerate(regions)])
        h = self.online.encoder(masked)
        predicted = torch.sigmoid(upsample_map(self.decoder(h), s))
        return {'loss': ((predicted - truth) ** 2).mean(), 'z': h}

    def after_step(self):
        pass


# lab.ts: sRGB → linear → XYZ (D65) → Lab
RGB_TO_XYZ = ((0.4124564, 0.3575761, 0.1804375), (0.2126729, 0.7151522, 0.072175), (0.0193339, 0.119192, 0.9503041))
D65_WHITE = tuple(sum(row) for row in RGB_TO_XYZ)  # M's image of white: every grey has a = b = 0 exactly
LAB_DELTA = 6 / 29
AB_SCALE = 110  # regression targets ab / 110: sRGB's a and b lie within about ±110
AB_BIN_SIDE, AB_GRID_RADIUS = 10, 11
COLORIZATION_ANNEALED_T = 0.38
COLORIZATION_GREYSCALE = ('Colorization needs colour images: this dataset is greyscale, so there is no colour for the head to '
                          'predict from the lightness.')


def rgb_to_lab(images):
    """lab.ts rgbToLab on [B, 3, H, W] in [0, 1], float32 as the app's tensors: channels L (0…100), a, b."""
    c = images.clamp(0, 1)
    linear = torch.where(c <= 0.04045, c / 12.92, torch.pow((c + 0.055) / 1.055, 2.4))
    to_scaled = torch.tensor([[RGB_TO_XYZ[k][j] / D65_WHITE[k] for k in range(3)] for j in range(3)], dtype=images.dtype, device=images.device)
    t = (linear.permute(0, 2, 3, 1).reshape(-1, 3) @ to_scaled).view(images.shape[0], images.shape[2], images.shape[3], 3).permute(0, 3, 1, 2)
    cube = LAB_DELTA ** 3
    f = torch.where(t > cube, torch.pow(torch.clamp(t, min=cube), 1 / 3), t / (3 * LAB_DELTA * LAB_DELTA) + 4 / 29)
    fx, fy, fz = f[:, 0:1], f[:, 1:2], f[:, 2:3]
    return torch.cat([fy * 116 - 16, (fx - fy) * 500, (fy - fz) * 200], dim=1)


def _rgb_to_lab64(rgb):
    """lab.ts rgbToLabPixel in float64 on [..., 3] numpy arrays."""
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = [(linear * np.array(RGB_TO_XYZ[k])).sum(axis=-1) / D65_WHITE[k] for k in range(3)]
    fx, fy, fz = [np.where(t > LAB_DELTA ** 3, np.cbrt(t), t / (3 * LAB_DELTA * LAB_DELTA) + 4 / 29) for t in xyz]
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def ab_bins():
    """lab.ts abBins: (centres [Q, 2], lookup [23·23]) of the ab bins of side 10 that sRGB reaches (every colour on the six
    faces of the RGB cube at 8-bit steps, binned); lookup maps each grid cell to its own bin when kept, else the nearest
    kept one (the first, on ties)."""
    side = 2 * AB_GRID_RADIUS + 1
    u, v = np.meshgrid(np.arange(256) / 255, np.arange(256) / 255, indexing='ij')
    hit = np.zeros(side * side, dtype=bool)
    for fixed in range(3):
        for end in (0.0, 1.0):
            rgb = np.zeros(u.shape + (3,))
            rgb[..., fixed] = end
            rgb[..., (fixed + 1) % 3] = u
            rgb[..., (fixed + 2) % 3] = v
            _, a, b = _rgb_to_lab64(rgb)
            index = lambda x: np.clip(np.floor(x / AB_BIN_SIDE + 0.5), -AB_GRID_RADIUS, AB_GRID_RADIUS).astype(np.int64) + AB_GRID_RADIUS
            hit[index(a) * side + index(b)] = True
    kept = np.nonzero(hit)[0]
    centre = lambda cells: np.stack([(cells // side - AB_GRID_RADIUS) * AB_BIN_SIDE, (cells % side - AB_GRID_RADIUS) * AB_BIN_SIDE], axis=-1)
    centres = centre(kept).astype(np.float32)
    every = centre(np.arange(side * side)).astype(np.float64)
    distance = ((every[:, None, :] - centres[None, :, :].astype(np.float64)) ** 2).sum(axis=2)
    return centres, np.argmin(distance, axis=1)


def ab_bin_labels(ab, lookup):
    """lab.ts abBinLabels: the bin of each ab [..., 2] (Lab units, float32): the cell (clip(⌊a/10 + ½⌋), clip(⌊b/10 + ½⌋)), looked up."""
    index = torch.clamp(torch.floor(ab / AB_BIN_SIDE + 0.5), -AB_GRID_RADIUS, AB_GRID_RADIUS) + AB_GRID_RADIUS
    cell = (index[..., 0] * (2 * AB_GRID_RADIUS + 1) + index[..., 1]).to(torch.int64)
    return lookup[cell.reshape(-1)]


def nearest_corners(side, grid):
    """tf.image.resizeNearestNeighbor's source rows for side → grid with alignCorners: min(side − 1, round(y·(side − 1)/(grid − 1)))."""
    ratio = (side - 1) / (grid - 1) if grid > 1 else 0.0
    return [min(side - 1, int(math.floor(ratio * y + 0.5))) for y in range(grid)]


class Colorization(nn.Module):
    """Colorization (Zhang et al. 2016; colorization.ts), colour data only. Each view is split into Lab (rgb_to_lab); f
    sees L / 100 (one channel) and a MapDecoder head (stream seed ^ 0xC010, hidden dim h, grid g = min(⌈S/2⌉, 8))
    predicts ab: regression, 2 outputs upsampled to S×S, L = mean over pixels and both channels of (ŷ − ab/110)²; or
    classification, Q logits per grid point over the ab bins sRGB reaches (ab_bins), L = softmax cross-entropy at the
    N·g² grid points against the bin of the nearest pixel's colour (hard labels, no rebalancing)."""

    SETTINGS = {'colorization_mode': ('regression', 'classification')}
    VIEWS = 1
    ENCODER_CHANNELS = 1

    def __init__(self, online, config, train_count):
        super().__init__()
        _require(config['data']['channels'] == 3, COLORIZATION_GREYSCALE)
        m = config['model']
        _require(m['in_channels'] == 1, f'Colorization\'s encoder sees the lightness alone: model.in_channels must be 1 in config.json, got {m["in_channels"]}')
        self.size = config['view_size']
        self.grid = min(-(-self.size // 2), DECODER_MAX_GRID)
        self.mode = config['method_settings']['colorization_mode']
        h_dim = 8 * m['encoder_width']
        self.online = pretext_online(online)
        if self.mode == 'classification':
            centres, lookup = ab_bins()
            self.register_buffer('lookup', torch.from_numpy(lookup), persistent=False)
            outputs = len(centres)
        else:
            outputs = 2
        self.head = MapDecoder(h_dim, h_dim, self.grid, outputs, config['seed'], 0xC010)

    def forward(self, views, indices):
        _require(views.shape[1] == 3, COLORIZATION_GREYSCALE)
        lab = rgb_to_lab(views)
        h = self.online.encoder(lab[:, 0:1] / 100)
        grid_map = self.head(h)
        ab = lab[:, 1:3]
        if self.mode == 'regression':
            loss = ((upsample_map(grid_map, self.size) - ab / AB_SCALE) ** 2).mean()
        else:
            rows = nearest_corners(self.size, self.grid)
            at_grid = ab if self.grid == self.size else ab[:, :, rows][:, :, :, rows]
            labels = ab_bin_labels(at_grid.permute(0, 2, 3, 1), self.lookup)
            loss = F.cross_entropy(grid_map.reshape(-1, grid_map.shape[3]), labels)
        return {'loss': loss, 'z': h}

    def after_step(self):
        pass


# ---------------------------------------------------------------------------
# The contrastive methods with a second input or a bank beside a jigsaw (cmc.ts, pirl.ts)

CMC_AB_SEED_OFFSET = 0xCC0AB
CMC_GREYSCALE = ('CMC needs colour images: this dataset is greyscale, so it cannot be split into a lightness view and a '
                 'colour view.')


def cmc_loss(z1, z2, temperature):
    """CMC's cross-view loss (Tian et al. 2019, Eqs. 2–3; src/loss/cmc.ts), in-batch, with candidates gathered from every rank.

    s_ij = ẑ1_i·ẑ2_j (unit rows); L^{1,2} = 1/N Σ_i [logsumexp_j(s_ij/τ) − s_ii/τ], each view-1 anchor against the
    view-2 embeddings of the batch; L^{2,1} the same with the roles swapped (the columns of s); L = ½(L^{1,2} + L^{2,1}).
    Under K ranks the candidates are the K·N rows of the other view gathered from all ranks (differentiable, as
    nt_xent's), this rank's anchors its own N rows; DDP's average is then the global batch's loss's gradient.
    """
    n, world = z1.shape[0], _world()
    a, b = l2_normalize(z1), l2_normalize(z2)
    if world > 1:
        from torch.distributed.nn.functional import all_gather
        gathered = all_gather(torch.cat([a, b], dim=1))
        everyone = torch.cat(list(gathered))
        a_all, b_all = everyone[:, :a.shape[1]], everyone[:, a.shape[1]:]
    else:
        a_all, b_all = a, b
    own = torch.arange(n, device=z1.device) + _rank() * n

    def direction(anchors, candidates):
        logits = anchors @ candidates.T / temperature
        return (torch.logsumexp(logits, dim=1) - logits[torch.arange(n, device=z1.device), own]).mean()

    return (direction(a, b_all) + direction(b, a_all)) / 2


class CMC(nn.Module):
    """Contrastive Multiview Coding (Tian et al. 2019; cmc.ts), colour data only. Each view t(x) is split into Lab
    (rgb_to_lab): f and g see the lightness L / 100, a second encoder of f's architecture with its own head,
    ab_network, sees the colour channels ab / 110 (two channels); L = cmc_loss(z_L, z_ab) at τ. Both encoders and both
    heads train; ab_network's batch-norm running statistics move as f's. ab_network starts with the app's initial
    weights for the seed (seed ^ 0xCC0AB), as the app's second EncoderNetwork."""

    SETTINGS = {'temperature': 'positive'}
    VIEWS = 1
    ENCODER_CHANNELS = 1

    def __init__(self, online, config, train_count):
        super().__init__()
        _require(config['data']['channels'] == 3, CMC_GREYSCALE)
        m = config['model']
        _require(m['in_channels'] == 1, f'CMC\'s encoder f sees the lightness alone: model.in_channels must be 1 in config.json, got {m["in_channels"]}')
        self.online = online
        ab_config = {**config, 'seed': (config['seed'] ^ CMC_AB_SEED_OFFSET) & 0xFFFFFFFF, 'model': {**m, 'in_channels': 2}}
        self.ab_network = build_model(ab_config)
        self.temperature = config['method_settings']['temperature']

    def forward(self, views, indices):
        _require(views.shape[1] == 3, CMC_GREYSCALE)
        lab = rgb_to_lab(views)
        _, z_l = self.online(lab[:, 0:1] / 100)
        _, z_ab = self.ab_network(lab[:, 1:3] / AB_SCALE)
        return {'loss': cmc_loss(z_l, z_ab, self.temperature), 'z': torch.cat([z_l, z_ab])}

    def after_step(self):
        pass


class PIRL(nn.Module):
    """Pretext-invariant representation learning (Misra & van der Maaten 2019; pirl.ts). The view I = t(x) and its
    jigsaw transform I_t: the 3×3 tiles of JIGSAW_LAYOUT (at 28 px: 6 px tiles 3 px apart, ±1 px, resized to 8 px),
    per view the 18 jitters then a uniform σ of all 9! (Fisher–Yates, AppRng.permutation) drawn from the stream
    seed ^ 0x5F1E, cut in shuffled order. f encodes the 9N tiles (first, as the app: the running statistics see the
    tiles, then the views), the 9 features side by side go through one linear head, tiles_head (a ClassifierHead,
    stream seed ^ 0x71E5, 9h → d), to v_I_t; v_I = g(f(I)). L = λ·NCE(v_I_t) + (1 − λ)·NCE(v_I), each
    memory_bank_loss over all n entries at the image's own row at τ. The bank (n unit rows from the stream
    seed ^ 0x9B1A) is written after the step with the image's unit embedding only: m_x ← normalize(m·m_x + (1 − m)·v̂_I).
    Under K ranks the jitters and shuffles of all K·N views are drawn alike on every rank and rank r takes the r-th N;
    the embeddings and indices of every rank are gathered before the write, so every rank writes the global batch's
    entries and the banks stay equal (as MemoryBank)."""

    SETTINGS = {'temperature': 'positive', 'bank_momentum': 'momentum', 'pirl_lambda': 'weight'}
    VIEWS = 1

    def __init__(self, online, config, train_count):
        super().__init__()
        size = config['view_size']
        self.grid = tile_grid(size, JIGSAW_LAYOUT)
        _require(self.grid is not None, f'PIRL needs views of at least {smallest_grid_view(JIGSAW_LAYOUT)} px for its 3×3 jigsaw tiles; '
                                        f'these are {size} px. Raise view_size in config.json.')
        s = config['method_settings']
        self.online = online
        self.temperature, self.momentum, self.lam = s['temperature'], s['bank_momentum'], s['pirl_lambda']
        self.register_buffer('bank', app_unit_rows(train_count, z_dim(config), AppRng(config['seed'] ^ 0x9B1A)))
        self.tiles_head = ClassifierHead(9 * 8 * config['model']['encoder_width'], z_dim(config), config['seed'], 0x71E5)
        self.rng = AppRng(config['seed'] ^ 0x5F1E)
        self.pending = None

    def forward(self, views, indices):
        n = views.shape[0]
        _require(int(indices.max()) < self.bank.shape[0], f'image {int(indices.max())} has no row in PIRL\'s memory bank of {self.bank.shape[0]}')
        drawn = []
        for _ in range(_world() * n):
            boxes = jittered_boxes(self.grid, self.rng)
            sigma = self.rng.permutation(9)
            drawn.append([boxes[t] for t in sigma])  # cutting in shuffled order is the shuffle
        tile_features = self.online.encoder(cut_patches(views, rank_slice(drawn, n), self.grid[0]))
        _, image_embedding = self.online(views)
        tiles_embedding = self.tiles_head(tile_features.reshape(n, -1))
        loss = self.lam * memory_bank_loss(tiles_embedding, indices, self.bank, self.temperature) + \
            (1 - self.lam) * memory_bank_loss(image_embedding, indices, self.bank, self.temperature)
        with torch.no_grad():
            self.pending = (l2_normalize(image_embedding), indices)
        return {'loss': loss, 'z': torch.cat([image_embedding, tiles_embedding])}

    @torch.no_grad()
    def after_step(self):
        features, indices = self.pending
        write_bank_entries(self.bank, gather_rows(indices), gather_rows(features), self.momentum)
        self.pending = None


CPC_GRID = 4
CPC_OFFSETS = CPC_GRID - 1


class CpcContext(nn.Module):
    """cpc.ts CpcContextNetwork: c_{i,j} = ReLU(W_c [z_{i,j}; r_i] + b_c), r_i the mean of the codes of rows 0 … i (causal:
    never a row below), and ẑ = W_k c for k = 1 … K. W_c Glorot-normal √(2 / (2d + d)) from the stream seed ^ 0xC9C, in
    tfjs's [2d, d] layout, b_c zero; every W_k zero, so every score starts at 0 and the loss at log(N·G²) exactly."""

    def __init__(self, dim, seed):
        super().__init__()
        self.layer = nn.Linear(2 * dim, dim)
        self.predictors = nn.ModuleList(nn.Linear(dim, dim, bias=False) for _ in range(CPC_OFFSETS))
        weight = AppRng(seed ^ 0xC9C).gaussian((2 * dim, dim), math.sqrt(2 / (3 * dim)))
        with torch.no_grad():
            self.layer.weight.copy_(torch.from_numpy(weight.T.copy()))
            self.layer.bias.zero_()
            for p in self.predictors:
                p.weight.zero_()

    def forward(self, codes):
        """The predictions [P, d] in the app's order: offset k, then image b, context row i < G − k, column j."""
        g, d = CPC_GRID, codes.shape[1]
        n = codes.shape[0] // (g * g)
        grid = codes.view(n, g, g, d)
        causal = torch.tril(torch.ones(g, g, device=codes.device)) / torch.arange(1, g + 1, device=codes.device).view(-1, 1)
        above = torch.einsum('ik,nkd->nid', causal, grid.mean(dim=2))  # r_i
        context = torch.relu(self.layer(torch.cat([grid, above.unsqueeze(2).expand(n, g, g, d)], dim=3).reshape(-1, 2 * d)))
        return torch.cat([p(context).view(n, g, g, d)[:, :g - k].reshape(-1, d) for k, p in enumerate(self.predictors, start=1)])


def cpc_targets(n, offset=0):
    """cpc.ts cpcPredictionLayout's targets: the row (b·G + i + k)·G + j of the code each prediction must pick, plus `offset`."""
    g = CPC_GRID
    return torch.tensor([offset + (b * g + i + k) * g + j for k in range(1, CPC_OFFSETS + 1) for b in range(n)
                         for i in range(g - k) for j in range(g)], dtype=torch.int64)


def cpc_info_nce(predictions, codes, targets):
    """CPC's InfoNCE (van den Oord et al. 2018, Eq. 4; src/loss/cpc.ts): s_pm = ẑ_p·z_m over every code m of the (global)
    batch, no normalization, no temperature; L = 1/P Σ_p [logsumexp_m(s_pm) − s_p,target(p)]. Under K ranks the candidates
    are the codes gathered from every rank (differentiable, as nt_xent's negatives), targets offset to this rank's rows."""
    if _world() > 1:
        from torch.distributed.nn.functional import all_gather
        codes = torch.cat(list(all_gather(codes)))
    scores = predictions @ codes.T
    return (torch.logsumexp(scores, dim=1) - scores[torch.arange(len(targets), device=scores.device), targets]).mean()


class CPC(nn.Module):
    """Contrastive predictive coding on images (van den Oord et al. 2018, §3.2; cpc.ts): each view of side S is cut into
    a 4×4 grid of patches of side 2s on a stride s = ⌊S/5⌋, centred (at 28 px: 10 px patches every 5 px), f encodes every
    patch alone (resized up to 8 px when smaller), CpcContext predicts the code 1 … 3 rows below each context, and
    L = cpc_info_nce against every patch code of the batch. f and the context network train, g plays no part."""

    SETTINGS = {}
    VIEWS = 1

    def __init__(self, online, config, train_count):
        super().__init__()
        size = config['view_size']
        stride = size // (CPC_GRID + 1)
        _require(size >= 2 * (CPC_GRID + 1) and stride >= 2, f'CPC needs views of at least {2 * (CPC_GRID + 1)} px for its '
                                                             f'{CPC_GRID}×{CPC_GRID} grid of overlapping patches; these are {size} px. Raise view_size in config.json.')
        origin = (size - (CPC_GRID + 1) * stride) // 2
        self.patch = 2 * stride
        self.boxes = [(origin + (cell // CPC_GRID) * stride, origin + (cell % CPC_GRID) * stride) for cell in range(CPC_GRID * CPC_GRID)]
        self.online = pretext_online(online)
        self.context = CpcContext(8 * config['model']['encoder_width'], config['seed'])

    def forward(self, views, indices):
        n = views.shape[0]
        codes = self.online.encoder(cut_patches(views, [self.boxes] * n, self.patch))
        predictions = self.context(codes)
        targets = cpc_targets(n, _rank() * n * CPC_GRID * CPC_GRID).to(views.device)
        return {'loss': cpc_info_nce(predictions, codes, targets), 'z': codes.view(n, CPC_GRID * CPC_GRID, -1).mean(dim=1)}

    def after_step(self):
        pass


# ---------------------------------------------------------------------------
# The PixelCNN auto-encoder (autoregressive.ts)

PIXELCNN_KERNELS = (7, 3, 3, 3)  # mask A's 7×7 first, so it sees a few rows up; then mask B's 3×3
PIXELCNN_BINS = 16  # core/entries/autoregressive.ts AUTOREGRESSIVE_BINS: the levels each pixel value is quantized to


def causal_mask(k, kind):
    """autoregressive.ts causalMask: 1 at the k×k taps before the centre in raster order (every row above; the centre row
    left of the centre), and for mask B the centre itself."""
    r = (k - 1) // 2
    return np.array([[1.0 if i < r or (i == r and (j < r or (kind == 'B' and j == r))) else 0.0 for j in range(k)] for i in range(k)],
                    dtype=np.float32)


class PixelCnn(nn.Module):
    """autoregressive.ts PixelCnn: layers a = ReLU(conv(a, W ⊙ M) + b + V h) ('same' padding), mask A then three mask B,
    F channels each, then a 1×1 layer to C·B logits. From the stream seed ^ salt, in the app's order and tfjs layouts:
    per layer the kernel [k, k, C_in, F] He-normal over the unmasked taps, √(2 / (taps·C_in)), drawn for every tap and
    multiplied by the mask, then (conditional model) V [h, F] Glorot √(2 / (h + F)); then the output [F, C·B] Glorot;
    zero biases. The masks are fixed (not in the state), so a masked weight has no gradient and stays 0."""

    def __init__(self, channels, bins, h_dim, filters, seed, salt):
        super().__init__()
        rng = AppRng(seed ^ salt)
        self.channels, self.bins, self.filters = channels, bins, filters
        self.convs = nn.ModuleList()
        self.conditions = nn.ModuleList() if h_dim is not None else None
        for layer, k in enumerate(PIXELCNN_KERNELS):
            mask = causal_mask(k, 'A' if layer == 0 else 'B')
            c_in = channels if layer == 0 else filters
            conv = nn.Conv2d(c_in, filters, k, padding=(k - 1) // 2)
            kernel = (rng.normal(k * k * c_in * filters) * math.sqrt(2 / (float(mask.sum()) * c_in))
                      * np.repeat(mask.reshape(-1), c_in * filters)).astype(np.float32).reshape(k, k, c_in, filters)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
                conv.bias.zero_()
            self.convs.append(conv)
            self.register_buffer(f'mask{layer}', torch.from_numpy(mask).view(1, 1, k, k), persistent=False)
            if self.conditions is not None:
                condition = nn.Linear(h_dim, filters, bias=False)
                with torch.no_grad():
                    condition.weight.copy_(torch.from_numpy(rng.gaussian((h_dim, filters), math.sqrt(2 / (h_dim + filters))).T.copy()))
                self.conditions.append(condition)
        self.out = nn.Linear(filters, channels * bins)
        with torch.no_grad():
            self.out.weight.copy_(torch.from_numpy(rng.gaussian((filters, channels * bins), math.sqrt(2 / (filters + channels * bins))).T.copy()))
            self.out.bias.zero_()

    def forward(self, x, h):
        """Logits [N, S, S, C, B] (the app's NHWC order) of every pixel value's level, from the input levels' centres [N, C, S, S]."""
        a = x
        for layer, conv in enumerate(self.convs):
            pre = F.conv2d(a, conv.weight * getattr(self, f'mask{layer}'), conv.bias, padding=conv.padding)
            if self.conditions is not None:
                pre = pre + self.conditions[layer](h)[:, :, None, None]  # V h: the same at every pixel
            a = torch.relu(pre)
        n, _, s, _ = a.shape
        return self.out(a.permute(0, 2, 3, 1)).view(n, s, s, self.channels, self.bins)


def pixel_nll(logits, levels):
    """−log softmax at the true level of every pixel value, [N, S, S, C] (autoregressive.ts pixelNll), in nats."""
    return -torch.log_softmax(logits, dim=-1).gather(-1, levels.unsqueeze(-1)).squeeze(-1)


class Autoregressive(nn.Module):
    """PixelCNN auto-encoder (van den Oord et al. 2016; autoregressive.ts). Each view's pixel values are quantized to
    B = 16 levels, b = min(⌊x·B⌋, B − 1), and the PixelCNN reads each level at its centre (2b + 1)/B − 1; f encodes the
    view itself, h = f(x), and the conditional PixelCNN (stream seed ^ 0xA7E1, F = half f's first width within 8…32)
    gets V h as a bias in every layer. L = the mean over the pixel values of −log p(level | the pixels before, h). An
    unconditional PixelCNN of the same shape (seed ^ 0xA7E2, no h) trains beside it as the baseline through
    L_u − sg(L_u): zero in value, its own gradient. Under K ranks each rank's loss is the mean over its own views."""

    SETTINGS = {}
    VIEWS = 1

    def __init__(self, online, config, train_count):
        super().__init__()
        m = config['model']
        width = m['encoder_width']
        filters = min(32, max(8, int(js_round(width / 2))))
        self.online = pretext_online(online)
        self.conditional = PixelCnn(m['in_channels'], PIXELCNN_BINS, 8 * width, filters, config['seed'], 0xA7E1)
        self.unconditional = PixelCnn(m['in_channels'], PIXELCNN_BINS, None, filters, config['seed'], 0xA7E2)

    def forward(self, views, indices):
        levels = torch.clamp(torch.floor(views * PIXELCNN_BINS), 0, PIXELCNN_BINS - 1)
        x = (levels * 2 + 1) / PIXELCNN_BINS - 1
        targets = levels.to(torch.int64).permute(0, 2, 3, 1)
        h = self.online.encoder(views)
        loss = pixel_nll(self.conditional(x, h), targets).mean()
        baseline = pixel_nll(self.unconditional(x, None), targets).mean()
        return {'loss': loss + (baseline - baseline.detach()), 'z': h}

    def after_step(self):
        pass


# DeepCluster's constants (deepcluster.ts, kmeans.ts; DEEPCLUSTER_FIT_MAX: src/core/entries/deepcluster.ts)
DEEPCLUSTER_FIT_MAX = 4096
DEEPCLUSTER_ENCODE_CHUNK = 256
WHITENING_RIDGE = 1e-3
NEWTON_SCHULZ_ITERATIONS = 30
KMEANS_ITERATIONS = 20
SPLIT_EPSILON = 1 / 1024
DEEPCLUSTER_HEAD_SALT, DEEPCLUSTER_ROUND_SALT = 0xDC1, 0xDC2
# the clusters the app's instrument shows members of (TASK_SNAPSHOT_EXAMPLES): their draws come from the rounds' stream
DEEPCLUSTER_SHOWN = 8


def inverse_square_root(a, iterations=NEWTON_SCHULZ_ITERATIONS):
    """A^{−1/2} of a symmetric positive definite A by the coupled Newton–Schulz iteration (Higham 2008), as the app
    computes it (deepcluster.ts inverseSquareRoot): Y₀ = A/‖A‖_F, Z₀ = I, T = (3I − Z Y)/2, Y ← Y T, Z ← T Z; then
    Z / √‖A‖_F. The same matMuls in the same order, so float32 rounds alike (an eigendecomposition would not)."""
    norm = torch.linalg.norm(a)
    identity = torch.eye(a.shape[0], dtype=a.dtype, device=a.device)
    y, z = a / norm, identity
    for _ in range(iterations):
        step = (identity * 3 - z @ y) * 0.5
        y, z = y @ step, step @ z
    return z / torch.sqrt(norm)


def zca_whitening(sample):
    """The paper's PCA-whitening with every dimension kept (ZCA, deepcluster.ts zcaWhitening), fitted on sample [m, d]:
    μ and W = (C + λI)^{−1/2}, C the biased covariance, λ = WHITENING_RIDGE · tr(C)/d (at least 1e-12)."""
    m, d = sample.shape
    mean = sample.mean(dim=0, keepdim=True)
    centred = sample - mean
    covariance = centred.T @ centred / m
    ridge = torch.clamp(torch.diagonal(covariance).sum() / d * WHITENING_RIDGE, min=1e-12)
    return mean, inverse_square_root(covariance + torch.eye(d, dtype=sample.dtype, device=sample.device) * ridge)


def whiten_and_normalize(h, mean, transform):
    """x̃ / max(‖x̃‖, 1e-12), x̃ = (h − μ) W."""
    x = (h - mean) @ transform
    return x / torch.clamp(x.norm(dim=1, keepdim=True), min=1e-12)


def kmeans_plus_plus(points, k, rng):
    """kmeans.ts kMeansPlusPlus: k-means++ seeds drawn from the app's stream. The first index ⌊u·n⌋; each next one the
    number of points whose running sum of D² (float32, in index order) lies below u·ΣD²; at most n − 1."""
    n = points.shape[0]
    _require(1 <= k <= n, f'k-means needs 1 ≤ k ≤ n points: asked for k = {k} clusters of {n} points')
    chosen = [min(int(math.floor(rng.uniform(1)[0] * n)), n - 1)]
    nearest = ((points - points[chosen[0]]) ** 2).sum(dim=1)
    for _ in range(1, k):
        u = torch.tensor(rng.uniform(1)[0], dtype=points.dtype, device=points.device)
        running = torch.cumsum(nearest, 0)
        nxt = min(int((running < running[-1] * u).sum()), n - 1)
        chosen.append(nxt)
        nearest = torch.minimum(nearest, ((points - points[nxt]) ** 2).sum(dim=1))
    return points[chosen].clone()


def nearest_centroid(points, centroids):
    """a_i = argmin_j (‖c_j‖² − 2 x_i·c_j), ties to the lower j."""
    return torch.argmin((centroids * centroids).sum(dim=1) - (points @ centroids.T) * 2, dim=1)


def split_empty_clusters(centroids, sizes):
    """kmeans.ts splitEmptyClusters (faiss's repair, without its random draw): the e-th empty cluster (index order)
    takes the e-th largest cluster's centroid (ties to the lower index) when that one holds two points or more, the
    copy scaled by 1 − ε s and the donor by 1 + ε s, s = (+1, −1, +1, …), ε = 1/1024."""
    k, d = centroids.shape
    counts = sizes.to(torch.int64)
    index = torch.arange(k, device=centroids.device)
    order = torch.tensor(sorted(range(k), key=lambda j: (-int(counts[j]), j)), dtype=torch.int64, device=centroids.device)
    empty = (counts == 0).to(torch.int64)
    donor = order[torch.cumsum(empty, 0) - empty]
    takes_copy = (empty == 1) & (counts[donor] >= 2)
    is_donor = torch.zeros(k, dtype=torch.bool, device=centroids.device)
    is_donor[order[(index < empty.sum()) & (counts[order] >= 2)]] = True
    signs = torch.tensor([1.0 if j % 2 == 0 else -1.0 for j in range(d)], dtype=centroids.dtype, device=centroids.device)
    copies = centroids[donor] * (1 - signs * SPLIT_EPSILON)
    pushed = centroids * (1 + signs * SPLIT_EPSILON)
    return torch.where(is_donor[:, None], pushed, torch.where(takes_copy[:, None], copies, centroids))


def kmeans(points, k, rng, iterations=KMEANS_ITERATIONS):
    """kmeans.ts kMeans: k-means++ seeds, Lloyd's iterations (assign; c_j = the mean of its points, a cluster with none
    keeping its centroid; repair the empty ones), then a final assignment. (centroids [k, d], assignments [n])."""
    centroids = kmeans_plus_plus(points, k, rng)
    for _ in range(iterations):
        assignments = nearest_centroid(points, centroids)
        sizes = torch.bincount(assignments, minlength=k)
        sums = F.one_hot(assignments, k).to(points.dtype).T @ points
        counts = sizes.to(points.dtype)[:, None]
        centroids = split_empty_clusters(torch.where(counts > 0, sums / torch.clamp(counts, min=1), centroids), sizes)
    return centroids, nearest_centroid(points, centroids)


@torch.no_grad()
def cluster_train_images(encoder, images, size, k, rng):
    """deepcluster.ts clusterTrainImages: h = f(x) of every training image in inference mode (running statistics), in
    chunks, resized to the view side first (bilinear, corners on corners, as the app's probes see them); whitening and
    k-means fitted on all n, or on DEEPCLUSTER_FIT_MAX of them drawn from the stream (ascending), every image then
    assigned to its nearest centroid. (assignments int64 [n], centroids [k, d])."""
    was_training = encoder.training
    encoder.eval()
    device = next(encoder.parameters()).device
    parts = []
    for start in range(0, len(images), DEEPCLUSTER_ENCODE_CHUNK):
        x = images[start:start + DEEPCLUSTER_ENCODE_CHUNK].to(device, torch.float32)
        if x.shape[2] != size or x.shape[3] != size:
            x = F.interpolate(x, size=(size, size), mode='bilinear', align_corners=True)
        parts.append(encoder(x))
    encoder.train(was_training)
    h = torch.cat(parts)
    n = h.shape[0]
    sample = None
    if n > DEEPCLUSTER_FIT_MAX:
        sample = torch.as_tensor(np.sort(rng.permutation(n)[:DEEPCLUSTER_FIT_MAX]), device=h.device)
    fit = h[sample] if sample is not None else h
    mean, transform = zca_whitening(fit)
    centroids, assignments = kmeans(whiten_and_normalize(fit, mean, transform), k, rng)
    if sample is not None:
        assignments = torch.cat([nearest_centroid(whiten_and_normalize(h[s:s + 4096], mean, transform), centroids)
                                 for s in range(0, n, 4096)])
    return assignments, centroids


class DeepCluster(nn.Module):
    """DeepCluster (Caron et al. 2018; deepcluster.ts). A round: every training image's h = f(x) in inference mode,
    whitened (ZCA, Newton–Schulz) and ℓ2-normalized, k-means (k-means++ seeds from the stream seed ^ 0xDC2, 20 Lloyd
    iterations, faiss's repair of empty clusters): the pseudo-labels y_i (`assignments`, a row per image in DIR's
    sorted order). The first round before step 1 (use_train_images, which train_steps calls), then after every
    cluster_every steps, after the optimizer step. A step: one view of each image, a k-way linear head on h, the
    cross-entropy against y_b weighted by 1 / |C_{y_b}|. Each round the head starts afresh from the stream
    seed ^ (0xDC1 + round), with an Adam of its own (restarted_parameters, MethodOptimizer). Under K ranks rank 0
    clusters and broadcasts the labels, so every rank holds the same ones; each rank's loss is over its own views."""

    SETTINGS = {'cluster_count': 'count', 'cluster_every': 'count'}
    VIEWS = 1

    def __init__(self, online, config, train_count):
        super().__init__()
        self.online = pretext_online(online)
        settings = config['method_settings']
        # the app's rule (core/entries/deepcluster.ts): k-means cannot make more clusters than it has points
        self.k = settings['cluster_count']
        _require(self.k <= train_count, f'DeepCluster needs at least as many training images as clusters: it asks for k = {self.k} '
                                        f'clusters and --data holds {train_count} image(s). Lower method_settings.cluster_count in '
                                        f'config.json to {train_count} or fewer, or give it more images')
        self.every = settings['cluster_every']
        self.seed, self.size = config['seed'], config['view_size']
        self.h_dim = 8 * config['model']['encoder_width']
        self.rng = AppRng(config['seed'] ^ DEEPCLUSTER_ROUND_SALT)
        self.classifier = ClassifierHead(self.h_dim, self.k, self.seed, DEEPCLUSTER_HEAD_SALT)
        self.register_buffer('assignments', torch.zeros(train_count, dtype=torch.int64))
        self.round, self.round_step, self.steps_done = 0, 0, 0
        self.images, self.centroids, self.unread = None, None, False

    def use_train_images(self, images):
        """Every training image, float [n, C, S₀, S₀] in [0, 1] in DIR's order; runs the first round."""
        _require(len(images) == len(self.assignments), f'DeepCluster was built for {len(self.assignments)} training images, handed {len(images)}')
        self.images = images
        self.cluster()
        self.unread = True

    def restarted_parameters(self):
        return list(self.classifier.parameters())

    @torch.no_grad()
    def cluster(self):
        if _rank() == 0:
            assignments, self.centroids = cluster_train_images(self.online.encoder, self.images, self.size, self.k, self.rng)
            self.assignments.copy_(assignments)
        if _world() > 1:
            dist.broadcast(self.assignments, 0)

    def forward(self, views, indices):
        _require(self.images is not None, 'DeepCluster has no pseudo-labels yet: hand it the training images (use_train_images) first')
        labels = self.assignments[indices]
        h = self.online.encoder(views)
        sizes = torch.bincount(self.assignments, minlength=self.k)
        weights = 1 / torch.clamp(sizes[labels].to(h.dtype), min=1)
        picked = F.log_softmax(self.classifier(h), dim=1).gather(1, labels[:, None]).squeeze(1)
        return {'loss': -(picked * weights).sum() / weights.sum(), 'z': h}

    def draw_shown(self):
        """The app's read-back of a round (deepcluster.ts readRound → shownClusters) draws the members its instrument shows
        from the rounds' stream: a permutation of each of the 8 largest clusters (ties to the lower number). The script
        shows none, but draws the same numbers, so that the next round's k-means++ seeds are the app's."""
        sizes = torch.bincount(self.assignments, minlength=self.k).tolist()
        largest = sorted((j for j in range(self.k) if sizes[j] > 0), key=lambda j: (-sizes[j], j))[:DEEPCLUSTER_SHOWN]
        for j in largest:
            self.rng.uniform(sizes[j] - 1)

    def after_step(self):
        self.steps_done += 1
        if self.steps_done - self.round_step >= self.every:
            self.cluster()
            self.round += 1
            self.round_step = self.steps_done
            self.unread = True
            fresh = ClassifierHead(self.h_dim, self.k, self.seed, DEEPCLUSTER_HEAD_SALT + self.round)
            with torch.no_grad():
                self.classifier.weight.copy_(fresh.weight)
                self.classifier.bias.copy_(fresh.bias)
        # as the app's afterUpdate: a round is read back after the step that made it (the first, after step 1, unless a
        # round replaced it by then)
        if self.unread:
            self.draw_shown()
            self.unread = False


# the catalog: config.json's "method" → its class (solo-learn's METHODS)
METHODS = {'simclr': SimCLR, 'memory-bank': MemoryBank, 'moco': MoCo, 'byol': BYOL, 'simsiam': SimSiam,
           'barlow-twins': BarlowTwins, 'rotation': RotNet, 'exemplar': Exemplar, 'autoencoder': Autoencoder,
           'relative-patch': RelativePatch, 'jigsaw': Jigsaw, 'inpainting': Inpainting, 'colorization': Colorization,
           'cmc': CMC, 'pirl': PIRL, 'cpc': CPC, 'autoregressive': Autoregressive, 'deepcluster': DeepCluster}


def build_method(config, online, train_count):
    """The config's method around the online network f, g; its own parts start as the app starts them."""
    return METHODS[config['method']](online, config, train_count)


# ---------------------------------------------------------------------------
# Augmentation (src/augment/augmentViews.ts and operators.ts in the app)

OPERATOR_KINDS = ('crop', 'flip', 'colorJitter', 'grayscale', 'blur', 'rotate', 'cutout', 'noise', 'sobel')
MAX_CUTOUT_COUNT = 8
CROP_ATTEMPTS = 10
LUMA = (0.299, 0.587, 0.114)
SOBEL_MAX = math.sqrt(20)
JITTER_BRIGHTNESS, JITTER_CONTRAST, JITTER_SATURATION, JITTER_HUE = 0, 1, 2, 3


def js_round(x):
    """JavaScript's Math.round: halves go up (Python's round() goes to even)."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5).astype(np.int64)


def blur_kernel_size(side):
    """SimCLR's 10% of the side, made odd, at least 3 (operators.ts blurKernelSize)."""
    k = int(math.floor(0.1 * side))
    return max(3, k + 1 if k % 2 == 0 else k)


def _mat3(a, b):
    return [[a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j] for j in range(3)] for i in range(3)]


def _inverse3(m):
    (a, b, c), (d, e, f), (g, h, i) = m
    A, B, C = e * i - f * h, -(d * i - f * g), d * h - e * g
    det = a * A + b * B + c * C
    return [[A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
            [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
            [C / det, -(a * h - b * g) / det, (a * e - b * d) / det]]


# A hue shift is a rotation of YIQ's chroma plane (I, Q): M(θ) = 𝟙 + (cos θ − 1)·HUE_COS + sin θ·HUE_SIN
_YIQ = [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]]
_HUE_COS = _mat3(_mat3(_inverse3(_YIQ), [[0, 0, 0], [0, 1, 0], [0, 0, 1]]), _YIQ)
_HUE_SIN = _mat3(_mat3(_inverse3(_YIQ), [[0, 0, 0], [0, 0, -1], [0, 1, 0]]), _YIQ)


def _jitter_matrix(op, factor, channels):
    """One colour-jitter op as x ↦ M x + t·m (m the image's mean luma): (M [C, C], t), as operators.ts jitterMatrix."""
    c = channels
    m = [[1.0 if i == j else 0.0 for j in range(c)] for i in range(c)]
    if op in (JITTER_BRIGHTNESS, JITTER_CONTRAST):
        for i in range(c):
            m[i][i] = factor
        return m, (1 - factor if op == JITTER_CONTRAST else 0.0)
    if c != 3:
        return m, 0.0  # saturation and hue leave one channel as it is
    if op == JITTER_SATURATION:
        return [[(factor if i == j else 0.0) + (1 - factor) * LUMA[j] for j in range(3)] for i in range(3)], 0.0
    theta = -2 * math.pi * factor  # HSV's hue runs clockwise in the (I, Q) plane
    cos_m1, sin = math.cos(theta) - 1, math.sin(theta)
    return [[(1.0 if i == j else 0.0) + cos_m1 * _HUE_COS[i][j] + sin * _HUE_SIN[i][j] for j in range(3)] for i in range(3)], 0.0


def _luma(x):
    """0.299 R + 0.587 G + 0.114 B of [B, 3, …] → [B, 1, …], summed in the app's order."""
    return x[:, 0:1] * LUMA[0] + x[:, 1:2] * LUMA[1] + x[:, 2:3] * LUMA[2]


def _per_image(values, x, dtype=None):
    return torch.as_tensor(np.asarray(values), dtype=dtype or x.dtype, device=x.device).view(-1, 1, 1, 1)


def _mask(values, x):
    return torch.as_tensor(np.asarray(values) != 0, device=x.device).view(-1, 1, 1, 1)


def resized_crop(x, boxes, size):
    """tf.image.cropAndResize, bilinear, extrapolation 0, then clipped to [0, 1].

    boxes [B·4] y1, x1, y2, x2 (float32; 0 ↔ the first pixel's centre, 1 ↔ the last's);
    output pixel y samples source row y1·(H−1) + y·(y2−y1)·(H−1)/(S−1), the coordinates
    computed in float64 in the kernel's order so the sample points are the kernel's own.
    """
    b_count, _, height, width = x.shape
    boxes = np.asarray(boxes, dtype=np.float32).astype(np.float64).reshape(b_count, 4)

    def axis(lo, hi, n):
        steps = np.arange(size, dtype=np.float64)
        if size > 1:
            scale = (hi - lo) * (n - 1) / (size - 1)
            at = lo[:, None] * (n - 1) + steps[None, :] * scale[:, None]
        else:
            at = np.repeat((0.5 * (lo + hi) * (n - 1))[:, None], size, axis=1)
        inside = (at >= 0) & (at <= n - 1)
        low = np.clip(np.floor(at), 0, n - 1).astype(np.int64)
        high = np.clip(np.ceil(at), 0, n - 1).astype(np.int64)
        return low, high, at - np.floor(at), inside

    top, bottom, y_lerp, y_in = axis(boxes[:, 0], boxes[:, 2], height)
    left, right, x_lerp, x_in = axis(boxes[:, 1], boxes[:, 3], width)
    dev = x.device
    b = torch.arange(b_count, device=dev).view(-1, 1, 1)
    t, bo = torch.as_tensor(top, device=dev)[:, :, None], torch.as_tensor(bottom, device=dev)[:, :, None]
    le, ri = torch.as_tensor(left, device=dev)[:, None, :], torch.as_tensor(right, device=dev)[:, None, :]
    source = x.to(torch.float64)
    # x[b, :, row, col] with index tensors [B, S, S] → [B, S, S, C]
    tl, tr, bl, br = source[b, :, t, le], source[b, :, t, ri], source[b, :, bo, le], source[b, :, bo, ri]
    xl = torch.as_tensor(x_lerp, device=dev)[:, None, :, None]
    yl = torch.as_tensor(y_lerp, device=dev)[:, :, None, None]
    upper = tl + (tr - tl) * xl
    lower = bl + (br - bl) * xl
    out = upper + (lower - upper) * yl
    inside = torch.as_tensor(y_in[:, :, None] & x_in[:, None, :], device=dev)[..., None]
    out = torch.where(inside, out, torch.zeros_like(out))
    return out.permute(0, 3, 1, 2).to(x.dtype).clamp(0, 1).contiguous()


def _whole_boxes(b_count):
    return np.tile(np.array([0, 0, 1, 1], dtype=np.float32), b_count)


def color_jitter(x, step):
    """torchvision ColorJitter's four ops in each image's own order, clipped after each (operators.ts colorJitter)."""
    b_count, c = x.shape[0], x.shape[1]
    factors = [np.asarray(step[k], dtype=np.float32) for k in ('brightness', 'contrast', 'saturation', 'hue')]
    order = np.asarray(step['order'], dtype=np.int64).reshape(b_count, 4)
    for stage in range(4):
        matrices = np.zeros((b_count, c, c), dtype=np.float32)
        mean_weights = np.zeros(b_count, dtype=np.float32)
        for b in range(b_count):
            op = int(order[b, stage])
            m, t = _jitter_matrix(op, float(factors[op][b]), c)
            matrices[b] = m
            mean_weights[b] = t
        if not mean_weights.any() and (matrices == np.eye(c, dtype=np.float32)).all():
            continue
        weights = torch.as_tensor(matrices, device=x.device)
        channels = []
        for i in range(c):
            y = x[:, 0:1] * weights[:, i, 0].view(-1, 1, 1, 1)
            for j in range(1, c):
                y = y + x[:, j:j + 1] * weights[:, i, j].view(-1, 1, 1, 1)
            channels.append(y)
        y = torch.cat(channels, dim=1)
        if mean_weights.any():
            means = x.mean(dim=(2, 3), keepdim=True)
            y = y + _per_image(mean_weights, x) * (_luma(means) if c == 3 else means)
        x = y.clamp(0, 1)
    return x


def grayscale(x, mask):
    if x.shape[1] != 3:
        return x.clamp(0, 1)
    return torch.where(_mask(mask, x), _luma(x).expand_as(x), x).clamp(0, 1)


def gaussian_blur(x, sigmas, mask):
    """Separable Gaussian, kernel side blur_kernel_size, reflect padding, rows then columns (operators.ts gaussianBlur)."""
    b_count, c, height, width = x.shape
    sigmas = np.asarray(sigmas, dtype=np.float32).astype(np.float64)
    apply = (np.asarray(mask) != 0) & (sigmas > 0)
    radius = min((blur_kernel_size(min(height, width)) - 1) // 2, height - 1, width - 1)
    if radius < 1 or not apply.any():
        return x.clamp(0, 1)
    k = 2 * radius + 1
    taps = np.zeros((b_count, k), dtype=np.float64)
    offsets = np.arange(k) - radius
    for b in range(b_count):
        if apply[b]:
            w = np.exp(-(offsets.astype(np.float64) ** 2) / (2 * sigmas[b] * sigmas[b]))
            taps[b] = w / w.sum()
        else:
            taps[b, radius] = 1
    weights = torch.as_tensor(np.repeat(taps.astype(np.float32), c, axis=0), device=x.device, dtype=x.dtype)  # [B·C, k]
    folded = F.pad(x.reshape(1, b_count * c, height, width), (radius, radius, radius, radius), mode='reflect')
    rows = F.conv2d(folded, weights.view(-1, 1, 1, k), groups=b_count * c)
    blurred = F.conv2d(rows, weights.view(-1, 1, k, 1), groups=b_count * c).view(b_count, c, height, width)
    return torch.where(_mask(apply, x), blurred, x).clamp(0, 1)


def rotate90(x, quarter_turns):
    """Counter-clockwise quarter turns per image, as numpy's rot90."""
    turns = np.asarray(quarter_turns, dtype=np.int64) % 4
    out = x.clone()
    for t in (1, 2, 3):
        chosen = np.nonzero(turns == t)[0]
        if len(chosen):
            index = torch.as_tensor(chosen, device=x.device)
            out[index] = torch.rot90(x[index], t, dims=(2, 3))
    return out.clamp(0, 1)


def cutout(x, squares, mask):
    """Squares (top, left, height, width) filled with the image's own mean colour, taken before the cut."""
    b_count, _, height, width = x.shape
    squares = np.asarray(squares, dtype=np.int64).reshape(b_count, -1, 4)
    covered = np.zeros((b_count, 1, height, width), dtype=bool)
    for b in range(b_count):
        if not mask[b]:
            continue
        for top, left, h, w in squares[b]:
            covered[b, 0, max(0, top):min(height, top + h), max(0, left):min(width, left + w)] = True
    fill = x.mean(dim=(2, 3), keepdim=True).expand_as(x)
    return torch.where(torch.as_tensor(covered, device=x.device), fill, x).clamp(0, 1)


def sobel(x, mask):
    """√(gx² + gy²) / √20 per channel, replicate padding (operators.ts sobel)."""
    c = x.shape[1]
    gx = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=x.dtype, device=x.device)
    padded = F.pad(x, (1, 1, 1, 1), mode='replicate')
    dx = F.conv2d(padded, gx.expand(c, 1, 3, 3), groups=c)
    dy = F.conv2d(padded, gx.T.expand(c, 1, 3, 3), groups=c)
    magnitude = torch.sqrt(dx * dx + dy * dy) / SOBEL_MAX
    return torch.where(_mask(mask, x), magnitude, x).clamp(0, 1)


def apply_views(images, params):
    """The app's applyViews: images [B, C, H, W] in [0, 1] → views [B, C, S, S] in [0, 1].

    params is the app's ViewParams (plain numbers, as its sampleViewParams or this script's
    sample_view_params draw them): the enabled operators run in pipeline order, those
    before the crop on the source image; with no crop the whole image is resized first
    (align-corners bilinear, none at all when the sizes agree). Array layouts are the
    app's: per-image arrays of length B, boxes and squares flattened, the noise field
    [B·H·W·C] in the app's NHWC order.
    """
    b_count, c, height, width = images.shape
    size = params['outputSize']
    _require((b_count, height, width, c) == (params['batchSize'], params['sourceHeight'], params['sourceWidth'], params['channels']),
             f'view params were drawn for {params["batchSize"]} images of {params["sourceHeight"]}×{params["sourceWidth"]}×{params["channels"]}, '
             f'the batch is {b_count} of {height}×{width}×{c}')
    if b_count == 0:
        return images.new_zeros((0, c, size, size))

    def resize_whole(x):
        return x if x.shape[2] == size and x.shape[3] == size else resized_crop(x, _whole_boxes(b_count), size)

    x = images
    if not any(s['kind'] == 'crop' for s in params['steps']):
        x = resize_whole(x)
    for step in params['steps']:
        kind = step['kind']
        if kind == 'crop':
            x = resized_crop(x, step['boxes'], size) if step['enabled'] else resize_whole(x)
            continue
        if not step['enabled']:
            continue
        if kind == 'flip':
            if np.any(step['mask']):
                x = torch.where(_mask(step['mask'], x), x.flip(3), x).clamp(0, 1)
        elif kind == 'colorJitter':
            if np.any(step['mask']):
                x = color_jitter(x, step)
        elif kind == 'grayscale':
            if np.any(step['mask']):
                x = grayscale(x, step['mask'])
        elif kind == 'blur':
            if np.any((np.asarray(step['sigma']) > 0) & (np.asarray(step['mask']) != 0)):
                x = gaussian_blur(x, step['sigma'], step['mask'])
        elif kind == 'rotate':
            if np.any(step['quarterTurns']):
                x = rotate90(x, step['quarterTurns'])
        elif kind == 'cutout':
            if np.any(step['mask']):
                x = cutout(x, step['squares'], step['mask'])
        elif kind == 'noise':
            if step['noise'] is not None:
                h, w = x.shape[2], x.shape[3]
                noise = torch.as_tensor(np.asarray(step['noise'], dtype=np.float32), device=x.device)
                x = (x + noise.view(b_count, h, w, c).permute(0, 3, 1, 2).to(x.dtype)).clamp(0, 1)
        elif kind == 'sobel':
            if np.any(step['mask']):
                x = sobel(x, step['mask'])
    return x.clamp(0, 1)


def sample_crop_boxes(u, height, width, scale, ratio):
    """torchvision RandomResizedCrop.get_params for each row of draws u [B, 2·10 + 2] (augmentViews.ts sampleCropBox)."""
    area = height * width
    target = area * (scale[0] + (scale[1] - scale[0]) * u[:, 0:2 * CROP_ATTEMPTS:2])
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    aspect = np.exp(log_lo + (log_hi - log_lo) * u[:, 1:2 * CROP_ATTEMPTS:2])
    w = js_round(np.sqrt(target * aspect))
    h = js_round(np.sqrt(target / aspect))
    fits = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    first = fits.argmax(axis=1)
    rows = np.arange(len(u))
    w, h, found = w[rows, first], h[rows, first], fits[rows, first]
    # none fits: the whole image clipped to the ratio range, centred
    in_ratio = width / height
    fw, fh = width, height
    if in_ratio < ratio[0]:
        fh = max(1, min(height, int(js_round(fw / ratio[0]))))
    elif in_ratio > ratio[1]:
        fw = max(1, min(width, int(js_round(fh * ratio[1]))))
    top = np.minimum(height - h, np.floor(u[:, -2] * (height - h + 1)).astype(np.int64))
    left = np.minimum(width - w, np.floor(u[:, -1] * (width - w + 1)).astype(np.int64))
    top = np.where(found, top, (height - fh) // 2)
    left = np.where(found, left, (width - fw) // 2)
    h = np.where(found, h, fh)
    w = np.where(found, w, fw)
    return np.stack([top, left, h, w], axis=1)


def sample_view_params(generator, b_count, height, width, channels, operators, size):
    """Every random choice for a batch of views, drawn from torch's generator with the app's distributions.

    Same structure as the app's sampleViewParams (so apply_views reads both): which
    operators fire (u < p per image), crop boxes, jitter factors in [1 − 0.8s, 1 + 0.8s]
    and hue in ±min(½, 0.2s) with a random order, blur σ ~ U(σ range), 1–3 quarter turns
    (half turns only on a non-square image), cutout squares inside the image, noise σ·z.
    """
    def rand(*shape):
        return torch.rand(*shape, generator=generator, dtype=torch.float64).numpy()

    source_height, source_width = height, width
    has_crop = any(op['kind'] == 'crop' for op in operators)
    if not has_crop:
        height, width = size, size
    steps = []
    for op in operators:
        on = op['enabled']
        kind = op['kind']

        def fires(p):
            return ((rand(b_count) < p) & on).astype(np.uint8)

        if kind == 'crop':
            if on:
                crops = sample_crop_boxes(rand(b_count, 2 * CROP_ATTEMPTS + 2), height, width, op['scale'], op['ratio'])
            else:
                crops = np.tile(np.array([0, 0, height, width]), (b_count, 1))
            dy, dx = max(height - 1, 1), max(width - 1, 1)
            boxes = np.stack([crops[:, 0] / dy, crops[:, 1] / dx, (crops[:, 0] + crops[:, 2] - 1) / dy,
                              (crops[:, 1] + crops[:, 3] - 1) / dx], axis=1).astype(np.float32)
            steps.append({'kind': 'crop', 'enabled': on, 'boxes': boxes.reshape(-1), 'crops': crops.reshape(-1)})
            height, width = size, size
        elif kind in ('flip', 'grayscale', 'sobel'):
            steps.append({'kind': kind, 'enabled': on, 'mask': fires(op['p'])})
        elif kind == 'colorJitter':
            spread = 0.8 * op['strength']
            hue_max = min(0.5, 0.2 * op['strength'])
            mask = fires(op['p'])
            lo = max(0.0, 1 - spread)
            factors = (lo + (1 + spread - lo) * rand(b_count, 3)).astype(np.float32)
            hue = (-hue_max + 2 * hue_max * rand(b_count)).astype(np.float32)
            order = np.argsort(rand(b_count, 4), axis=1).astype(np.int32)  # a uniform permutation of the 4 ops
            fired = mask != 0
            steps.append({'kind': 'colorJitter', 'enabled': on, 'mask': mask,
                          'brightness': np.where(fired, factors[:, 0], 1).astype(np.float32),
                          'contrast': np.where(fired, factors[:, 1], 1).astype(np.float32),
                          'saturation': np.where(fired, factors[:, 2], 1).astype(np.float32),
                          'hue': np.where(fired, hue, 0).astype(np.float32), 'order': order.reshape(-1)})
        elif kind == 'blur':
            mask = fires(op['p'])
            sigma = (op['sigma'][0] + (op['sigma'][1] - op['sigma'][0]) * rand(b_count)).astype(np.float32)
            steps.append({'kind': 'blur', 'enabled': on, 'mask': mask, 'sigma': sigma})
        elif kind == 'rotate':
            fired = fires(op['p'])
            turns = 1 + np.minimum(2, np.floor(rand(b_count) * 3)).astype(np.uint8)
            if height != width:
                turns[turns % 2 == 1] = 2
            steps.append({'kind': 'rotate', 'enabled': on, 'quarterTurns': np.where(fired != 0, turns, 0).astype(np.uint8)})
        elif kind == 'cutout':
            mask = fires(op['p'])
            side = max(1, int(js_round(op['size'] * min(height, width))))
            side_h, side_w = min(side, height), min(side, width)
            count = op['count']
            top = np.minimum(height - side_h, np.floor(rand(b_count, count) * (height - side_h + 1))).astype(np.int32)
            left = np.minimum(width - side_w, np.floor(rand(b_count, count) * (width - side_w + 1))).astype(np.int32)
            squares = np.stack([top, left, np.full_like(top, side_h), np.full_like(top, side_w)], axis=2)
            steps.append({'kind': 'cutout', 'enabled': on, 'mask': mask, 'squares': squares.reshape(-1)})
        elif kind == 'noise':
            mask = fires(op['p'] if op['sigma'] > 0 else 0)
            noise = None
            if mask.any():
                z = torch.randn(b_count, height, width, channels, generator=generator).numpy()
                noise = (z * op['sigma'] * mask[:, None, None, None]).astype(np.float32).reshape(-1)
            steps.append({'kind': 'noise', 'enabled': on, 'mask': mask, 'noise': noise})
    return {'batchSize': b_count, 'sourceHeight': source_height, 'sourceWidth': source_width, 'channels': channels,
            'outputSize': size, 'steps': steps}


def augment_views(images, generator, operators, size):
    """t(x) for a batch: sample_view_params, then apply_views."""
    b_count, c, height, width = images.shape
    return apply_views(images, sample_view_params(generator, b_count, height, width, c, operators, size))


# ---------------------------------------------------------------------------
# Data: an ImageFolder directory, split by rank

def load_image_folder(root, image_size, channels):
    """uint8 [n, C, S, S]: every .png/.jpg under root/ and root/<class>/, sorted, centre-cropped square, resized to S."""
    from PIL import Image, UnidentifiedImageError
    resampling = getattr(Image, 'Resampling', Image)  # Pillow ≥ 9.1 names the filters there
    _require(os.path.isdir(root), f'--data {root}: no such directory. Give an ImageFolder directory, DIR/<class>/<image>.png|jpg')
    paths = []
    for entry in sorted(os.listdir(root)):
        full = os.path.join(root, entry)
        if entry.startswith('.'):
            continue
        if os.path.isdir(full):
            paths += [os.path.join(full, f) for f in sorted(os.listdir(full))
                      if not f.startswith('.') and f.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(full, f))]
        elif entry.lower().endswith(IMAGE_EXTENSIONS):
            paths.append(full)
    _require(paths, f'--data {root} holds no .png or .jpg images (looked in it and in its sub-folders, one level down)')
    out = np.empty((len(paths), image_size, image_size, 3 if channels == 3 else 1), dtype=np.uint8)
    for i, path in enumerate(paths):
        try:
            with Image.open(path) as img:
                img.load()
                rgba = img.convert('RGBA')
        except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as e:
            raise UserError(f'cannot read the image {path} ({e.__class__.__name__}: {e}); remove or replace it')
        # transparency over black, as the app's canvas; then the centred square, box-filtered down or bilinear up (src/data/upload/resize.ts)
        rgb = Image.new('RGB', rgba.size)
        rgb.paste(rgba, mask=rgba.getchannel('A'))
        w, h = rgb.size
        side = min(w, h)
        square = rgb.crop(((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side))
        resample = resampling.BOX if side >= image_size else resampling.BILINEAR
        square = square.resize((image_size, image_size), resample)
        pixels = np.asarray(square.convert('L') if channels == 1 else square, dtype=np.uint8)
        out[i] = pixels.reshape(image_size, image_size, -1)
    return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous()


class ShardedBatches:
    """Batches of this rank's share of a seeded shuffle, reshuffled each epoch (DistributedSampler's split).

    Every rank shuffles the n images with the same generator, pads the order to a
    multiple of K by repeating its start, and keeps positions rank, rank + K, …; a batch
    that runs past the end of the share continues into the next epoch's, as the app's
    batches do.
    """

    def __init__(self, count, rank, world, seed, batch_size):
        self.count, self.rank, self.world, self.batch_size = count, rank, world, batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.share = self._share()
        self.cursor = 0

    def _share(self):
        order = torch.randperm(self.count, generator=self.generator)
        per_rank = -(-self.count // self.world)
        order = torch.cat([order] * (-(-per_rank * self.world // self.count)))[:per_rank * self.world]
        return order[self.rank::self.world]

    def next(self):
        indices = []
        while len(indices) < self.batch_size:
            if self.cursor >= len(self.share):
                self.share = self._share()
                self.cursor = 0
            take = min(self.batch_size - len(indices), len(self.share) - self.cursor)
            indices.append(self.share[self.cursor:self.cursor + take])
            self.cursor += take
        return torch.cat(indices)


# ---------------------------------------------------------------------------
# Training

def build_optimizer(config, parameters):
    """Adam as tfjs's tf.train.adam: the same update, θ ← θ − lr·m̂ / (√v̂ + ε), with tfjs's ε 1e-7 (PyTorch's default is 1e-8)."""
    o = config['optimizer']
    return torch.optim.Adam(parameters, lr=config['learning_rate'], betas=(o['beta1'], o['beta2']), eps=o['epsilon'])


class MethodOptimizer:
    """Adam over the method's trained parameters, as the app's Trainer applies it: a method's restarted parameters
    (restarted_parameters: DeepCluster's head) by an Adam of their own, built afresh (moments and step count) whenever
    the method's round changes, as trainer.ts applyGradients does and the paper builds a new optimizer for its
    re-initialized top layer; the others by one Adam throughout."""

    def __init__(self, config, method):
        self.config, self.method = config, method
        restarted = {id(p) for p in method_restarted(method)}
        self.main = build_optimizer(config, [p for p in method.parameters() if p.requires_grad and id(p) not in restarted])
        self.restarted, self.round_seen = None, None

    def zero_grad(self):
        self.method.zero_grad(set_to_none=True)

    def step(self):
        self.main.step()
        restarted = method_restarted(self.method)
        if not restarted:
            return
        if self.restarted is None or self.method.round != self.round_seen:
            self.restarted = build_optimizer(self.config, restarted)
            self.round_seen = self.method.round
        self.restarted.step()


def method_restarted(method):
    """The parameters the method re-initializes from time to time (none for most)."""
    return method.restarted_parameters() if hasattr(method, 'restarted_parameters') else []


def state_digest(model):
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode('utf-8'))
        digest.update(tensor.detach().to('cpu').contiguous().numpy().tobytes())
    return digest.hexdigest()


def encoder_metadata(config, step, dataset):
    m = config['model']
    w = m['encoder_width']
    z_dim = 8 * w if m['projection_head'] == 'none' else m['projection_dim']
    return {
        'format': 'ssl-playground-encoder', 'version': '1',
        'architecture': f'f: 4 × [conv3×3 → BN → ReLU], widths {w}, {2 * w}, {4 * w}, {8 * w}, 2×2 max-pool (ceil) after the first three, '
                        f'global average pool → h; g: {m["projection_head"]}',
        'in_channels': str(m['in_channels']), 'encoder_width': str(w), 'h_dim': str(8 * w),
        'projection_head': m['projection_head'], 'projection_dim': str(z_dim),
        'input': f'images [N, {m["in_channels"]}, {config["view_size"]}, {config["view_size"]}] (NCHW), pixels in [0, 1], no normalization',
        'method': config['method'], 'step': str(step),
        'trained': 'yes' if step > 0 else 'no: this encoder has not trained (0 steps); its weights are the random initialization',
        'dataset': dataset, 'trained_with': 'train.py (PyTorch)',
    }


def emit(obj):
    print(json.dumps(obj), flush=True)


def train_steps(method, config, images, steps, device, on_step=None):
    """Trains a method (build_method, on `device`) `steps` steps on this rank's share of `images` (uint8 [n, C, S₀, S₀]).

    Each step: N images (of the method's POOL, when it has one), the method's views of
    each (two, t(x) then t′(x), or one), the method's loss, Adam, then the method's
    after-step update. Under several ranks the method is wrapped in
    DistributedDataParallel, which averages the gradients; it does not broadcast rank 0's
    buffers before each forward (broadcast_buffers=False): they agree by construction
    (synchronized batch norm, MoCo's averaged statistics and gathered keys). on_step(step,
    loss) gets the mean of the ranks' losses.
    """
    world, rank = _world(), _rank()
    # a method that reads every training image (DeepCluster's k-means rounds) gets them, and makes its first round, before step 1
    if hasattr(method, 'use_train_images'):
        method.use_train_images(images.to(torch.float32) / 255)
    trainer = method
    if world > 1:
        trainer = nn.parallel.DistributedDataParallel(method, device_ids=[device.index] if device.type == 'cuda' else None,
                                                      broadcast_buffers=False)
    optimizer = MethodOptimizer(config, method)
    # a method with a POOL (exemplar) draws from the first POOL images only
    batches = ShardedBatches(min(getattr(method, 'POOL', None) or len(images), len(images)), rank, world, config['seed'], config['batch_size'])
    # each rank its own augmentation stream
    views_generator = torch.Generator().manual_seed(config['seed'] * 1_000_003 + 7919 * (rank + 1))
    size = config['view_size']
    hint = f'Lower the learning rate ({config["learning_rate"]})'
    if 'temperature' in method.SETTINGS:
        hint += f' or raise the temperature ({config["method_settings"]["temperature"]})'
    trainer.train()
    for step in range(1, steps + 1):
        indices = batches.next()
        x = images[indices].to(device, torch.float32) / 255
        # the method's views per image (trainer.ts trainStep): two, or one for a pretext task, which builds its task from it
        views = torch.cat([augment_views(x, views_generator, config['augmentation'], size) for _ in range(method.VIEWS)])
        loss = trainer(views, indices.to(device))['loss']
        reported = loss.detach().clone()
        if world > 1:
            dist.all_reduce(reported)
            reported /= world
        value = float(reported)
        if not math.isfinite(value):
            raise UserError(f'the loss is {value} at step {step}; nothing was applied. {hint} in config.json')
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        method.after_step()
        if on_step:
            on_step(step, value)


def train(args):
    config = load_config(args.config)
    steps = config['steps'] if args.steps is None else args.steps
    _require(steps >= 0, f'--steps must be ≥ 0, got {steps}')
    _require(args.data is not None, 'no --data: give your images as an ImageFolder directory (DIR/<class>/<image>.png|jpg). '
                                    'The app\'s datasets stay in the browser; export or gather the images into such a folder first.')
    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    local_rank = int(os.environ.get('LOCAL_RANK', '0'))
    use_cuda = args.device == 'cuda' or (args.device == 'auto' and torch.cuda.is_available())
    _require(not use_cuda or torch.cuda.is_available(), '--device cuda, but PyTorch sees no CUDA device')
    if use_cuda:
        torch.cuda.set_device(local_rank)
    device = torch.device('cuda', local_rank) if use_cuda else torch.device('cpu')
    if world > 1:
        dist.init_process_group('nccl' if use_cuda else 'gloo')
    try:
        torch.manual_seed(config['seed'])
        data_config = config['data']
        images = load_image_folder(args.data, data_config['image_size'], data_config['channels'])
        # f takes the data's channels, unless the method feeds it something else (colorization: the lightness alone)
        takes = getattr(METHODS[config['method']], 'ENCODER_CHANNELS', images.shape[1])
        _require(takes == config['model']['in_channels'],
                 f'the encoder takes {config["model"]["in_channels"]} channel(s) but data.channels is {images.shape[1]}')
        model = build_model(config)
        # the steps the weights have trained, in the app and here, for the saved file's metadata
        done_before = 0
        if args.init:
            step_text = load_weights(model, args.init, config).get('step', '0')
            done_before = int(step_text) if step_text.isdigit() else 0
        # after --init: a key encoder or target starts as a copy of the loaded f and g
        method = build_method(config, model, len(images)).to(device)
        n = config['batch_size']
        if rank == 0:
            emit({'event': 'start', 'method': config['method'], 'images': len(images), 'world_size': world,
                  'batch_per_rank': n, 'global_batch': world * n, 'steps': steps, 'device': str(device),
                  'init': args.init or f'the app\'s initial weights for seed {config["seed"]}'})
        train_steps(method, config, images, steps, device, on_step=(lambda step, value: emit({'step': step, 'loss': value})) if rank == 0 else None)
        digest = state_digest(method)
        digests = [None] * world
        if world > 1:
            dist.all_gather_object(digests, digest)
        else:
            digests = [digest]
        if rank == 0:
            path = os.path.join(args.out, 'encoder.safetensors')
            try:
                os.makedirs(args.out, exist_ok=True)
                write_safetensors(path, weight_tensors(method.online), encoder_metadata(config, done_before + steps, f'ImageFolder ({len(images)} images)'))
            except OSError as e:
                raise UserError(f'cannot write the trained weights to {path}: {e.strerror or e}; choose another --out')
            emit({'event': 'done', 'saved': path, 'weights_sha256': digests, 'ranks_agree': len(set(digests)) == 1})
            if len(set(digests)) != 1:
                print('train.py: warning: the ranks\' states differ; the saved file is rank 0\'s', file=sys.stderr)
    finally:
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def main(argv=None):
    parser = argparse.ArgumentParser(description='Train the exported Self-Supervised Playground experiment with PyTorch '
                                                 '(several GPUs or machines: torchrun --nproc_per_node=K train.py …).')
    parser.add_argument('--config', default='config.json', help='the config.json exported with this script (default: config.json)')
    parser.add_argument('--data', help='ImageFolder directory: DIR/<class>/<image>.png|jpg')
    parser.add_argument('--init', help="start from the app's encoder.safetensors instead of the seed's initial weights")
    parser.add_argument('--steps', type=int, help="steps to train (default: the config's)")
    parser.add_argument('--out', default='trained', help='where the trained encoder.safetensors goes (default: trained/)')
    parser.add_argument('--device', choices=('auto', 'cpu', 'cuda'), default='auto', help='auto: CUDA when there is one')
    args = parser.parse_args(argv)
    try:
        train(args)
    except UserError as e:
        print(f'train.py: {e}', file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()
