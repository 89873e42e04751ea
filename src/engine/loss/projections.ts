// Sliced score matching's projection distributions (loss/ssm.ts draws them). Plain TS, no tfjs:
// train/config.ts validates the name with it, and the lab reads checkpoints through that config
// without loading TensorFlow.js (test/cli/lazy-load.test.ts).

/** Both have E[vvᵀ] = I. The contract's SSM_PROJECTIONS lists the same names (tied by a test). */
export const PROJECTIONS = ['rademacher', 'gaussian'] as const
export type Projection = (typeof PROJECTIONS)[number]

/** Rademacher by default: ±1 entries give vᵀJv the smallest variance of any such v (only J's off-diagonal adds any). */
export const SSM_DEFAULTS = { projections: 'rademacher' as Projection, projectionCount: 1, varianceReduced: true }
