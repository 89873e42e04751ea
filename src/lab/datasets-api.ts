// The data-set procedures: listing, getting (a job with progress), import, verify, delete,
// stats and preview grids (for a 2-D toy set, a density image of fresh samples). Engine/store
// errors become clear bad_request/not_found errors.
import { DatasetStore } from './datasets/store'
import type { DatasetOnDisk } from './datasets/store'
import { DatasetError } from '../engine/data/errors'
import { encodePng } from '../engine/images/png'
import { scatterImage } from '../engine/images/scatter'
import { Rng } from '../engine/rng'
import { HandlerError, type Handlers } from './dispatch'
import type { JobManager } from './jobs/manager'
import type { DatasetListing } from '../shared/contract'

type DatasetHandlers = Pick<Handlers, 'datasets.list' | 'datasets.get' | 'datasets.import' | 'datasets.verify' | 'datasets.delete' | 'datasets.stats' | 'datasets.preview' | 'datasets.image'>

export function datasetHandlers(store: DatasetStore, jobs: JobManager): DatasetHandlers {
  const live = new Map<string, string>() // data set → job id
  const activeJob = (name: string) => {
    const id = live.get(name)
    if (!id) return null
    const state = jobs.get(id).state
    return state === 'running' || state === 'queued' ? id : null
  }
  const dto = (l: DatasetOnDisk): DatasetListing => ({
    name: l.name,
    kind: l.kind,
    title: l.title,
    state: l.state,
    verifiedBy: l.verifiedBy,
    problem: l.problem,
    files: l.files,
    bytesOnDisk: l.bytesOnDisk,
    systemCopy: l.systemCopy,
    shape: l.info.kind === 'image' ? [...l.info.shape] : [2],
    classNames: l.info.kind === 'image' ? [...l.info.classNames] : [],
    trainSize: l.info.kind === 'image' ? l.info.trainSize : 0,
    testSize: l.info.kind === 'image' ? l.info.testSize : 0,
    jobId: activeJob(l.name)
  })
  const wrap = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn()
    } catch (err) {
      if (err instanceof DatasetError) {
        throw new HandlerError({ code: err.code === 'unknown-dataset' ? 'not_found' : 'bad_request', message: err.message })
      }
      throw err
    }
  }

  return {
    'datasets.list': () => wrap(async () => (await store.list()).map(dto)),
    'datasets.get': ({ name }) =>
      wrap(async () => {
        store.info(name) // unknown names fail here, before a job exists
        const running = activeJob(name)
        if (running) return { jobId: running }
        const job = jobs.submitTask('download', async (ctx) => {
          ctx.log('info', `Getting ${name}…`)
          await store.get(name, {
            signal: ctx.signal,
            onProgress: (p) => {
              // bytes and total are summed over the set's files already.
              const fraction = p.total ? p.bytes / p.total : p.fileIndex / p.fileCount
              ctx.progress(Math.min(1, fraction), p.etaSeconds, p.rate, 'B/s')
            }
          })
          ctx.log('info', `${name} is ready.`)
        })
        live.set(name, job.id)
        return { jobId: job.id }
      }),
    'datasets.import': ({ name, path }) => wrap(async () => dto(await store.import(name, path))),
    'datasets.verify': ({ name }) => wrap(async () => dto(await store.verify(name))),
    'datasets.delete': ({ name }) =>
      wrap(async () => {
        if (activeJob(name)) throw new HandlerError({ code: 'conflict', message: `${name} is being downloaded; cancel that first.` })
        await store.delete(name)
        return { ok: true as const }
      }),
    'datasets.stats': ({ name }) => wrap(async () => {
      const s = await store.stats(name)
      return { ...s, shape: [...s.shape], classNames: [...s.classNames] }
    }),
    'datasets.image': ({ name, split, index }) =>
      wrap(async () => {
        if (store.info(name).kind === 'toy') throw new HandlerError({ code: 'bad_request', message: `${name} is 2-D points, not images.` })
        const set = await store.load(name, split)
        if (index >= set.count) throw new HandlerError({ code: 'bad_request', message: `The ${split} split of ${name} has ${set.count} images (0–${set.count - 1}); there is no image ${index}.` })
        const per = set.height * set.width * set.channels
        const bytes = set.images.subarray(index * per, (index + 1) * per)
        return { width: set.width, height: set.height, channels: set.channels, data: Buffer.from(bytes).toString('base64'), label: set.labels[index] ?? null, count: set.count }
      }),
    'datasets.preview': ({ name, perClass, seed }) =>
      wrap(async () => {
        if (store.info(name).kind === 'toy') return await toyPreview(name, seed ?? 0)
        const g = await store.preview(name, { perClass: perClass ?? 8, seed: seed ?? 0 })
        const rgba = g.format === 'rgba' ? g.data : grayToRgba(g.data)
        const png = encodePng({ width: g.width, height: g.height, data: rgba }, { dataset: name, perClass, seed })
        return { rows: g.rows, cols: g.cols, width: g.width, height: g.height, pngDataUrl: `data:image/png;base64,${Buffer.from(png).toString('base64')}` }
      })
  }
}

/** Points drawn for a toy set's preview. */
export const TOY_PREVIEW_POINTS = 2000

/** A toy set's preview: TOY_PREVIEW_POINTS fresh samples (from `seed`) as a density image over [−4, 4]². */
async function toyPreview(name: string, seed: number) {
  // The toy sets live with the engine (tfjs), loaded here rather than with the service.
  const { createToy } = await import('../engine/toy')
  const points = createToy(name).sample(TOY_PREVIEW_POINTS, new Rng(seed))
  const img = scatterImage(points, { size: 256, extent: 4 })
  const png = encodePng(img, { dataset: name, points: TOY_PREVIEW_POINTS, seed })
  return { rows: 1, cols: 1, width: img.width, height: img.height, pngDataUrl: `data:image/png;base64,${Buffer.from(png).toString('base64')}` }
}

function grayToRgba(gray: Uint8Array): Uint8Array {
  const out = new Uint8Array(gray.length * 4)
  for (let i = 0; i < gray.length; i++) {
    const v = gray[i]!
    out[4 * i] = v
    out[4 * i + 1] = v
    out[4 * i + 2] = v
    out[4 * i + 3] = 255
  }
  return out
}
