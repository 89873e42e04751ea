"""The lab's SDEs and loss weightings, written as the lab writes them (src/engine/sde/*.ts,
src/engine/loss/weighting.ts) so a run trains on the same objective here. Every SDE here has a
Gaussian kernel N(m(t) x0, std(t)^2 I); the loss needs m(t), std(t) and, for the likelihood
weighting, the diffusion g(t). Time runs over [0, T] with T = 1."""
import math

import torch


class VeTutorialSde:
    """Song's PyTorch tutorial: dx = sigma^t dw; std(t) = sqrt((sigma^(2t) - 1) / (2 ln sigma)).
    Like the lab, through expm1, which keeps full precision at t = 1e-5."""

    def __init__(self, sigma=25.0, N=500):
        self.sigma, self.N, self.T = float(sigma), int(N), 1.0
        self.log_sigma = math.log(self.sigma)

    def mean_coeff(self, t):
        return torch.ones_like(t)

    def std(self, t):
        return torch.sqrt(torch.expm1(t * (2 * self.log_sigma)) / (2 * self.log_sigma))

    def diffusion(self, t):
        return torch.exp(t * self.log_sigma)


class VeSde:
    """score_sde's VESDE (SMLD): std(t) = sigma_min (sigma_max / sigma_min)^t."""

    def __init__(self, sigmaMin=0.01, sigmaMax=50.0, N=1000):
        self.sigma_min, self.sigma_max, self.N, self.T = float(sigmaMin), float(sigmaMax), int(N), 1.0
        self.log_ratio = math.log(self.sigma_max / self.sigma_min)

    def mean_coeff(self, t):
        return torch.ones_like(t)

    def std(self, t):
        return torch.exp(t * self.log_ratio) * self.sigma_min

    def diffusion(self, t):
        return self.std(t) * math.sqrt(2 * self.log_ratio)


class VpSde:
    """score_sde's VPSDE: beta(t) linear; log m(t) = c(t) = -t^2 (b_max - b_min)/4 - t b_min/2."""

    def __init__(self, betaMin=0.1, betaMax=20.0, N=1000):
        self.beta_min, self.beta_max, self.N, self.T = float(betaMin), float(betaMax), int(N), 1.0

    def log_mean_coeff(self, t):
        return torch.square(t) * (-0.25 * (self.beta_max - self.beta_min)) - t * (0.5 * self.beta_min)

    def mean_coeff(self, t):
        return torch.exp(self.log_mean_coeff(t))

    def std(self, t):
        return torch.sqrt(-torch.expm1(self.log_mean_coeff(t) * 2))

    def diffusion(self, t):
        return torch.sqrt(t * (self.beta_max - self.beta_min) + self.beta_min)


class SubVpSde(VpSde):
    """score_sde's sub-VP SDE: the VP drift, std(t) = 1 - e^(2c) (not its square root)."""

    def std(self, t):
        return -torch.expm1(self.log_mean_coeff(t) * 2)

    def diffusion(self, t):
        beta = t * (self.beta_max - self.beta_min) + self.beta_min
        return torch.sqrt(beta * -torch.expm1(self.log_mean_coeff(t) * 4))


SDES = {'vesde_tutorial': VeTutorialSde, 'vesde': VeSde, 'vpsde': VpSde, 'subvpsde': SubVpSde}


def create_sde(config):
    """From the lab's stored form {'name': ..., params...} (Sde.toConfig())."""
    params = {k: v for k, v in config.items() if k != 'name'}
    if config['name'] not in SDES:
        raise ValueError(f'SDE "{config["name"]}" has no PyTorch twin here (known: {", ".join(SDES)})')
    return SDES[config['name']](**params)


def weighting_scale(name, sde, t, std, mean_coeff):
    """lambda(t) / std(t)^2, which multiplies the tutorial's ||std*s + z||^2 (None when it is 1)."""
    if name == 'std2':
        return None
    if name == 'likelihood':
        return torch.square(sde.diffusion(t)) / torch.square(std)
    if name == 'vp_exp':
        return -torch.expm1(torch.log(mean_coeff) * 2) / torch.square(std)
    if name == 'uniform':
        return torch.reciprocal(torch.square(std))
    raise ValueError(f'loss weighting "{name}" has no PyTorch twin here')
