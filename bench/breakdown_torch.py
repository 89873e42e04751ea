#!/usr/bin/env python3
"""PyTorch side of bench/breakdown.bench.ts: torch.profiler (CPU) over the tutorial ScoreNet's
training step at batch 64 and one Euler-Maruyama step at batch 64, self CPU time grouped by op name.
Run with Debian's interpreter (/usr/bin/python3, python3-torch 1.13). Prints one line `RESULT {json}`.
  /usr/bin/python3 bench/breakdown_torch.py --threads 2 --warmup 2 --steps 3
Model facts (channels, GroupNorm groups, Fourier scale, VE SDE sigma=25, Adam lr 1e-4, loss eps 1e-5)
follow Yang Song's score-SDE tutorial as summarised in /work/shared/reference/ref_scorenet.py."""
import argparse, json, math, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--threads', type=int, default=2)
p.add_argument('--warmup', type=int, default=2)
p.add_argument('--steps', type=int, default=3)
p.add_argument('--batch', type=int, default=64)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
SIGMA = 25.0


def std(t):
    return torch.sqrt((SIGMA ** (2 * t) - 1.) / 2. / math.log(SIGMA))


class Net(nn.Module):
    def __init__(self, ch=(32, 64, 128, 256), E=256):
        super().__init__()
        self.W = nn.Parameter(torch.randn(E // 2) * 30., requires_grad=False)
        self.lin = nn.Linear(E, E)
        c = ch
        self.convs = nn.ModuleList([nn.Conv2d(1, c[0], 3, 1, bias=False), nn.Conv2d(c[0], c[1], 3, 2, bias=False),
                                    nn.Conv2d(c[1], c[2], 3, 2, bias=False), nn.Conv2d(c[2], c[3], 3, 2, bias=False)])
        self.tconvs = nn.ModuleList([nn.ConvTranspose2d(c[3], c[2], 3, 2, bias=False),
                                     nn.ConvTranspose2d(2 * c[2], c[1], 3, 2, bias=False, output_padding=1),
                                     nn.ConvTranspose2d(2 * c[1], c[0], 3, 2, bias=False, output_padding=1),
                                     nn.ConvTranspose2d(2 * c[0], 1, 3, 1)])
        outs = [c[0], c[1], c[2], c[3], c[2], c[1], c[0]]
        self.dense = nn.ModuleList([nn.Linear(E, o) for o in outs])
        self.gn = nn.ModuleList([nn.GroupNorm(g, o) for g, o in zip([4, 32, 32, 32, 32, 32, 32], outs)])

    def forward(self, x, t):
        act = lambda v: v * torch.sigmoid(v)
        xp = t[:, None] * self.W[None, :] * 2 * math.pi
        emb = act(self.lin(torch.cat([torch.sin(xp), torch.cos(xp)], dim=-1)))
        hs = []
        h = x
        for i in range(4):
            h = self.convs[i](h)
            h = h + self.dense[i](emb)[..., None, None]
            h = act(self.gn[i](h))
            hs.append(h)
        h = hs[3]
        for j in range(3):
            if j > 0:
                h = torch.cat([h, hs[3 - j]], dim=1)
            h = self.tconvs[j](h)
            h = h + self.dense[4 + j](emb)[..., None, None]
            h = act(self.gn[4 + j](h))
        h = self.tconvs[3](torch.cat([h, hs[0]], dim=1))
        return h / std(t)[:, None, None, None]


net = Net()
opt = torch.optim.Adam(net.parameters(), lr=1e-4)
B = a.batch
x0 = torch.rand(B, 1, 28, 28)


def train_step():
    t = torch.rand(B) * (1 - 1e-5) + 1e-5
    z = torch.randn_like(x0)
    s = std(t)[:, None, None, None]
    score = net(x0 + z * s, t)
    loss = torch.mean(torch.sum((score * s + z) ** 2, dim=(1, 2, 3)))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


xs = torch.randn(B, 1, 28, 28)
dt = (1 - 1e-3) / 499


def em_step():
    global xs
    with torch.no_grad():
        tv = 0.5
        bt = torch.full((B,), tv)
        g = SIGMA ** tv
        mean_x = xs + (g ** 2) * net(xs, bt) * dt
        xs = mean_x + math.sqrt(dt) * g * torch.randn_like(xs)
        return float(xs[0, 0, 0, 0])


def family(name, seq):
    n = name
    if n in ('aten::convolution_backward',):
        return 'conv backward (input+filter, one op)'
    if n in ('aten::slow_conv_transpose2d', 'aten::mkldnn_convolution_transpose'):
        return 'tconv fwd'
    if n in ('aten::mkldnn_convolution', 'aten::_slow_conv2d_forward', 'aten::thnn_conv2d', 'aten::slow_conv_transpose2d',
             'aten::_convolution', 'aten::convolution', 'aten::conv2d', 'aten::conv_transpose2d', 'aten::_nnpack_spatial_convolution',
             'aten::slow_conv_dilated2d', 'aten::mkldnn_convolution_transpose'):
        return 'conv fwd'
    if n.startswith('aten::_slow_conv2d_backward') or n.startswith('aten::slow_conv_transpose2d_backward'):
        return 'conv backward (input+filter, one op)'
    if 'group_norm' in n:
        return 'GroupNorm'
    if n.startswith('aten::_foreach') or n in ('aten::addcdiv_', 'aten::addcmul_', 'aten::lerp_') or 'Optimizer' in n or n == 'aten::zero_':
        return 'optimizer'
    if n in ('aten::addmm', 'aten::mm', 'aten::matmul', 'aten::linear', 'aten::bmm', 'aten::t'):
        return 'MatMul (dense + embedding)'
    if n in ('aten::sin', 'aten::cos'):
        return 'time embedding (sin/cos)'
    if n in ('aten::sum', 'aten::mean', 'aten::max', 'aten::amax'):
        return 'reductions'
    if n in ('aten::cat', 'aten::split', 'aten::narrow', 'aten::slice', 'aten::view', 'aten::reshape', 'aten::transpose',
             'aten::permute', 'aten::copy_', 'aten::contiguous', 'aten::clone', 'aten::as_strided', 'aten::unsqueeze',
             'aten::expand', 'aten::select', 'aten::_reshape_alias', 'aten::squeeze', 'aten::flatten'):
        return 'copies / reshapes'
    if n in ('aten::add', 'aten::add_', 'aten::mul', 'aten::mul_', 'aten::sub', 'aten::div', 'aten::div_', 'aten::pow',
             'aten::sigmoid', 'aten::sigmoid_backward', 'aten::exp', 'aten::sqrt', 'aten::neg', 'aten::rsub', 'aten::square',
             'aten::sub_', 'aten::mul_out', 'aten::sqrt_', 'aten::add_out', 'aten::threshold_backward'):
        return 'elementwise'
    if n in ('aten::rand', 'aten::randn', 'aten::randn_like', 'aten::uniform_', 'aten::normal_', 'aten::empty_like', 'aten::full',
             'aten::empty', 'aten::ones_like', 'aten::zeros', 'aten::zeros_like', 'aten::empty_strided', 'aten::resize_', 'aten::full_like', 'aten::fill_'):
        return 'random / alloc / fill'
    return 'other'


def profile(fn):
    from torch.profiler import profile as prof, ProfilerActivity
    with prof(activities=[ProfilerActivity.CPU]) as pr:
        t0 = time.perf_counter()
        fn()
        wall = (time.perf_counter() - t0) * 1000
    by_fam, by_op = {}, {}
    for e in pr.key_averages():
        ms = e.self_cpu_time_total / 1000.0
        if e.key.startswith('ProfilerStep') or ms <= 0:
            continue
        f = family(e.key, None)
        by_fam[f] = by_fam.get(f, 0) + ms
        by_op[e.key] = by_op.get(e.key, 0) + ms
    return wall, by_fam, by_op


out = {'torch': torch.__version__, 'threads': torch.get_num_threads()}
try:
    import re
    maps = open('/proc/self/maps').read()
    out['blas'] = sorted(set(re.findall(r'(/\S*lib(?:open)?blas\S*\.so[\S]*)', maps)))
except Exception:
    out['blas'] = []
for key, fn in (('train', train_step), ('em', em_step)):
    for _ in range(a.warmup):
        fn()
    plain = []
    for _ in range(a.steps):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        plain.append(((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000))
    runs = [profile(fn) for _ in range(a.steps)]
    walls = [r[0] for r in runs]
    fams = sorted({f for r in runs for f in r[1]})
    ops = sorted({o for r in runs for o in r[2]})
    med = lambda vals: statistics.median(vals)
    out[key] = {
        'profiled_wall_ms': med(walls),
        'wall_ms': med([w for w, _ in plain]),
        'cpu_ms': med([c for _, c in plain]),
        'families': {f: med([r[1].get(f, 0) for r in runs]) for f in fams},
        'top_ops': sorted(((o, med([r[2].get(o, 0) for r in runs])) for o in ops), key=lambda kv: -kv[1])[:20],
    }
print('RESULT ' + json.dumps(out))
