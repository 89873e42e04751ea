import type { OwnKernel } from './types'

/** Concat and SplitV (its gradient). */
export const COPY_KERNELS: Record<string, OwnKernel> = {}
