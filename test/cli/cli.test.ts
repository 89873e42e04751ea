// The CLI end to end on a tiny configuration: train → sample → compare → likelihood with
// --json (the last stdout line is one JSON object), and one-line errors on bad input.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodePng, readPngSettings } from '../../src/engine/images/png'
import { RunStore } from '../../src/lab/runs/store'
import { tempDir } from '../helpers/service'

const CLI = path.resolve(__dirname, '../../bin/score-lab.mjs')
const dataDir = tempDir('score-lab-cli-')

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args, '--data-dir', dataDir], { encoding: 'utf8', timeout: 300_000 })
  const lines = r.stdout.trim().split('\n')
  let json: any = null
  try {
    json = JSON.parse(lines.at(-1) ?? '')
  } catch {
    /* not JSON */
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json }
}

describe('score-lab CLI', () => {
  it('train → sample → compare → likelihood with --json', () => {
    const train = cli('train', '--dataset', 'toy-gmm', '--model', 'mlp', '--sde', 'vp', '--steps', '150', '--batch', '128', '--lr', '2e-3', '--checkpoint-every', '50', '--json')
    expect(train.code, train.stderr).toBe(0)
    expect(train.json).toMatchObject({ status: 'finished', step: 150 })
    expect(fs.existsSync(path.join(train.json.runDir, 'run.json'))).toBe(true)
    expect(train.json.loss).toBeGreaterThan(0)
    const runId = train.json.runId

    const out = path.join(dataDir, 'out', 'em.png')
    const gif = path.join(dataDir, 'out', 'em.gif')
    const sample = cli('sample', '--checkpoint', runId, '--sampler', 'em', '--steps', '40', '--n', '300', '--seed', '5', '--out', out, '--gif', gif, '--json')
    expect(sample.code, sample.stderr).toBe(0)
    expect(sample.json).toMatchObject({ out, gif, nfe: 40 })
    expect(sample.json.seconds).toBeGreaterThan(0)
    const png = new Uint8Array(fs.readFileSync(out))
    expect(decodePng(png).width).toBe(256)
    expect(readPngSettings(png)).toMatchObject({ sampler: 'euler_maruyama' })
    expect(fs.statSync(gif).size).toBeGreaterThan(100)

    // A checkpoint given by path works too.
    const ckpt = fs.readdirSync(path.join(train.json.runDir, 'checkpoints')).find((f) => f.endsWith('.safetensors'))!
    const cmpDir = path.join(dataDir, 'cmp')
    const compare = cli('compare', '--checkpoint', path.join(train.json.runDir, 'checkpoints', ckpt), '--samplers', 'em,pc,ode', '--steps', '20', '--rtol', '1e-3', '--atol', '1e-3', '--seed', '2', '--n', '200', '--out', cmpDir, '--json')
    expect(compare.code, compare.stderr).toBe(0)
    expect(compare.json.map((e: any) => e.sampler)).toEqual(['euler_maruyama', 'pc', 'ode'])
    for (const e of compare.json) {
      expect(fs.existsSync(e.out)).toBe(true)
      expect(e.nfe).toBeGreaterThan(0)
      expect(e.seconds).toBeGreaterThan(0)
    }

    const like = cli('likelihood', '--checkpoint', runId, '--n', '64', '--rtol', '1e-3', '--atol', '1e-3', '--json')
    expect(like.code, like.stderr).toBe(0)
    expect(like.json).toHaveProperty('bitsPerDim')
    expect(like.json.nfe).toBeGreaterThan(0)

    // One sampler's quality at one budget: a toy run reads sliced W2 against true samples, beside the floor.
    const metric = cli('metric', '--checkpoint', runId, '--sampler', 'heun', '--nfe', '9', '--n', '200', '--json')
    expect(metric.code, metric.stderr).toBe(0)
    expect(metric.json).toMatchObject({ metric: 'sw2', n: 200, sampler: 'heun', steps: 5, nfe: 9 })
    expect(metric.json.quality).toBeGreaterThan(metric.json.floor * 0.5)
    expect(cli('metric', '--checkpoint', runId, '--nfe', '5,10').stderr).toMatch(/one budget/)

    const cond = cli('sample', '--checkpoint', runId, '--sampler', 'pc', '--steps', '20', '--n', '200', '--class', '1', '--out', path.join(dataDir, 'out', 'class1.png'), '--json')
    expect(cond.code, cond.stderr).toBe(0)
    expect(cond.json).toMatchObject({ nfe: 40 })
    // Toy samples come with fresh true samples drawn the same way, beside the grid.
    expect(fs.existsSync(cond.json.reference)).toBe(true)

    const runs = cli('runs', 'list', '--json')
    expect(runs.json.map((r: any) => r.id)).toContain(runId)
  }, 300_000)

  it('takes its own output back: the runDir it printed, the name it was given', () => {
    const tiny = ['--dataset', 'toy-gmm', '--model', 'mlp', '--sde', 'vp', '--batch', '32', '--checkpoint-every', '3']
    const train = cli('train', ...tiny, '--name', 'killme', '--steps', '3', '--json')
    expect(train.code, train.stderr).toBe(0)
    const { runId, runDir } = train.json

    // The folder train printed (with a trailing slash, as shells complete it) picks the run.
    const out = path.join(dataDir, 'out', 'killme.png')
    const sample = cli('sample', '--checkpoint', runDir + '/', '--sampler', 'em', '--steps', '5', '--n', '16', '--out', out, '--json')
    expect(sample.code, sample.stderr).toBe(0)
    expect(sample.json).toMatchObject({ out, nfe: 5 })
    expect(fs.existsSync(out)).toBe(true)

    // By name: room for three more steps, then --resume killme continues it.
    const runs = new RunStore(dataDir)
    const run = runs.get(runId)
    runs.update(runId, { config: { ...run.config, steps: 6 }, status: 'stopped' })
    const resume = cli('train', '--resume', 'killme', '--json')
    expect(resume.code, resume.stderr).toBe(0)
    expect(resume.json).toMatchObject({ runId, status: 'finished', step: 6 })
    expect(cli('runs', 'show', 'killme', '--json').json).toMatchObject({ id: runId, runDir })
  })

  it.skipIf(!fs.existsSync('/usr/share/datasets/fashion-mnist'))('train --dataset fashion-mnist imports the system copy into a fresh data folder', () => {
    const fresh = tempDir('score-lab-cli-fmnist-')
    const r = spawnSync(process.execPath, [CLI, 'train', '--dataset', 'fashion-mnist', '--steps', '1', '--batch', '2', '--data-dir', fresh, '--json'], { encoding: 'utf8', timeout: 300_000 })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).toContain("Importing Fashion-MNIST from /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist)…")
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toMatchObject({ status: 'finished', step: 1 })
  })

  it('fails with a one-line reason and a non-zero exit on bad input', () => {
    const cases: [string[], RegExp][] = [
      [['train', '--dataset', 'imagenet'], /unknown data set "imagenet"/],
      [['train', '--dataset', 'toy-gmm', '--lr', 'NaN'], /--lr must be a number/],
      [['train', '--dataset', 'toy-gmm', '--batch', '0'], /batchSize/],
      [['train', '--dataset', 'toy-gmm', '--sde', 'ou'], /unknown SDE "ou"/],
      [['train', '--dataset', 'toy-gmm', '--lr', '-1'], /config\.lr: learning rate must be more than 0 and at most 1 \(got -1\)/],
      [['train', '--dataset', 'toy-gmm', '--typo'], /Unknown option '--typo'.*Run score-lab --help for the options\.$/],
      [['sample', '--checkpoint', 'no-such-run', '--out', '/tmp/x.png'], /No run "no-such-run"/],
      [['compare', '--checkpoint', 'no-such-run', '--samplers', 'em,warp', '--out', '/tmp/x'], /unknown sampler "warp"/],
      [['datasets', 'get', 'imagenet'], /imagenet/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['train', '--resume', 'nope'], /No run "nope"/],
      [['sample', '--checkpoint', 'r', '--out', '/tmp/x.png', '--inpaint', 'diagonal'], /--inpaint takes the region to fill in/]
    ]
    for (const [args, pattern] of cases) {
      const r = cli(...args)
      expect(r.code, args.join(' ')).not.toBe(0)
      const lines = r.stderr.trim().split('\n')
      expect(lines.at(-1), args.join(' ')).toMatch(/^score-lab: /)
      expect(lines.at(-1), args.join(' ')).toMatch(pattern)
    }
  })
})
