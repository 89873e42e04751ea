"""Score Lab's on-disk contract, so a run trained here looks to the lab like one it trained itself:

  RUNDIR/run.json            the run (settings and state), marked as training elsewhere
  RUNDIR/metrics.jsonl       one metric point per line (step, wallTime, loss, gradNorm, lr, ...)
  RUNDIR/checkpoints/        ckpt-<8-digit step>.safetensors + manifest.json (the kept list)

A checkpoint holds the model's tensors in the lab's (TensorFlow.js) layouts under their names,
`ema.<name>` (EMA shadows), `optim.m.<name>` / `optim.v.<name>` (Adam moments), and metadata
(format, step, config, rng, ema, optim, content_sha256); see src/engine/checkpoint/checkpoint.ts.
The file and folder names come from recipe.json (the lab's run-layout.ts owns them).
Only rank 0 calls the writers here. JSON files and checkpoints are replaced atomically
(temp file + os.replace); metrics.jsonl is appended one write per batch of lines, as the lab does
(its reader skips a torn last line).
"""
import hashlib
import json
import math
import os
import time

import torch

from safetensors_io import encode_safetensors, read_safetensors, write_atomic

FORMAT, FORMAT_VERSION = 'score-lab.checkpoint', '1'


# ---- layouts: the lab keeps weights as TensorFlow.js does (NHWC convolutions) ----

def lab_to_torch(t, layout):
    """Linear [in,out] -> [out,in]; Conv2d [kh,kw,in,out] -> [out,in,kh,kw];
    ConvTranspose2d [kh,kw,out,in] -> [in,out,kh,kw]; vectors as they are (layers.ts)."""
    if layout == 'linear' and t.dim() == 2:
        return t.t().contiguous()
    if layout in ('conv2d', 'conv_transpose2d') and t.dim() == 4:
        return t.permute(3, 2, 0, 1).contiguous()
    return t


def torch_to_lab(t, layout):
    if layout == 'linear' and t.dim() == 2:
        return t.t().contiguous()
    if layout in ('conv2d', 'conv_transpose2d') and t.dim() == 4:
        return t.permute(2, 3, 1, 0).contiguous()
    return t


def tensors_checksum(tensors):
    """The lab's content_sha256: names sorted, each name/dtype/shape then its bytes."""
    from safetensors_io import _raw_bytes
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().to('cpu', torch.float32).contiguous()
        h.update(f'{name}\0F32\0{",".join(str(d) for d in t.shape)}\0'.encode('utf-8'))
        h.update(_raw_bytes(t))
    return h.hexdigest()


# ---- checkpoints ----

def read_checkpoint(path, layouts):
    """A lab checkpoint as PyTorch tensors: {step, params, ema, m, v, adam_step, ema_updates, meta}.
    Checks the format and the content checksum, as the lab's loader does."""
    tensors, meta = read_safetensors(path)
    if meta.get('format') != FORMAT or meta.get('format_version') != FORMAT_VERSION:
        raise ValueError(f'{path} is not a Score Lab checkpoint (format {meta.get("format")!r} {meta.get("format_version")!r})')
    if 'content_sha256' in meta and meta['content_sha256'] != tensors_checksum(tensors):
        raise ValueError(f'{path}: its tensors do not match their checksum (damaged on disk)')
    out = {'params': {}, 'ema': {}, 'm': {}, 'v': {}}
    for name, t in tensors.items():
        for prefix, key in (('ema.', 'ema'), ('optim.m.', 'm'), ('optim.v.', 'v')):
            if name.startswith(prefix):
                base = name[len(prefix):]
                out[key][base] = lab_to_torch(t, layouts[base])
                break
        else:
            out['params'][name] = lab_to_torch(t, layouts[name])
    ema_meta = json.loads(meta.get('ema', 'null'))
    out['step'] = int(meta['step'])
    out['adam_step'] = int(json.loads(meta['optim'])['step'])
    out['ema_updates'] = ema_meta['numUpdates'] if ema_meta else 0
    out['meta'] = meta
    return out


def encode_checkpoint(model, ema, optimizer, step, layouts, base_meta, extra_meta):
    """The lab's checkpoint bytes for the live model, its EMA and its Adam state."""
    tensors = {}
    state = model.state_dict()
    trainable = dict(model.named_parameters())
    for name, layout in layouts.items():
        if name in state:
            tensors[name] = torch_to_lab(state[name].detach().float().cpu(), layout)
    if ema is not None:
        for name, s in ema.shadow.items():
            tensors['ema.' + name] = torch_to_lab(s.detach().float().cpu(), layouts[name])
    adam_step = 0
    for name, p in trainable.items():
        st = optimizer.state.get(p, {})
        m = st.get('exp_avg', torch.zeros_like(p))
        v = st.get('exp_avg_sq', torch.zeros_like(p))
        adam_step = int(float(st['step'])) if 'step' in st else adam_step
        tensors['optim.m.' + name] = torch_to_lab(m.detach().float().cpu(), layouts[name])
        tensors['optim.v.' + name] = torch_to_lab(v.detach().float().cpu(), layouts[name])
    meta = {
        'format': FORMAT,
        'format_version': FORMAT_VERSION,
        'step': str(step),
        'config': base_meta['config'],
        'rng': base_meta['rng'],
        'ema': json.dumps({'decay': ema.decay, 'numUpdates': ema.num_updates} if ema is not None else None),
        'optim': json.dumps({'name': 'adam', 'step': adam_step}),
        **{k: str(v) for k, v in extra_meta.items()},
        'content_sha256': tensors_checksum(tensors),
    }
    return encode_safetensors(tensors, meta)


def checkpoint_file_name(step):
    return f'ckpt-{step:08d}.safetensors'


def latest_checkpoint(ck_dir):
    """The newest ckpt-*.safetensors in a folder (by step), or None."""
    try:
        files = [f for f in os.listdir(ck_dir) if f.startswith('ckpt-') and f.endswith('.safetensors')]
    except FileNotFoundError:
        return None
    return os.path.join(ck_dir, max(files, key=lambda f: int(f[5:-12]))) if files else None


# ---- the run folder ----

class RunFolder:
    """Rank 0's writer of RUNDIR in the lab's layout (names from recipe['layout'])."""

    def __init__(self, out_dir, recipe):
        layout = recipe['layout']
        self.dir = out_dir
        self.run_file = os.path.join(out_dir, layout['runFile'])
        self.metrics_file = os.path.join(out_dir, layout['metricsFile'])
        self.ck_dir = os.path.join(out_dir, layout['checkpointsDir'])
        self.manifest_file = os.path.join(self.ck_dir, layout['manifestFile'])
        self.keep_last = int(recipe['run']['config']['keepLast'])
        self.keep_best = bool(recipe['run']['config']['keepBest'])
        os.makedirs(self.ck_dir, exist_ok=True)
        os.makedirs(os.path.join(out_dir, layout['samplesDir']), exist_ok=True)
        if not os.path.exists(self.run_file):
            write_atomic(self.run_file, json.dumps(recipe['run'], indent=2) + '\n')

    def update_run(self, **patch):
        """Merges into run.json (keeping what the lab may have edited there: name, notes, tags)."""
        with open(self.run_file, encoding='utf-8') as f:
            run = json.load(f)
        run.update(patch)
        run['updatedAt'] = int(time.time() * 1000)
        write_atomic(self.run_file, json.dumps(run, indent=2) + '\n')
        return run

    def append_metrics(self, points):
        if not points:
            return
        text = ''.join(json.dumps(p, allow_nan=False) + '\n' for p in points)
        with open(self.metrics_file, 'a', encoding='utf-8') as f:
            f.write(text)

    def truncate_metrics_after(self, step):
        """Steps after a resumed checkpoint are redone: their old points go (as the lab does)."""
        if not os.path.exists(self.metrics_file):
            return
        kept = []
        with open(self.metrics_file, encoding='utf-8') as f:
            for line in f:
                try:
                    if json.loads(line)['step'] <= step:
                        kept.append(line if line.endswith('\n') else line + '\n')
                except (ValueError, KeyError, TypeError):
                    pass  # a torn line
        write_atomic(self.metrics_file, ''.join(kept))

    def read_manifest(self):
        try:
            with open(self.manifest_file, encoding='utf-8') as f:
                return json.load(f)['checkpoints']
        except (FileNotFoundError, ValueError, KeyError):
            return []

    def save_checkpoint(self, data, info):
        """Writes the checkpoint, then the manifest with retention (keep-last-N plus the best)."""
        path = os.path.join(self.ck_dir, info['file'])
        write_atomic(path, data)
        info['bytes'] = os.path.getsize(path)
        listed = [c for c in self.read_manifest() if c['file'] != info['file']] + [info]
        listed.sort(key=lambda c: c['step'])
        keep = {c['file'] for c in listed[-self.keep_last:]}
        finite = [c for c in listed if c.get('loss') is not None and math.isfinite(c['loss'])]
        best = min(finite, key=lambda c: c['loss']) if finite else None
        if self.keep_best and best is not None:
            keep.add(best['file'])
        kept = [dict(c, best=best is not None and c['file'] == best['file']) for c in listed if c['file'] in keep]
        write_atomic(self.manifest_file, json.dumps({'checkpoints': kept}, indent=2) + '\n')
        for c in listed:
            if c['file'] not in keep:
                try:
                    os.remove(os.path.join(self.ck_dir, c['file']))
                except FileNotFoundError:
                    pass
        return kept
