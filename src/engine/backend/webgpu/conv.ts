import type { OwnKernel } from './types'

/** Conv2D, Conv2DBackpropInput (also conv2dTranspose's forward) and Conv2DBackpropFilter. */
export const CONV_KERNELS: Record<string, OwnKernel> = {}
