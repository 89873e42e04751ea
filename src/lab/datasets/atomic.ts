// Durable copies for the data folder: temp name, fsync, rename, fsync the folder, so a crash
// leaves either the old file or the new one. JSON writes use engine/io/atomic-write.
import { randomBytes } from 'node:crypto'
import { copyFile, open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { fsyncDir } from '../../engine/io/atomic-write'

export const tempName = (path: string) => `${path}.tmp-${randomBytes(4).toString('hex')}`

/** fsyncs a folder so a rename in it survives a crash; skipped where folders cannot be opened (Windows). */
export async function syncDir(dir: string): Promise<void> {
  fsyncDir(dir)
}

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Copies to `dest` durably (temp name + fsync + rename). */
export async function copyFileAtomic(src: string, dest: string): Promise<void> {
  const tmp = tempName(dest)
  try {
    await copyFile(src, tmp)
    await syncFile(tmp)
    await rename(tmp, dest)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  await syncDir(dirname(dest))
}
