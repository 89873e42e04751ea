// One answer to "which run does the user mean?" for every place a run is named (the CLI's
// --checkpoint, --resume, runs show/delete, compare, likelihood). A reference may be:
//   - the run's id (its folder name under <dataDir>/runs/);
//   - its name, when exactly one run has it (several: refused, listing them with ids and dates);
//   - its folder, absolute or relative, with or without a trailing slash (it must be a run of
//     this data folder; a run of another data folder is refused naming the --data-dir to use);
//   - one of its checkpoint files (…/runs/<id>/checkpoints/ckpt-….safetensors), which also
//     selects that checkpoint;
//   - the folder (or a checkpoint file) of a run attached from elsewhere (runs attach).
// Messages always carry the whole reference and whole paths, never a cut-short copy.
import fs from 'node:fs'
import path from 'node:path'
import { HandlerError } from '../dispatch'
import type { RunStore } from './store'
import { CHECKPOINTS_DIR, RUN_FILE, RUN_ID, RUNS_DIR, runDirOfCheckpoint } from './run-layout'

export interface RunRef {
  runId: string
  /** The checkpoint file's name (ckpt-….safetensors) when the reference was a checkpoint file. */
  checkpoint?: string
}

export function resolveRunRef(runs: RunStore, ref: string, opts: { cwd?: string } = {}): RunRef {
  if (ref.trim() === '') throw new HandlerError({ code: 'bad_request', message: 'No run given: name it by id, name, folder or checkpoint file (score-lab runs list shows them).' })
  // 1. An id of this data folder.
  if (RUN_ID.test(ref) && isFile(runs.paths(ref).runFile)) return { runId: ref }
  // 2. A folder or file that exists.
  const looksLikePath = path.isAbsolute(ref) || ref.includes('/') || ref.includes(path.sep) || ref === '.' || ref === '..' || ref.endsWith('.safetensors')
  const abs = path.resolve(opts.cwd ?? process.cwd(), ref)
  if (looksLikePath && fs.existsSync(abs)) return fromPath(runs, ref, abs)
  // 3. A run's name.
  const name = ref.trim()
  const named = runs.list().filter((r) => r.name === name)
  if (named.length === 1) return { runId: named[0]!.id }
  if (named.length > 1) {
    const list = named.map((r) => `${r.id} (created ${stamp(r.createdAt)})`).join('; ')
    throw new HandlerError({ code: 'bad_request', message: `${named.length} runs are named "${name}": ${list}. Give one of these ids instead.` })
  }
  if (looksLikePath) throw new HandlerError({ code: 'not_found', message: `Nothing at ${abs}: no run folder or checkpoint file there, and no run is named "${ref}".` })
  throw new HandlerError({
    code: 'not_found',
    message: `No run "${ref}" in ${runs.root}: it is not a run id, a run name, a run folder or a checkpoint file (score-lab runs list shows the runs).`
  })
}

/** An existing path → the run whose folder it is, or whose checkpoint file it is. */
function fromPath(runs: RunStore, ref: string, abs: string): RunRef {
  const real = fs.realpathSync(abs)
  const stat = fs.statSync(real)
  let runDir: string
  let checkpoint: string | undefined
  if (stat.isDirectory()) {
    if (!isFile(path.join(real, RUN_FILE))) {
      const inside = isFile(path.join(path.dirname(real), RUN_FILE)) ? `; it is inside the run folder ${path.dirname(real)}, which is the one to give` : ''
      throw new HandlerError({ code: 'bad_request', message: `${abs} is not a run folder (it has no ${RUN_FILE})${inside}.` })
    }
    runDir = real
  } else {
    const owner = runDirOfCheckpoint(real)
    if (!(stat.isFile() && real.endsWith('.safetensors') && owner && isFile(path.join(owner, RUN_FILE)))) {
      throw new HandlerError({
        code: 'bad_request',
        message: `${abs} is neither a run folder nor a checkpoint file of a run (…/${RUNS_DIR}/<id>/${CHECKPOINTS_DIR}/ckpt-….safetensors).`
      })
    }
    runDir = owner
    checkpoint = path.basename(real)
  }
  for (const [id, dir] of runs.attached()) {
    if (realOr(dir) === runDir) return checkpoint ? { runId: id, checkpoint } : { runId: id }
  }
  const root = realOr(runs.root)
  const runId = path.basename(runDir)
  if (path.dirname(runDir) === root && RUN_ID.test(runId)) return checkpoint ? { runId, checkpoint } : { runId }
  if (path.dirname(runDir) === root) throw new HandlerError({ code: 'bad_request', message: `${runDir} is not a run folder this lab opens (its name is not a run id).` })
  const dataDir = path.dirname(runs.root)
  const what = checkpoint ? `${abs} is a checkpoint of the run ${runDir}` : `${runDir} is a run folder`
  if (path.basename(path.dirname(runDir)) === RUNS_DIR) {
    const other = path.dirname(path.dirname(runDir))
    throw new HandlerError({
      code: 'bad_request',
      message: `${what} of another data folder, ${other} (this one is ${dataDir}); pass --data-dir ${shellWord(other)} to use it.`
    })
  }
  throw new HandlerError({ code: 'bad_request', message: `${what} outside this data folder's runs (${runs.root}); only runs inside it can be used.` })
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

function realOr(p: string): string {
  try {
    return fs.realpathSync(p)
  } catch {
    return path.resolve(p)
  }
}

/** A creation time in words that sort: 2026-11-30 17:42:33 UTC. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')
}

/** A path as one shell word (quoted only where it has to be). */
function shellWord(p: string): string {
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`
}
