// The CLI's side of the PyTorch round trip (no torch needed): export refuses a network without a
// PyTorch twin and names it, attach refuses a folder that is not a run yet, --here belongs to --resume.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/service'

const CLI = path.resolve(import.meta.dirname, '../../bin/score-lab.mjs')
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 })

describe('score-lab runs export-torch / attach and train --here', () => {
  it('refuses what it cannot do, saying why', () => {
    const dataDir = tempDir('score-lab-cli-torch-')
    const trained = cli(['train', '--dataset', 'toy-gmm', '--steps', '3', '--batch', '16', '--data-dir', dataDir, '--json'])
    expect(trained.status, trained.stderr).toBe(0)
    const { runId } = JSON.parse(trained.stdout.trim().split('\n').at(-1)!) as { runId: string }
    const out = path.join(dataDir, 'pkg')
    const exported = cli(['runs', 'export-torch', runId, '--out', out, '--data-dir', dataDir])
    expect(exported.status).toBe(2)
    expect(exported.stderr).toMatch(/uses the "mlp" network, which has no PyTorch twin in the training package yet \(it has: scorenet\)/)
    expect(fs.existsSync(out)).toBe(false)
    expect(cli(['runs', 'export-torch', runId, '--data-dir', dataDir]).stderr).toMatch(/--out DIR is required/)
    const empty = tempDir('score-lab-not-a-run-')
    expect(cli(['runs', 'attach', empty, '--data-dir', dataDir]).stderr).toMatch(/has no run\.json yet \(start train\.py, or sync the folder, first\)/)
    expect(cli(['train', '--dataset', 'toy-gmm', '--here', '--data-dir', dataDir]).stderr).toMatch(/--here goes with --resume RUN/)
    fs.rmSync(dataDir, { recursive: true, force: true })
    fs.rmSync(empty, { recursive: true, force: true })
  })
})
