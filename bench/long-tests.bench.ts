// The long acceptance runs (LONG_TESTS in vitest.config.ts): real models trained for minutes and
// judged on what they produce, e.g. the FashionMNIST class-rate run of issue 18. They are not part
// of `npm test` (CI's 20 minutes); this bench runs them through Vitest with the suite's settings
// and records whether each passed, how long it took and the figures the tests print (lines that
// start with a bracketed tag, such as "[class rate] …").
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { BenchContext } from './context'

interface VitestReport {
  numPassedTests: number
  numFailedTests: number
  testResults: { name: string; status: string; startTime: number; endTime: number; assertionResults: { title: string; status: string; duration?: number }[] }[]
}

export async function run(ctx: BenchContext): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'score-lab-long-'))
  const report = path.join(dir, 'report.json')
  const figures: string[] = []
  const t0 = performance.now()
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [path.join(ctx.root, 'node_modules/vitest/vitest.mjs'), 'run', '-c', 'vitest.long.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], { cwd: ctx.root, stdio: ['ignore', 'pipe', 'inherit'] })
    let buf = ''
    child.stdout.on('data', (d: Buffer) => {
      process.stdout.write(d)
      buf += d.toString()
      const lines = buf.split('\n')
      buf = lines.pop()!
      // eslint-disable-next-line no-control-regex
      for (const l of lines.map((x) => x.replace(/\x1b\[[0-9;]*m/g, '').trim())) if (/^\[[a-z -]+\]/.test(l)) figures.push(l)
    })
    child.on('close', (c) => resolve(c ?? 1))
  })
  const wallSeconds = Math.round((performance.now() - t0) / 1000)
  let r: VitestReport
  try {
    r = JSON.parse(readFileSync(report, 'utf8')) as VitestReport
  } catch {
    throw new Error(`vitest produced no report (exit ${code})`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const files = r.testResults.map((f) => ({
    file: path.relative(ctx.root, f.name),
    status: f.status,
    tests: f.assertionResults.map((a) => ({ title: a.title, status: a.status }))
  }))
  ctx.record('passed', r.numPassedTests)
  ctx.record('failed', r.numFailedTests)
  ctx.record('files', files)
  ctx.record('vitestWallSeconds', wallSeconds)
  ctx.record('figures', figures)
  if (r.numFailedTests > 0 || code !== 0) process.exitCode = 1
  ctx.markdown(
    [
      `\`npm run test:long\` (vitest.long.config.ts): **${r.numPassedTests} passed, ${r.numFailedTests} failed** in ${wallSeconds} s (set-up hooks included).`,
      '',
      '| file | result |',
      '|---|---|',
      ...files.map((f) => `| \`${f.file}\` | ${f.status} (${f.tests.map((t) => `${t.title}: ${t.status}`).join('; ')}) |`),
      '',
      'What they printed:',
      '',
      ...figures.map((l) => `- ${l}`)
    ].join('\n')
  )
}
