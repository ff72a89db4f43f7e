#!/usr/bin/env python3
"""
Test driver for src/export/pytorchExport.test.ts: checks an exported train.py
against numbers the app computed. Not part of the export.

    parity_check.py model  TRAIN_DIR config.json weights.safetensors batch.safetensors
        The app's initial weights for the seed (mulberry32 He-normal) against the
        app's own; then, from those weights, h, z and the loss of one training-mode
        forward over the exported views, the running statistics it leaves, and
        every weight after one Adam step, against the app's.
    parity_check.py method TRAIN_DIR config.json init.safetensors steps.safetensors
        Every method but SimCLR: train.py's method built around the app's f and g
        (as --init loads them) against the app's method: its own initial state
        (predictor, queue, key encoder or target, bank, classifier head,
        decoder; DeepCluster's first round on the app's train_images: its
        labels, and its centroids against app.centroids), then for each step of the app's views and training indices the
        loss, and after Adam and the method's after-step update every tensor of
        its state (f, g and the parts above) and the queue's pointer.
    parity_check.py kmeans TRAIN_DIR kmeans.safetensors
        train.kmeans on the app's points with the app's seed stream against the
        app's kMeans (centroids, labels), and train.split_empty_clusters against
        the app's splitEmptyClusters on centroids with empty clusters.
    parity_check.py views  TRAIN_DIR cases.json
        apply_views on the app's ViewParams against the app's applyViews, and
        sample_view_params's structure against the app's sampleViewParams'.
    parity_check.py distributed TRAIN_DIR      (under torch.distributed.run, 2 ranks)
        train.BatchNorm2d on half a batch per rank against nn.BatchNorm2d on the
        whole batch in one process: outputs, gradients, running statistics; and
        nt_xent with negatives gathered from the ranks against NT-Xent over the
        whole batch in one process: the loss and its gradient.
    parity_check.py methods TRAIN_DIR configs.json   (under torch.distributed.run, 2 ranks)
        train_steps of each config's method for 3 steps on the same images: each
        rank's losses and the digest of its method's whole state (DeepCluster's
        labels included, with its round count); Barlow Twins'
        C and loss over two half batches against one process's over the whole
        batch; the predictor's batch norm likewise; CMC's cross-view loss with candidates gathered from
        the ranks against one process's over the whole batch, and CPC's InfoNCE over the gathered
        patch codes likewise.

Each prints JSON (the distributed ones write a file per rank): the largest
absolute differences, for the test to bound.
"""
import importlib.util
import json
import os
import sys

import numpy as np
import torch


def load_train(directory):
    spec = importlib.util.spec_from_file_location('train', os.path.join(directory, 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def max_abs(a, b):
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    assert a.shape == b.shape, f'shapes differ: {list(a.shape)} vs {list(b.shape)}'
    return float((a - b).abs().max()) if a.numel() else 0.0


def check_model(train, config_path, weights_path, batch_path):
    config = train.load_config(config_path)
    app_weights, _ = train.read_safetensors(weights_path)
    initial = train.app_initial_state(config)
    init_diff = max(max_abs(initial[k], app_weights[k]) for k in initial)

    model = train.build_model(config)
    train.load_weights(model, weights_path, config)
    method = train.build_method(config, model, 1)
    method.train()
    batch, _ = train.read_safetensors(batch_path)
    views = batch['parity.views']
    out = method(views, torch.arange(views.shape[0] // 2))
    h, z, loss = out['h'], out['z'], out['loss']
    running = {k: v.clone() for k, v in train.weight_tensors(model).items() if 'running' in k}
    optimizer = train.build_optimizer(config, method.parameters())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    after = train.weight_tensors(model)
    moved = max(max_abs(after[k], app_weights[k]) for k in after if 'running' not in k)
    print(json.dumps({
        'names': sorted(after),
        'max_abs_initial_weights': init_diff,
        'h_shape': list(h.shape), 'z_shape': list(z.shape),
        'max_abs_h': max_abs(h.detach(), batch['parity.h']),
        'max_abs_z': max_abs(z.detach(), batch['parity.z']),
        'loss': float(loss), 'app_loss': float(batch['parity.loss'].reshape(())),
        'max_abs_running': max(max_abs(v, batch[f'parity.after.{k}']) for k, v in running.items()),
        'max_abs_after_step': max(max_abs(after[k], batch[f'parity.after.{k}']) for k in after),
        'largest_step_move': moved,
    }))


def _state(method):
    """The method's whole state by name (f and g under online., predictor., key_network., target., queue), cloned."""
    return {k: v.detach().clone() for k, v in method.state_dict().items() if not k.endswith('num_batches_tracked') and k != 'pointer'}


def _by_group(diffs):
    """{name: |Δ|} → {first part of the name: largest |Δ|}: online, predictor, key_network, target, queue."""
    out = {}
    for name, value in diffs.items():
        group = name.split('.')[0]
        out[group] = max(out.get(group, 0.0), value)
    return out


def check_method(train, config_path, init_path, steps_path):
    config = train.load_config(config_path)
    app, meta = train.read_safetensors(steps_path)
    steps = int(meta['steps'])
    model = train.build_model(config)
    train.load_weights(model, init_path, config)  # --init: the app's f and g; the method's own parts start from the seed
    method = train.build_method(config, model, int(meta['train_count']))
    method.train()
    if 'train_images' in app:
        # DeepCluster: the app's training images, and its first k-means round on them
        method.use_train_images(app['train_images'])
    state = _state(method)
    initial = {k[len('app.initial.'):]: v for k, v in app.items() if k.startswith('app.initial.')}
    result = {
        'initial_names': sorted(initial),
        'initial': _by_group({k: max_abs(state[k], v) for k, v in initial.items()}),
        'steps': [],
    }
    if 'app.centroids' in app:
        result['centroids'] = max_abs(method.centroids, app['app.centroids'])
    optimizer = train.MethodOptimizer(config, method)
    for s in range(steps):
        before = state
        loss = method(app[f'views.{s}'], app[f'indices.{s}'].to(torch.int64))['loss']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        method.after_step()
        state = _state(method)
        prefix = f'app.after.{s}.'
        expected = {k[len(prefix):]: v for k, v in app.items() if k.startswith(prefix)}
        diffs = {k: max_abs(state[k], v) for k, v in expected.items() if k in state}
        result['steps'].append({
            'loss': float(loss), 'app_loss': float(app[f'app.loss.{s}'].reshape(())),
            'names_match': sorted(expected) == sorted(state),
            'after': _by_group(diffs),
            'worst': max(diffs, key=diffs.get) if diffs else None,
            'moved': _by_group({k: max_abs(state[k], before[k]) for k in state}),
            'pointer': int(method.pointer) if hasattr(method, 'pointer') else None,
        })
    print(json.dumps(result))


def check_kmeans(train, path):
    app, meta = train.read_safetensors(path)
    centroids, assignments = train.kmeans(app['points'], int(meta['k']), train.AppRng(int(meta['seed'])))
    print(json.dumps({
        'centroids': max_abs(centroids, app['app.centroids']),
        'labels_differ': int((assignments != app['app.assignments'].to(torch.int64)).sum()),
        'sizes': torch.bincount(assignments, minlength=int(meta['k'])).tolist(),
        'split': max_abs(train.split_empty_clusters(app['split.centroids'], app['split.sizes'].to(torch.int64)), app['app.split']),
    }))


def check_views(train, cases_path):
    with open(cases_path) as f:
        cases = json.load(f)
    out = []
    for case in cases:
        b, h, w, c = case['shape']
        images = torch.tensor(case['images'], dtype=torch.float32).view(b, h, w, c).permute(0, 3, 1, 2)
        views = train.apply_views(images, case['params'])
        s = case['params']['outputSize']
        expected = torch.tensor(case['expected'], dtype=torch.float32).view(b, s, s, c).permute(0, 3, 1, 2)
        # the sampler: the same structure as the app's params, and views apply_views can run
        sampled = train.sample_view_params(torch.Generator().manual_seed(3), b, h, w, c, case['pipeline'], s)

        def layout(params):
            return [(st['kind'], st['enabled'], sorted((k, None if v is None else len(np.asarray(v).reshape(-1)))
                                                      for k, v in st.items() if k not in ('kind', 'enabled', 'noise')))
                    for st in params['steps']] + [params[k] for k in ('batchSize', 'sourceHeight', 'sourceWidth', 'channels', 'outputSize')]

        own = train.apply_views(images, sampled)
        out.append({
            'name': case['name'],
            'max_abs': max_abs(views, expected),
            'shape': list(views.shape),
            'sampler_layout_matches': json.dumps(layout(sampled)) == json.dumps(layout(case['params'])),
            'sampled_views_in_range': bool(own.min() >= 0 and own.max() <= 1) and list(own.shape) == list(views.shape),
        })
    print(json.dumps(out))


def reference_nt_xent(z1, z2, temperature):
    """NT-Xent over one process's whole batch, written independently: cross-entropy of each row's similarities to its partner."""
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1)
    n2 = z.shape[0]
    logits = (z @ z.T / temperature).masked_fill(torch.eye(n2, dtype=torch.bool), float('-inf'))
    targets = (torch.arange(n2) + n2 // 2) % n2
    return torch.nn.functional.cross_entropy(logits, targets)


def check_distributed(train, directory):
    import torch.distributed as dist
    dist.init_process_group('gloo')
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    channels, per_rank = 3, 4
    gamma, beta = torch.rand(channels) + 0.5, torch.randn(channels)
    reference = torch.nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)
    synced = train.BatchNorm2d(channels, eps=1e-5, momentum=0.1)
    for bn in (reference, synced):
        with torch.no_grad():
            bn.weight.copy_(gamma)
            bn.bias.copy_(beta)
    worst = {'output': 0.0, 'input_grad': 0.0, 'weight_grad': 0.0, 'running_mean': 0.0, 'running_var': 0.0}
    for _ in range(2):
        whole = torch.randn(world * per_rank, channels, 5, 5) * 2 + 1
        upstream = torch.randn_like(whole)
        x_all = whole.clone().requires_grad_(True)
        y_all = reference(x_all)
        (y_all * upstream).sum().backward()
        mine = slice(rank * per_rank, (rank + 1) * per_rank)
        x = whole[mine].clone().requires_grad_(True)
        y = synced(x)
        (y * upstream[mine]).sum().backward()
        grads = torch.cat([synced.weight.grad, synced.bias.grad])
        dist.all_reduce(grads)  # each rank holds its share of dL/dγ, dL/dβ; DDP would reduce them
        worst['output'] = max(worst['output'], max_abs(y.detach(), y_all.detach()[mine]))
        worst['input_grad'] = max(worst['input_grad'], max_abs(x.grad, x_all.grad[mine]))
        worst['weight_grad'] = max(worst['weight_grad'], max_abs(grads, torch.cat([reference.weight.grad, reference.bias.grad])))
        worst['running_mean'] = max(worst['running_mean'], max_abs(synced.running_mean, reference.running_mean))
        worst['running_var'] = max(worst['running_var'], max_abs(synced.running_var, reference.running_var))
        for bn in (reference, synced):
            bn.zero_grad()
    # NT-Xent: this rank's rows of z1 and z2; the gather brings the others' as negatives
    whole1, whole2 = torch.randn(world * per_rank, 8), torch.randn(world * per_rank, 8)
    z1_all, z2_all = whole1.clone().requires_grad_(True), whole2.clone().requires_grad_(True)
    expected = reference_nt_xent(z1_all, z2_all, 0.5)
    expected.backward()
    z1, z2 = whole1[mine].clone().requires_grad_(True), whole2[mine].clone().requires_grad_(True)
    loss = train.nt_xent(z1, z2, 0.5, True)
    loss.backward()
    mean_loss = loss.detach().clone()
    dist.all_reduce(mean_loss)
    mean_loss /= world
    # DDP averages the ranks' gradients: 1/K of each rank's is its share of the global loss's
    worst['loss'] = abs(float(mean_loss) - float(expected))
    worst['loss_grad'] = max(max_abs(z1.grad / world, z1_all.grad[mine]), max_abs(z2.grad / world, z2_all.grad[mine]))
    # each rank writes its own file: two processes' lines on one stdout can interleave mid-line under torchrun's tee
    with open(os.path.join(directory, f'rank{rank}.json'), 'w') as f:
        json.dump({'rank': rank, 'world': world, **worst, 'global_loss': float(expected),
                   'local_loss': float(loss),
                   'running_var_moved': float((reference.running_var - 1).abs().max()),
                   'batches_tracked': int(synced.num_batches_tracked)}, f)
    dist.destroy_process_group()


def reference_barlow(z1, z2, lam):
    """Barlow Twins over one process's whole batch, written as the paper's Algorithm 1: BatchNorm1d without affine, C, L."""
    def bn(z):
        return torch.nn.functional.batch_norm(z, None, None, training=True, eps=1e-5)
    c = bn(z1).T @ bn(z2) / z1.shape[0]
    off = c - torch.diag(torch.diagonal(c))
    return ((torch.diagonal(c) - 1) ** 2).sum() + lam * (off ** 2).sum(), c


def reference_cmc(z1, z2, temperature):
    """CMC's loss over one process's whole batch, written independently: the cross-entropies of the cosine matrix's rows and columns, averaged."""
    s = torch.nn.functional.normalize(z1, dim=1) @ torch.nn.functional.normalize(z2, dim=1).T / temperature
    targets = torch.arange(s.shape[0])
    return (torch.nn.functional.cross_entropy(s, targets) + torch.nn.functional.cross_entropy(s.T, targets)) / 2


def reference_cpc(predictions, codes, targets):
    """CPC's InfoNCE over one process's whole batch, written independently: cross-entropy of each prediction's dot products with every code."""
    return torch.nn.functional.cross_entropy(predictions @ codes.T, targets)


def check_methods(train, directory, configs_path):
    import torch.distributed as dist
    dist.init_process_group('gloo')
    rank, world = dist.get_rank(), dist.get_world_size()
    with open(configs_path) as f:
        configs = json.load(f)
    out = {'rank': rank, 'world': world, 'methods': {}}
    # the same images on every rank (each trains on its own share of them)
    images_by_channels = {c: (torch.rand(16, c, 28, 28, generator=torch.Generator().manual_seed(4)) * 255).to(torch.uint8) for c in (1, 3)}
    for raw in configs:
        config = train.validate_config(raw)
        images = images_by_channels[config['data']['channels']]  # colour images for colorization
        method = train.build_method(config, train.build_model(config), len(images))
        bank = method.bank.clone() if hasattr(method, 'bank') else None
        # the training indices this rank's batches held (the bank's rows, the exemplars' classes)
        seen = set()
        method.register_forward_pre_hook(lambda module, args: seen.update(args[1].tolist()))
        losses = []
        train.train_steps(method, config, images, 3, torch.device('cpu'), on_step=lambda step, value: losses.append(value))
        digests = [None] * world
        dist.all_gather_object(digests, train.state_digest(method))
        out['methods'][config['method']] = {
            'losses': losses, 'digests': digests, 'indices': sorted(seen),
            'pointer': int(method.pointer) if hasattr(method, 'pointer') else None,
            'queue_rows': int(method.queue.shape[0]) if hasattr(method, 'queue') else None,
            'bank_rows_written': int((method.bank != bank).any(dim=1).sum()) if bank is not None else None,
            'rounds': method.round if hasattr(method, 'assignments') else None,
            'clusters_in_use': int(method.assignments.unique().numel()) if hasattr(method, 'assignments') else None,
        }
    # Barlow Twins: this rank's half of z1 and z2 against one process's whole batch
    torch.manual_seed(1)
    per_rank, d, lam = 5, 6, 0.05
    whole1, whole2 = torch.randn(world * per_rank, d) * 2 + 1, torch.randn(world * per_rank, d)
    whole2 = whole2 + 0.5 * whole1  # correlated views, as two views of one image are
    z1_all, z2_all = whole1.clone().requires_grad_(True), whole2.clone().requires_grad_(True)
    expected, c_expected = reference_barlow(z1_all, z2_all, lam)
    expected.backward()
    mine = slice(rank * per_rank, (rank + 1) * per_rank)
    z1, z2 = whole1[mine].clone().requires_grad_(True), whole2[mine].clone().requires_grad_(True)
    loss, c = train.barlow_twins(z1, z2, lam)
    loss.backward()
    _, c_local = reference_barlow(whole1[mine], whole2[mine], lam)
    out['barlow'] = {
        'c': max_abs(c.detach(), c_expected.detach()), 'loss': abs(float(loss) - float(expected)),
        # every rank holds the global L; DDP averages the K ranks' gradients, 1/K of each is its share
        'grad': max(max_abs(z1.grad / world, z1_all.grad[mine]), max_abs(z2.grad / world, z2_all.grad[mine])),
        'c_local_differs': max_abs(c_local, c_expected.detach()), 'global_loss': float(expected),
    }
    # CMC: this rank's rows of z_L and z_ab, the other ranks' gathered as candidates, against the whole batch in one process
    whole1, whole2 = torch.randn(world * per_rank, d), torch.randn(world * per_rank, d)
    whole2 = whole2 + whole1
    z1_all, z2_all = whole1.clone().requires_grad_(True), whole2.clone().requires_grad_(True)
    expected = reference_cmc(z1_all, z2_all, 0.2)
    expected.backward()
    z1, z2 = whole1[mine].clone().requires_grad_(True), whole2[mine].clone().requires_grad_(True)
    loss = train.cmc_loss(z1, z2, 0.2)
    loss.backward()
    mean_loss = loss.detach().clone()
    dist.all_reduce(mean_loss)
    out['cmc'] = {
        'loss': abs(float(mean_loss) / world - float(expected)),
        'grad': max(max_abs(z1.grad / world, z1_all.grad[mine]), max_abs(z2.grad / world, z2_all.grad[mine])),
        'local_differs': abs(float(reference_cmc(whole1[mine], whole2[mine], 0.2)) - float(expected)),
    }
    # CPC: this rank's predictions against every rank's patch codes, against the whole batch in one process
    codes_all = torch.randn(world * 2 * 16, d).requires_grad_(True)
    predictions_all = torch.randn(world * 2 * 24, d).requires_grad_(True)
    targets_all = torch.cat([train.cpc_targets(2, r * 2 * 16) for r in range(world)])
    expected = reference_cpc(predictions_all, codes_all, targets_all)
    expected.backward()
    codes = codes_all.detach()[rank * 32:(rank + 1) * 32].clone().requires_grad_(True)
    predictions = predictions_all.detach()[rank * 48:(rank + 1) * 48].clone().requires_grad_(True)
    loss = train.cpc_info_nce(predictions, codes, train.cpc_targets(2, rank * 2 * 16))
    loss.backward()
    mean_loss = loss.detach().clone()
    dist.all_reduce(mean_loss)
    out['cpc'] = {
        'loss': abs(float(mean_loss) / world - float(expected)),
        'grad': max(max_abs(predictions.grad / world, predictions_all.grad[rank * 48:(rank + 1) * 48]), max_abs(codes.grad / world, codes_all.grad[rank * 32:(rank + 1) * 32])),
        'global_loss': float(expected),
    }
    # the predictor's batch norm: half a batch per rank against the whole batch in one process
    predictor = train.Predictor(d, 7, 3)
    whole = torch.randn(world * per_rank, d) * 3
    upstream = torch.randn(world * per_rank, d)
    x_all = whole.clone().requires_grad_(True)
    a = torch.nn.functional.linear(x_all, predictor.layer1.weight)
    a = torch.nn.functional.batch_norm(a, None, None, predictor.bn.weight, predictor.bn.bias, training=True, eps=1e-5)
    y_all = predictor.layer2(torch.relu(a))
    (y_all * upstream).sum().backward()
    reference_grads = [p.grad.clone() for p in predictor.parameters()]
    predictor.zero_grad()
    x = whole[mine].clone().requires_grad_(True)
    y = predictor(x)
    (y * upstream[mine]).sum().backward()
    grads = torch.cat([p.grad.reshape(-1) for p in predictor.parameters()])
    dist.all_reduce(grads)  # each rank holds its share of the parameters' gradient; DDP would reduce them
    out['predictor'] = {
        'output': max_abs(y.detach(), y_all.detach()[mine]), 'input_grad': max_abs(x.grad, x_all.grad[mine]),
        'weight_grad': max_abs(grads, torch.cat([g.reshape(-1) for g in reference_grads])),
    }
    with open(os.path.join(directory, f'methods-rank{rank}.json'), 'w') as f:
        json.dump(out, f)
    dist.destroy_process_group()


if __name__ == '__main__':
    command, directory = sys.argv[1], sys.argv[2]
    train = load_train(directory)
    if command == 'model':
        check_model(train, *sys.argv[3:6])
    elif command == 'method':
        check_method(train, *sys.argv[3:6])
    elif command == 'methods':
        check_methods(train, directory, sys.argv[3])
    elif command == 'kmeans':
        check_kmeans(train, sys.argv[3])
    elif command == 'views':
        check_views(train, sys.argv[3])
    elif command == 'distributed':
        check_distributed(train, directory)
    else:
        sys.exit(f'unknown check {command}')
