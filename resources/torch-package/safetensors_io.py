"""A tiny safetensors reader and writer (the format: 8-byte little-endian header length, a JSON
header, then the raw little-endian tensor bytes; https://github.com/huggingface/safetensors).

Why not the `safetensors` package: Debian ships PyTorch (python3-torch) but not safetensors, and a
cluster image may not have it either. The format is small enough to own, and owning it keeps this
package to PyTorch alone. Only the dtypes the lab writes are handled (F32, plus F64/I32/I64/U8).
"""
import json
import os
import struct

import torch

_DTYPES = {
    'F32': torch.float32,
    'F64': torch.float64,
    'I32': torch.int32,
    'I64': torch.int64,
    'U8': torch.uint8,
}
_NAMES = {v: k for k, v in _DTYPES.items()}


def read_safetensors(path):
    """Returns (tensors: dict name -> CPU tensor, metadata: dict str -> str)."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f'{path}: not a safetensors file (shorter than 8 bytes)')
    (n,) = struct.unpack('<Q', data[:8])
    if n > 100_000_000 or 8 + n > len(data):
        raise ValueError(f'{path}: header length {n} does not fit the file')
    header = json.loads(data[8:8 + n].decode('utf-8'))
    metadata = header.pop('__metadata__', {}) or {}
    buf = memoryview(data)[8 + n:]
    tensors = {}
    for name, info in header.items():
        dtype = _DTYPES.get(info['dtype'])
        if dtype is None:
            raise ValueError(f'{path}: tensor "{name}" has dtype {info["dtype"]}, which this reader does not handle')
        begin, end = info['data_offsets']
        count = 1
        for d in info['shape']:
            count *= d
        # frombuffer shares the bytes (a read-only view would warn); clone gives the tensor its own memory.
        t = torch.frombuffer(bytearray(buf[begin:end]), dtype=dtype, count=count) if count else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(info['shape']).clone()
    return tensors, metadata


def _raw_bytes(t):
    """A contiguous CPU tensor's bytes (little-endian on every platform PyTorch runs on)."""
    if t.numel() == 0:
        return b''
    try:
        return t.numpy().tobytes()
    except (ImportError, RuntimeError):  # PyTorch without NumPy: go through a byte view
        return bytes(t.clone().view(torch.uint8).reshape(-1).tolist())


def encode_safetensors(tensors, metadata=None):
    """The file's bytes: tensors in the given order, header padded with spaces to 8 bytes."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().to('cpu').contiguous()
        if t.dtype not in _NAMES:
            raise ValueError(f'tensor "{name}" has dtype {t.dtype}; write float32 (or int) tensors')
        b = _raw_bytes(t)
        header[name] = {'dtype': _NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * (-len(h) % 8)
    return struct.pack('<Q', len(h)) + h + b''.join(blobs)


def write_atomic(path, data):
    """Writes bytes (or str) to path through a temp file and os.replace, so a reader (the lab, which
    may watch this folder live) never sees a half-written file."""
    tmp = os.path.join(os.path.dirname(path) or '.', f'.{os.path.basename(path)}.{os.getpid()}.tmp')
    with open(tmp, 'wb') as f:
        f.write(data.encode('utf-8') if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
