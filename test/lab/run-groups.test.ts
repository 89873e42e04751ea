// Run groups (issue 20, item 4): one recipe trained under several values of one setting, one run
// per value, queued one after another, tagged so the group can be found; everything is checked
// before the first run exists; the CLI's train-group waits for all and lists each final loss.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { PRESETS } from '../../src/lab/catalog'
import { groupMembers } from '../../src/lab/run-groups'
import type { RunSummary, TrainConfig } from '../../src/shared/contract'
import { labHarness } from '../helpers/service'

const CLI = path.resolve(__dirname, '../../bin/score-lab.mjs')
const { service, ok, finished } = labHarness()
const toy: TrainConfig = { ...PRESETS.find((p) => p.name === 'toy-quick')!.config, steps: 30, checkpointEvery: 30, previewEvery: 0 }

describe('run groups', () => {
  it('apply each value to its own copy of the recipe, and refuse repeats, junk numbers and out-of-range values naming the value', () => {
    const recipe = structuredClone(toy)
    const m = groupMembers(toy, 'sigmaMax', ['5', 12])
    expect(m.map((x) => x.config.sde.params.sigmaMax)).toEqual([5, 12])
    expect(toy).toEqual(recipe) // the recipe itself is untouched
    expect(groupMembers(toy, 'sde', ['vpsde', 'subvpsde']).map((x) => x.config.sde)).toEqual([{ name: 'vpsde', params: {} }, { name: 'subvpsde', params: {} }])
    expect(() => groupMembers(toy, 'lr', [0.1, '0.1'])).toThrow(/repeat/)
    expect(() => groupMembers(toy, 'lr', ['fast', 0.1])).toThrow(/lr takes numbers, got "fast"/)
    expect(() => groupMembers(toy, 'lr', [0.1, 5])).toThrow(/lr = 5: lr: learning rate must be/)
    expect(() => groupMembers(toy, 'weighting', [1, 2])).toThrow(/weighting takes names/)
  })

  it('start one run per value, in order, tagged with the group and the value; an unknown name starts nothing', async () => {
    const before = service.runs.list().length
    await expect(ok('runs.startGroup', { config: toy, name: 'bad', vary: { setting: 'weighting', values: ['std2', 'no-such-weighting'] } })).rejects.toThrow(/no-such-weighting/)
    expect(service.runs.list()).toHaveLength(before)
    const { group, runs } = await ok<{ group: string; runs: { runId: string; jobId: string; value: string }[] }>('runs.startGroup', { config: toy, name: 'weightings', vary: { setting: 'weighting', values: ['std2', 'likelihood', 'uniform'] } })
    expect(group).toBe('weightings')
    expect(runs.map((r) => r.value)).toEqual(['std2', 'likelihood', 'uniform'])
    for (const r of runs) await finished(r.jobId)
    const listed = runs.map((r) => service.runs.get(r.runId) as RunSummary)
    expect(listed.map((r) => r.config.weighting)).toEqual(['std2', 'likelihood', 'uniform'])
    expect(listed.map((r) => r.name)).toEqual(['weightings · weighting=std2', 'weightings · weighting=likelihood', 'weightings · weighting=uniform'])
    for (const r of listed) {
      expect(r.tags).toEqual(['group:weightings', `weighting=${r.config.weighting}`])
      expect(r.status).toBe('finished')
      expect(r.step).toBe(30)
    }
    // One after another: each started after the one before it ended.
    const jobs = runs.map((r) => service.jobs.get(r.jobId))
    for (let i = 1; i < jobs.length; i++) expect(jobs[i]!.startedAt!).toBeGreaterThanOrEqual(jobs[i - 1]!.endedAt!)
    await expect(ok('runs.startGroup', { config: toy, name: 'one', vary: { setting: 'lr', values: [0.001] } })).rejects.toThrow(/runs in a group|at least|too small|>=2/i)
    await expect(ok('runs.startGroup', { config: toy, name: 'x', vary: { setting: 'ema', values: [0.9, 0.99] } })).rejects.toThrow(/setting/)
  }, 180_000)

  it('score-lab train-group trains the group and lists each run with its final loss', () => {
    const r = spawnSync(process.execPath, [CLI, 'train-group', '--dataset', 'toy-gmm', '--steps', '20', '--vary', 'lr=0.001,0.003', '--name', 'lrs', '--json', '--data-dir', service.dataDir], { encoding: 'utf8', timeout: 240_000 })
    expect(r.status, r.stderr).toBe(0)
    const json = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { group: string; setting: string; runs: { value: number; status: string; step: number; loss: number }[] }
    expect(json).toMatchObject({ group: 'lrs', setting: 'lr' })
    expect(json.runs.map((x) => [x.value, x.status, x.step])).toEqual([[0.001, 'finished', 20], [0.003, 'finished', 20]])
    expect(json.runs.every((x) => Number.isFinite(x.loss))).toBe(true)
    for (const [args, message] of [
      [['--vary', 'ema=0.9,0.99'], /ema cannot be varied/],
      [['--vary', 'lr=0.001'], /at least two values/],
      [['--vary', 'lr'], /--vary SETTING=A,B,C is required/],
      [['--vary', 'lr=0.001,0.002'], /--name GROUP is required/]
    ] as const) {
      const bad = spawnSync(process.execPath, [CLI, 'train-group', '--dataset', 'toy-gmm', ...args, '--data-dir', service.dataDir], { encoding: 'utf8' })
      expect(bad.status).not.toBe(0)
      expect(bad.stderr).toMatch(message)
    }
  }, 300_000)
})
