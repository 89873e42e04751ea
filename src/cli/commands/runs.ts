import path from 'node:path'
import { formatDuration } from '../progress'
import { UsageError, type Cli } from '../context'
import { escapeControlChars } from '../../shared/contract'
import { resolveRunRef } from '../../lab/runs/run-ref'
import { RUNS_USAGE } from '../options'

export { RUNS_USAGE }

export async function runsCommand(cli: Cli, args: string[], flags: { dataset?: string; name?: string; out?: string } = {}): Promise<number> {
  const [sub, id] = args
  switch (sub) {
    case 'list': {
      const runs = await cli.call('runs.list', {})
      if (runs.length === 0) cli.say('No runs yet — start one with: score-lab train --dataset toy-gmm --model mlp --sde vp --steps 2000')
      // Names written before control characters were refused are shown escaped (\x1b), not sent to the terminal.
      for (const r of runs) {
        cli.say(`${r.id}  ${r.status.padEnd(11)} step ${String(r.step).padStart(7)}  loss ${r.lastLoss?.toPrecision(4) ?? '—'}  ${formatDuration(r.trainMs / 1000)}  ${escapeControlChars(r.name)}`)
      }
      cli.result(runs.map((r) => ({ id: r.id, name: r.name, status: r.status, step: r.step, lastLoss: r.lastLoss })))
      return 0
    }
    case 'show': {
      if (!id) throw new UsageError(`missing RUN. Usage: ${RUNS_USAGE}`)
      const { runId } = resolveRunRef(cli.service.runs, id)
      const { run, checkpoints } = await cli.call('runs.get', { runId })
      // JSON.stringify escapes C0 controls in strings but not C1, U+2028/9 or bidi controls, which
      // names and notes from older run files may hold: escaped line by line (the layout's own breaks stay).
      const text = JSON.stringify({ ...run, checkpoints }, null, 2)
      cli.say(text.split('\n').map((line) => escapeControlChars(line, { json: true })).join('\n'))
      cli.result({ ...run, runDir: cli.service.runs.dir(run.id), checkpoints })
      return 0
    }
    case 'delete': {
      if (!id) throw new UsageError(`missing RUN. Usage: ${RUNS_USAGE}`)
      const { runId, checkpoint } = resolveRunRef(cli.service.runs, id)
      // A checkpoint file names its run, but deleting the whole run for it would surprise.
      if (checkpoint) throw new UsageError(`${id} is a checkpoint of run ${runId}; runs delete removes a whole run, so give the run (its id, name or folder)`)
      await cli.call('runs.delete', { runId })
      cli.result({ id: runId, deleted: true }, `deleted ${runId}`)
      return 0
    }
    case 'import-torch': {
      if (!id) throw new UsageError(`missing FILE. Usage: ${RUNS_USAGE}`)
      if (!flags.dataset) throw new UsageError('--dataset mnist|fashion-mnist|cifar10 is required (it sets the image size and the run\'s data)')
      const run = await cli.call('runs.importTorch', { path: path.resolve(id), dataset: flags.dataset, name: flags.name })
      cli.result({ id: run.id, runDir: cli.service.runs.dir(run.id) }, `imported as run ${run.id}`)
      return 0
    }
    case 'export-torch': {
      if (!id) throw new UsageError(`missing RUN. Usage: ${RUNS_USAGE}`)
      if (!flags.out) throw new UsageError('--out DIR is required (a new or empty folder for the package)')
      const { runId } = resolveRunRef(cli.service.runs, id)
      const pkg = await cli.call('runs.exportTorch', { runId, path: path.resolve(flags.out) })
      cli.say(`PyTorch package of run ${runId} (from step ${pkg.startStep}) → ${pkg.path}`)
      cli.say(`Train it (one machine; GPUS processes, nccl on GPUs, gloo on CPUs), then several nodes:`)
      for (const c of pkg.commands) cli.say(`  ${c}`)
      cli.say(`Watch it here: score-lab runs attach ${pkg.runDir}   (sync that folder back while it trains)`)
      cli.result(pkg)
      return 0
    }
    case 'attach': {
      if (!id) throw new UsageError(`missing DIR. Usage: ${RUNS_USAGE}`)
      const run = await cli.call('runs.attach', { path: path.resolve(id) })
      const where = run.trainsElsewhere ? `; it trains elsewhere (${run.trainsElsewhere.where})` : ''
      cli.result({ id: run.id, runDir: run.attachedDir, status: run.status, step: run.step }, `attached ${run.attachedDir} as run ${run.id} at step ${run.step}${where}`)
      return 0
    }
    default:
      throw new UsageError(`unknown runs command "${sub ?? ''}". Usage: ${RUNS_USAGE}`)
  }
}
