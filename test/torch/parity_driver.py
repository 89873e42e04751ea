"""Test driver (test/torch/parity.test.ts): runs an exported package's own code on inputs the lab
wrote, and writes what it computed for the lab to compare.

    parity_driver.py PACKAGE_DIR IO_DIR

IO_DIR/inputs.json names the batch (x as NCHW float32, t, z, optional int32 labels y, raw
little-endian .bin files) and, optionally, lab_grads.safetensors (the lab's gradients in its
layouts) to apply one update to. Writes IO_DIR/torch_grads.safetensors (gradients in the lab's
layouts, loss in the metadata) and IO_DIR/torch_update.safetensors (parameters, Adam moments and
EMA after the update, in the lab's layouts).
"""
import json
import os
import sys

import torch

PKG, IO = sys.argv[1], sys.argv[2]
sys.path.insert(0, PKG)

from lab_format import read_checkpoint, torch_to_lab  # noqa: E402
from model import create_model  # noqa: E402
from safetensors_io import encode_safetensors, read_safetensors, write_atomic  # noqa: E402
from sde import create_sde  # noqa: E402
from training import Ema, apply_update, dsm_loss, load_adam_state, make_optimizer  # noqa: E402

torch.set_num_threads(1)
with open(os.path.join(PKG, 'recipe.json')) as f:
    recipe = json.load(f)
with open(os.path.join(IO, 'inputs.json')) as f:
    inputs = json.load(f)


def load_bin(name, dtype, shape):
    with open(os.path.join(IO, name), 'rb') as f:
        return torch.frombuffer(bytearray(f.read()), dtype=dtype).reshape(shape).clone()


layouts = recipe['layouts']
sde = create_sde(recipe['sde'])
model = create_model(recipe['model'], sde)
ck = read_checkpoint(os.path.join(PKG, recipe['startCheckpoint']), layouts)
model.load_state_dict(ck['params'], strict=True)
named = list(model.named_parameters())

x = load_bin('x.bin', torch.float32, inputs['xShape'])
t = load_bin('t.bin', torch.float32, [x.shape[0]])
z = load_bin('z.bin', torch.float32, inputs['xShape'])
y = load_bin('y.bin', torch.int32, [x.shape[0]]).long() if inputs.get('labels') else None

loss, _ = dsm_loss(model, sde, x, t, z, y, recipe['train'])
loss.backward()
grads = {n: torch_to_lab(p.grad, layouts[n]) for n, p in named}
write_atomic(os.path.join(IO, 'torch_grads.safetensors'), encode_safetensors(grads, {'loss': repr(float(loss))}))

lab_grads_file = os.path.join(IO, 'lab_grads.safetensors')
if os.path.exists(lab_grads_file):
    # The same gradients as the lab's, so the update itself is what is compared.
    lab_grads, _ = read_safetensors(lab_grads_file)
    train_cfg = recipe['train']
    ema = Ema(named, train_cfg['emaDecay']) if train_cfg['emaDecay'] is not None else None
    if ema is not None:
        ema.load(ck['ema'], ck['ema_updates'])
    opt = make_optimizer(named, train_cfg)
    load_adam_state(opt, named, ck['m'], ck['v'], ck['adam_step'])
    from lab_format import lab_to_torch  # noqa: E402
    for n, p in named:
        p.grad = lab_to_torch(lab_grads[n], layouts[n]).clone()
    norm, lr = apply_update([p for _, p in named], opt, ema, train_cfg, ck['step'], float(loss))
    out = {}
    for n, p in named:
        out[n] = torch_to_lab(p.detach(), layouts[n])
        out['optim.m.' + n] = torch_to_lab(opt.state[p]['exp_avg'], layouts[n])
        out['optim.v.' + n] = torch_to_lab(opt.state[p]['exp_avg_sq'], layouts[n])
        if ema is not None:
            out['ema.' + n] = torch_to_lab(ema.shadow[n], layouts[n])
    meta = {'norm': repr(norm), 'lr': repr(lr), 'adam_step': str(int(float(opt.state[named[0][1]]['step'])))}
    write_atomic(os.path.join(IO, 'torch_update.safetensors'), encode_safetensors(out, meta))
print('ok')
