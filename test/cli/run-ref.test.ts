// One resolver for every place a run is named: id, unique name, folder path (absolute or
// relative, trailing slash or not), checkpoint file; clear refusals for ambiguous names, runs
// of another data folder and unknown references, never with the reference cut short.
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { presetFor } from '../../src/lab/catalog'
import { HandlerError } from '../../src/lab/dispatch'
import { resolveRunRef } from '../../src/lab/runs/run-ref'
import { RunStore } from '../../src/lab/runs/store'
import { tempDir } from '../helpers/service'

const config = presetFor('toy-gmm')!.config

let dataDir: string
let runs: RunStore
let solo: string // named "solo"
let twinA: string // both named "twin"
let twinB: string
const CKPT = 'ckpt-00000003.safetensors'

function refusal(ref: string, opts?: { cwd?: string }): HandlerError {
  try {
    resolveRunRef(runs, ref, opts)
  } catch (err) {
    expect(err).toBeInstanceOf(HandlerError)
    return err as HandlerError
  }
  throw new Error(`"${ref}" was accepted`)
}

beforeAll(() => {
  dataDir = tempDir('score-lab-runref-')
  runs = new RunStore(dataDir)
  solo = runs.create(config, 'solo', null).id
  twinA = runs.create(config, 'twin', null).id
  twinB = runs.create({ ...config, dataset: 'toy-rings' }, 'twin', null).id
  fs.writeFileSync(path.join(runs.checkpointsDir(solo), CKPT), 'not read by the resolver')
})

describe('resolveRunRef', () => {
  it('takes a run id', () => {
    expect(resolveRunRef(runs, solo)).toEqual({ runId: solo })
  })

  it('takes a unique run name', () => {
    expect(resolveRunRef(runs, 'solo')).toEqual({ runId: solo })
  })

  it('refuses a name several runs share, listing each with its id and creation time', () => {
    const err = refusal('twin')
    expect(err.code).toBe('bad_request')
    expect(err.message).toMatch(/2 runs are named "twin"/)
    expect(err.message).toContain(twinA)
    expect(err.message).toContain(twinB)
    const created = new Date(runs.get(twinA).createdAt).toISOString().slice(0, 10)
    expect(err.message).toContain(`(created ${created} `)
    expect(err.message.split('\n')).toHaveLength(1)
  })

  it('takes the run folder, absolute, with or without a trailing slash', () => {
    const dir = path.join(dataDir, 'runs', solo)
    expect(resolveRunRef(runs, dir)).toEqual({ runId: solo })
    expect(resolveRunRef(runs, dir + path.sep)).toEqual({ runId: solo })
  })

  it('takes the run folder as a relative path', () => {
    expect(resolveRunRef(runs, `runs/${solo}/`, { cwd: dataDir })).toEqual({ runId: solo })
    expect(resolveRunRef(runs, '.', { cwd: path.join(dataDir, 'runs', twinB) })).toEqual({ runId: twinB })
    expect(resolveRunRef(runs, path.relative(process.cwd(), path.join(dataDir, 'runs', twinA)))).toEqual({ runId: twinA })
  })

  it('takes a checkpoint file, which also selects that checkpoint', () => {
    const file = path.join(dataDir, 'runs', solo, 'checkpoints', CKPT)
    expect(resolveRunRef(runs, file)).toEqual({ runId: solo, checkpoint: CKPT })
    expect(resolveRunRef(runs, `checkpoints/${CKPT}`, { cwd: path.join(dataDir, 'runs', solo) })).toEqual({ runId: solo, checkpoint: CKPT })
  })

  it('refuses a run of another data folder, naming the --data-dir to use', () => {
    const otherDir = fs.realpathSync(tempDir('score-lab-runref-other-'))
    const other = new RunStore(otherDir)
    const id = other.create(config, 'solo', null).id
    fs.writeFileSync(path.join(other.checkpointsDir(id), CKPT), '')
    for (const ref of [path.join(otherDir, 'runs', id) + '/', path.join(otherDir, 'runs', id, 'checkpoints', CKPT)]) {
      const err = refusal(ref)
      expect(err.code).toBe('bad_request')
      expect(err.message).toContain(`another data folder, ${otherDir}`)
      expect(err.message).toContain(`--data-dir ${otherDir}`)
    }
  })

  it('refuses a folder that is not a run, and files that are not checkpoints', () => {
    expect(refusal(path.join(dataDir, 'runs')).message).toMatch(/is not a run folder \(it has no run\.json\)/)
    expect(refusal(path.join(dataDir, 'runs', solo, 'run.json')).message).toMatch(/neither a run folder nor a checkpoint file/)
  })

  it('refuses an unknown reference as not_found, quoting all of it', () => {
    const err = refusal('no-such-run')
    expect(err.code).toBe('not_found')
    expect(err.message).toMatch(/^No run "no-such-run" in /)
    const long = path.join(dataDir, 'runs', 'a-very-long-folder-name-that-is-not-a-run-of-this-lab', 'checkpoints', 'ckpt-00000010.safetensors')
    const missing = refusal(long)
    expect(missing.code).toBe('not_found')
    expect(missing.message).toContain(long)
    expect(missing.message).not.toMatch(/Invalid run id/)
    expect(refusal('  ').code).toBe('bad_request')
  })
})
