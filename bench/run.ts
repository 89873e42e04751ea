// Score Lab benchmarks: `npm run bench` (= node --import tsx bench/run.ts).
//
// Runs every bench/*.bench.ts module (each exports `run(ctx: BenchContext)`) and writes
// bench/results/<YYYY-MM-DD>-<hostname>.json and .md. Options:
//   --only NAME[,NAME]   run only these modules (file name without .bench.ts, e.g. scorenet)
//   --quick              fewer steps/rounds (a smoke run; numbers are rougher)
//   --list               list the modules and exit
//   --no-write           print, but do not write bench/results/
// Any other --flag [value] is passed to the modules in ctx.args (see each module's header).
import { readdirSync, mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { BenchContext, BenchModule } from './context'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')

function parseArgs(argv: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--')) continue
    const eq = a.indexOf('=')
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1)
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) out[a.slice(2)] = argv[++i]!
    else out[a.slice(2)] = true
  }
  return out
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort()
  const names = files.map((f) => f.replace(/\.bench\.ts$/, ''))
  if (args.list) {
    console.log(names.join('\n'))
    return
  }
  const only = typeof args.only === 'string' ? args.only.split(',').map((s) => s.trim()) : null
  if (only) {
    const unknown = only.filter((n) => !names.includes(n))
    if (unknown.length) throw new Error(`--only: no bench named ${unknown.join(', ')} (have: ${names.join(', ')})`)
  }
  const selected = names.filter((n) => !only || only.includes(n))
  const quick = Boolean(args.quick)
  const started = new Date()
  const date = started.toISOString().slice(0, 10)
  const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, '_')
  const json: Record<string, unknown> = {
    date: started.toISOString(),
    host,
    quick,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      loadavg: os.loadavg()
    },
    benches: {} as Record<string, unknown>
  }
  const md: string[] = [
    `# Score Lab benchmarks — ${date} on ${host}`,
    '',
    `${os.cpus().length} CPU (${os.cpus()[0]?.model ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ` +
      `${os.type()} ${os.release()}. Load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}.` +
      (quick ? ' **Quick mode** (fewer steps; rough numbers).' : ''),
    `Command: \`npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}\``,
    ''
  ]
  for (const name of selected) {
    const mod = (await import(pathToFileURL(path.join(here, `${name}.bench.ts`)).href)) as Partial<BenchModule>
    if (typeof mod.run !== 'function') {
      console.warn(`bench/${name}.bench.ts exports no run(ctx): skipped`)
      continue
    }
    const sections: string[] = []
    const data: Record<string, unknown> = {}
    const ctx: BenchContext = {
      name,
      root,
      quick,
      args,
      log: (msg) => console.log(`[${name}] ${msg}`),
      record: (key, value) => {
        data[key] = value
      },
      markdown: (text) => sections.push(text)
    }
    console.log(`\n=== ${name} ===`)
    const t0 = performance.now()
    try {
      await mod.run(ctx)
    } catch (e) {
      const msg = e instanceof Error ? e.stack ?? e.message : String(e)
      console.error(`[${name}] FAILED: ${msg}`)
      data.error = msg.split('\n')[0]
      sections.push(`**${name} failed:** ${msg.split('\n')[0]}`)
      process.exitCode = 1
    }
    data.wallSeconds = Math.round((performance.now() - t0) / 100) / 10
    ;(json.benches as Record<string, unknown>)[name] = data
    md.push(`## ${name}`, '', ...sections, '')
  }
  const text = md.join('\n')
  console.log('\n' + text)
  if (!args['no-write']) {
    const dir = path.join(here, 'results')
    mkdirSync(dir, { recursive: true })
    // A partial run (--only) gets its own file so it never replaces a full run's results.
    const base = path.join(dir, `${date}-${host}${only ? `-${only.join('+')}` : ''}`)
    writeFileSync(base + '.json', JSON.stringify(json, null, 1) + '\n')
    writeFileSync(base + '.md', text + '\n')
    console.log(`\nwrote ${path.relative(root, base)}.json and .md`)
  }
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
