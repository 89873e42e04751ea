#!/usr/bin/env python3
"""Converts pytorch-fid's FID Inception-v3 weights to the safetensors file Score Lab reads.

    python3 scripts/fid-inception-to-safetensors.py pt_inception-2015-12-05-6726825d.pth out.safetensors

The input is the state_dict pytorch-fid downloads (FID_WEIGHTS_URL in pytorch_fid/inception.py; the
TensorFlow 2015-12-05 Inception ported to PyTorch). Every tensor is written under its state_dict
name, unchanged (PyTorch layouts and dtypes); Score Lab reads the convs and BatchNorms and ignores
fc.* and num_batches_tracked. Put the output at <data folder>/fid/pt_inception-2015-12-05.safetensors.

Only torch is needed: the safetensors format is written by hand (u64 little-endian header length,
JSON header {name: {dtype, shape, data_offsets}} padded with spaces to 8 bytes, then the raw
little-endian data). Nothing is downloaded.
"""
import hashlib
import json
import os
import struct
import sys

import torch

EXPECTED_SHA256_PREFIX = '6726825d'  # the hash prefix in pytorch-fid's file name
DTYPES = {
    torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float64: 'F64',
    torch.int64: 'I64', torch.int32: 'I32', torch.uint8: 'U8',
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def raw_bytes(t):
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: same bits as int16
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def main(argv):
    if len(argv) != 3:
        sys.exit(f'usage: python3 {argv[0]} pt_inception-2015-12-05-6726825d.pth out.safetensors')
    src, dst = argv[1], argv[2]
    if sys.byteorder != 'little':
        sys.exit('this converter writes the machine\'s byte order and safetensors is little-endian: run it on x86 or ARM')
    digest = sha256(src)
    if not digest.startswith(EXPECTED_SHA256_PREFIX):
        print(f'warning: {src} has SHA-256 {digest}, not pytorch-fid\'s {EXPECTED_SHA256_PREFIX}…; '
              'its features will not be the FID Inception\'s', file=sys.stderr)

    sd = torch.load(src, map_location='cpu')
    if isinstance(sd, torch.nn.Module):
        sd = sd.state_dict()
    if not isinstance(sd, dict) or not all(torch.is_tensor(v) for v in sd.values()):
        sys.exit(f'{src} is not a state_dict (a dict of tensors)')

    header = {'__metadata__': {'format': 'pt', 'source': os.path.basename(src), 'source_sha256': digest}}
    chunks, offset = [], 0
    for name, t in sd.items():
        if t.dtype not in DTYPES:
            sys.exit(f'{src}: tensor "{name}" has dtype {t.dtype}, which safetensors (as written here) does not cover')
        data = raw_bytes(t)
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)

    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)  # the data then starts 8-byte aligned
    with open(dst, 'wb') as fh:
        fh.write(struct.pack('<Q', len(text)))
        fh.write(text)
        for data in chunks:
            fh.write(data)

    convs = sum(1 for k in sd if k.endswith('.conv.weight'))
    fc = tuple(sd['fc.weight'].shape) if 'fc.weight' in sd else None
    if convs != 94 or (fc is not None and fc[0] != 1008):
        print(f'warning: {convs} conv weights (the FID Inception has 94) and fc {fc} (it has (1008, 2048)): '
              'this does not look like pytorch-fid\'s FID Inception', file=sys.stderr)
    print(f'{len(sd)} tensors, {offset} bytes of data -> {dst}')
    print(f'SHA-256 {sha256(dst)}')


if __name__ == '__main__':
    main(sys.argv)
