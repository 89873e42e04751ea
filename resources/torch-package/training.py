"""One training step of the run's recipe, mirroring the lab's Trainer (src/engine/train,
src/engine/loss/dsm.ts) so the same weights, batch and noise give the same loss and gradients:

  t ~ U(eps, T), z ~ N(0, I), x(t) = m(t) x0 + std(t) z
  per-sample loss = (lambda/std^2) * reduce((std * s(x(t), t) + z)^2)   (reduce: sum or mean over pixels)
  loss = mean over the batch (no 1/2: the tutorial's convention)

then a NaN/Inf guard before anything changes, warm-up (lr * min(step/warmup, 1), step = updates
already applied, so the first update uses lr 0), global-norm clipping (PyTorch's clip_grad_norm_
factor max/(norm + 1e-6)), Adam (torch.optim.Adam: the lab's Adam is PyTorch's update) and the
EMA of score_sde (decay min(d, (1 + n)/(10 + n))).
Under DDP each rank takes the mean over its share of the batch and DDP averages the gradients,
which is the gradient of the mean over the whole batch (every rank holds the same share).
"""
import math

import torch

from sde import weighting_scale


class NonFiniteLossError(RuntimeError):
    pass


def dsm_loss(model, sde, x, t, z, y, loss_cfg):
    """(loss, per-sample losses) on a batch x with times t and noise z (labels y or None)."""
    shape = (-1,) + (1,) * (x.dim() - 1)
    mean_coeff, std = sde.mean_coeff(t), sde.std(t)
    std_b = std.view(shape)
    xt = x * mean_coeff.view(shape) + z * std_b
    score = model(xt, t) if y is None else model(xt, t, y)
    r = torch.square(score * std_b + z).flatten(1)
    per = r.sum(1) if loss_cfg['reduction'] == 'sum' else r.mean(1)
    scale = weighting_scale(loss_cfg['weighting'], sde, t, std, mean_coeff)
    if scale is not None:
        per = per * scale
    return per.mean(), per


def draw_noise(x, sde, eps, generator):
    """t ~ U(eps, T) and z ~ N(0, I) from this rank's generator."""
    t = torch.rand(x.shape[0], generator=generator, device=x.device) * (sde.T - eps) + eps
    z = torch.randn(x.shape, generator=generator, device=x.device)
    return t, z


def drop_labels(y, classes, p, generator):
    """Classifier-free guidance: each label becomes the null label K with probability p."""
    if p <= 0:
        return y
    drop = torch.rand(y.shape[0], generator=generator, device=y.device) < p
    return torch.where(drop, torch.full_like(y, classes), y)


def warmup_lr(lr, warmup, step):
    return lr * min(step / warmup, 1) if warmup > 0 else lr


class Ema:
    """score_sde's ExponentialMovingAverage over the trainable parameters (by name)."""

    def __init__(self, named_params, decay):
        self.params = dict(named_params)
        self.decay = decay
        self.num_updates = 0
        self.shadow = {n: p.detach().clone() for n, p in self.params.items()}

    def load(self, shadow, num_updates):
        for n, s in self.shadow.items():
            s.copy_(shadow[n])
        self.num_updates = num_updates

    @torch.no_grad()
    def update(self):
        self.num_updates += 1
        d = min(self.decay, (1 + self.num_updates) / (10 + self.num_updates))
        for n, p in self.params.items():
            s = self.shadow[n]
            s.sub_((s - p) * (1 - d))


def make_optimizer(named_params, train_cfg):
    return torch.optim.Adam([p for _, p in named_params], lr=train_cfg['lr'],
                            betas=(train_cfg['beta1'], train_cfg['beta2']), eps=train_cfg['adamEps'])


def load_adam_state(optimizer, named_params, m, v, step):
    """The lab's Adam moments and step count into torch.optim.Adam's state."""
    for name, p in named_params:
        optimizer.state[p] = {'step': torch.tensor(float(step)), 'exp_avg': m[name].to(p.device).clone(),
                              'exp_avg_sq': v[name].to(p.device).clone()}


def grad_norm(params):
    return torch.sqrt(sum(torch.sum(torch.square(p.grad)) for p in params))


def apply_update(params, optimizer, ema, train_cfg, updates_done, loss_value):
    """Guard, warm-up, clipping, Adam and EMA on gradients already in p.grad. Returns (norm, lr)."""
    norm = float(grad_norm(params))
    if not (math.isfinite(loss_value) and math.isfinite(norm)):
        raise NonFiniteLossError(f'Training diverged at step {updates_done + 1}: loss {loss_value}, gradient norm {norm}. '
                                 'The update was not applied; resume from the last checkpoint with a lower learning rate, '
                                 'warm-up or gradient clipping.')
    max_norm = train_cfg['gradClip']
    if max_norm > 0:
        c = min(1.0, max_norm / (norm + 1e-6))
        if c < 1:
            for p in params:
                p.grad.mul_(c)
    lr = warmup_lr(train_cfg['lr'], train_cfg['warmup'], updates_done)
    for group in optimizer.param_groups:
        group['lr'] = lr
    optimizer.step()
    if ema is not None:
        ema.update()
    return norm, lr
