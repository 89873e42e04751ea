// One error type for every data-set problem, so the UI and CLI can show "file: problem"
// and branch on `code` (e.g. offer import when the code is 'offline').

export type DatasetErrorCode =
  | 'bad-magic'
  | 'truncated-gzip'
  | 'truncated'
  | 'bad-format'
  | 'count-mismatch'
  | 'checksum'
  | 'bad-size'
  | 'missing-member'
  | 'empty'
  | 'not-found'
  | 'unreadable'
  | 'offline'
  | 'http'
  | 'aborted'
  | 'unknown-dataset'
  | 'not-present'

export class DatasetError extends Error {
  override readonly name = 'DatasetError'

  constructor(
    readonly code: DatasetErrorCode,
    /** The file (or folder, or URL) the problem is about. */
    readonly file: string,
    /** What is wrong, in words; the message is `${file}: ${problem}`. */
    readonly problem: string,
    options?: { cause?: unknown }
  ) {
    super(`${file}: ${problem}`, options)
  }
}

/** Turns a Node fs error into a DatasetError naming the path, so callers never see bare ENOENT. */
export function fsError(err: unknown, file: string, doing = 'read'): DatasetError {
  if (err instanceof DatasetError) return err
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ENOENT') return new DatasetError('not-found', file, 'no such file or folder', { cause: err })
  if (code === 'EISDIR') return new DatasetError('unreadable', file, `cannot ${doing}: it is a folder, a file was expected`, { cause: err })
  if (code === 'ENOTDIR') return new DatasetError('unreadable', file, `cannot ${doing}: a folder was expected`, { cause: err })
  if (code === 'EACCES' || code === 'EPERM') return new DatasetError('unreadable', file, `cannot ${doing}: permission denied`, { cause: err })
  const msg = err instanceof Error ? err.message : String(err)
  return new DatasetError('unreadable', file, `cannot ${doing}: ${msg}`, { cause: err })
}
