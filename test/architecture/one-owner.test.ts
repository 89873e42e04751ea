// Facts with one owner stay with it: no shell casts a job's result (the contract types each
// kind's result), and no module outside the run layout spells out the run folder's names.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { JobInfoSchema, JobResultSchema, resultOf } from '../../src/shared/contract'

const SRC = path.resolve(__dirname, '../../src')

function filesUnder(dir: string): string[] {
  const out: string[] = []
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...filesUnder(p))
    else if (/\.(ts|vue)$/.test(e.name)) out.push(p)
  }
  return out
}

/** Lines that cast a job result: `….result as …`, `(… result …) as …`, or a cast of what runJob/jobs.get answered. */
const RESULT_CAST = [/\bresult\b\s*(\)\s*)?as\s+(?!const\b)/, /\(\s*await\s+runJob\b[^)]*\)\s*\)?\s*as\s/, /jobs\.(get|job)\([^)]*\)\??\.result\b[^\n;]*\bas\s/]

function resultCasts(text: string): string[] {
  return text.split('\n').filter((line) => !/^\s*(\/\/|\*)/.test(line) && RESULT_CAST.some((re) => re.test(line)))
}

describe('job results are typed end to end', () => {
  it('the cast finder sees a cast of a job result', () => {
    expect(resultCasts('const r = jobs.job(id)?.result as { samples?: SampleRecord[] } | null')).toHaveLength(1)
    expect(resultCasts('const r = (await runJob(cli, jobId, "likelihood")) as { bitsPerDim: number }')).toHaveLength(1)
    expect(resultCasts('return resultOf(jobs.job(jobId), kind)?.samples ?? []')).toHaveLength(0)
    expect(resultCasts('// a comment that says result as text')).toHaveLength(0)
  })

  it('no file in src/renderer or src/cli casts a job result', () => {
    const found: string[] = []
    for (const dir of ['renderer', 'cli']) {
      for (const file of filesUnder(path.join(SRC, dir))) {
        for (const line of resultCasts(fs.readFileSync(file, 'utf8'))) found.push(`${path.relative(SRC, file)}: ${line.trim()}`)
      }
    }
    expect(found).toEqual([])
  })

  it('a result is checked against its kind in the contract, and resultOf picks the kind asked for', () => {
    expect(JobResultSchema.safeParse({ kind: 'sample', samples: 'nope' }).success).toBe(false)
    expect(JobResultSchema.safeParse({ kind: 'likelihood', count: 4 }).success).toBe(false)
    expect(JobResultSchema.safeParse({ kind: 'mystery' }).success).toBe(false)
    const job = JobInfoSchema.shape.result.parse({ kind: 'compare', samples: [] })
    expect(resultOf({ result: job }, 'compare')).toEqual({ kind: 'compare', samples: [] })
    expect(resultOf({ result: job }, 'sample')).toBeNull()
    expect(resultOf(null, 'sample')).toBeNull()
  })
})

describe('the run folder has one owner', () => {
  it('only run-layout.ts names the files and folders of a run', () => {
    const names = /['"`](runs|run\.json|metrics\.jsonl|checkpoints|samples)['"`]/
    const found: string[] = []
    for (const dir of ['lab', 'cli', 'server', 'main', 'engine']) {
      for (const file of filesUnder(path.join(SRC, dir))) {
        if (file.endsWith(path.join('runs', 'run-layout.ts'))) continue
        fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
          // A command's name (`case 'runs':`) is not a path.
          if (names.test(line) && !/case\s+['"]runs['"]/.test(line) && !/^\s*(\/\/|\*)/.test(line)) found.push(`${path.relative(SRC, file)}:${i + 1}: ${line.trim()}`)
        })
      }
    }
    expect(found).toEqual([])
  })
})
