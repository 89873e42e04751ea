// score-lab train-group: a run group (lab/run-groups.ts) from the command line — the recipe of the
// train flags, trained once per value of --vary SETTING=A,B,C, one run after another; waits for all
// and lists each run's final loss (its JSON: the group and its runs).
import { GROUP_SETTINGS, NUMERIC_GROUP_SETTINGS } from '../../shared/contract'
import { ProgressLine } from '../progress'
import { UsageError, waitForJob, type Cli } from '../context'
import { configFromFlags, type TrainFlags } from './train'

/** --vary's value: the setting and its comma-separated values (numbers stay strings: the lab parses them per setting). */
function varyFlag(value: string | undefined): { setting: (typeof GROUP_SETTINGS)[number]; values: string[] } {
  const m = value ? /^([A-Za-z]+)=(.+)$/.exec(value) : null
  if (!m) throw new UsageError(`--vary SETTING=A,B,C is required (SETTING: ${GROUP_SETTINGS.join(', ')}), got ${value === undefined ? 'nothing' : `"${value}"`}`)
  const setting = m[1] as (typeof GROUP_SETTINGS)[number]
  if (!(GROUP_SETTINGS as readonly string[]).includes(setting)) throw new UsageError(`--vary: ${m[1]} cannot be varied; choose one of ${GROUP_SETTINGS.join(', ')}`)
  const values = m[2]!.split(',').map((v) => v.trim()).filter(Boolean)
  if (values.length < 2) throw new UsageError(`--vary ${setting}= needs at least two values, comma-separated`)
  return { setting, values }
}

export async function trainGroupCommand(cli: Cli, flags: TrainFlags & { vary?: string }): Promise<number> {
  const vary = varyFlag(flags.vary)
  if (!flags.name) throw new UsageError('--name GROUP is required (the runs are tagged group:GROUP)')
  const sizes = Object.fromEntries((await cli.call('engine.catalog', {})).datasets.map((d) => [d.name, d.size]))
  const config = configFromFlags(flags, sizes)
  const values = vary.values.map((v) => (NUMERIC_GROUP_SETTINGS.has(vary.setting) && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v))
  const { group, runs } = await cli.call('runs.startGroup', { config, name: flags.name, vary: { setting: vary.setting, values } })
  cli.say(`group ${group}: ${runs.length} runs, one after another`)
  const rows = []
  for (const [i, r] of runs.entries()) {
    const bar = new ProgressLine(`${i + 1}/${runs.length} ${vary.setting}=${r.value}`)
    const end = await waitForJob(cli, r.jobId, (f, eta, rate) => bar.update(f, `${rate?.toFixed(1) ?? '—'} steps/s`, eta))
    bar.done()
    const { run } = await cli.call('runs.get', { runId: r.runId })
    rows.push({ runId: r.runId, value: r.value, status: run.status, step: run.step, loss: run.lastLoss, error: end.state === 'failed' ? end.error : null })
  }
  const width = Math.max(...rows.map((r) => String(r.value).length), vary.setting.length)
  const table = rows.map((r) => `${String(r.value).padEnd(width)}  ${r.status.padEnd(9)} step ${String(r.step).padStart(7)}  loss ${r.loss?.toPrecision(5) ?? '—'}${r.error ? `  (${r.error})` : ''}`).join('\n')
  cli.result({ group, setting: vary.setting, runs: rows }, `${vary.setting.padEnd(width)}  final loss\n${table}`)
  return rows.some((r) => r.status === 'failed') ? 1 : 0
}
