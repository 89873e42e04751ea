import { ProgressLine, formatDuration } from '../progress'
import { UsageError, waitForJob, type Cli } from '../context'
import { DATASETS_USAGE } from '../options'

export { DATASETS_USAGE }

export async function datasetsCommand(cli: Cli, args: string[]): Promise<number> {
  const [sub, name, file] = args
  const need = (what: string | undefined, label: string) => {
    if (!what) throw new UsageError(`missing ${label}. Usage: ${DATASETS_USAGE}`)
    return what
  }
  switch (sub) {
    case 'list': {
      const list = await cli.call('datasets.list', {})
      for (const d of list) {
        const size = d.bytesOnDisk ? ` ${(d.bytesOnDisk / 1e6).toFixed(1)} MB` : ''
        const extra = d.state === 'not-present' && d.systemCopy ? ` (system copy at ${d.systemCopy})` : d.problem ? ` — ${d.problem}` : ''
        cli.say(`${d.name.padEnd(14)} ${d.state.padEnd(12)}${size}${extra}`)
      }
      cli.result(list.map((d) => ({ name: d.name, state: d.state, bytesOnDisk: d.bytesOnDisk, problem: d.problem ?? null })))
      return 0
    }
    case 'get': {
      const n = need(name, 'NAME')
      const { jobId } = await cli.call('datasets.get', { name: n })
      const bar = new ProgressLine(n)
      const end = await waitForJob(cli, jobId, (f, eta, rate) => bar.update(f, rate ? `${(rate / 1e6).toFixed(1)} MB/s` : '', eta))
      bar.done()
      if (end.state !== 'finished') throw new UsageError(end.error ?? `getting ${n} was ${end.state}`)
      const listing = (await cli.call('datasets.list', {})).find((d) => d.name === n)!
      cli.result({ name: n, state: listing.state }, `${n}: ${listing.state}`)
      return 0
    }
    case 'import': {
      const listing = await cli.call('datasets.import', { name: need(name, 'NAME'), path: need(file, 'PATH') })
      cli.result({ name: listing.name, state: listing.state }, `${listing.name}: ${listing.state}`)
      return 0
    }
    case 'verify': {
      const listing = await cli.call('datasets.verify', { name: need(name, 'NAME') })
      cli.result({ name: listing.name, state: listing.state, problem: listing.problem ?? null }, `${listing.name}: ${listing.state}${listing.problem ? ` — ${listing.problem}` : ''}`)
      return listing.state === 'verified' ? 0 : 1
    }
    case 'delete': {
      await cli.call('datasets.delete', { name: need(name, 'NAME') })
      cli.result({ name, deleted: true }, `${name} deleted`)
      return 0
    }
    default:
      throw new UsageError(`unknown datasets command "${sub ?? ''}". Usage: ${DATASETS_USAGE}`)
  }
}

export { formatDuration }
