import type { OwnKernel } from './types'

/** ops/group-norm.ts's fused GroupNorm(+bias, +swish) kernel and its gradient. */
export const NORM_KERNELS: Record<string, OwnKernel> = {}
