// Controllable generation (score_sde's controllable_generation.py): inpainting, colorisation and
// class-conditional sampling. They are not in the SAMPLERS registry: each needs inputs that are
// not user settings (a reference image and mask, a grey image, a classifier function), which
// SAMPLERS' `run(scoreFn, sde, opts)` has no place for. Each has a zod schema of its settings
// (the PC ones, plus the class label for conditional sampling); the extra inputs come at run time.
import { z } from 'zod'
import type { ScoreFn, Sde } from '../../sde/types'
import { PcSettingsSchema } from '..'
import type { SampleResult, SamplerOptions } from '../types'
import { sampleColorize, type ColorizeInputs } from './colorize'
import { sampleConditional, type ClassLabels, type ConditionalInputs } from './conditional'
import { sampleInpaint, type InpaintInputs } from './inpaint'

export const InpaintSettingsSchema = PcSettingsSchema.describe('Inpainting: known entries (mask 1) held to the reference')
export const ColorizeSettingsSchema = PcSettingsSchema.describe('Colorisation: grey level known, colour generated')
export const ConditionalSettingsSchema = PcSettingsSchema.extend({
  label: z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]).default(0).describe('Class to sample: one for the batch or one per sample'),
  classifierScale: z.number().nonnegative().default(1).describe('Multiplies ∇ log p_t(y | x) (1: exact Bayes)')
}).describe('Class-conditional: score + ∇ log p_t(y | x) of a noise-conditional classifier')

type Runtime = Pick<SamplerOptions, 'shape' | 'x' | 'onStep' | 'signal'>

function parse(name: string, schema: z.ZodObject, settings: Record<string, unknown>): Record<string, unknown> & { batchSize: number } {
  const parsed = schema.strict().safeParse(settings)
  if (!parsed.success) throw new Error(`${name}: ${z.prettifyError(parsed.error)}`)
  return parsed.data as Record<string, unknown> & { batchSize: number }
}

/** Validates user settings (unknown keys are errors), fills defaults and inpaints. */
export async function runInpaint(scoreFn: ScoreFn, sde: Sde, settings: Record<string, unknown>, runtime: Runtime & InpaintInputs): Promise<SampleResult> {
  return sampleInpaint(scoreFn, sde, { ...parse('inpaint', InpaintSettingsSchema, settings), ...runtime })
}

/** Validates user settings, fills defaults and colorises. */
export async function runColorize(scoreFn: ScoreFn, sde: Sde, settings: Record<string, unknown>, runtime: Runtime & ColorizeInputs): Promise<SampleResult> {
  return sampleColorize(scoreFn, sde, { ...parse('colorize', ColorizeSettingsSchema, settings), ...runtime })
}

/** Validates user settings (label, classifierScale and the PC ones), fills defaults and samples class `label`. */
export async function runConditional(
  scoreFn: ScoreFn, sde: Sde, settings: Record<string, unknown>, runtime: Runtime & Pick<ConditionalInputs, 'classifier'>
): Promise<SampleResult> {
  const s = parse('conditional', ConditionalSettingsSchema, settings) as ReturnType<typeof parse> & { label: ClassLabels; classifierScale: number }
  return sampleConditional(scoreFn, sde, { ...s, ...runtime })
}

export { sampleWithReplacement, toBatchTensor, type Replacement } from './replacement'
export { sampleInpaint, type InpaintInputs, type InpaintOptions } from './inpaint'
export { sampleColorize, decouple, couple, toGrey, COLOR_MATRIX, type ColorizeInputs, type ColorizeOptions } from './colorize'
export { sampleConditional, conditionalScore, type ClassifierFn, type ClassLabels, type ConditionalInputs, type ConditionalOptions } from './conditional'
export { gmmClassifier } from './gmm-classifier'
export { cfgScore, cfgCombine } from './cfg'
