// The data folder. Layout, one folder per image set:
//
//   <dataDir>/datasets/<name>/
//     train-images-idx3-ubyte.gz …   the official files as served (or gunzipped, if imported so);
//     cifar-10-binary.tar.gz         for CIFAR-10, or its extracted data_batch_*.bin + test_batch.bin
//     manifest.json                  written only after every file passed verification
//     stats.json                     cached stats (class counts, mean/std, suggested σ_max)
//     .download/                     finished, MD5-checked downloads of an interrupted get()
//     .staging-*/                    an import or download being committed
//
// State comes from manifest.json: files whose size and mtime still match it are 'verified';
// a folder without data files is 'not-present'; anything else is re-verified in full and is
// 'corrupt' if that fails. New files are staged and checked before they are renamed in, so a
// failed import or download never touches a good copy.
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { DatasetError, fsError } from '../../engine/data/errors'
import type { ImageSet, Split } from '../../engine/data/image-set'
import { channelStats, classCounts, previewGrid, suggestSigmaMax, type PreviewGrid } from '../../engine/data/stats'
import { copyFileAtomic, fsyncDir, writeFileAtomic } from '../../engine/io/atomic-write'
import { decodeSplit } from './decode'
import { downloadSetFiles, type DatasetProgress } from './download'

export type { DatasetProgress } from './download'
import { detectSystemCopy, findSources, readBytes, verifySources, type Source, type VerifiedBy, type VerifiedSource } from './import'
import { fingerprint, listDataFiles, makeManifest, MANIFEST, manifestMatches, readManifest, STATS, weakestCheck, writeManifest, type Manifest } from './manifest'
import {
  DATASETS,
  getDataset,
  SYSTEM_DATASET_DIRS,
  type DatasetInfo,
  type DatasetName,
  type ImageDatasetInfo,
  type ImageDatasetName
} from './registry'

export type DatasetState = 'not-present' | 'verified' | 'corrupt'

/** A data set's files as the store finds them; datasets-api.ts turns it into the contract's DatasetListing. */
export interface DatasetOnDisk {
  name: DatasetName
  kind: 'image' | 'toy'
  title: string
  /** Toy sets are generated, so always 'verified'. */
  state: DatasetState
  /** How the stored files were checked: 'structure' only where no checksum is published (extracted CIFAR-10 batches). */
  verifiedBy?: VerifiedBy
  /** Why the state is 'corrupt'. */
  problem?: string
  files: { name: string; bytes: number }[]
  bytesOnDisk: number
  /** An OS-packaged copy that get() imports instead of downloading. */
  systemCopy: string | null
  info: DatasetInfo
}

/** Computed from an image set's pixels and cached in stats.json; sent as the contract's DatasetStats. */
export interface ImageSetStats {
  name: ImageDatasetName
  shape: readonly [number, number, number]
  classNames: readonly string[]
  train: { count: number; classCounts: number[] }
  test: { count: number; classCounts: number[] }
  /** Of the training set, per channel, for pixels in [0, 1]. */
  mean: number[]
  std: number[]
  /** Largest pairwise L2 distance over a sample of training images, for [0,1] and for centered [−1,1] data. */
  sigmaMax: { zeroOne: number; centered: number; sampleSize: number; seed: number }
}

export interface DatasetStoreOptions {
  /** Replace a set's mirror list (tests point these at a local server). */
  mirrors?: Partial<Record<ImageDatasetName, readonly string[]>>
  /** Replace parts of a set's registry entry (tests use small fixture files with their own checksums). */
  datasets?: Partial<Record<ImageDatasetName, Partial<ImageDatasetInfo>>>
  /** Where OS packages keep sets; defaults to the registry's (Debian's /usr/share/datasets/…). */
  systemDirs?: Partial<Record<ImageDatasetName, readonly string[]>>
  fetch?: typeof fetch
  /** Images sampled for the σ_max suggestion (default 1000). */
  sigmaSampleSize?: number
}

const DOWNLOAD_DIR = '.download'
const STATS_VERSION = 1

export class DatasetStore {
  readonly root: string
  private readonly sets = new Map<string, Promise<ImageSet>>()
  private readonly busy = new Map<string, Promise<unknown>>()

  constructor(
    readonly dataDir: string,
    private readonly opts: DatasetStoreOptions = {}
  ) {
    this.root = join(dataDir, 'datasets')
  }

  /** The registry entry as this store sees it (with any injected mirrors and overrides). */
  info(name: string): DatasetInfo {
    const base = getDataset(name)
    if (!base) throw new DatasetError('unknown-dataset', name, `unknown data set; known: ${DATASETS.map((d) => d.name).join(', ')}`)
    if (base.kind === 'toy') return base
    const over = this.opts.datasets?.[base.name] ?? {}
    const mirrors = this.opts.mirrors?.[base.name] ?? over.mirrors ?? base.mirrors
    return { ...base, ...over, mirrors }
  }

  private imageInfo(name: string): ImageDatasetInfo {
    const info = this.info(name)
    if (info.kind !== 'image') throw new DatasetError('unknown-dataset', name, 'a generated toy set has no files to store')
    return info
  }

  dir(name: string): string {
    return join(this.root, name)
  }

  async list(): Promise<DatasetOnDisk[]> {
    const out: DatasetOnDisk[] = []
    for (const d of DATASETS) out.push(await this.listing(d.name))
    return out
  }

  /** Makes a set present: already verified → nothing; an OS copy → import it; else download. */
  async get(name: string, o: { onProgress?: (p: DatasetProgress) => void; signal?: AbortSignal } = {}): Promise<DatasetOnDisk> {
    const info = this.info(name)
    if (info.kind === 'toy') return this.listing(name)
    return this.exclusive(name, async () => {
      const now = await this.listing(name)
      if (now.state === 'verified') return now
      if (now.systemCopy) {
        try {
          return await this.importUnlocked(info, now.systemCopy)
        } catch (err) {
          // A damaged OS copy should not block getting the set: fall through to the download.
          if (!(err instanceof DatasetError)) throw err
        }
      }
      return this.downloadUnlocked(info, o)
    })
  }

  async import(name: string, path: string | readonly string[]): Promise<DatasetOnDisk> {
    const info = this.imageInfo(name)
    return this.exclusive(name, () => this.importUnlocked(info, path))
  }

  /** Full check of the stored files (structure and checksums); rewrites or drops the manifest. */
  async verify(name: string): Promise<DatasetOnDisk> {
    const info = this.info(name)
    if (info.kind === 'toy') return this.listing(name)
    return this.exclusive(name, async () => {
      try {
        await this.fullVerify(info)
      } catch (err) {
        return this.listing(name, err)
      }
      return this.listing(name)
    })
  }

  async delete(name: string): Promise<void> {
    this.imageInfo(name)
    await this.exclusive(name, async () => {
      this.forget(name)
      await rm(this.dir(name), { recursive: true, force: true })
    })
  }

  /** Decodes a split once per store and keeps it in memory. */
  load(name: string, split: Split): Promise<ImageSet> {
    const key = `${name}:${split}`
    let p = this.sets.get(key)
    if (!p) {
      const info = this.imageInfo(name)
      const decoded = this.requireVerified(info).then((m) => decodeSplit(info, this.dir(name), m, split))
      p = decoded.then((sets): ImageSet => {
        // Keep a split decoded along the way (CIFAR-10's archive yields both).
        for (const [s, set] of Object.entries(sets)) if (s !== split && set && !this.sets.has(`${name}:${s}`)) this.sets.set(`${name}:${s}`, Promise.resolve(set))
        return sets[split]!
      })
      this.sets.set(key, p)
      p.catch(() => this.sets.delete(key))
    }
    return p
  }

  /** Stats of the set, computed once and cached in stats.json next to the files. */
  async stats(name: string): Promise<ImageSetStats> {
    const info = this.imageInfo(name)
    const manifest = await this.requireVerified(info)
    const key = fingerprint(manifest)
    const path = join(this.dir(name), STATS)
    try {
      const cached = JSON.parse(new TextDecoder().decode(await readBytes(path))) as { key: string; version: number; stats: ImageSetStats }
      if (cached.key === key && cached.version === STATS_VERSION) return cached.stats
    } catch {
      // Missing or unreadable cache: compute again.
    }
    const [train, test] = [await this.load(name, 'train'), await this.load(name, 'test')]
    const { mean, std } = channelStats(train)
    const sampleSize = this.opts.sigmaSampleSize ?? 1000
    const s = suggestSigmaMax(train, { sampleSize, seed: 0 })
    const stats: ImageSetStats = {
      name: info.name,
      shape: info.shape,
      classNames: info.classNames,
      train: { count: train.count, classCounts: classCounts(train) },
      test: { count: test.count, classCounts: classCounts(test) },
      mean,
      std,
      sigmaMax: { zeroOne: s.sigmaMax, centered: 2 * s.sigmaMax, sampleSize: s.sampleSize, seed: s.seed }
    }
    await writeFileAtomic(path, JSON.stringify({ key, version: STATS_VERSION, stats }, null, 1))
    return stats
  }

  /** A grid of random training examples, one row per class. */
  async preview(name: string, o: { perClass?: number; seed?: number } = {}): Promise<PreviewGrid> {
    return previewGrid(await this.load(name, 'train'), o)
  }

  // ---- internals ----

  /** One mutation per set at a time; a second get() of the same set waits for the first. */
  private async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    while (this.busy.has(name)) await this.busy.get(name)!.catch(() => undefined)
    const p = fn()
    this.busy.set(name, p)
    try {
      return await p
    } finally {
      this.busy.delete(name)
    }
  }

  private forget(name: string): void {
    for (const split of ['train', 'test']) this.sets.delete(`${name}:${split}`)
  }

  /** `failed`: a verification error just seen, reported instead of checking again. */
  private async listing(name: string, failed?: unknown): Promise<DatasetOnDisk> {
    const info = this.info(name)
    const base = { name: info.name, kind: info.kind, title: info.title, info }
    if (info.kind === 'toy') return { ...base, state: 'verified', files: [], bytesOnDisk: 0, systemCopy: null }
    const systemCopy = await detectSystemCopy(name, this.opts.systemDirs?.[info.name] ?? SYSTEM_DATASET_DIRS[info.name] ?? [])
    const files = await listDataFiles(this.dir(name))
    const bytesOnDisk = files.reduce((a, f) => a + f.bytes, 0)
    if (files.length === 0) return { ...base, state: 'not-present', files, bytesOnDisk, systemCopy }
    const manifest = failed === undefined ? await readManifest(this.dir(name)) : null
    if (manifest && (await manifestMatches(this.dir(name), manifest))) {
      return { ...base, state: 'verified', verifiedBy: weakestCheck(manifest), files, bytesOnDisk, systemCopy }
    }
    // Files changed, or were never verified here: the full check decides.
    try {
      if (failed !== undefined) throw failed
      const m = await this.fullVerify(info)
      return { ...base, state: 'verified', verifiedBy: weakestCheck(m), files, bytesOnDisk, systemCopy }
    } catch (err) {
      const problem = err instanceof Error ? err.message : String(err)
      return { ...base, state: 'corrupt', problem, files, bytesOnDisk, systemCopy }
    }
  }

  /** The stored files as sources (whichever form is there: .gz, raw, archive or batches). */
  private async storedSources(info: ImageDatasetInfo): Promise<Source[]> {
    const dir = this.dir(info.name)
    const files = await listDataFiles(this.dir(info.name))
    if (files.length === 0) throw new DatasetError('not-present', dir, `${info.title} is not in the data folder; download or import it first`)
    return findSources(info, files.map((f) => join(dir, f.name)))
  }

  private async fullVerify(info: ImageDatasetInfo): Promise<Manifest> {
    const dir = this.dir(info.name)
    try {
      const verified = await verifySources(info, await this.storedSources(info))
      const manifest = await makeManifest(info.name, verified, dir)
      await writeManifest(dir, manifest)
      return manifest
    } catch (err) {
      // Not trustworthy any more: drop the manifest so nothing loads it as verified.
      await rm(join(dir, MANIFEST), { force: true })
      this.forget(info.name)
      throw err
    }
  }

  private async requireVerified(info: ImageDatasetInfo): Promise<Manifest> {
    const l = await this.listing(info.name)
    if (l.state === 'not-present') throw new DatasetError('not-present', this.dir(info.name), `${info.title} is not in the data folder; download or import it first`)
    if (l.state === 'corrupt') throw new DatasetError('checksum', this.dir(info.name), `stored files failed verification: ${l.problem}`)
    return (await readManifest(this.dir(info.name)))!
  }

  private async importUnlocked(info: ImageDatasetInfo, path: string | readonly string[]): Promise<DatasetOnDisk> {
    // Verify the user's files in place, so errors name them, then copy and commit.
    const verified = await verifySources(info, await findSources(info, path))
    await this.commit(info, verified, (v, dest) => copyFileAtomic(v.path, dest))
    return this.listing(info.name)
  }

  private async downloadUnlocked(info: ImageDatasetInfo, o: { onProgress?: (p: DatasetProgress) => void; signal?: AbortSignal }): Promise<DatasetOnDisk> {
    const dlDir = join(this.dir(info.name), DOWNLOAD_DIR)
    await mkdir(dlDir, { recursive: true }).catch((err) => {
      throw fsError(err, dlDir, 'create the folder')
    })
    await downloadSetFiles(info, dlDir, { ...o, fetch: this.opts.fetch })
    const sources = info.files.map((f) => ({ role: f.role, path: join(dlDir, f.name), storeName: f.name }))
    let verified: VerifiedSource[]
    try {
      verified = await verifySources(info, sources)
    } catch (err) {
      await rm(dlDir, { recursive: true, force: true })
      throw err
    }
    await this.commit(info, verified, (v, dest) => rename(v.path, dest))
    await rm(dlDir, { recursive: true, force: true })
    return this.listing(info.name)
  }

  /**
   * Moves verified files into the set's folder. The old manifest goes first, so a crash half-way
   * leaves a folder that the next list() re-verifies rather than trusts; files of the other form
   * (raw vs .gz, archive vs batches) are removed last so the set is never left without data.
   */
  private async commit(info: ImageDatasetInfo, verified: VerifiedSource[], place: (v: VerifiedSource, dest: string) => Promise<void>): Promise<void> {
    const dir = this.dir(info.name)
    await mkdir(dir, { recursive: true }).catch((err) => {
      throw fsError(err, dir, 'create the folder')
    })
    const staging = join(dir, `.staging-${randomBytes(4).toString('hex')}`)
    await mkdir(staging)
    try {
      for (const v of verified) await place(v, join(staging, v.storeName))
      for (const v of verified) {
        const st = await stat(join(staging, v.storeName))
        if (st.size !== v.bytes) throw new DatasetError('truncated', v.path, `copied ${st.size} of ${v.bytes} bytes`)
      }
      this.forget(info.name)
      await rm(join(dir, MANIFEST), { force: true })
      await rm(join(dir, STATS), { force: true })
      for (const v of verified) await rename(join(staging, v.storeName), join(dir, v.storeName))
      const keep = new Set(verified.map((v) => v.storeName))
      for (const f of await listDataFiles(this.dir(info.name))) if (!keep.has(f.name)) await rm(join(dir, f.name), { force: true })
      fsyncDir(dir)
      const manifest = await makeManifest(info.name, verified, dir)
      await writeManifest(dir, manifest)
    } finally {
      await rm(staging, { recursive: true, force: true })
    }
  }
}
