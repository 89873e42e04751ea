"""The score network of a Score Lab run, in PyTorch: Song's tutorial ScoreNet, with the tutorial's
state_dict names (conv1.weight, dense1.dense.weight, embed.0.W, ...), so these weights load into
the tutorial's own code and the lab reads them back (src/engine/nets/scorenet.ts is the lab's copy).

Per block: conv (no bias, padding 0) + Dense(embed) per channel -> GroupNorm -> swish. The decoder
concatenates skips; only tconv1 has a bias. The output is divided by the SDE's std(t), so the net
predicts -z and returns a score. A class-conditional run (classifier-free guidance) adds
label_embed.weight[y] to the time embedding: K + 1 rows, row K being the null label.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class GaussianFourierProjection(nn.Module):
    """Frozen random frequencies W (a buffer: saved with the weights, never trained)."""

    def __init__(self, embed_dim, scale):
        super().__init__()
        self.register_buffer('W', torch.randn(embed_dim // 2) * scale)

    def forward(self, t):
        # t*W first, then 2*pi, as the tutorial and the lab multiply (the same float32 rounding).
        x_proj = t[:, None] * self.W[None, :] * (2 * math.pi)
        return torch.cat([torch.sin(x_proj), torch.cos(x_proj)], dim=-1)


class Dense(nn.Module):
    """A Linear whose output is a per-channel bias of a feature map."""

    def __init__(self, input_dim, output_dim):
        super().__init__()
        self.dense = nn.Linear(input_dim, output_dim)

    def forward(self, x):
        return self.dense(x)[..., None, None]


def swish(x):
    return x * torch.sigmoid(x)


class ScoreNet(nn.Module):
    """`config` is the lab's model config (ScoreNetConfig): shape [H, W, C], channels, embedDim,
    fourierScale, groups (gnorm1..4, tgnorm4, tgnorm3, tgnorm2), classes, and outputPadding
    (derived by the lab from the image size)."""

    def __init__(self, config, sde):
        super().__init__()
        c0, c1, c2, c3 = config['channels']
        cin = config['shape'][2]
        E = config['embedDim']
        g = config['groups']
        op = config['outputPadding']
        self.sde = sde
        self.classes = int(config.get('classes', 0))
        self.embed = nn.Sequential(GaussianFourierProjection(E, config['fourierScale']), nn.Linear(E, E))
        self.conv1 = nn.Conv2d(cin, c0, 3, stride=1, bias=False)
        self.dense1 = Dense(E, c0)
        self.gnorm1 = nn.GroupNorm(g[0], c0)
        self.conv2 = nn.Conv2d(c0, c1, 3, stride=2, bias=False)
        self.dense2 = Dense(E, c1)
        self.gnorm2 = nn.GroupNorm(g[1], c1)
        self.conv3 = nn.Conv2d(c1, c2, 3, stride=2, bias=False)
        self.dense3 = Dense(E, c2)
        self.gnorm3 = nn.GroupNorm(g[2], c2)
        self.conv4 = nn.Conv2d(c2, c3, 3, stride=2, bias=False)
        self.dense4 = Dense(E, c3)
        self.gnorm4 = nn.GroupNorm(g[3], c3)
        self.tconv4 = nn.ConvTranspose2d(c3, c2, 3, stride=2, bias=False, output_padding=tuple(op['tconv4']))
        self.dense5 = Dense(E, c2)
        self.tgnorm4 = nn.GroupNorm(g[4], c2)
        self.tconv3 = nn.ConvTranspose2d(2 * c2, c1, 3, stride=2, bias=False, output_padding=tuple(op['tconv3']))
        self.dense6 = Dense(E, c1)
        self.tgnorm3 = nn.GroupNorm(g[5], c1)
        self.tconv2 = nn.ConvTranspose2d(2 * c1, c0, 3, stride=2, bias=False, output_padding=tuple(op['tconv2']))
        self.dense7 = Dense(E, c0)
        self.tgnorm2 = nn.GroupNorm(g[6], c0)
        self.tconv1 = nn.ConvTranspose2d(2 * c0, cin, 3, stride=1)
        if self.classes > 0:
            self.label_embed = nn.Embedding(self.classes + 1, E)

    def forward(self, x, t, y=None):
        """x: [B, C, H, W]; t: [B]; y: class ids [B] in [0, K] (K = null label; None = all null)."""
        embed = swish(self.embed(t))
        if self.classes > 0:
            if y is None:
                y = torch.full((x.shape[0],), self.classes, dtype=torch.long, device=x.device)
            embed = embed + self.label_embed(y)
        elif y is not None:
            raise ValueError('this ScoreNet is unconditional and takes no labels')
        h1 = swish(self.gnorm1(self.conv1(x) + self.dense1(embed)))
        h2 = swish(self.gnorm2(self.conv2(h1) + self.dense2(embed)))
        h3 = swish(self.gnorm3(self.conv3(h2) + self.dense3(embed)))
        h4 = swish(self.gnorm4(self.conv4(h3) + self.dense4(embed)))
        h = swish(self.tgnorm4(self.tconv4(h4) + self.dense5(embed)))
        h = swish(self.tgnorm3(self.tconv3(torch.cat([h, h3], dim=1)) + self.dense6(embed)))
        h = swish(self.tgnorm2(self.tconv2(torch.cat([h, h2], dim=1)) + self.dense7(embed)))
        h = self.tconv1(torch.cat([h, h1], dim=1))
        return h / self.sde.std(t)[:, None, None, None]


# The lab's networks that have a PyTorch twin here (the exporter refuses the others).
MODELS = {'scorenet': ScoreNet}


def create_model(model_config, sde):
    """From recipe['model']: {'name', 'config'} (the lab's resolved network config)."""
    name = model_config['name']
    if name not in MODELS:
        raise ValueError(f'model "{name}" has no PyTorch twin in this package (it has: {", ".join(MODELS)})')
    return MODELS[name](model_config['config'], sde)
