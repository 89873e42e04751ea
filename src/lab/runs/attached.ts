// Run folders attached from outside the data folder: a run the PyTorch package (runs export-torch)
// trains on a cluster and the user syncs back, shown by the lab like its own. This module adds
// and removes entries of the data folder's list (run-layout.ts names the file and reads it).
// Detaching forgets the folder; it never deletes it, since the lab did not make it.
import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomicSync } from '../../engine/io/atomic-write'
import { RunSummarySchema, type RunSummary } from '../../shared/contract'
import { HandlerError } from '../dispatch'
import { attachedRunDirs, attachedRunsFile, RUN_ID, runPathsAt } from './run-layout'

/** What attaching needs of the run store (store.ts imports this module, so not the class itself). */
interface Runs {
  readonly dataDir: string
  readonly root: string
  get(id: string): RunSummary
}

function writeList(dataDir: string, dirs: Map<string, string>): void {
  const runs = [...dirs].map(([id, dir]) => ({ id, dir }))
  writeFileAtomicSync(attachedRunsFile(dataDir), JSON.stringify({ runs }, null, 2) + '\n')
}

/** Reads a folder's run.json as a run, or says why it is not one. */
function readRunFile(dir: string): RunSummary {
  const file = runPathsAt(dir).runFile
  let json: unknown
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `has no ${path.basename(file)} yet (start train.py, or sync the folder, first)` : `has a damaged ${path.basename(file)}`
    throw new HandlerError({ code: 'bad_request', message: `${dir} ${why}.` })
  }
  const parsed = RunSummarySchema.safeParse(json)
  if (!parsed.success) throw new HandlerError({ code: 'bad_request', message: `${file} is not a Score Lab run file.` })
  return parsed.data
}

/** Adds a run folder to the lab; answers the run. The same folder twice is the same run (no error). */
export function attachRun(runs: Runs, folder: string): RunSummary {
  const dir = fs.existsSync(folder) ? fs.realpathSync(folder) : path.resolve(folder)
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new HandlerError({ code: 'bad_request', message: `${dir} is not a folder.` })
  const run = readRunFile(dir)
  if (!RUN_ID.test(run.id)) throw new HandlerError({ code: 'bad_request', message: `${dir}: its run id "${run.id.slice(0, 40)}" cannot name a run.` })
  const list = attachedRunDirs(runs.dataDir)
  const listed = list.get(run.id)
  if (listed === dir) return runs.get(run.id)
  if (listed) throw new HandlerError({ code: 'conflict', message: `Run ${run.id} is already attached from ${listed}; detach it (runs delete) before attaching ${dir}.` })
  if (fs.existsSync(runPathsAt(path.join(runs.root, run.id)).runFile)) {
    throw new HandlerError({ code: 'conflict', message: `This lab already has a run ${run.id} of its own; ${dir} is a copy of it, not a run to attach.` })
  }
  if (path.dirname(dir) === fs.realpathSync(runs.root)) throw new HandlerError({ code: 'bad_request', message: `${dir} is inside this lab's runs folder already.` })
  list.set(run.id, dir)
  writeList(runs.dataDir, list)
  return runs.get(run.id)
}

/** Forgets an attached folder (its files stay where they are). False when the id is not attached. */
export function detachRun(dataDir: string, id: string): boolean {
  const list = attachedRunDirs(dataDir)
  if (!list.delete(id)) return false
  writeList(dataDir, list)
  return true
}
