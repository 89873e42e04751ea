// `scorenet_color`: the tutorial U-Net made for CIFAR-10 (32×32×3).
//
// A published reproduction's colour model (greg2451 memoir §3.1: BatchNorm, ReLU, a sigmoid
// output divided by std) stalled at a loss around 1000 and sampled noise (science.md §5, §6).
// What we change, and why (our analysis; the benchmark measures whether it trains):
//  - Unbounded output. The net must output s·std ≈ −z with z ~ N(0, I). A sigmoid bounds s·std to
//    (0, 1), so the tutorial loss Σ(s·std + z)² cannot fall below E[min_{c∈[0,1]} (c + z)²] ≈ 0.575
//    per pixel, ≈ 1767 for 3072 pixels (derived): a floor of the order the reproduction reports.
//    We keep the tutorial's linear tconv1 (with bias) and divide by std.
//  - GroupNorm, not BatchNorm. Each sample in a batch has its own t, so batch statistics mix
//    noise levels from std ≈ 0.003 to ≈ 10 and differ between training and sampling batches;
//    GroupNorm normalises per sample.
//  - Capacity: channels [64, 128, 256, 512] (4× the tutorial's width in each layer pair) for
//    3-channel natural images; GroupNorm 8 groups in the first block (8 channels a group, as the
//    tutorial's 4 × 8), 32 after.
//    Every GroupNorm keeps ≥ 2 channels a group: with one (the tutorial's tgnorm2 = GroupNorm(32, 32))
//    the per-channel time bias added just before it is normalised away, and dense7 gets no gradient.
//  - output_padding on tconv4 (derived from the shape in scorenet.ts): 32 → 30 → 14 → 6 → 2.
//  - Data scale vs σ_max is an SDE/data setting, not the net's: keep CIFAR in [0, 1] with the
//    VE SDE's σ_max near the largest pairwise distance of training images (NCSNv2; score_sde uses
//    σ_max = 50 for CIFAR-10) — the tutorial's σ = 25 gives std(1) = 9.85, too small a prior for
//    3072-dim images whose pairwise distances reach ~40–50.
import type { ModelOptions } from './types'
import { createScoreNet, type ScoreNet } from './scorenet'

export const SCORENET_COLOR_DEFAULTS = {
  channels: [64, 128, 256, 512],
  groups: [8, 32, 32, 32, 32, 32, 32]
}

export function createScoreNetColor(opts: ModelOptions): ScoreNet {
  return createScoreNet({ ...opts, options: { ...SCORENET_COLOR_DEFAULTS, ...(opts.options ?? {}) } }, 'scorenet_color')
}
