// `score-lab`: the command-line shell over the same lab service (in-process). Every command
// exits non-zero with a one-line reason on bad input; with --json the last line of stdout is
// one JSON object.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Cli } from './context'
// Only the help text, the option tables and UsageError are imported up front. The rest loads
// when a command runs: the CLI context and contract (zod), each command's module in its case,
// the lab service with the first command that needs it, the engine (TensorFlow.js) and the
// server only in the handlers and commands that use them — so `--help`, `runs list` and
// `datasets list` start fast (test/cli/lazy-load.test.ts, bench/cli.bench.ts).
import { DATASETS_USAGE, RUNS_USAGE, TRAIN_OPTIONS } from './options'
import { UsageError } from './usage-error'

const here = path.dirname(fileURLToPath(import.meta.url))
const rendererDir = path.resolve(here, '../../out/renderer')

const USAGE = `Usage: score-lab <command> [options]

Commands:
  train --dataset NAME [--model NAME] [--sde ve|vp|subvp|vesde_tutorial] [--steps N | --epochs N]
        [--batch N] [--lr X] [--weighting std2|likelihood|vp_exp|uniform] [--ema X] [--seed S]
        [--checkpoint-every N] [--sigma-max X] [--name RUN]      Train a model (Ctrl-C stops with a checkpoint)
        [--objective dsm|ssm] [--projections rademacher|gaussian] The loss: denoising (default) or sliced score
                                                                 matching (mlp only; projections: ssm's v, default rademacher)
        [--conditional] [--label-dropout P]                      Class-conditional (for classifier-free guidance;
                                                                 labels dropped to ∅ with probability P, default 0.1)
  train --resume RUN [--steps N] [--here]                        Continue a run from its last checkpoint (--steps: to N
                                                                 steps in all; --here: take back a run that trains
                                                                 elsewhere, exported with runs export-torch)
  train-group --dataset NAME --vary SETTING=A,B,C --name GROUP [the train flags]
                                                                 A run group: the recipe once per value (weighting,
                                                                 sde, sigmaMax, lr, model, batchSize, seed), one run
                                                                 after another; lists each run's final loss
  train-classifier --dataset NAME [--steps N] [--seed S]         The data set's feature classifier, for quality numbers
                                                                 (FD, KID, precision/recall) of image samples
  train-classifier --for RUN [--steps N] [--seed S] [--fresh]    That run's noise-conditional classifier, for
                                                                 sample --class K --guidance W (classifier guidance);
                                                                 resumes an unfinished one of the same steps and seed
                                                                 (--fresh: start over)
  sample --checkpoint RUN|PATH --sampler em|rd|ancestral|pc|ald|ode [--corrector langevin|none]
         [--steps N] [--snr X] [--rtol X --atol X] [--n N] [--seed S] [--eps X] [--no-ema]
         --out FILE.png [--gif FILE.gif] [--force]               Sample a grid (PNG with its settings inside;
                                                                 --force replaces existing files)
         [--inpaint left|right|top|bottom|center|checker | --mask FILE.png | --colorize]
         [--split test|train] [--start I | --image FILE.png]     Inpainting / colorisation (pc or em) of images
                                                                 I… of the split, or of one PNG of the run's size
                                                                 (--mask: light pixels kept, dark ones filled in)
         [--class K|NAME|all [--per-class N] [--guidance W] [--classifier RUN]]
                                                                 One class, or a grid of every class (one row each):
                                                                 classifier-free guidance on a conditional run, else
                                                                 classifier guidance (this run's or RUN's classifier)
  compare --checkpoint RUN|PATH --samplers em,pc,ode --seed S --out DIR   Several samplers on the same noise
          [--metric fd,kid,pr]                                   (image runs: each measured through the data set's classifier)
  metric --checkpoint RUN|PATH [--sampler NAME] [--nfe K | --tolerances T] [--n N] [--seed S] [--fid]
                                                                 One sampler's quality at one budget (FD, KID,
                                                                 precision/recall for images; sliced W2 for toy runs)
  sweep --checkpoint RUN|PATH --samplers em,heun,dpmpp_2m [--nfe 10,20,50,100] [--tolerances 1e-2,1e-3]
        [--n N] [--seed S] [--fid] --out DIR                     Quality against cost: each sampler at each NFE
                                                                 (adaptive ones at each tolerance), N samples per
                                                                 point; DIR gets sweep.csv, sweep.json, a PNG per point;
                                                                 --fid: also FID through the Inception weights you
                                                                 supply (<data>/fid/; see the README; ~0.4 s per image)
  likelihood --checkpoint RUN|PATH [--n N] [--split test|train] [--rtol X --atol X]   Exact bits/dim (probability-flow ODE)
             [--estimator rademacher|gaussian] [--probes K]      Hutchinson trace probes (K averaged: 1/K the variance)
             [--all-checkpoints]                                 Every kept checkpoint: the likelihood over training
  interpolate --checkpoint RUN|PATH --images I,J [--split test|train] [--frames N] --out FILE.gif [--strip FILE.png]
              [--rtol X --atol X]                                Encode two images through the probability-flow ODE,
                                                                 decode N frames between their latents (slerp); reports
                                                                 the round trip's error and the NFE each way (I or J
                                                                 may be a PNG of the run's image size)
  samplers [--json]             Each sampler, its NFE and its settings with their flags and ranges (--eta 1, --s-churn 0.5,
                                --schedule karras…), which sample, compare and sweep take (compare/sweep: to the samplers that take each)
  ${DATASETS_USAGE}
  ${RUNS_USAGE}
  serve [--host H] [--port P] [--allow-host NAME]... [--new-token]
                                Serve the lab to a browser (127.0.0.1:5170 by default; prints the URL with its token);
                                --allow-host accepts another name in the Host header (DNS-rebinding guard);
                                the token is kept in the data folder (browser-token, owner-only) and reused on
                                restart, so open tabs reconnect; --new-token replaces it (tabs with the old one are refused)
  doctor                        Diagnose the compute setup (backends, CUDA/cuDNN, Vulkan) with the fix for each problem
  info                          Backend, device, versions and the data folder

RUN: a run's id, its name (when no other run has it), its folder (…/runs/<id>, absolute or relative), or one
of its checkpoint files (…/runs/<id>/checkpoints/ckpt-….safetensors, which also picks that checkpoint).

Global options:
  --data-dir DIR    Data folder (default: SCORE_LAB_HOME, else the app's per-user folder)
  --backend NAME    Force a backend: tensorflow, webgpu, native, wasm, cpu (same as SCORE_LAB_BACKEND)
  --json            Print one JSON object as the last line of stdout
  -h, --help        Show this help`

export { UsageError }

const BASE_OPTIONS = {
  'data-dir': { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean', default: false },
  host: { type: 'string' },
  port: { type: 'string' },
  'allow-host': { type: 'string', multiple: true },
  'new-token': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  ...TRAIN_OPTIONS
} as const satisfies ParseArgsConfig['options']

type Options = typeof BASE_OPTIONS & (typeof import('./commands/sample'))['SAMPLE_OPTIONS']

/**
 * Every option of every command (sample.ts keeps its own table, so it is imported here), and on
 * a sampling command line each sampler setting's flag (from the engine's registry: samplers.ts).
 */
async function commandLineOptions(argv: string[]): Promise<Options> {
  const { SAMPLE_OPTIONS } = await import('./commands/sample')
  const options = { ...BASE_OPTIONS, ...SAMPLE_OPTIONS }
  return { ...options, ...(await (await import('./commands/samplers')).samplingOptions(argv, options)) }
}

/** A value that is a negative number (-1, -2e-3, -.5), not an option. */
const NEGATIVE_NUMBER = /^-(?:\d|\.\d)/

/**
 * Joins a negative number to the string option before it (`--lr -1` → `--lr=-1`), which
 * parseArgs would otherwise take for an option and refuse as "ambiguous"; the schema then
 * says why the value is out of range. Nothing after `--` is touched.
 */
export function joinNegativeValues(argv: string[], options: ParseArgsConfig['options']): string[] {
  const stringLong = new Set(Object.entries(options ?? {}).filter(([, o]) => o.type === 'string').map(([name]) => name))
  const stringShort = new Set(Object.values(options ?? {}).filter((o) => o.type === 'string' && o.short).map((o) => o.short!))
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      out.push(...argv.slice(i))
      break
    }
    const next = argv[i + 1]
    if (next !== undefined && NEGATIVE_NUMBER.test(next)) {
      if (arg.startsWith('--') && stringLong.has(arg.slice(2))) {
        out.push(`${arg}=${next}`)
        i++
        continue
      }
      if (/^-[^-]$/.test(arg) && stringShort.has(arg.slice(1))) {
        out.push(`${arg}${next}`)
        i++
        continue
      }
    }
    out.push(arg)
  }
  return out
}

function parseCommandLine(argv: string[], options: Options) {
  try {
    return parseArgs({ args: joinNegativeValues(argv, options), allowPositionals: true, strict: true, options })
  } catch (err) {
    // node:util's messages run over several lines; keep all of them, on the one line errors get.
    if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      const message = (err as Error).message.split('\n').map((l) => l.trim()).filter(Boolean).join(' ')
      throw new UsageError(`${message}${/[.!?]$/.test(message) ? '' : '.'} Run score-lab --help for the options.`)
    }
    throw err
  }
}

export async function main(argv: string[]): Promise<number> {
  // `score-lab`, `score-lab --help`: nothing to check but the help itself, so nothing else loads.
  if (argv.every((a) => a === '--help' || a === '-h')) {
    console.log(USAGE)
    return argv.length ? 0 : 2
  }
  const { values, positionals } = parseCommandLine(argv, await commandLineOptions(argv))
  const [command, ...rest] = positionals
  if (values.help || !command) {
    console.log(USAGE)
    return command || values.help ? 0 : 2
  }
  const { createCli } = await import('./context')
  const cli = await createCli({ dataDir: values['data-dir'], backend: values.backend, json: values.json, command }, command === 'serve' ? 'browser' : 'cli')
  try {
    switch (command) {
      case 'info': {
        const info = await cli.call('system.info', {})
        cli.result(info, JSON.stringify(info, null, 2))
        return 0
      }
      case 'doctor': {
        const report = await cli.call('system.doctor', {})
        cli.say(`Backend in use: ${report.backend.name} — ${report.backend.device}`)
        if (report.backend.choice) cli.say(`Why: ${report.backend.choice}`)
        const timed = report.backend.attempts.filter((a) => a.stepMs !== undefined)
        if (timed.length > 0) cli.say(`Measured training step: ${timed.map((a) => `${a.name} ${a.stepMs!.toFixed(1)} ms`).join(', ')}`)
        cli.say('')
        for (const c of report.checks) {
          cli.say(`${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`)
          if (!c.ok && c.fix) cli.say(`    fix: ${c.fix}`)
        }
        cli.result(report)
        return report.ok ? 0 : 1
      }
      case 'train':
        return await (await import('./commands/train')).trainCommand(cli, values)
      case 'train-group':
        return await (await import('./commands/train-group')).trainGroupCommand(cli, values)
      case 'train-classifier':
        return await (await import('./commands/classifier')).trainClassifierCommand(cli, values)
      case 'sample':
        return await (await import('./commands/sample')).sampleCommand(cli, values)
      case 'compare':
        return await (await import('./commands/sample')).compareCommand(cli, values)
      case 'sweep':
        return await (await import('./commands/sample')).sweepCommand(cli, values)
      case 'metric':
        return await (await import('./commands/sample')).metricCommand(cli, values)
      case 'likelihood':
        return await (await import('./commands/sample')).likelihoodCommand(cli, values)
      case 'interpolate':
        return await (await import('./commands/sample')).interpolateCommand(cli, values)
      case 'samplers':
        return await (await import('./commands/samplers')).samplersCommand(cli)
      case 'datasets':
        return await (await import('./commands/datasets')).datasetsCommand(cli, rest)
      case 'runs':
        return await (await import('./commands/runs')).runsCommand(cli, rest, values)
      case 'serve':
        return await serve(cli, values.host, values.port, values['allow-host'] ?? [], values['new-token'])
      default:
        throw new UsageError(`unknown command "${command}". Run score-lab --help for the list.`)
    }
  } finally {
    await cli.service.close()
  }
}

async function serve(
  cli: Cli,
  hostFlag: string | undefined,
  portFlag: string | undefined,
  allowedHosts: string[],
  newToken = false
): Promise<number> {
  const host = hostFlag ?? '127.0.0.1'
  const { int } = await import('./context')
  const port = int('port', portFlag) ?? 5170
  if (port < 0 || port > 65535) throw new UsageError(`--port must be from 0 to 65535, got ${port}`)
  const { startServer } = await import('../server/server')
  const server = await startServer({ service: cli.service, host, port, staticDir: rendererDir, allowedHosts, newToken })
  cli.say(`Score Lab (browser mode) is serving on ${server.url}`)
  cli.say(`Open: ${server.openUrl}`)
  cli.say(`Data folder: ${cli.service.dataDir}`)
  if (server.tokenMade === 'rotated') cli.say('New access token (--new-token): tabs opened with the old one are refused; open the URL above.')
  else if (server.tokenMade && server.tokenMade !== 'created') {
    cli.say(`Warning: ${server.tokenFile} was ${server.tokenMade}; it was replaced with a new access token (owner-only).`)
  }
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    cli.say('Warning: listening beyond this machine; anyone who has the token can use the lab. Prefer an SSH tunnel (see README).')
  }
  const info = await cli.call('system.info', {})
  cli.say(`Backend: ${info.backend.name} — ${info.backend.device}`)
  // Handlers first: a script that reads the result line may stop the server at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => void server.close().then(resolve)
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  cli.result({ url: server.url, openUrl: server.openUrl, dataDir: cli.service.dataDir, backend: info.backend.name })
  await stopped
  return 0
}

/**
 * The reader of our output went away (`score-lab runs list | head -1`): nothing more can be
 * shown, so exit quietly with success instead of an unhandled EPIPE stack trace.
 */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0)
    throw err
  })
}

export async function run(argv: string[]): Promise<void> {
  exitQuietlyOnClosedPipe(process.stdout)
  exitQuietlyOnClosedPipe(process.stderr)
  try {
    process.exitCode = await main(argv)
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err)
    const { escapeControlChars } = await import('../shared/contract')
    console.error(`score-lab: ${escapeControlChars(msg.split('\n')[0] ?? '')}`)
    process.exitCode = 2
  }
}
