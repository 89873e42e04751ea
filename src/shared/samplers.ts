// Sampler names every shell shares, without the engine (tf-free: the renderer reads it too).
// The samplers themselves, their settings and the choices of those settings (pc's predictor
// and corrector, ode's method) are the engine's registries, served by engine.catalog.

/**
 * Short names of samplers and predictors → the engine's registry keys: the CLI accepts them
 * (`--sampler em`, `--samplers em,pc,ode`), file names and captions use them.
 */
export const SAMPLER_ALIASES: Readonly<Record<string, string>> = {
  em: 'euler_maruyama',
  rd: 'reverse_diffusion',
  ancestral: 'ancestral_sampling'
}

/** Registry key → its short name (the inverse of SAMPLER_ALIASES). */
export const SAMPLER_SHORT_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(SAMPLER_ALIASES).map(([short, key]) => [key, short])
)

/** The registry key of a sampler or predictor name, short or full (unknown names unchanged, for the registry to refuse). */
export function samplerKey(name: string): string {
  return Object.hasOwn(SAMPLER_ALIASES, name) ? SAMPLER_ALIASES[name]! : name
}

/** The short name of a registry key, for file names and captions (the key itself when it has none). */
export function samplerShortName(key: string): string {
  return Object.hasOwn(SAMPLER_SHORT_NAMES, key) ? SAMPLER_SHORT_NAMES[key]! : key
}

/** What a new comparison starts from: the three families of the paper (an SDE solver, predictor–corrector, the ODE). */
export const DEFAULT_COMPARE_SAMPLERS: readonly string[] = ['euler_maruyama', 'pc', 'ode']

/**
 * The samplers inpainting and colorisation run as (score_sde's controllable loop is predictor–
 * corrector), each with the PC settings it stands for: pc as set, and Euler–Maruyama as that loop
 * with the EM predictor and no corrector.
 */
export const PC_LOOP_SAMPLERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  pc: {},
  euler_maruyama: { predictor: 'euler_maruyama', corrector: 'none' }
}
