// One source for sampler settings: every sampler of the engine's registry and every setting of
// its schema reach engine.catalog's settings list, the CLI's option table (and its parsing into
// the request) and `score-lab samplers --json`. A sampler or setting added to the registry that
// one of them misses fails here; test/renderer/sampler-fields.test.ts checks the sampler form
// against the same catalogue.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { SAMPLERS } from '../../src/engine/samplers'
import { catalog, sdeSamplerDefaults } from '../../src/lab/catalog'
import { SAMPLER_SETTING_LIMITS } from '../../src/shared/contract'
import { TRAIN_OPTIONS } from '../../src/cli/options'
import { SAMPLE_OPTIONS } from '../../src/cli/commands/sample'
import { samplingOptions, settingFlag, settingsFromFlags, type CatalogSampler } from '../../src/cli/commands/samplers'
import { tempDir } from '../helpers/service'

const all = catalog().samplers
const byName = new Map(all.map((x) => [x.name, x]))
/** The registry's samplers with each one's schema keys. */
const registry = Object.entries(SAMPLERS).map(([name, e]) => ({ name, keys: Object.keys(e.settings.shape), defaults: e.settings.parse({}) as Record<string, unknown> }))
/** The flags every command line has (src/cli/index.ts puts these in its table with the global ones). */
const base = { ...TRAIN_OPTIONS, ...SAMPLE_OPTIONS }
/** The flags of the request's own fields: the settings they carry are no sampler's own flag. */
const REQUEST_FLAGS = new Set(['n', 'seed', 'eps', 'steps', 'gif'])

type Setting = CatalogSampler['settings'][number]

/** A value inside the setting's range, as typed on the command line, and what it parses to. */
function sampleValue(s: Setting): { raw: string | boolean; value: number | string | boolean } {
  if (s.type === 'boolean') return { raw: true, value: !settingFlag(s).startsWith('no-') }
  if (s.type === 'choice') return { raw: s.choices!.at(-1)!, value: s.choices!.at(-1)! }
  const r = s.range ?? {}
  const v = typeof s.default === 'number' && s.default !== r.min ? s.default : Math.min((r.min ?? 0) + 1, r.max ?? Infinity)
  return { raw: String(v), value: v }
}

describe('sampler settings have one source, the engine registry', () => {
  it('engine.catalog lists every setting of every sampler, with its type, default, description and range', () => {
    expect(all.map((x) => x.name)).toEqual(registry.map((x) => x.name))
    for (const { name, keys, defaults } of registry) {
      const served = byName.get(name)!
      expect(served.settings.map((s) => s.key).sort(), name).toEqual([...keys].sort())
      for (const s of served.settings) {
        const where = `${name}.${s.key}`
        expect(s.description, where).not.toBe('')
        expect(s.label, where).not.toBe('')
        expect(s.default, where).toEqual(defaults[s.key])
        if (s.type === 'choice') expect(s.choices, where).toContain(s.default)
        else expect(s.choices, where).toBeUndefined()
        if (s.type === 'number' || s.type === 'integer') {
          // The bounds requests are checked against (the contract's) are never wider than served.
          const limit = Object.hasOwn(SAMPLER_SETTING_LIMITS, s.key) ? SAMPLER_SETTING_LIMITS[s.key]! : undefined
          if (limit) expect(s.range!.min! >= limit.min && s.range!.max! <= limit.max, where).toBe(true)
          // Every default lies in its range.
          if (typeof s.default === 'number') {
            const r = s.range ?? {}
            expect(r.min === undefined || (r.gt ? s.default > r.min : s.default >= r.min), where).toBe(true)
            expect(r.max === undefined || (r.lt ? s.default < r.max : s.default <= r.max), where).toBe(true)
          }
        } else expect(s.range, where).toBeUndefined()
      }
    }
    // Each sampler's choices are its choice settings'.
    for (const x of all) expect(x.choices ?? {}).toEqual(Object.fromEntries(x.settings.filter((s) => s.choices).map((s) => [s.key, s.choices])))
    expect(byName.get('heun')!.settings.find((s) => s.key === 'sChurn')).toMatchObject({ type: 'number', default: 0, range: { min: 0 } })
    expect(byName.get('pc')!.settings.find((s) => s.key === 'nSteps')).toMatchObject({ type: 'integer', label: 'Corrector steps', range: { min: 1, max: 100 } })
    expect(byName.get('ddim')!.settings.find((s) => s.key === 'n')?.range).toEqual({ min: 2, max: 100_000 })
  })

  it('the CLI takes every setting as a flag, parsed into its key by type; each flag goes only to the samplers that take it', async () => {
    const table = { ...base, ...(await samplingOptions(['sample'], base)) }
    for (const x of all) {
      for (const s of x.settings) {
        const flag = settingFlag(s)
        expect(Object.hasOwn(table, flag), `${x.name}.${s.key}: --${flag}`).toBe(true)
        expect(table[flag as keyof typeof table]!.type).toBe(s.type === 'boolean' ? 'boolean' : 'string')
        if (REQUEST_FLAGS.has(flag)) continue
        const { raw, value } = sampleValue(s)
        const [settings] = settingsFromFlags([x], { [flag]: raw }, all)
        expect(settings, `${x.name} --${flag} ${String(raw)}`).toEqual({ [s.key]: value })
        // What the CLI sends is what the engine takes.
        expect(SAMPLERS[x.name]!.settings.strict().safeParse(settings).success, `${x.name}.${s.key}`).toBe(true)
      }
    }
    expect(await samplingOptions(['runs', 'list'], base)).toEqual({})
    // The registry's n is --steps; --n stays the sample count (the batch size).
    expect(settingFlag(byName.get('heun')!.settings.find((s) => s.key === 'n')!)).toBe('steps')
    expect(settingFlag(byName.get('heun')!.settings.find((s) => s.key === 'batchSize')!)).toBe('n')
    expect(settingFlag(byName.get('heun')!.settings.find((s) => s.key === 'sChurn')!)).toBe('s-churn')
    expect(settingFlag(byName.get('pc')!.settings.find((s) => s.key === 'denoise')!)).toBe('no-denoise')
    const heun = byName.get('heun')!
    const [em, ode] = [byName.get('euler_maruyama')!, byName.get('ode')!]
    expect(settingsFromFlags([heun], { 's-churn': '0.5', rho: '5', 'no-denoise': true }, all)).toEqual([{ sChurn: 0.5, rho: 5, denoise: false }])
    expect(settingsFromFlags([em, ode], { rtol: '1e-3', 'no-denoise': true }, all)).toEqual([{ denoise: false }, { rtol: 1e-3, denoise: false }])
    expect(() => settingsFromFlags([heun], { eta: '1' }, all)).toThrow(/--eta is a setting of ddim, dpmpp_3m_sde, not of heun: heun takes .*--s-churn/)
    expect(() => settingsFromFlags([heun], { 's-churn': '-1' }, all)).toThrow(/--s-churn must be in \[0, ∞\), got -1/)
    expect(() => settingsFromFlags([byName.get('ddim')!], { schedule: 'kar' }, all)).toThrow(/--schedule takes karras, logSNR, time_uniform, got "kar"/)
    await expect(samplingOptions(['sample', '--sampler', 'heun', '--sburn', '1'], base)).rejects.toThrow(/unknown option --sburn: heun takes .*--s-churn/)
  })

  it('score-lab samplers --json lists every sampler and setting with its flag', () => {
    const r = spawnSync(process.execPath, [path.resolve(__dirname, '../../bin/score-lab.mjs'), 'samplers', '--json', '--data-dir', tempDir('score-lab-samplers-')], { encoding: 'utf8', timeout: 120_000 })
    expect(r.status, r.stderr).toBe(0)
    const listed = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { name: string; description: string; settings: (Setting & { flag: string })[] }[]
    expect(listed.map((x) => x.name)).toEqual(registry.map((x) => x.name))
    for (const { name, keys } of registry) {
      const x = listed.find((l) => l.name === name)!
      expect(x.description).toMatch(/NFE/)
      expect(x.settings.map((s) => s.key).sort(), name).toEqual([...keys].sort())
      for (const s of x.settings) expect(s.flag, `${name}.${s.key}`).toBe(`--${settingFlag(s)}`)
    }
    expect(r.stderr).toContain('--s-churn X')
  })

  it("adaptive_sde's atol follows the run's data range: 0.0078 in [−1, 1], 0.0039 in [0, 1]", () => {
    expect(byName.get('adaptive_sde')!.defaults.atol).toBe(0.0078)
    expect(sdeSamplerDefaults('adaptive_sde', 'vpsde', false)).toEqual({ atol: 0.0039 })
    expect(sdeSamplerDefaults('adaptive_sde', 'vpsde', true)).toEqual({})
    expect(sdeSamplerDefaults('adaptive_sde', 'vpsde')).toEqual({})
    expect(sdeSamplerDefaults('pc', 'vpsde', false)).toEqual({ snr: 0.01 })
  })
})
