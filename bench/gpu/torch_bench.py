#!/usr/bin/env python3
"""PyTorch timing of the tutorial ScoreNet for the GPU bench bundle (bench/gpu/bench-gpu.ts).

Shipped inside the bundle, so it depends on nothing but torch (no numpy, nothing from the repo).
The network, VE SDE (sigma = 25), loss (eps = 1e-5), Adam (lr 1e-4) and Euler-Maruyama step
(eps = 1e-3, 500-step grid) follow Yang Song's score-SDE tutorial (28x28x1, channels 32/64/128/256,
GroupNorm groups 4/32/32/32, embedding 256, Fourier scale 30).

Uses CUDA when torch sees a GPU, else the CPU. Prints one JSON object on stdout:
  {"torch": ..., "device": ..., "cases": {"train@64": {"median_ms": ..., ...}, ...}, "skipped": {...}}
Cases: --cases train:64,train:256,em:64,em:1. Each case: --warmup untimed steps, then up to --steps
timed steps, stopping early (after at least one) when its share of --budget-s is used up.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
except Exception as e:  # the caller reports PyTorch as skipped with this reason
    print(json.dumps({"error": f"python3 cannot import torch ({type(e).__name__}: {e})"}))
    sys.exit(0)

SIGMA = 25.0


class Fourier(nn.Module):
    def __init__(self, dim, scale=30.0):
        super().__init__()
        self.W = nn.Parameter(torch.randn(dim // 2) * scale, requires_grad=False)

    def forward(self, t):
        p = t[:, None] * self.W[None, :] * 2 * math.pi
        return torch.cat([torch.sin(p), torch.cos(p)], dim=-1)


class Dense(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.dense = nn.Linear(i, o)

    def forward(self, x):
        return self.dense(x)[..., None, None]


def marginal_prob_std(t):
    return torch.sqrt((SIGMA ** (2 * t) - 1.0) / 2.0 / math.log(SIGMA))


def diffusion_coeff(t):
    return SIGMA ** t


class ScoreNet(nn.Module):
    def __init__(self, ch=(32, 64, 128, 256), embed=256):
        super().__init__()
        self.embed = nn.Sequential(Fourier(embed), nn.Linear(embed, embed))
        self.conv1 = nn.Conv2d(1, ch[0], 3, stride=1, bias=False)
        self.conv2 = nn.Conv2d(ch[0], ch[1], 3, stride=2, bias=False)
        self.conv3 = nn.Conv2d(ch[1], ch[2], 3, stride=2, bias=False)
        self.conv4 = nn.Conv2d(ch[2], ch[3], 3, stride=2, bias=False)
        self.tconv4 = nn.ConvTranspose2d(ch[3], ch[2], 3, stride=2, bias=False)
        self.tconv3 = nn.ConvTranspose2d(2 * ch[2], ch[1], 3, stride=2, bias=False, output_padding=1)
        self.tconv2 = nn.ConvTranspose2d(2 * ch[1], ch[0], 3, stride=2, bias=False, output_padding=1)
        self.tconv1 = nn.ConvTranspose2d(2 * ch[0], 1, 3, stride=1)
        outs = [ch[0], ch[1], ch[2], ch[3], ch[2], ch[1], ch[0]]
        self.dense = nn.ModuleList([Dense(embed, c) for c in outs])
        groups = [4, 32, 32, 32, 32, 32, 32]
        self.norm = nn.ModuleList([nn.GroupNorm(g, c) for g, c in zip(groups, outs)])

    def forward(self, x, t):
        act = lambda v: v * torch.sigmoid(v)
        e = act(self.embed(t))
        blk = lambda h, i: act(self.norm[i](h + self.dense[i](e)))
        h1 = blk(self.conv1(x), 0)
        h2 = blk(self.conv2(h1), 1)
        h3 = blk(self.conv3(h2), 2)
        h4 = blk(self.conv4(h3), 3)
        h = blk(self.tconv4(h4), 4)
        h = blk(self.tconv3(torch.cat([h, h3], 1)), 5)
        h = blk(self.tconv2(torch.cat([h, h2], 1)), 6)
        h = self.tconv1(torch.cat([h, h1], 1))
        return h / marginal_prob_std(t)[:, None, None, None]


def stats(ms):
    s = sorted(ms)
    return {"median_ms": statistics.median(s), "mean_ms": statistics.mean(s), "min_ms": s[0], "max_ms": s[-1], "n": len(s)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="train:64,train:256,em:64,em:1")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--budget-s", type=float, default=120.0)
    ap.add_argument("--device", default="auto", help="auto | cuda | cpu")
    a = ap.parse_args()
    t_start = time.perf_counter()

    cuda = torch.cuda.is_available() and a.device != "cpu"
    if a.device == "cuda" and not cuda:
        print(json.dumps({"error": "--device cuda, but torch.cuda.is_available() is False"}))
        return
    dev = torch.device("cuda" if cuda else "cpu")
    info = {"torch": torch.__version__, "python": sys.version.split()[0], "cuda": cuda}
    if cuda:
        p = torch.cuda.get_device_properties(0)
        info.update({
            "device": p.name,
            "sm_count": p.multi_processor_count,
            "compute_capability": f"{p.major}.{p.minor}",
            "memory_gib": round(p.total_memory / 2 ** 30, 1),
            "cuda_runtime": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
            # TF32 tensor cores are on by default for cuDNN convolutions (Ampere and newer): recorded,
            # because WebGPU has plain fp32 only
            "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
            "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        })
    else:
        info.update({"device": "CPU", "threads": torch.get_num_threads()})

    def sync():
        if cuda:
            torch.cuda.synchronize()

    torch.manual_seed(0)
    model = ScoreNet().to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    cases = [c for c in a.cases.split(",") if c]
    results, skipped = {}, {}
    for i, case in enumerate(cases):
        kind, batch = case.split(":")
        batch = int(batch)
        key = f"{kind}@{batch}"
        left = a.budget_s - (time.perf_counter() - t_start)
        if left <= 0:
            skipped[key] = "over the time budget"
            continue
        share = left / (len(cases) - i)
        try:
            if kind == "train":
                x = torch.rand(batch, 1, 28, 28, device=dev)

                def step():
                    t = torch.rand(batch, device=dev) * (1 - 1e-5) + 1e-5
                    z = torch.randn_like(x)
                    std = marginal_prob_std(t)[:, None, None, None]
                    score = model(x + z * std, t)
                    loss = torch.mean(torch.sum((score * std + z) ** 2, dim=(1, 2, 3)))
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    return loss.item()  # .item() waits for the GPU
            elif kind == "em":
                grid = torch.linspace(1.0, 1e-3, 500, device=dev)
                dt = grid[0] - grid[1]
                state = {"x": torch.randn(batch, 1, 28, 28, device=dev) * marginal_prob_std(torch.ones(batch, device=dev))[:, None, None, None], "i": 0}

                def step():
                    with torch.no_grad():
                        x = state["x"]
                        bt = torch.ones(batch, device=dev) * grid[state["i"] % 500]
                        g = diffusion_coeff(bt)[:, None, None, None]
                        mean = x + g ** 2 * model(x, bt) * dt
                        state["x"] = mean + torch.sqrt(dt) * g * torch.randn_like(x)
                        state["i"] += 1
                    sync()
            else:
                raise ValueError(f"unknown case kind {kind!r}")
            t0 = time.perf_counter()
            for _ in range(a.warmup):
                step()
            times = []
            while len(times) < a.steps:
                s0 = time.perf_counter()
                step()
                times.append(1000 * (time.perf_counter() - s0))
                if time.perf_counter() - t0 > share:
                    break
            results[key] = {**stats(times), "batch": batch, "kind": kind}
        except Exception as e:  # e.g. out of memory: the other cases still run
            skipped[key] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    print(json.dumps({**info, "cases": results, "skipped": skipped}))


if __name__ == "__main__":
    main()
