"""The run's training images, and each rank's share of every batch.

Images come from the lab's own verified files: --data is the folder where the lab keeps the set
(<lab data folder>/datasets/fashion-mnist, or Debian's /usr/share/datasets/fashion-mnist), holding
the four IDX files raw or gzipped. Each file must hash to the SHA-256 the lab checks
(recipe.json, from the lab's registry), so the cluster trains on exactly the lab's data. Where the
folder has no IDX files and torchvision is installed, torchvision's copy is used instead (it
checks its own MD5s).
"""
import gzip
import hashlib
import os
import struct

import torch


def _read_idx_file(folder, spec):
    """The raw IDX bytes of one file (raw or .gz), checked against the lab's SHA-256."""
    for name, packed in ((spec['rawName'], False), (spec['name'], True)):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with open(path, 'rb') as f:
                data = f.read()
            if packed:
                data = gzip.decompress(data)
            digest = hashlib.sha256(data).hexdigest()
            if digest != spec['rawSha256']:
                raise ValueError(f'{path}: SHA-256 {digest} is not the one the lab verified ({spec["rawSha256"]}); '
                                 'the file is damaged or not this data set')
            return data
    return None


def _parse_idx(data, what):
    """IDX (LeCun's format): big-endian magic 0x0000080<rank>, the dims, then uint8 values."""
    magic, = struct.unpack('>I', data[:4])
    if magic >> 8 != 0x08:
        raise ValueError(f'{what}: not a uint8 IDX file (magic {magic:#x})')
    rank = magic & 0xFF
    dims = struct.unpack('>' + 'I' * rank, data[4:4 + 4 * rank])
    body = bytearray(data[4 + 4 * rank:])
    return torch.frombuffer(body, dtype=torch.uint8).reshape(dims)


def load_train_set(path, data_spec):
    """(images uint8 [N, C, H, W], labels int64 [N]) of the training split."""
    files = {f['role']: f for f in data_spec['files']}
    if data_spec['format'] == 'idx' and os.path.isdir(path):
        images = _read_idx_file(path, files['train-images'])
        labels = _read_idx_file(path, files['train-labels'])
        if images is not None and labels is not None:
            x = _parse_idx(images, 'train images')
            y = _parse_idx(labels, 'train labels')
            return x[:, None, :, :].contiguous(), y.long()
    return _torchvision_train_set(path, data_spec)


def _torchvision_train_set(path, data_spec):
    try:
        import torchvision.datasets as tvd
    except ImportError:
        raise SystemExit(f'--data {path}: no verified {data_spec["name"]} files there (the IDX files the lab keeps in '
                         f'<data folder>/datasets/{data_spec["name"]}), and torchvision is not installed to fetch them')
    cls = {'mnist': tvd.MNIST, 'fashion-mnist': tvd.FashionMNIST, 'cifar10': tvd.CIFAR10}[data_spec['name']]
    ds = cls(root=path, train=True, download=True)
    x = torch.as_tensor(ds.data)
    x = x[:, None] if x.dim() == 3 else x.permute(0, 3, 1, 2)  # CIFAR's arrays are NHWC
    return x.contiguous(), torch.as_tensor(ds.targets).long()


def mix_seed(*parts):
    """A 63-bit seed from integers (run seed, epoch, step, rank): the same inputs give the same stream."""
    h = hashlib.sha256(','.join(str(int(p)) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], 'little') >> 1


class RankBatches:
    """DistributedSampler-like: one global order per epoch, from (seed, epoch) alone; global batch
    `step` is the next `batch` images of it, and rank r takes its r-th slice of batch/world images.
    The global batch is the same whatever the world size, and a resume at step s sees the batch it
    would have seen; the last short batch of an epoch is dropped (as the lab's Batcher does)."""

    def __init__(self, images, labels, batch, rank, world, seed, centered, random_flip, device):
        if batch % world:
            raise ValueError(f'the run trains on batches of {batch}; {world} processes cannot share that evenly')
        if batch > images.shape[0]:
            raise ValueError(f'batch size {batch} is larger than the training set ({images.shape[0]} images)')
        self.images, self.labels = images, labels
        self.batch, self.per_rank, self.rank = batch, batch // world, rank
        self.seed, self.centered, self.random_flip, self.device = seed, centered, random_flip, device
        self.per_epoch = images.shape[0] // batch
        self._epoch, self._order = -1, None

    def get(self, step):
        """Step `step` (0-based) for this rank: (x float32 [b, C, H, W] on the device, labels [b])."""
        epoch = step // self.per_epoch
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(mix_seed(self.seed, 2 * epoch))
            self._order, self._epoch = torch.randperm(self.images.shape[0], generator=g), epoch
        i = step % self.per_epoch
        mine = slice(i * self.batch + self.rank * self.per_rank, i * self.batch + (self.rank + 1) * self.per_rank)
        idx = self._order[mine]
        x = self.images[idx].float() / 255
        if self.centered:
            x = x * 2 - 1
        if self.random_flip:
            g = torch.Generator().manual_seed(mix_seed(self.seed, 0x5EED + 2 * step + 1))
            flips = (torch.rand(self.batch, generator=g) < 0.5)[mine.start - i * self.batch:mine.stop - i * self.batch]
            x[flips] = x[flips].flip(-1)
        return x.to(self.device, non_blocking=True), self.labels[idx].to(self.device)
