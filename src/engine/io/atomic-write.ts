// Atomic file replacement (writes and copies): a temp file beside the target, fsync it, rename
// it over the target, fsync the folder. A crash or a full disk at any point leaves either the old
// file or the new one, never a torn one; a failed write removes its temp file.
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'

/** `.NAME.PID.RAND.tmp` beside the target: hidden, and recognisable as a torn write's leftover. */
function tempPath(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`)
}

export function writeFileAtomicSync(target: string, data: Uint8Array | string): void {
  const dir = path.dirname(target)
  const tmp = tempPath(target)
  let fd: number | null = null
  try {
    fd = fs.openSync(tmp, 'wx', 0o644) // wx: never through a link planted at the temp name
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    let off = 0
    while (off < bytes.byteLength) off += fs.writeSync(fd, bytes, off, bytes.byteLength - off)
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fd = null
    fs.renameSync(tmp, target)
  } catch (err) {
    if (fd !== null) fs.closeSync(fd)
    fs.rmSync(tmp, { force: true })
    throw err
  }
  fsyncDir(dir)
}

export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(target)
  const tmp = tempPath(target)
  const handle = await fs.promises.open(tmp, 'wx', 0o644)
  try {
    await handle.writeFile(data)
    await handle.sync()
    await handle.close()
    await fs.promises.rename(tmp, target)
  } catch (err) {
    await handle.close().catch(() => {})
    await fs.promises.rm(tmp, { force: true })
    throw err
  }
  fsyncDir(dir)
}

/** Copies `src` to `target` the same way: copy to the temp name, fsync, rename. */
export async function copyFileAtomic(src: string, target: string): Promise<void> {
  const dir = path.dirname(target)
  const tmp = tempPath(target)
  try {
    await fs.promises.copyFile(src, tmp, fs.constants.COPYFILE_EXCL) // EXCL: as 'wx' above
    const handle = await fs.promises.open(tmp, 'r+')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.promises.rename(tmp, target)
  } catch (err) {
    await fs.promises.rm(tmp, { force: true })
    throw err
  }
  fsyncDir(dir)
}

export function fsyncDir(dir: string): void {
  // Makes the rename itself durable; some platforms (Windows) cannot open folders, which is fine.
  try {
    const fd = fs.openSync(dir, 'r')
    try {
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    /* best effort */
  }
}
