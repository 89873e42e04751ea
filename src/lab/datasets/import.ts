// Finding and checking files the user already has (or that a download or the store holds).
// Every check is structural first (magic, sizes, tar members), then by checksum, so a broken
// file gets the specific message ("truncated gzip") rather than a bare hash mismatch.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile, readdir, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { DatasetError, fsError } from '../../engine/data/errors'
import { checkIdxPair, isGzip, maybeGunzip, parseIdxImages, parseIdxLabels } from '../../engine/data/idx'
import { checkCifarSize, CIFAR_CLASSES, CIFAR_RECORD } from '../../engine/data/cifar'
import {
  CIFAR10_MEMBER_DIR,
  CIFAR10_TEST_MEMBERS,
  CIFAR10_TRAIN_MEMBERS,
  SYSTEM_DATASET_DIRS,
  type DatasetFile,
  type FileRole,
  type ImageDatasetInfo
} from './registry'

/** One file to take into the store; `storeName` is what it will be called there. */
export interface Source {
  role: FileRole | 'cifar-batch'
  path: string
  storeName: string
}

export type VerifiedBy = 'md5' | 'sha256' | 'structure'

export interface VerifiedSource extends Source {
  bytes: number
  by: VerifiedBy
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex')
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** MD5 of a file, streamed: the CIFAR-10 archive is 163 MB and need not sit in memory to be hashed. */
async function md5File(path: string): Promise<string> {
  const hash = createHash('md5')
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  } catch (err) {
    throw fsError(err, path)
  }
  return hash.digest('hex')
}

export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path)
  } catch (err) {
    throw fsError(err, path)
  }
}

/** The names an IDX file is found under: official .gz, gunzipped, and the common `train-images.idx3-ubyte` spelling. */
function idxCandidates(f: DatasetFile): { name: string; storeName: string }[] {
  const raw = f.rawName ?? f.name.replace(/\.gz$/, '')
  const dotted = raw.replace(/-idx/, '.idx')
  return [
    { name: `${raw}.gz`, storeName: `${raw}.gz` },
    { name: raw, storeName: raw },
    { name: `${dotted}.gz`, storeName: `${raw}.gz` },
    { name: dotted, storeName: raw }
  ]
}

async function entriesOf(path: string): Promise<{ dir: string | null; names: string[] }> {
  let st
  try {
    st = await stat(path)
  } catch (err) {
    throw fsError(err, path, 'import')
  }
  if (!st.isDirectory()) return { dir: null, names: [basename(path)] }
  let names: string[]
  try {
    names = await readdir(path)
  } catch (err) {
    throw fsError(err, path, 'list the folder')
  }
  if (names.length === 0) throw new DatasetError('empty', path, 'the folder is empty')
  return { dir: path, names }
}

/**
 * Resolves what to import from a folder, a single file, or a list of files. For a folder,
 * CIFAR-10 may also sit in its `cifar-10-batches-bin/` subfolder (the archive's layout).
 */
export async function findSources(info: ImageDatasetInfo, input: string | readonly string[]): Promise<Source[]> {
  const paths = typeof input === 'string' ? [input] : [...input]
  if (paths.length === 0) throw new DatasetError('empty', info.name, 'no files were given (pick the data set\'s files or their folder)')
  const byName = new Map<string, string>()
  const where = paths.join(', ')
  for (const p of paths) {
    const { dir, names } = await entriesOf(p)
    for (const n of names) byName.set(n, dir ? join(dir, n) : p)
    if (dir && info.format === 'cifar-binary' && names.includes(CIFAR10_MEMBER_DIR.slice(0, -1))) {
      const sub = join(dir, CIFAR10_MEMBER_DIR)
      const inner = await entriesOf(sub).catch(() => ({ dir: sub, names: [] as string[] }))
      for (const n of inner.names) if (!byName.has(n)) byName.set(n, join(sub, n))
    }
  }
  if (info.format === 'idx') {
    const sources: Source[] = []
    const missing: string[] = []
    for (const f of info.files) {
      const hit = idxCandidates(f).find((c) => byName.has(c.name))
      if (hit) sources.push({ role: f.role, path: byName.get(hit.name)!, storeName: hit.storeName })
      else missing.push(`${f.rawName}(.gz)`)
    }
    if (missing.length) throw new DatasetError('missing-member', where, `no ${info.title} file named ${missing.join(', ')} here`)
    return sources
  }
  const archive = info.files.find((f) => f.role === 'archive')!
  if (byName.has(archive.name)) return [{ role: 'archive', path: byName.get(archive.name)!, storeName: archive.name }]
  const members = [...CIFAR10_TRAIN_MEMBERS, ...CIFAR10_TEST_MEMBERS]
  const missing = members.filter((m) => !byName.has(m))
  if (missing.length === members.length) {
    throw new DatasetError('missing-member', where, `neither ${archive.name} nor its extracted data_batch_*.bin / test_batch.bin files are here`)
  }
  if (missing.length) throw new DatasetError('missing-member', where, `CIFAR-10 batches missing: ${missing.join(', ')}`)
  return members.map((m) => ({ role: 'cifar-batch' as const, path: byName.get(m)!, storeName: m }))
}

/** Reads the CIFAR-10 members out of the tar.gz with node-tar; strict, so any damage is an error. */
export async function readCifarArchive(path: string): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>()
  const wanted = new Set<string>([...CIFAR10_TRAIN_MEMBERS, ...CIFAR10_TEST_MEMBERS])
  // node-tar is loaded here, for the one archive it reads, not with the data-set store.
  const { list: tarList } = await import('tar')
  try {
    await tarList({
      file: path,
      strict: true,
      onReadEntry: (entry) => {
        const name = entry.path.startsWith(CIFAR10_MEMBER_DIR) ? entry.path.slice(CIFAR10_MEMBER_DIR.length) : entry.path
        if (!wanted.has(name) || entry.type !== 'File') return
        const parts: Buffer[] = []
        entry.on('data', (c: Buffer) => parts.push(c))
        entry.on('end', () => found.set(name, Buffer.concat(parts)))
      }
    })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(String(err))) {
      throw new DatasetError('truncated-gzip', path, 'truncated gzip: the archive ends early; the file is incomplete', { cause: err })
    }
    if (code === 'TAR_BAD_ARCHIVE') throw new DatasetError('bad-format', path, 'not a tar archive (unrecognised format)', { cause: err })
    if (typeof code === 'string' && code.startsWith('TAR_')) throw new DatasetError('bad-format', path, `not a valid tar archive: ${(err as Error).message}`, { cause: err })
    throw fsError(err, path)
  }
  const missing = [...wanted].filter((m) => !found.has(m))
  if (missing.length) throw new DatasetError('missing-member', path, `the archive lacks ${missing.map((m) => CIFAR10_MEMBER_DIR + m).join(', ')}`)
  return found
}

/** Structural check of one CIFAR-10 batch (size and labels), without decoding pixels. */
export function checkCifarBatch(bytes: Uint8Array, file: string, expectRecords?: number): void {
  const n = checkCifarSize(bytes.length, file)
  if (expectRecords !== undefined && n !== expectRecords) {
    throw new DatasetError('bad-size', file, `${n} records, expected ${expectRecords}`)
  }
  for (let r = 0; r < n; r++) {
    const label = bytes[r * CIFAR_RECORD]
    if (label >= CIFAR_CLASSES) throw new DatasetError('bad-format', file, `record ${r} has label ${label}, outside 0..9`)
  }
}

function cifarExpectations(info: ImageDatasetInfo) {
  // Split evenly: the official set is 5 train batches and 1 test batch of 10000 each.
  return { train: info.trainSize / CIFAR10_TRAIN_MEMBERS.length, test: info.testSize / CIFAR10_TEST_MEMBERS.length }
}

/**
 * Checks a set of sources completely: structure, pairing, and checksums. Throws the first
 * problem as a DatasetError naming the file; reads everything, so it is not for hot paths.
 */
export async function verifySources(info: ImageDatasetInfo, sources: readonly Source[]): Promise<VerifiedSource[]> {
  const out: VerifiedSource[] = []
  if (info.format === 'idx') {
    const images = new Map<string, { count: number; file: string }>()
    const labels = new Map<string, { count: number; file: string }>()
    for (const s of sources) {
      const f = info.files.find((x) => x.role === s.role)!
      const bytes = await readBytes(s.path)
      if (bytes.length === 0) throw new DatasetError('empty', s.path, 'the file is empty')
      const raw = maybeGunzip(bytes, s.path)
      const split = s.role.startsWith('train') ? 'train' : 'test'
      if (s.role.endsWith('images')) {
        const img = parseIdxImages(raw, s.path)
        const [h, w] = info.shape
        if (img.height !== h || img.width !== w) throw new DatasetError('bad-format', s.path, `images are ${img.height}×${img.width}, expected ${h}×${w}`)
        images.set(split, { count: img.count, file: s.path })
      } else {
        labels.set(split, { count: parseIdxLabels(raw, s.path, info.classNames.length).length, file: s.path })
      }
      let by: VerifiedBy
      if (isGzip(bytes) && md5(bytes) === f.md5) by = 'md5'
      else if (f.rawSha256 && sha256(raw) === f.rawSha256) by = 'sha256'
      else {
        const got = isGzip(bytes) ? `MD5 ${md5(bytes)} (published ${f.md5}), content SHA-256 ${sha256(raw)}` : `content SHA-256 ${sha256(raw)}`
        throw new DatasetError('checksum', s.path, `checksum mismatch: ${got}, expected content SHA-256 ${f.rawSha256 ?? 'unknown'}`)
      }
      out.push({ ...s, bytes: bytes.length, by })
    }
    for (const [split, img] of images) {
      const lab = labels.get(split)
      if (lab) checkIdxPair(img, { length: lab.count }, img.file, lab.file)
    }
    return out
  }
  const expect = cifarExpectations(info)
  for (const s of sources) {
    if (s.role === 'archive') {
      const size = (await stat(s.path).catch((err) => Promise.reject(fsError(err, s.path)))).size
      if (size === 0) throw new DatasetError('empty', s.path, 'the file is empty')
      const members = await readCifarArchive(s.path)
      for (const [name, b] of members) checkCifarBatch(b, `${s.path}:${name}`, name.startsWith('test') ? expect.test : expect.train)
      const f = info.files.find((x) => x.role === 'archive')!
      const got = await md5File(s.path)
      if (got !== f.md5) throw new DatasetError('checksum', s.path, `checksum mismatch: MD5 ${got}, expected ${f.md5}`)
      out.push({ ...s, bytes: size, by: 'md5' })
    } else {
      // No checksums are published for the extracted binary batches, so these are checked by structure.
      const bytes = await readBytes(s.path)
      checkCifarBatch(bytes, s.path, s.storeName.startsWith('test') ? expect.test : expect.train)
      out.push({ ...s, bytes: bytes.length, by: 'structure' })
    }
  }
  return out
}

/** An OS-packaged copy of the set (e.g. Debian's dataset-fashion-mnist), if one is installed. */
export async function detectSystemCopy(name: string, dirs: readonly string[] = SYSTEM_DATASET_DIRS[name as keyof typeof SYSTEM_DATASET_DIRS] ?? []): Promise<string | null> {
  for (const d of dirs) {
    try {
      if ((await stat(d)).isDirectory() && (await readdir(d)).length > 0) return d
    } catch {
      // Not installed here.
    }
  }
  return null
}
