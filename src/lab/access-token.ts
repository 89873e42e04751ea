// The browser-mode access token, kept per data folder (<dataDir>/browser-token) so that a
// restarted `score-lab serve` accepts the tabs it served before: they reconnect by themselves
// instead of being refused for a token nobody can see any more. The file is the user's alone
// (0600, written atomically); one that others can read, that is not a plain file of ours, or
// that does not hold a well-formed token is never trusted: a new token replaces it.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fsyncDir } from '../engine/io/atomic-write'

export const TOKEN_FILE = 'browser-token'
/** base64url, 32 characters (24 random bytes) when we make it; longer ones are accepted. */
export const TOKEN_SHAPE = /^[A-Za-z0-9_-]{32,256}$/
const POSIX = process.platform !== 'win32'

export interface AccessToken {
  token: string
  /** Where it is kept. */
  file: string
  /** Why a new token was made ('rotated', 'created', or what was wrong with the old file); absent when reused. */
  made?: string
}

export function newToken(): string {
  return crypto.randomBytes(24).toString('base64url')
}

/** The stored token, or why the file cannot be used. */
export function readToken(file: string): { token: string } | { problem: string } {
  let st: fs.Stats
  try {
    st = fs.lstatSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { problem: 'missing' }
    return { problem: `unreadable (${(err as NodeJS.ErrnoException).code ?? 'error'})` }
  }
  if (!st.isFile()) return { problem: 'not a regular file' }
  if (POSIX) {
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return { problem: 'owned by another user' }
    if (st.mode & 0o077) return { problem: `readable by others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})` }
  }
  if (st.size > 1024) return { problem: 'not a token (too long)' }
  let text: string
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0))
    try {
      text = fs.readFileSync(fd, 'utf8')
    } finally {
      fs.closeSync(fd)
    }
  } catch (err) {
    return { problem: `unreadable (${(err as NodeJS.ErrnoException).code ?? 'error'})` }
  }
  const token = text.replace(/\r?\n$/, '')
  return TOKEN_SHAPE.test(token) ? { token } : { problem: 'not a token' }
}

/**
 * The data folder's token: the stored one when it can be trusted, else a new one written in its
 * place. `rotate` always makes a new one (`score-lab serve --new-token`): tabs holding the old
 * one are refused from then on.
 */
export function loadAccessToken(dataDir: string, opts: { rotate?: boolean } = {}): AccessToken {
  const file = path.join(dataDir, TOKEN_FILE)
  let made = 'rotated'
  if (!opts.rotate) {
    const found = readToken(file)
    if ('token' in found) return { token: found.token, file }
    made = found.problem === 'missing' ? 'created' : found.problem
    if (found.problem === 'missing') {
      // Two servers starting at once on a new folder agree on one token: link() never replaces.
      const token = newToken()
      if (writeToken(file, token, 'create')) return { token, file, made }
      const theirs = readToken(file)
      if ('token' in theirs) return { token: theirs.token, file }
      made = theirs.problem
    }
  }
  const token = newToken()
  writeToken(file, token, 'replace')
  return { token, file, made }
}

/**
 * Writes the token to a private temp file (0600 whatever the umask), flushes it, then puts it in
 * place: 'create' links it (false when a file is already there), 'replace' renames it over
 * whatever is there (a symlink is replaced, never followed).
 */
function writeToken(file: string, token: string, mode: 'create' | 'replace'): boolean {
  try {
    return putToken(file, token, mode)
  } catch (err) {
    throw new Error(`could not write the access token to ${file}: ${(err as Error).message}`)
  }
}

function putToken(file: string, token: string, mode: 'create' | 'replace'): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`
  const fd = fs.openSync(tmp, 'wx', 0o600)
  try {
    try {
      if (POSIX) fs.fchmodSync(fd, 0o600)
      fs.writeSync(fd, token + '\n')
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    if (mode === 'create') {
      try {
        fs.linkSync(tmp, file)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'EEXIST') return false
        // No hard links here (some network and FAT file systems): fall back to a rename.
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err
        fs.renameSync(tmp, file)
      }
    } else {
      fs.renameSync(tmp, file)
    }
    fsyncDir(path.dirname(file))
    return true
  } finally {
    fs.rmSync(tmp, { force: true })
  }
}

