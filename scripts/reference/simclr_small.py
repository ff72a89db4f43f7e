#!/usr/bin/env python3
"""
A PyTorch mirror of the app's SimCLR on Fashion-MNIST, small enough for a CPU,
used to choose configurations whose gain over the random-init encoder is plain
before spending browser time on them (the app on SwiftShader runs ~20x slower).

Mirrors src/model/simclrModel.ts: encoder f = 4 x [conv3x3 -> BN -> ReLU] with
w, 2w, 4w, 8w channels, 2x2 max-pool ('same', so 28 -> 14 -> 7 -> 4) after the
first three, global average pool -> h in R^{8w}; MLP head (hidden 8w, z 128);
He-normal init; NT-Xent with cosine similarity and temperature tau; Adam.
Views: random resized crop (area 0.2-1, ratio 3/4-4/3), flip, brightness and
contrast jitter (p 0.8, strength 0.5), and blur (p 0.5, sigma 0.1-2) when --blur.

Evaluation as the app's label-efficiency panel: h of `probe_train` labelled
training images and 2,000 test images; logistic regression on standardized h
(L-BFGS to convergence, l2 1e-4) and weighted kNN (k 20, tau 0.07) at 1%, 10%
and 100% of the labels, class-balanced subsets; the same for the random-init
encoder (the same weights before training).

    /usr/bin/python3 scripts/reference/simclr_small.py --width 8 --batch 128 --steps 400 --seeds 1,2,3
"""
import argparse
import gzip
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = '/usr/share/datasets/fashion-mnist'


def load(split):
    prefix = 'train' if split == 'train' else 't10k'
    with gzip.open(f'{DATA}/{prefix}-images-idx3-ubyte.gz') as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f'{DATA}/{prefix}-labels-idx1-ubyte.gz') as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.tensor(images, dtype=torch.float32) / 255.0, torch.tensor(labels.astype(np.int64))


class Encoder(nn.Module):
    def __init__(self, width):
        super().__init__()
        widths = [width, 2 * width, 4 * width, 8 * width]
        layers, c_in = [], 1
        for i, c_out in enumerate(widths):
            conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
            nn.init.kaiming_normal_(conv.weight, nonlinearity='relu')
            layers += [conv, nn.BatchNorm2d(c_out), nn.ReLU()]
            if i < 3:
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
            c_in = c_out
        self.body = nn.Sequential(*layers)
        self.h_dim = widths[-1]

    def forward(self, x):
        return self.body(x).mean(dim=(2, 3))


def augment(x, gen, blur):
    n = x.shape[0]
    u = lambda *shape: torch.rand(*shape, generator=gen)
    area = 0.2 + 0.8 * u(n)
    log_ratio = math.log(3 / 4) + (math.log(4 / 3) - math.log(3 / 4)) * u(n)
    ratio = torch.exp(log_ratio)
    w = torch.sqrt(area * ratio).clamp(max=1.0)
    h = torch.sqrt(area / ratio).clamp(max=1.0)
    cx = (1 - w) * (2 * u(n) - 1)
    cy = (1 - h) * (2 * u(n) - 1)
    flip = torch.where(u(n) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = w * flip
    theta[:, 0, 2] = cx
    theta[:, 1, 1] = h
    theta[:, 1, 2] = cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    v = F.grid_sample(x, grid, mode='bilinear', padding_mode='border', align_corners=False)
    # colour jitter on grey: brightness then contrast, factors in [1 - 0.8 s, 1 + 0.8 s]
    jitter = (u(n) < 0.8).float().view(n, 1, 1, 1)
    b = 1 + 0.4 * (2 * u(n) - 1)
    c = 1 + 0.4 * (2 * u(n) - 1)
    j = (v * b.view(n, 1, 1, 1)).clamp(0, 1)
    mean = j.mean(dim=(1, 2, 3), keepdim=True)
    j = ((j - mean) * c.view(n, 1, 1, 1) + mean).clamp(0, 1)
    v = jitter * j + (1 - jitter) * v
    if blur:
        sigma = 0.1 + 1.9 * u(n)
        k = torch.arange(-3, 4, dtype=torch.float32)
        kern = torch.exp(-(k.view(1, -1) ** 2) / (2 * sigma.view(-1, 1) ** 2))
        kern = kern / kern.sum(1, keepdim=True)
        apply = (u(n) < 0.5).float().view(n, 1, 1, 1)
        vb = v.view(1, n, 28, 28)
        vb = F.conv2d(F.pad(vb, (3, 3, 0, 0), mode='replicate'), kern.view(n, 1, 1, 7), groups=n)
        vb = F.conv2d(F.pad(vb, (0, 0, 3, 3), mode='replicate'), kern.view(n, 1, 7, 1), groups=n)
        v = apply * vb.view(n, 1, 28, 28) + (1 - apply) * v
    return v


def nt_xent(z1, z2, tau):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    s = z @ z.t() / tau
    n = z1.shape[0]
    s.fill_diagonal_(-float('inf'))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(s, target)


@torch.no_grad()
def features(encoder, x):
    encoder.eval()
    out = torch.cat([encoder(x[i:i + 1000]) for i in range(0, len(x), 1000)])
    encoder.train()
    return out


def subset(labels, fraction, gen):
    picks = []
    for c in range(10):
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        picks.append(idx[:max(1, round(len(idx) * fraction))])
    return torch.cat(picks)


def probe(train_h, train_y, test_h, test_y):
    mu, sd = train_h.mean(0), train_h.std(0).clamp(min=1e-6)
    a, b = ((train_h - mu) / sd).double(), ((test_h - mu) / sd).double()
    lin = nn.Linear(a.shape[1], 10).double()
    opt = torch.optim.LBFGS(lin.parameters(), max_iter=500, history_size=20, line_search_fn='strong_wolfe')

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(lin(a), train_y) + 1e-4 * (lin.weight ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return (lin(b).argmax(1) == test_y).float().mean().item()


def knn(train_h, train_y, test_h, test_y, k=20, tau=0.07):
    a, b = F.normalize(train_h, dim=1), F.normalize(test_h, dim=1)
    s = b @ a.t()
    top, idx = s.topk(min(k, len(a)), dim=1)
    votes = torch.zeros(len(b), 10).scatter_add_(1, train_y[idx], torch.exp(top / tau))
    return (votes.argmax(1) == test_y).float().mean().item()


def evaluate(encoder, train_x, train_y, test_x, test_y, seed):
    tr, te = features(encoder, train_x), features(encoder, test_x)
    out = {}
    for fraction in (0.01, 0.1, 1.0):
        idx = subset(train_y, fraction, torch.Generator().manual_seed(seed))
        out[f'linear@{fraction}'] = probe(tr[idx], train_y[idx], te, test_y)
        out[f'knn@{fraction}'] = knn(tr[idx], train_y[idx], te, test_y)
    return out


def run(args, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x, y = load('train')
    tx, ty = load('test')
    probe_idx = torch.randperm(len(x), generator=gen)[:args.probe_train]
    test_idx = torch.randperm(len(tx), generator=gen)[:2000]
    encoder = Encoder(args.width)
    head = nn.Sequential(nn.Linear(encoder.h_dim, encoder.h_dim), nn.ReLU(), nn.Linear(encoder.h_dim, 128))
    before = evaluate(encoder, x[probe_idx], y[probe_idx], tx[test_idx], ty[test_idx], seed)
    opt = torch.optim.Adam(list(encoder.parameters()) + list(head.parameters()), lr=args.lr)
    start = time.time()
    for step in range(args.steps):
        batch = x[torch.randint(0, len(x), (args.batch,), generator=gen)]
        loss = nt_xent(head(encoder(augment(batch, gen, args.blur))), head(encoder(augment(batch, gen, args.blur))), args.tau)
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = evaluate(encoder, x[probe_idx], y[probe_idx], tx[test_idx], ty[test_idx], seed)
    print(f'seed {seed}: loss {loss.item():.3f}, {time.time() - start:.0f} s training', flush=True)
    return before, after


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--width', type=int, default=8)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--steps', type=int, default=400)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--tau', type=float, default=0.5)
    p.add_argument('--blur', action='store_true')
    p.add_argument('--probe-train', type=int, default=10000)
    p.add_argument('--seeds', default='1,2,3')
    args = p.parse_args()
    torch.set_num_threads(2)
    rows = [run(args, int(s)) for s in args.seeds.split(',')]
    print(f'{vars(args)}')
    for key in rows[0][0]:
        b = np.array([r[0][key] for r in rows]) * 100
        a = np.array([r[1][key] for r in rows]) * 100
        d = a - b
        print(f'{key:14s} random init {b.mean():5.1f} ± {b.std(ddof=1) if len(b) > 1 else 0:.1f}  '
              f'SimCLR {a.mean():5.1f} ± {a.std(ddof=1) if len(a) > 1 else 0:.1f}  gain {d.mean():+.1f} (min {d.min():+.1f})')


if __name__ == '__main__':
    main()
