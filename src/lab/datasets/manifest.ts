// manifest.json: the record, written only after a full verification, of which files a set's
// folder holds and how each was checked. Matching size and mtime against it is what lets
// list() say 'verified' without re-hashing hundreds of megabytes each time.
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../../engine/io/atomic-write'
import { readBytes, type VerifiedBy, type VerifiedSource } from './import'

export const MANIFEST = 'manifest.json'
export const STATS = 'stats.json'

export interface Manifest {
  version: 1
  name: string
  verifiedAt: string
  files: { role: string; name: string; bytes: number; mtimeMs: number; by: VerifiedBy }[]
}

/** The data files of a set's folder: not the manifest, stats, hidden staging folders or temp files. */
export async function listDataFiles(dir: string): Promise<{ name: string; bytes: number }[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  const out: { name: string; bytes: number }[] = []
  for (const n of names.sort()) {
    if (n.startsWith('.') || n === MANIFEST || n === STATS || n.includes('.tmp-') || n.includes('.part-')) continue
    const st = await stat(join(dir, n)).catch(() => null)
    if (st?.isFile()) out.push({ name: n, bytes: st.size })
  }
  return out
}

export async function readManifest(dir: string): Promise<Manifest | null> {
  try {
    const m = JSON.parse(new TextDecoder().decode(await readBytes(join(dir, MANIFEST)))) as Manifest
    return m.version === 1 && Array.isArray(m.files) ? m : null
  } catch {
    return null
  }
}

export async function writeManifest(dir: string, m: Manifest): Promise<void> {
  await writeFileAtomic(join(dir, MANIFEST), JSON.stringify(m, null, 1))
}

/** True while every listed file still has the size and mtime it had when verified. */
export async function manifestMatches(dir: string, m: Manifest): Promise<boolean> {
  for (const f of m.files) {
    const st = await stat(join(dir, f.name)).catch(() => null)
    if (!st || st.size !== f.bytes || st.mtimeMs !== f.mtimeMs) return false
  }
  return m.files.length > 0
}

export async function makeManifest(name: string, verified: readonly VerifiedSource[], dir: string): Promise<Manifest> {
  const files: Manifest['files'] = []
  for (const v of verified) {
    const st = await stat(join(dir, v.storeName))
    files.push({ role: v.role, name: v.storeName, bytes: st.size, mtimeMs: st.mtimeMs, by: v.by })
  }
  return { version: 1, name, verifiedAt: new Date().toISOString(), files }
}

/** Identifies the verified content, to key caches such as stats.json. */
export function fingerprint(m: Manifest): string {
  return m.files.map((f) => `${f.name}:${f.bytes}:${f.by}`).join('|')
}

/** The weakest check among the files: what the set as a whole can claim. */
export function weakestCheck(m: Manifest): VerifiedBy | undefined {
  const bys = m.files.map((f) => f.by)
  return bys.includes('structure') ? 'structure' : bys.includes('sha256') ? 'sha256' : bys.length ? 'md5' : undefined
}
