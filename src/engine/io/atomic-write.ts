// Atomic file replacement: write a temp file beside the target, fsync it, rename it over the
// target, fsync the folder. A crash or a full disk at any point leaves either the old file or
// the new one, never a torn one; a failed write removes its temp file.
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'

export function writeFileAtomicSync(target: string, data: Uint8Array | string): void {
  const dir = path.dirname(target)
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`)
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
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`)
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
