// Writing to a path the user chose (an export, `sample --out`). The target is checked without
// following links: a symlink, a device, a folder or a FIFO there is refused, an existing file is
// replaced only when the caller says so, and the bytes go to a temp file in the same folder that
// is renamed over the target only once complete, so a failed write (full disk, I/O error) leaves
// the previous file as it was.
import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomicSync } from './atomic-write'

export type OutputProblem = 'exists' | 'not_regular' | 'no_folder' | 'write_failed'

export class OutputRefused extends Error {
  override name = 'OutputRefused'
  constructor(
    readonly problem: OutputProblem,
    message: string
  ) {
    super(message)
  }
}

function kind(st: fs.Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link'
  if (st.isDirectory()) return 'a folder'
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device'
  if (st.isFIFO()) return 'a pipe'
  if (st.isSocket()) return 'a socket'
  return 'not a regular file'
}

/** Refuses a target that must not be written (see the file comment); returns its absolute path. */
export function checkOutputPath(target: string, opts: { overwrite: boolean }): string {
  const out = path.resolve(target)
  const dir = path.dirname(out)
  let dirStat: fs.Stats
  try {
    dirStat = fs.statSync(dir)
  } catch {
    throw new OutputRefused('no_folder', `Folder ${dir} does not exist.`)
  }
  if (!dirStat.isDirectory()) throw new OutputRefused('no_folder', `${dir} is not a folder.`)
  let st: fs.Stats | null = null
  try {
    st = fs.lstatSync(out)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new OutputRefused('write_failed', `Cannot check ${out}: ${(err as Error).message}`)
  }
  if (st && !st.isFile()) throw new OutputRefused('not_regular', `Refusing to write to ${out}: it is ${kind(st)}, not a regular file.`)
  if (st && !opts.overwrite) throw new OutputRefused('exists', `${out} already exists.`)
  return out
}

/** Writes `data` to a user-chosen path, safely (see the file comment). Returns the absolute path. */
export function writeOutputFile(target: string, data: Uint8Array | string, opts: { overwrite: boolean }): string {
  const out = checkOutputPath(target, opts)
  try {
    // rename(2) replaces the directory entry itself: even a symlink swapped in since the check
    // is replaced, never followed.
    writeFileAtomicSync(out, data)
  } catch (err) {
    throw new OutputRefused('write_failed', `Could not write ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; the previous file, if any, is unchanged.`)
  }
  return out
}
