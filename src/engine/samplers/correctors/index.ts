// Correctors by score_sde name: adding one is a file plus a line here.
import { lookup } from '../../registry'
import type { Corrector, CorrectorClass, CorrectorContext } from './base'
import { AnnealedLangevinCorrector } from './ald'
import { LangevinCorrector } from './langevin'
import { NoneCorrector } from './none'

export const CORRECTORS: Readonly<Record<string, CorrectorClass>> = {
  langevin: LangevinCorrector,
  ald: AnnealedLangevinCorrector,
  none: NoneCorrector
}

export function getCorrector(name: string, ctx: CorrectorContext): Corrector {
  const cls = lookup('corrector', CORRECTORS, name)
  return new cls(ctx)
}

export { Corrector, type CorrectorContext } from './base'
