// Hostile input at the CLI and the contract: negative numbers on the command line, absurd
// numeric settings, control characters in run names, and a reader that closes the pipe.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { LIMITS, SampleRequestSchema, TrainConfigSchema, procedures, rangeText } from '../../src/shared/contract'
import { PRESETS } from '../../src/lab/catalog'
import { listSamplers } from '../../src/engine/samplers'
import { tempDir } from '../helpers/service'

const CLI = path.resolve(__dirname, '../../bin/score-lab.mjs')
const dataDir = tempDir('score-lab-hostile-cli-')

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args, '--data-dir', dataDir], { encoding: 'utf8', timeout: 120_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lastError: r.stderr.trim().split('\n').at(-1) ?? '' }
}

/** C0/C1 controls, DEL, U+2028/2029 and the bidi controls. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/
/** The same, less the line feed that ends each line of output. */
const CONTROL_IN_OUTPUT = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/
const STACK_FRAME = /^\s+at /m

function problems(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }): string {
  return result.success ? '' : result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')
}

const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config
const sample = (extra: Record<string, unknown>) => ({ runId: 'r', seed: 0, count: 4, useEma: true, sampler: 'pc', ...extra })

// One tiny run, trained through the CLI under a hostile name, for the tests that need a run.
let runId = ''
let runFile = ''
beforeAll(() => {
  const r = cli('train', '--dataset', 'toy-gmm', '--steps', '3', '--name', '\x1b[31mred\nline', '--json')
  expect(r.code, r.stderr).toBe(0)
  runId = JSON.parse(r.stdout.trim().split('\n').at(-1)!).runId
  runFile = path.join(dataDir, 'runs', runId, 'run.json')
})

describe('negative numbers on the command line', () => {
  it('train --lr -1 is refused by the schema, naming lr and its range (not "ambiguous")', () => {
    const r = cli('train', '--dataset', 'toy-gmm', '--lr', '-1')
    expect(r.code).not.toBe(0)
    expect(r.stderr).not.toMatch(/ambiguous/)
    expect(r.lastError).toMatch(/^score-lab: /)
    expect(r.lastError).toMatch(/\blr\b/)
    expect(r.lastError).toContain(rangeText(LIMITS.lr))
    expect(r.lastError).toContain('got -1')
  })

  it('negative integers and forms like -.5e-3 reach the schema too', () => {
    const r = cli('train', '--dataset', 'toy-gmm', '--seed', '-3', '--ema', '-.5e-3')
    expect(r.code).not.toBe(0)
    expect(r.lastError).toMatch(/seed: seed must be a whole number from 0 to 2,147,483,647 \(got -3\)/)
    expect(r.lastError).toMatch(/ema: EMA decay .* \(got -0\.0005\)/)
  })

  it('other parse errors print the whole node:util message and point to --help', () => {
    const r = cli('train', '--dataset', 'toy-gmm', '--bogus')
    expect(r.code).not.toBe(0)
    expect(r.lastError).toMatch(/^score-lab: Unknown option '--bogus'\. To specify a positional argument/)
    expect(r.lastError).toMatch(/Run score-lab --help for the options\.$/)
    const missing = cli('train', '--dataset', 'toy-gmm', '--lr')
    expect(missing.code).not.toBe(0)
    expect(missing.lastError).toMatch(/--lr.*Run score-lab --help for the options\.$/)
  })
})

describe('absurd numeric settings are refused at the contract', () => {
  it('sampler settings (snr, rtol, atol, nSteps…) with the allowed range in the message; every sampler default stays valid', () => {
    const start = procedures['samples.start'].input
    const bad = start.safeParse(sample({ settings: { snr: 1e30, rtol: 1e9, atol: 0, nSteps: 1e9, stepLr: -1 } }))
    expect(bad.success).toBe(false)
    const text = problems(bad)
    expect(text).toContain(`settings.snr: Langevin signal-to-noise ratio must be ${rangeText(LIMITS.snr)} (got 1e+30)`)
    expect(text).toContain(`settings.rtol: ODE solver tolerance must be ${rangeText(LIMITS.odeTolerance)}`)
    expect(text).toMatch(/settings\.atol: .*\(got 0\)/)
    expect(text).toMatch(/settings\.nSteps: /)
    expect(text).toMatch(/settings\.stepLr: /)
    expect(problems(start.safeParse(sample({ eps: 0.9 })))).toMatch(/^eps: end time ε must be from 1e-8 to 0\.5/)
    expect(problems(start.safeParse(sample({ steps: 1e12 })))).toMatch(/^steps: /)
    const compare = procedures['samples.compare'].input.safeParse({ runId: 'r', seed: 0, count: 4, useEma: true, entries: [{ sampler: 'ode', settings: { rtol: 1e9 } }] })
    expect(problems(compare)).toMatch(/^entries\.0\.settings\.rtol: ODE solver tolerance/)
    const like = procedures['likelihood.start'].input.safeParse({ runId: 'r', count: 10, split: 'test', rtol: 1e9, seed: 2 ** 40 })
    expect(problems(like)).toMatch(/rtol: ODE solver tolerance must be from 1e-8 to 0\.1/)
    expect(problems(like)).toMatch(/seed: seed must be/)
    for (const s of listSamplers()) {
      const settings = Object.fromEntries(Object.entries(s.defaults).filter(([, v]) => v !== undefined)) as Record<string, number | string | boolean>
      expect(problems(start.safeParse(sample({ sampler: s.name, settings }))), s.name).toBe('')
    }
  })

  it('sample --snr 1e30 on a real run is refused before sampling, with the range', () => {
    const out = path.join(dataDir, 'out', 'snr.png')
    const r = cli('sample', '--checkpoint', runId, '--sampler', 'pc', '--steps', '5', '--snr', '1e30', '--out', out)
    expect(r.code).not.toBe(0)
    expect(r.lastError).toBe(`score-lab: Invalid input for samples.start: settings.snr: Langevin signal-to-noise ratio must be ${rangeText(LIMITS.snr)} (got 1e+30)`)
    expect(fs.existsSync(out)).toBe(false)
  })

  it('training settings (gradClip, warmup, intervals, SDE parameters); every preset stays valid', () => {
    const bad = TrainConfigSchema.safeParse({
      ...toy,
      gradClip: 1e30,
      warmup: 1e12,
      previewEvery: 1e12,
      checkpointEvery: 1e12,
      sde: { name: 'vesde', params: { sigmaMax: 1e30, N: 0.5 } }
    })
    const text = problems(bad)
    for (const key of ['gradClip', 'warmup', 'previewEvery', 'checkpointEvery', 'sde.params.sigmaMax', 'sde.params.N']) expect(text).toMatch(new RegExp(`^${key}: .* must be `, 'm'))
    expect(text).toContain(`gradClip: gradient-norm clip (0 turns it off) must be ${rangeText(LIMITS.gradClip)}`)
    expect(problems(TrainConfigSchema.safeParse({ ...toy, sde: { name: 'vpsde', params: { betaMin: 30, betaMax: 20 } } }))).toMatch(/betaMin \(30\) must be at most betaMax \(20\)/)
    expect(problems(TrainConfigSchema.safeParse({ ...toy, sde: { name: 'vesde', params: { sigmaMax: -2 } } }))).toMatch(/sigmaMax: σ must be from/)
    for (const p of PRESETS) expect(problems(TrainConfigSchema.safeParse(p.config)), p.name).toBe('')
  })
})

describe('junk budgets for sweep and metric, junk guidance for sample', () => {
  const out = () => tempDir('score-lab-hostile-out-')
  it.each([
    [['sweep', '--samplers', 'em', '--nfe', '10,abc'], /--nfe/],
    [['sweep', '--samplers', 'em', '--nfe', ','], /--nfe needs a comma-separated list/],
    [['sweep', '--samplers', 'em', '--nfe', '10,NaN'], /--nfe/],
    [['sweep', '--samplers', 'em', '--nfe', '10,-5'], /nfe/],
    [['sweep', '--samplers', 'em', '--nfe', '1e9'], /nfe/],
    [['sweep', '--samplers', 'ode', '--tolerances', '0'], /tolerances|rtol|atol/],
    [['sweep', '--samplers', 'em', '--nfe', Array.from({ length: 13 }, (_, i) => 10 + i).join(',')], /budgets|nfe/],
    [['sweep', '--samplers', 'em,no_such_sampler', '--nfe', '10'], /no_such_sampler/],
    [['metric', '--nfe', '10,20'], /one budget/],
    [['metric', '--n', '-3'], /\bn\b/],
    [['sample', '--guidance', '2', '--out-file'], /--guidance goes with --class/],
    [['sample', '--class', 'sneaker', '--out-file'], /--class takes a class number for toy-gmm/],
    [['sample', '--class', '1', '--guidance', '-1', '--out-file'], /guidance/],
    [['sample', '--mask', '/etc/hostname', '--out-file'], /--mask \/etc\/hostname: not a readable PNG/],
    [['sample', '--mask', '/nonexistent/mask.png', '--out-file'], /--mask \/nonexistent\/mask.png: not a readable PNG \(ENOENT/],
    [['sample', '--mask', '/etc/hostname', '--inpaint', 'left', '--out-file'], /give one of --inpaint, --mask/],
    [['sample', '--per-class', '4', '--out-file'], /--per-class goes with --class/],
    [['sample', '--class', '1', '--per-class', '4', '--out-file'], /--per-class goes with --class all/],
    [['sample', '--class', 'all', '--per-class', '0', '--out-file'], /per-class|samples per class/],
    [['sample', '--class', '1', '--classifier', 'no-such-run', '--out-file'], /no-such-run/],
    [['sample', '--start', '3', '--out-file'], /--start and --image go with --inpaint, --mask or --colorize/],
    [['sample', '--inpaint', 'left', '--start', '3', '--image', '/etc/hostname', '--out-file'], /--start I .* or --image FILE.png, not both/],
    [['sample', '--inpaint', 'left', '--image', '/etc/hostname', '--out-file'], /--image \/etc\/hostname: not a readable PNG/],
    [['sample', '--inpaint', 'left', '--start', '-2', '--out-file'], /start/]
  ])('%j is refused with one clear line naming the flag, and nothing is sampled', (args, message) => {
    const dir = out()
    const argv = (args as string[]).filter((a) => a !== '--out-file')
    const r = cli(...argv, '--checkpoint', runId, '--out', (args as string[]).includes('--out-file') ? path.join(dir, 'x.png') : dir)
    expect(r.code).not.toBe(0)
    expect(r.code).not.toBe(null)
    expect(r.lastError).toMatch(/^score-lab: /)
    expect(r.lastError).toMatch(message)
    expect(r.stderr).not.toMatch(STACK_FRAME)
    expect(fs.readdirSync(dir)).toEqual([])
  })
})

describe('drawn inpainting masks at the contract', () => {
  const base = { kind: 'inpaint', split: 'test' }
  const mask = (m: object) => SampleRequestSchema.safeParse(sample({ condition: { ...base, mask: m } }))
  it('accept width × height bytes of 0/1 in base64, and refuse anything else with the reason', () => {
    expect(mask({ width: 2, height: 2, data: Buffer.from([1, 0, 0, 1]).toString('base64') }).success).toBe(true)
    for (const bad of [
      { width: 2, height: 2, data: Buffer.from([1, 0, 0]).toString('base64') },
      { width: 2, height: 2, data: Buffer.from([1, 0, 2, 1]).toString('base64') },
      { width: 2, height: 2, data: '!!not base64!!' },
      { width: 0, height: 2, data: '' },
      { width: 65, height: 1, data: Buffer.alloc(65).toString('base64') },
      { width: 2, height: 2, data: Buffer.from([1, 0, 0, 1]).toString('base64'), extra: 1 }
    ]) {
      const r = mask(bad)
      expect(r.success, JSON.stringify(bad)).toBe(false)
    }
    expect(problems(mask({ width: 2, height: 2, data: Buffer.from([1, 0, 2, 1]).toString('base64') }) as never)).toMatch(/width × height bytes of 0 or 1/)
  })
})

describe('brought images at the contract', () => {
  const image = (m: object) => SampleRequestSchema.safeParse(sample({ condition: { kind: 'inpaint', split: 'test', mask: 'left', image: m } }))
  it('accept width × height × channels bytes in base64, and refuse anything else', () => {
    expect(image({ width: 2, height: 2, channels: 1, data: Buffer.from([0, 9, 200, 255]).toString('base64') }).success).toBe(true)
    expect(image({ width: 1, height: 2, channels: 3, data: Buffer.from([0, 9, 200, 255, 1, 2]).toString('base64') }).success).toBe(true)
    for (const bad of [
      { width: 2, height: 2, channels: 1, data: Buffer.from([0, 9, 200]).toString('base64') },
      { width: 2, height: 2, channels: 2, data: Buffer.alloc(8).toString('base64') },
      { width: 2, height: 2, channels: 1, data: '!!not base64!!' },
      { width: 65, height: 1, channels: 1, data: Buffer.alloc(65).toString('base64') },
      { width: 2, height: 2, channels: 1, data: Buffer.alloc(4).toString('base64'), extra: 1 }
    ]) expect(image(bad).success, JSON.stringify(bad)).toBe(false)
    expect(problems(image({ width: 2, height: 2, channels: 1, data: Buffer.from([1]).toString('base64') }) as never)).toMatch(/width × height × channels bytes/)
  })
  it('refuse a per-class grid of 0 or more than 16 per class, and a negative start', () => {
    const cond = (c: object) => SampleRequestSchema.safeParse(sample({ condition: c }))
    expect(cond({ kind: 'classes', perClass: 4 }).success).toBe(true)
    for (const bad of [{ kind: 'classes', perClass: 0 }, { kind: 'classes', perClass: 17 }, { kind: 'classes' }, { kind: 'colorize', split: 'test', start: -1 }, { kind: 'colorize', split: 'test', start: 1.5 }]) expect(cond(bad).success, JSON.stringify(bad)).toBe(false)
  })
})

describe('control characters in run names', () => {
  it('a run name with an escape sequence and a line break is stored without control characters', () => {
    const stored = JSON.parse(fs.readFileSync(runFile, 'utf8')).name as string
    expect(stored).not.toMatch(CONTROL)
    expect(stored).toBe('[31mred line')
  })

  it('names, renames and tags are cleaned by the contract, and held to their length', () => {
    const update = procedures['runs.update'].input
    const ok = update.parse({ runId: 'r', name: 'a\u202eb\u2066c\u2028d\x85e\x00', tags: ['x\ty', '\u200fz'] })
    expect(ok).toMatchObject({ name: 'abc d e', tags: ['x y', 'z'] })
    expect(problems(update.safeParse({ runId: 'r', name: '\n\x1b' }))).toMatch(/name: run name must not be empty/)
    expect(problems(update.safeParse({ runId: 'r', name: 'n'.repeat(121) }))).toMatch(/at most 120 characters/)
    expect(problems(update.safeParse({ runId: 'r', tags: ['t'.repeat(41)] }))).toMatch(/tags\.0: tag must be at most 40 characters/)
    const imported = procedures['runs.importTorch'].input.parse({ path: '/x.safetensors', dataset: 'mnist', name: '\u202eevil' })
    expect(imported.name).toBe('evil')
  })

  it('runs list and runs show escape control characters still in older run files', () => {
    const run = JSON.parse(fs.readFileSync(runFile, 'utf8'))
    fs.writeFileSync(runFile, JSON.stringify({ ...run, name: '\x1b[2Jold\nname\u202e\x85' }))
    const list = cli('runs', 'list')
    expect(list.code, list.stderr).toBe(0)
    expect(list.stdout).not.toMatch(CONTROL_IN_OUTPUT)
    expect(list.stdout).toContain('\\x1b[2Jold\\x0aname\\u202e\\x85')
    const show = cli('runs', 'show', runId)
    expect(show.code, show.stderr).toBe(0)
    expect(show.stdout).not.toMatch(CONTROL_IN_OUTPUT)
    expect(show.stdout).toContain('"name": "\\u001b[2Jold\\nname\\u202e\\u0085"')
  })
})

describe('a reader that closes the pipe', () => {
  it('runs list into a pipe closed before any output exits 0 without an EPIPE stack trace', async () => {
    const child = spawn(process.execPath, [CLI, 'runs', 'list', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.destroy()
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
    expect(stderr).not.toMatch(/EPIPE/)
    expect(stderr).not.toMatch(STACK_FRAME)
    expect(code).toBe(0)
  })

  it('runs list | head -1 prints one line and no EPIPE text', () => {
    // Enough runs that the listing outgrows the pipe buffer, so head exits while we still write.
    const dir = tempDir('score-lab-hostile-pipe-')
    const run = JSON.parse(fs.readFileSync(path.join(dataDir, 'runs', fs.readdirSync(path.join(dataDir, 'runs'))[0]!, 'run.json'), 'utf8'))
    for (let i = 0; i < 800; i++) {
      const id = `20250101-000000-toy-gmm-${String(i).padStart(6, '0')}`
      fs.mkdirSync(path.join(dir, 'runs', id, 'checkpoints'), { recursive: true })
      fs.writeFileSync(path.join(dir, 'runs', id, 'run.json'), JSON.stringify({ ...run, id, name: `run ${i} ${'x'.repeat(200)}`, createdAt: run.createdAt + i }))
    }
    const r = spawnSync('bash', ['-c', '"$1" "$2" runs list --data-dir "$3" | head -1; exit "${PIPESTATUS[0]}"', '_', process.execPath, CLI, dir], { encoding: 'utf8', timeout: 120_000 })
    expect(r.stdout.trim().split('\n')).toHaveLength(1)
    expect(r.stdout).toMatch(/^20250101-000000-toy-gmm-/)
    expect(r.stderr).not.toMatch(/EPIPE/)
    expect(r.stderr).not.toMatch(STACK_FRAME)
    expect(r.status).toBe(0)
  })
})

describe('the training objective on the command line', () => {
  it('--objective ssm --projections gaussian reach the run config; without them it stays dsm (absent)', async () => {
    const { configFromFlags } = await import('../../src/cli/commands/train')
    expect(configFromFlags({ dataset: 'toy-gmm', objective: 'ssm', projections: 'gaussian' }, {})).toMatchObject({ objective: 'ssm', projections: 'gaussian' })
    expect(configFromFlags({ dataset: 'toy-gmm', objective: 'ssm' }, {}).projections).toBeUndefined()
    expect('objective' in configFromFlags({ dataset: 'toy-gmm' }, {})).toBe(false)
  })

  it.each([
    [['--objective', 'ism'], /--objective takes dsm or ssm .*got "ism"/],
    [['--objective', 'ssm', '--projections', 'sphere'], /--projections takes rademacher or gaussian, got "sphere"/],
    [['--projections', 'gaussian'], /--projections applies only to --objective ssm/],
    [['--objective', 'ssm', '--dataset', 'mnist', '--model', 'scorenet'], /objective: Objective "ssm" .*"scorenet".*second-order/]
  ])('train %j is refused with one clear line, and no run is made', (args, message) => {
    const before = fs.readdirSync(path.join(dataDir, 'runs')).length
    const r = cli('train', '--dataset', 'toy-gmm', '--steps', '3', ...(args as string[]))
    expect(r.code).not.toBe(0)
    expect(r.lastError).toMatch(/^score-lab: /)
    expect(r.lastError).toMatch(message)
    expect(r.stderr).not.toMatch(STACK_FRAME)
    expect(fs.readdirSync(path.join(dataDir, 'runs')).length).toBe(before)
  })
})
