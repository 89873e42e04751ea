#!/usr/bin/env python3
"""Trains a Score Lab run with PyTorch, on one process or many (DDP under torchrun), and writes
the run folder the lab reads: `score-lab runs attach RUNDIR` shows it live, and
`score-lab train --resume RUNDIR --here` brings it home.

    python3 train.py --data DATA --steps N [--out RUNDIR]                        # one process
    torchrun --nproc_per_node=8 train.py --data DATA --steps N [--out RUNDIR]    # one machine, 8 GPUs

recipe.json (next to this file) is the run's exact recipe, written by `score-lab runs export-torch`,
which also made the run folder `run/` here (the default RUNDIR) holding the run's checkpoint.
Training starts from RUNDIR's newest checkpoint (weights, Adam moments, EMA and step), else from
the one the lab exported. --steps is the run's total: training stops when that many updates are done.
"""
import argparse
import json
import os
import socket
import sys
import time

import torch
import torch.distributed as dist

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from data import RankBatches, load_train_set, mix_seed  # noqa: E402
from lab_format import RunFolder, checkpoint_file_name, encode_checkpoint, latest_checkpoint, read_checkpoint  # noqa: E402
from model import create_model  # noqa: E402
from sde import create_sde  # noqa: E402
from training import Ema, NonFiniteLossError, apply_update, draw_noise, drop_labels, dsm_loss, load_adam_state, make_optimizer  # noqa: E402

FLUSH_SECONDS = 1.0
BUCKETS = 10


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True, help="folder with the data set's IDX files (the lab's datasets/<name>)")
    ap.add_argument('--steps', type=int, default=None, help="train until this many updates in all (default: the run's steps)")
    ap.add_argument('--out', default=None, help='the run folder to write, attached in the lab (default: run/ here)')
    ap.add_argument('--recipe', default=os.path.join(HERE, 'recipe.json'))
    ap.add_argument('--checkpoint-every', type=int, default=None, help="default: the run's checkpoint interval")
    return ap.parse_args()


def setup_distributed():
    """(rank, world, device, backend name): DDP under torchrun (nccl on CUDA, gloo on CPU)."""
    world = int(os.environ.get('WORLD_SIZE', '1'))
    local_rank = int(os.environ.get('LOCAL_RANK', '0'))
    cuda = torch.cuda.is_available()
    device = torch.device(f'cuda:{local_rank}') if cuda else torch.device('cpu')
    if cuda:
        torch.cuda.set_device(device)
    if world == 1:
        return 0, 1, device, 'single process'
    backend = 'nccl' if cuda else 'gloo'
    dist.init_process_group(backend=backend)
    return dist.get_rank(), world, device, backend


def all_mean(x, world):
    if world > 1:
        dist.all_reduce(x)
        x /= world
    return x


def bucket_sums(per, t, T, world):
    """Sums and counts of per-sample losses in 10 bins of t over [0, T], over every rank."""
    idx = torch.clamp((t / T * BUCKETS).floor().long(), 0, BUCKETS - 1)
    sums = torch.zeros(BUCKETS, device=per.device).index_add_(0, idx, per.detach())
    counts = torch.zeros(BUCKETS, device=per.device).index_add_(0, idx, torch.ones_like(per))
    both = torch.cat([sums, counts])
    if world > 1:
        dist.all_reduce(both)
    sums, counts = both[:BUCKETS].tolist(), both[BUCKETS:].tolist()
    return [s / c if c else None for s, c in zip(sums, counts)]


def main():
    args = parse_args()
    with open(args.recipe, encoding='utf-8') as f:
        recipe = json.load(f)
    package_dir = os.path.dirname(os.path.abspath(args.recipe))
    args.out = args.out or os.path.join(package_dir, recipe['runDir'])
    cfg = recipe['run']['config']
    train_cfg = recipe['train']
    if train_cfg.get('objective', 'dsm') != 'dsm':
        raise SystemExit(f'objective "{train_cfg["objective"]}": this package trains denoising score matching (dsm) only')
    batch = cfg['batchSize']
    world = int(os.environ.get('WORLD_SIZE', '1'))  # checked before any process group waits for the others
    if batch % world:
        raise SystemExit(f'The run trains on batches of {batch} images, which {world} processes cannot share evenly; '
                         f'use a process count that divides {batch} (each process takes {batch} / processes).')
    rank, world, device, backend = setup_distributed()
    per_rank = batch // world
    total_steps = args.steps if args.steps is not None else cfg['steps']
    every = args.checkpoint_every or cfg['checkpointEvery']

    sde = create_sde(recipe['sde'])
    model = create_model(recipe['model'], sde).to(device)
    layouts = recipe['layouts']
    folder = RunFolder(args.out, recipe) if rank == 0 else None
    if world > 1:
        dist.barrier()  # rank 0 made the folder
    ck_dir = os.path.join(args.out, recipe['layout']['checkpointsDir'])
    start_file = latest_checkpoint(ck_dir) or os.path.join(package_dir, recipe['startCheckpoint'])
    ck = read_checkpoint(start_file, layouts)
    model.load_state_dict({k: v.to(device) for k, v in ck['params'].items()}, strict=True)
    named = list(model.named_parameters())
    params = [p for _, p in named]
    ema = Ema(named, train_cfg['emaDecay']) if train_cfg['emaDecay'] is not None else None
    if ema is not None:
        ema.load({k: v.to(device) for k, v in ck['ema'].items()}, ck['ema_updates'])
    optimizer = make_optimizer(named, train_cfg)
    load_adam_state(optimizer, named, ck['m'], ck['v'], ck['adam_step'])
    step = ck['step']
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == 'cuda' else None) if world > 1 else model

    images, labels = load_train_set(args.data, recipe['data'])
    batches = RankBatches(images, labels, batch, rank, world, cfg['seed'], cfg['centered'], cfg['randomFlip'], device)
    classes = recipe['model']['config'].get('classes', 0)
    generator = torch.Generator(device=device)

    start_ms = time.time() * 1000
    prior_ms = recipe['startTrainMs']
    if folder is not None:
        listed = {c['file']: c for c in folder.read_manifest()}
        prior_ms = listed.get(os.path.basename(start_file), {}).get('trainMs', prior_ms)
        folder.truncate_metrics_after(step)
        where = f'torchrun on {socket.gethostname()}: {world} process{"es" if world > 1 else ""} ({backend}, {device.type})'
        folder.update_run(status='running', step=step, error=None, jobId=None, owner=None,
                          config=dict(cfg, steps=max(cfg['steps'], total_steps)),
                          backend=f'PyTorch {torch.__version__} ({backend}, {world} × {device.type})',
                          trainsElsewhere={'where': where, 'host': socket.gethostname(), 'worldSize': world,
                                           'perRankBatch': per_rank, 'effectiveBatch': per_rank * world, 'since': int(start_ms)})
        print(f'[score-lab] {where}; per-process batch {per_rank}, effective batch {per_rank * world}; '
              f'from {os.path.basename(start_file)} at step {step}', flush=True)
    extra_meta = {'trained_by': 'score-lab torch package', 'torch_version': torch.__version__, 'host': socket.gethostname(),
                  'world_size': world, 'per_rank_batch': per_rank, 'effective_batch': per_rank * world, 'distributed_backend': backend}

    smoothed, smoothed_n = 0.0, 0
    pending, last_flush = [], time.time()
    train_ms = lambda: prior_ms + (time.time() * 1000 - start_ms)  # noqa: E731
    last_loss = None

    def checkpoint():
        nonlocal pending
        folder.append_metrics(pending)
        pending = []
        loss = smoothed / (1 - 0.98 ** smoothed_n) if smoothed_n else None
        data = encode_checkpoint(model, ema, optimizer, step, layouts, ck['meta'], extra_meta)
        info = {'file': checkpoint_file_name(step), 'step': step, 'loss': loss, 'time': int(time.time() * 1000),
                'bytes': 0, 'best': False, 'hasEma': ema is not None, 'trainMs': train_ms()}
        kept = folder.save_checkpoint(data, info)
        best = [c['loss'] for c in kept if c.get('loss') is not None]
        folder.update_run(step=step, lastLoss=last_loss, bestLoss=min(best) if best else None, trainMs=train_ms())

    finished_together = False
    try:
        last_ck = step
        while step < total_steps:
            t0 = time.time()
            x, y = batches.get(step)
            generator.manual_seed(mix_seed(cfg['seed'], 0x7157, step, rank))
            y = drop_labels(y, classes, train_cfg.get('labelDropout') or 0, generator) if classes > 0 else None
            t, z = draw_noise(x, sde, train_cfg['lossEps'], generator)
            loss, per = dsm_loss(net, sde, x, t, z, y, train_cfg)
            optimizer.zero_grad(set_to_none=False)
            loss.backward()
            loss_value = float(all_mean(loss.detach().clone(), world))
            buckets = bucket_sums(per, t, sde.T, world)
            norm, lr = apply_update(params, optimizer, ema, train_cfg, step, loss_value)
            step += 1
            last_loss = loss_value
            smoothed, smoothed_n = smoothed * 0.98 + 0.02 * loss_value, smoothed_n + 1
            if folder is not None:
                seconds = max(time.time() - t0, 1e-9)
                pending.append({'step': step, 'wallTime': int(time.time() * 1000), 'loss': loss_value, 'gradNorm': norm, 'lr': lr,
                                'imagesPerSec': batch / seconds, 'buckets': buckets})
                if time.time() - last_flush >= FLUSH_SECONDS:
                    folder.append_metrics(pending)
                    pending, last_flush = [], time.time()
                if step % every == 0:
                    checkpoint()
                    last_ck = step
        if folder is not None:
            if last_ck != step or latest_checkpoint(ck_dir) is None:
                checkpoint()
            folder.append_metrics(pending)
            folder.update_run(status='finished', step=step, trainMs=train_ms())
            print(f'[score-lab] finished at step {step}, loss {last_loss}', flush=True)
        if world > 1:
            # Every rank leaves together: rank 0 is still writing the last checkpoint when the
            # others finish, and a gloo teardown on a rank whose peers already exited can wait forever.
            dist.barrier()
        finished_together = True
    except (Exception, KeyboardInterrupt) as err:
        if folder is not None:
            folder.append_metrics(pending)
            message = str(err) if isinstance(err, NonFiniteLossError) else f'{type(err).__name__}: {err}'
            folder.update_run(status='failed' if not isinstance(err, KeyboardInterrupt) else 'stopped', error=message, step=step)
        raise
    finally:
        # After a failure a peer may be gone: torchrun ends the others, so no teardown is waited on.
        if world > 1 and finished_together:
            dist.destroy_process_group()


if __name__ == '__main__':
    main()
