#!/usr/bin/env python3
"""
Parity of the app's exported encoder with PyTorch (issue 21).

Reads a safetensors file written by src/export/encoderWeights.ts (plain json +
struct, so the `safetensors` package is not needed), builds the PyTorch modules
its metadata names, loads the weights with load_state_dict, and runs h = f(x)
and z = g(h) in eval mode on the images stored beside them (`parity.input`,
NCHW). Prints JSON: the largest absolute difference from the app's own h and z
(`parity.h`, `parity.z`), and what was loaded.

    /usr/bin/python3 scripts/reference/encoder_parity.py encoder.safetensors
"""
import json
import struct
import sys

import torch
import torch.nn as nn

DTYPES = {'F32': torch.float32, 'I32': torch.int32, 'U8': torch.uint8}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n].decode('utf-8'))
    metadata = header.pop('__metadata__', {})
    body = data[8 + n:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry['data_offsets']
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=DTYPES[entry['dtype']])
        tensors[name] = flat.reshape(entry['shape']) if entry['shape'] else flat.reshape(())
    return tensors, metadata


class Block(nn.Module):
    def __init__(self, c_in, c_out, pool):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-5)
        self.pool = nn.MaxPool2d(2, ceil_mode=True) if pool else nn.Identity()

    def forward(self, x):
        return self.pool(torch.relu(self.bn(self.conv(x))))


class Encoder(nn.Module):
    def __init__(self, channels, width):
        super().__init__()
        widths = [width, 2 * width, 4 * width, 8 * width]
        c_in = channels
        blocks = []
        for i, c_out in enumerate(widths):
            blocks.append(Block(c_in, c_out, i < 3))
            c_in = c_out
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x.mean(dim=(2, 3))


class Model(nn.Module):
    def __init__(self, metadata):
        super().__init__()
        channels = int(metadata['in_channels'])
        width = int(metadata['encoder_width'])
        h_dim, z_dim = int(metadata['h_dim']), int(metadata['projection_dim'])
        self.encoder = Encoder(channels, width)
        kind = metadata['projection_head']
        if kind == 'mlp':
            self.head = nn.Sequential(nn.Linear(h_dim, h_dim), nn.ReLU(), nn.Linear(h_dim, z_dim))
        elif kind == 'linear':
            self.head = nn.Sequential(nn.Linear(h_dim, z_dim))
        else:
            self.head = nn.Identity()


def main(path):
    tensors, metadata = read_safetensors(path)
    model = Model(metadata).eval()
    weights = {k: v for k, v in tensors.items() if not k.startswith('parity.')}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    # BatchNorm's num_batches_tracked is the only thing the app does not write
    missing = [k for k in missing if not k.endswith('num_batches_tracked')]
    with torch.no_grad():
        h = model.encoder(tensors['parity.input'])
        z = model.head(h)
    print(json.dumps({
        'missing': missing,
        'unexpected': unexpected,
        'h_shape': list(h.shape),
        'z_shape': list(z.shape),
        'max_abs_h': float((h - tensors['parity.h']).abs().max()),
        'max_abs_z': float((z - tensors['parity.z']).abs().max()),
        'max_abs_h_value': float(h.abs().max()),
        'trained': metadata.get('trained'),
    }))


if __name__ == '__main__':
    main(sys.argv[1])
