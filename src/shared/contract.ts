// The one typed API between the lab service and its shells (Electron IPC, the browser-mode
// WebSocket server, the CLI). Each procedure is a zod input and output schema; every type
// the shells and the renderer use is inferred from here. Imports nothing from Node,
// Electron, Vue or tfjs.
import { z } from 'zod'
import { PROCEDURE_NAMES, type ProcedureName } from './procedures'

/** Bumped when a procedure's input or output changes incompatibly. */
export const API_VERSION = 1

/** No string field in any request may exceed this (a 10 MB string gets a clear error). */
export const MAX_STRING = 4096
/** Frames larger than this are refused before they are parsed. */
export const MAX_FRAME_BYTES = 1_000_000

const Str = z.string().max(MAX_STRING)

// ---- numeric limits ----
// Every bounded number of a request has its range here, once; the schemas below build their
// checks (and their messages, which state the range) from these.

/** A range a numeric field must lie in: [min, max], or (min, max] with `gt`. */
export interface NumRange {
  min: number
  max: number
  /** The minimum itself is not allowed (a learning rate of 0 trains nothing). */
  gt?: boolean
  int?: boolean
  /** The setting in words, for messages. */
  what: string
}

const STEPS_MAX = 100_000_000
const SAMPLER_STEPS_MAX = 100_000

export const LIMITS = {
  // training
  steps: { min: 1, max: STEPS_MAX, int: true, what: 'training steps' },
  batchSize: { min: 1, max: 4096, int: true, what: 'batch size' },
  lr: { min: 0, gt: true, max: 1, what: 'learning rate' },
  warmup: { min: 0, max: STEPS_MAX, int: true, what: 'warm-up steps' },
  gradClip: { min: 0, max: 1e6, what: 'gradient-norm clip (0 turns it off)' },
  ema: { min: 0, max: 0.999999, what: 'EMA decay (0 turns it off)' },
  seed: { min: 0, max: 2 ** 31 - 1, int: true, what: 'seed' },
  checkpointEvery: { min: 1, max: STEPS_MAX, int: true, what: 'checkpoint interval' },
  keepLast: { min: 1, max: 1000, int: true, what: 'checkpoints kept' },
  previewEvery: { min: 0, max: STEPS_MAX, int: true, what: 'preview interval (0 turns previews off)' },
  maxMinutes: { min: 0, max: 60 * 24 * 365, what: 'time budget in minutes (0 for none)' },
  // SDE parameters (σ of VE and the tutorial SDE, β of VP and sub-VP, N)
  sigma: { min: 1e-4, max: 1e5, what: 'σ' },
  beta: { min: 0, gt: true, max: 1000, what: 'β' },
  sdeN: { min: 1, max: SAMPLER_STEPS_MAX, int: true, what: 'discretisation steps N' },
  /** Any other SDE parameter (the lab refuses names its SDE does not take). */
  sdeParam: { min: 0, gt: true, max: 1e6, what: 'SDE parameter' },
  // sampling and likelihood
  count: { min: 1, max: 4096, int: true, what: 'samples per grid' },
  samplerSteps: { min: 1, max: SAMPLER_STEPS_MAX, int: true, what: 'sampler steps' },
  /** A sweep's target NFE per point (steps are chosen per sampler to meet it). */
  nfeBudget: { min: 1, max: SAMPLER_STEPS_MAX, int: true, what: 'an NFE budget' },
  every: { min: 0, max: SAMPLER_STEPS_MAX, int: true, what: 'report interval' },
  eps: { min: 1e-8, max: 0.5, what: 'end time ε' },
  snr: { min: 0, gt: true, max: 1, what: 'Langevin signal-to-noise ratio' },
  correctorSteps: { min: 1, max: 100, int: true, what: 'corrector steps per noise level' },
  stepsPerLevel: { min: 1, max: 10_000, int: true, what: 'Langevin steps per noise level' },
  stepLr: { min: 0, gt: true, max: 1, what: 'Langevin step size' },
  odeTolerance: { min: 1e-8, max: 0.1, what: 'ODE solver tolerance' },
  trajectoryFrames: { min: 0, max: 200, int: true, what: 'trajectory frames' },
  likelihoodCount: { min: 1, max: 10_000, int: true, what: 'images to evaluate' },
  classLabel: { min: 0, max: 999, int: true, what: 'class label' },
  classifierScale: { min: 0, max: 100, what: 'classifier scale' },
  /** Classifier-free guidance: share of training labels replaced by the null label. */
  labelDropout: { min: 0, max: 0.9, what: 'label dropout' },
  /** A drawn inpainting mask's side (the image's own size; 64 leaves room beyond CIFAR's 32). */
  maskSide: { min: 1, max: 64, int: true, what: 'mask side' },
  /** Classifier-free guidance weight w: (1 + w)·s(x, t, y) − w·s(x, t, ∅). */
  guidance: { min: 0, max: 100, what: 'guidance weight' },
  /** A per-class grid: samples of each class (one row per class). */
  perClass: { min: 1, max: 16, int: true, what: 'samples per class' },
  /** An image's index in a data set's split. */
  imageIndex: { min: 0, max: 10_000_000, int: true, what: 'image index' },
  /** Prior scaling of the ODE sampler's x(T): < 1 samples from a narrower prior. */
  temperature: { min: 0.05, max: 2, what: 'temperature' },
  /** Hutchinson probes averaged per evaluation of the likelihood's divergence. */
  probes: { min: 1, max: 16, int: true, what: 'trace probes' },
  /** Runs in one run group (one per value of the varied setting). */
  groupRuns: { min: 2, max: 8, int: true, what: 'runs in a group' },
  /** Frames of a latent interpolation, the two ends included. */
  interpolationFrames: { min: 2, max: 64, int: true, what: 'interpolation frames' },
  compareEntries: { min: 1, max: 8, int: true, what: 'samplers in a comparison' },
  /** Samples measured for a quality number: the same N for every point of a sweep (FD is biased at small N). */
  qualityCount: { min: 16, max: 10_000, int: true, what: 'samples measured (N)' },
  sweepBudgets: { min: 1, max: 12, int: true, what: 'budgets in a sweep' },
  classifierSteps: { min: 10, max: 100_000, int: true, what: 'classifier training steps' }
} as const satisfies Record<string, NumRange>

function showNumber(n: number): string {
  return Number.isInteger(n) && Math.abs(n) >= 10_000 ? n.toLocaleString('en-US') : String(n)
}

/** "from 1 to 4,096", "more than 0 and at most 1" (with "a whole number" for integers). */
export function rangeText(r: NumRange): string {
  const kind = r.int ? 'a whole number ' : ''
  return r.gt ? `${kind}more than ${showNumber(r.min)} and at most ${showNumber(r.max)}` : `${kind}from ${showNumber(r.min)} to ${showNumber(r.max)}`
}

function rangeMessage(r: NumRange, input: unknown): string {
  return `${r.what} must be ${rangeText(r)}${input === undefined ? '' : ` (got ${typeof input === 'string' ? JSON.stringify(input) : String(input)})`}`
}

/** A number schema for one range, whose every refusal says the range. */
export function ranged(r: NumRange): z.ZodNumber {
  const error = (iss: { input?: unknown }) => rangeMessage(r, iss.input)
  let s = z.number({ error: (iss) => (iss.input === undefined ? undefined : error(iss)) })
  if (r.int) s = s.int({ error })
  s = r.gt ? s.gt(r.min, { error }) : s.min(r.min, { error })
  return s.max(r.max, { error })
}

/**
 * Checks the known numeric keys of a free record (SDE parameters, sampler settings) against
 * their ranges, and the others against `other` if given; names are left to the registry that owns them.
 */
function knownKeysInRange(limits: Readonly<Record<string, NumRange>>, other?: NumRange) {
  return (record: Record<string, unknown>, ctx: z.RefinementCtx) => {
    for (const [key, value] of Object.entries(record)) {
      const r = Object.prototype.hasOwnProperty.call(limits, key) ? limits[key] : other
      if (!r) continue
      const parsed = ranged(r).safeParse(value)
      if (!parsed.success) ctx.addIssue({ code: 'custom', path: [key], input: value, message: rangeMessage(r, value) })
    }
  }
}

// ---- text a person typed (run names, tags) ----

/** Line breaks and other whitespace-like control characters (one space each run). */
const CONTROL_SPACES = /[\t\n\v\f\r\u0085\u2028\u2029]+/g
/** C0 and C1 controls, DEL, line/paragraph separators and the bidi controls (marks, embeddings, overrides, isolates). */
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** Removes control characters (line breaks become spaces) and trims: what a run name or tag may hold. */
export function stripControlChars(text: string): string {
  return text.replace(CONTROL_SPACES, ' ').replace(CONTROL_CHARS, '').trim()
}

/**
 * Shows any control character as an escape (\x1b, \u202e), for names read from older run files;
 * `json` writes \u00XX for all of them, so JSON text stays valid.
 */
export function escapeControlChars(text: string, opts: { json?: boolean } = {}): string {
  return text.replace(CONTROL_CHARS, (c) => {
    const code = c.charCodeAt(0)
    return code < 0x100 && !opts.json ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

export const RUN_NAME_MAX = 120
export const TAG_MAX = 40
export const TAGS_MAX = 20

/** Typed text with control characters removed, then held to `max` characters (and to 1 with `required`). */
function cleanText(what: string, max: number, required: boolean) {
  const clean = z.string().max(max, `${what} must be at most ${max} characters`)
  return z
    .string()
    .max(MAX_STRING)
    .transform(stripControlChars)
    .pipe(required ? clean.min(1, `${what} must not be empty (control characters are removed)`) : clean)
}
const RunName = cleanText('run name', RUN_NAME_MAX, false)
const NewRunName = cleanText('run name', RUN_NAME_MAX, true)
const Tag = cleanText('tag', TAG_MAX, true)

export const BackendNameSchema = z.enum(['tensorflow', 'webgpu', 'native', 'wasm', 'cpu'])

export const BackendAttemptSchema = z.object({
  name: BackendNameSchema,
  ok: z.boolean(),
  reason: z.string().optional(),
  fix: z.string().optional(),
  note: z.string().optional(),
  /** Median ms of the measured training step, where the backends were timed. */
  stepMs: z.number().positive().optional()
})

export const BackendTimingSchema = z.object({
  measuredAt: z.string(),
  /** Read from the kept timings rather than measured at this start. */
  cached: z.boolean(),
  key: z.string(),
  file: z.string().optional(),
  note: z.string().optional()
})

export const BackendInfoSchema = z.object({
  name: BackendNameSchema,
  device: z.string(),
  forced: z.boolean(),
  attempts: z.array(BackendAttemptSchema),
  /** Why this backend: forced, the only one that loads, or the fastest measured. */
  choice: z.string().optional(),
  timing: BackendTimingSchema.optional()
})

export const SystemInfoSchema = z.object({
  apiVersion: z.number().int(),
  appVersion: z.string(),
  /** 'electron' when served over IPC, 'browser' over the WebSocket, 'cli' in-process. */
  shell: z.enum(['electron', 'browser', 'cli']),
  backend: BackendInfoSchema,
  versions: z.object({
    node: z.string(),
    tfjs: z.string(),
    electron: z.string().optional(),
    chrome: z.string().optional()
  }),
  dataDir: z.string(),
  platform: z.string(),
  cpus: z.number().int()
})

export const DoctorCheckSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  detail: z.string(),
  fix: z.string().optional()
})

export const DoctorReportSchema = z.object({
  ok: z.boolean(),
  backend: BackendInfoSchema,
  checks: z.array(DoctorCheckSchema)
})


// ---- training runs ----

const Name = z.string().min(1).max(64)

const SDE_PARAM_LIMITS: Readonly<Record<string, NumRange>> = {
  sigma: LIMITS.sigma,
  sigmaMin: LIMITS.sigma,
  sigmaMax: LIMITS.sigma,
  betaMin: LIMITS.beta,
  betaMax: LIMITS.beta,
  N: LIMITS.sdeN
}

/** SDE parameter overrides: each known one within its range (others within LIMITS.sdeParam), and min below max where both are given. */
const SdeParams = z
  .record(z.string().max(32), z.number())
  .superRefine(knownKeysInRange(SDE_PARAM_LIMITS, LIMITS.sdeParam))
  .superRefine((p, ctx) => {
    if (p.sigmaMin !== undefined && p.sigmaMax !== undefined && !(p.sigmaMin < p.sigmaMax)) {
      ctx.addIssue({ code: 'custom', path: ['sigmaMin'], input: p.sigmaMin, message: `sigmaMin (${p.sigmaMin}) must be less than sigmaMax (${p.sigmaMax})` })
    }
    if (p.betaMin !== undefined && p.betaMax !== undefined && !(p.betaMin <= p.betaMax)) {
      ctx.addIssue({ code: 'custom', path: ['betaMin'], input: p.betaMin, message: `betaMin (${p.betaMin}) must be at most betaMax (${p.betaMax})` })
    }
  })

/** Training objectives, the engine's OBJECTIVES keys (test/engine/ssm.test.ts ties the two). */
export const TRAIN_OBJECTIVES = ['dsm', 'ssm'] as const
/** Sliced score matching's projection distributions, the engine's PROJECTIONS (tied the same way). */
export const SSM_PROJECTIONS = ['rademacher', 'gaussian'] as const

/**
 * Every setting of a training run. Names (dataset, model, SDE, weighting) are checked against
 * the engine's registries by the lab. `bounded` false gives the same shape without the ranges,
 * so run files written before a limit was added or tightened stay readable.
 */
function trainConfigSchema(bounded: boolean) {
  const n = (r: NumRange) => (bounded ? ranged(r) : r.int ? z.number().int() : z.number())
  return z.object({
    dataset: Name,
    model: Name,
    /** SDE by registry name; params override its defaults (e.g. sigmaMax). */
    sde: z.object({ name: Name, params: bounded ? SdeParams : z.record(z.string(), z.number()) }).strict(),
    steps: n(LIMITS.steps),
    batchSize: n(LIMITS.batchSize),
    lr: n(LIMITS.lr),
    warmup: n(LIMITS.warmup),
    /** Gradient-norm clipping; 0 disables it. */
    gradClip: n(LIMITS.gradClip),
    /** EMA decay of the weights used for sampling; 0 disables it. */
    ema: n(LIMITS.ema),
    weighting: Name,
    reduction: z.enum(['sum', 'mean']),
    seed: n(LIMITS.seed),
    checkpointEvery: n(LIMITS.checkpointEvery),
    keepLast: n(LIMITS.keepLast),
    keepBest: z.boolean(),
    /** Write a preview grid every N steps; 0 turns previews off. */
    previewEvery: n(LIMITS.previewEvery),
    /** Data scaled to [−1, 1] (true) or [0, 1] (false). */
    centered: z.boolean(),
    randomFlip: z.boolean(),
    /** Training-time budget over all sessions: the run ends (with a checkpoint) when it is spent. 0 or absent: none. */
    maxMinutes: n(LIMITS.maxMinutes).optional(),
    /**
     * Class-conditional: the network gets a label embedding (and a null label) and trains on the
     * data set's labels, each dropped to the null label with probability labelDropout (default
     * 0.1), so it samples any class with classifier-free guidance. Absent: unconditional.
     */
    conditional: z.boolean().optional(),
    labelDropout: n(LIMITS.labelDropout).optional(),
    /** The loss: 'dsm' (denoising score matching) or 'ssm' (sliced score matching). Absent: dsm, as every run before it. */
    objective: z.enum(TRAIN_OBJECTIVES).optional(),
    /** ssm only: the projections' distribution. Absent: the engine's default (rademacher). */
    projections: z.enum(SSM_PROJECTIONS).optional()
  })
}

/** The settings a run group may vary, one run per value (lab/run-groups.ts applies them). */
export const GROUP_SETTINGS = ['weighting', 'sde', 'sigmaMax', 'lr', 'model', 'batchSize', 'seed'] as const
/** The group settings whose values are numbers (the others are registry names). */
export const NUMERIC_GROUP_SETTINGS: ReadonlySet<(typeof GROUP_SETTINGS)[number]> = new Set(['sigmaMax', 'lr', 'batchSize', 'seed'])

/** A conditional run's label dropout when its config leaves it out (Ho & Salimans: 0.1–0.2; the engine's own default agrees, tested). */
export const DEFAULT_LABEL_DROPOUT = 0.1

export const TrainConfigSchema = trainConfigSchema(true)
const StoredTrainConfigSchema = trainConfigSchema(false)
export type TrainConfig = z.infer<typeof TrainConfigSchema>

export const RunEstimateSchema = z.object({
  backend: z.string(),
  /** Milliseconds per training step at the run's batch size. */
  stepMs: z.number(),
  /** Seconds to train every step (or the time budget, when that is shorter). */
  seconds: z.number(),
  /** Where stepMs comes from, in words ("measured now", "from run …"). */
  basis: z.string(),
  /** Fitted peak tensor memory at the batch size, and the backend's usable memory (null: unknown, e.g. a GPU). */
  peakBytes: z.number(),
  limitBytes: z.number().nullable(),
  /** The largest batch that fits the limit (null when there is no limit). */
  maxBatch: z.number().nullable(),
  fits: z.boolean(),
  /** Training runs ahead of it (running or queued): 0 means it starts now. */
  waitsBehind: z.number().int()
})
export type RunEstimate = z.infer<typeof RunEstimateSchema>

/** Where a run exported to PyTorch trains (written by the package's train.py into run.json). */
export const TrainsElsewhereSchema = z.object({
  /** In words: "torchrun on node7: 8 processes (nccl, cuda)". */
  where: z.string(),
  host: z.string(),
  worldSize: z.number().int(),
  /** Images per process and step; times worldSize it is the run's batch. */
  perRankBatch: z.number().int(),
  effectiveBatch: z.number().int(),
  since: z.number()
})
export type TrainsElsewhere = z.infer<typeof TrainsElsewhereSchema>

export const RunStatusSchema = z.enum(['queued', 'running', 'paused', 'finished', 'failed', 'stopped', 'interrupted'])
export type RunStatus = z.infer<typeof RunStatusSchema>

/** A run with a job that can be paused or stopped: waiting, training or paused. */
export function isLiveRunStatus(status: RunStatus): boolean {
  return status === 'queued' || status === 'running' || status === 'paused'
}

export const RunSummarySchema = z.object({
  id: z.string(),
  /** As stored: names from older run files may still hold control characters (escape them to show). */
  name: z.string(),
  status: RunStatusSchema,
  config: StoredTrainConfigSchema,
  backend: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** Milliseconds spent training, summed over every session of the run. */
  trainMs: z.number(),
  step: z.number().int(),
  lastLoss: z.number().nullable(),
  bestLoss: z.number().nullable(),
  notes: z.string(),
  tags: z.array(z.string()),
  error: z.string().nullable(),
  jobId: z.string().nullable(),
  /** The process training it (so another lab process on the same data folder leaves it alone). */
  owner: z.object({ pid: z.number().int(), host: z.string() }).nullable().optional(),
  /**
   * Set by the PyTorch package (runs export-torch) while the run is its to train: the lab shows
   * the run live but refuses to train it until it is resumed here deliberately (runs.resume with here).
   */
  trainsElsewhere: TrainsElsewhereSchema.nullable().optional(),
  /** The folder of a run attached from outside the data folder (runs.attach); absent for the lab's own runs. */
  attachedDir: z.string().optional()
})
export type RunSummary = z.infer<typeof RunSummarySchema>

export const CheckpointInfoSchema = z.object({
  file: z.string(),
  step: z.number().int(),
  loss: z.number().nullable(),
  time: z.number(),
  bytes: z.number().int(),
  best: z.boolean(),
  hasEma: z.boolean(),
  /** The run's training time when it was written (all sessions): resume continues the count from here. */
  trainMs: z.number().optional()
})
export type CheckpointInfo = z.infer<typeof CheckpointInfoSchema>

export const MetricPointSchema = z.object({
  step: z.number().int(),
  wallTime: z.number(),
  loss: z.number().nullable(),
  gradNorm: z.number().nullable(),
  lr: z.number().nullable(),
  imagesPerSec: z.number().nullable(),
  /** Mean loss per tenth of t ∈ [eps, T] over the last logging window (null where no t fell). */
  buckets: z.array(z.number().nullable()).optional()
})
export type MetricPoint = z.infer<typeof MetricPointSchema>

// ---- data sets ----

export const DatasetListingSchema = z.object({
  name: z.string(),
  kind: z.enum(['image', 'toy']),
  title: z.string(),
  state: z.enum(['not-present', 'verified', 'corrupt']),
  verifiedBy: z.string().optional(),
  problem: z.string().optional(),
  files: z.array(z.object({ name: z.string(), bytes: z.number() })),
  bytesOnDisk: z.number(),
  systemCopy: z.string().nullable(),
  shape: z.array(z.number()),
  classNames: z.array(z.string()),
  trainSize: z.number(),
  testSize: z.number(),
  /** The live download/import job for this set, if any. */
  jobId: z.string().nullable()
})
export type DatasetListing = z.infer<typeof DatasetListingSchema>

export const DatasetStatsSchema = z.object({
  name: z.string(),
  shape: z.array(z.number()),
  classNames: z.array(z.string()),
  train: z.object({ count: z.number(), classCounts: z.array(z.number()) }),
  test: z.object({ count: z.number(), classCounts: z.array(z.number()) }),
  mean: z.array(z.number()),
  std: z.array(z.number()),
  sigmaMax: z.object({ zeroOne: z.number(), centered: z.number(), sampleSize: z.number(), seed: z.number() })
})
export type DatasetStats = z.infer<typeof DatasetStatsSchema>

const DatasetRef = z.object({ name: Name }).strict()


// ---- sampling, comparison, likelihood ----

/** The ranges of the numeric sampler settings, by key (the forms check them as you type). */
export const SAMPLER_SETTING_LIMITS: Readonly<Record<string, NumRange>> = {
  batchSize: LIMITS.count,
  seed: LIMITS.seed,
  eps: LIMITS.eps,
  n: LIMITS.samplerSteps,
  every: LIMITS.every,
  snr: LIMITS.snr,
  nSteps: LIMITS.correctorSteps,
  stepsPerLevel: LIMITS.stepsPerLevel,
  stepLr: LIMITS.stepLr,
  sigmaMax: LIMITS.sigma,
  sigmaMin: LIMITS.sigma,
  rtol: LIMITS.odeTolerance,
  atol: LIMITS.odeTolerance,
  label: LIMITS.classLabel,
  classifierScale: LIMITS.classifierScale,
  temperature: LIMITS.temperature
}

/**
 * Sampler-specific settings (snr, rtol, predictor…): the numeric ones within their ranges here;
 * names, choices and unknown keys are checked by the engine's schema for that sampler.
 */
const SamplerSettings = z
  .record(z.string().max(32), z.union([z.number(), z.string().max(64), z.boolean()]))
  .superRefine(knownKeysInRange(SAMPLER_SETTING_LIMITS))

export const SampleCommonSchema = z.object({
  runId: z.string().min(1).max(128),
  /** Checkpoint file name within the run; the newest when omitted. */
  checkpoint: z.string().min(1).max(200).optional(),
  seed: ranged(LIMITS.seed),
  // Images per grid, or points for 2-D toy runs.
  count: ranged(LIMITS.count),
  /** End time ε; the SDE's default when omitted. */
  eps: ranged(LIMITS.eps).optional(),
  /** Sample with the EMA weights when the checkpoint has them. */
  useEma: z.boolean()
})

export const SamplerChoiceSchema = z.object({
  sampler: Name,
  /** Steps (noise levels for ald); the SDE's N when omitted. */
  steps: ranged(LIMITS.samplerSteps).optional(),
  denoise: z.boolean().optional(),
  settings: SamplerSettings.optional()
})

/** The preset regions inpainting fills in. */
export const INPAINT_PRESETS = ['left', 'right', 'top', 'bottom', 'center', 'checker'] as const

/**
 * A drawn inpainting mask: `data` is base64 of width × height bytes, row-major, 1 where the pixel
 * is known (held to the image) and 0 where the sampler fills it in; the same for every channel.
 */
export const DrawnMaskSchema = z
  .object({ width: z.number().int().min(1).max(LIMITS.maskSide.max), height: z.number().int().min(1).max(LIMITS.maskSide.max), data: z.string().max(4 * Math.ceil((LIMITS.maskSide.max * LIMITS.maskSide.max) / 3)) })
  .strict()
  .refine((m) => {
    const bytes = base64Bytes(m.data)
    return bytes !== null && bytes.length === m.width * m.height && bytes.every((b) => b === 0 || b === 1)
  }, 'the mask must be width × height bytes of 0 or 1, base64-encoded')
export type DrawnMask = z.infer<typeof DrawnMaskSchema>

/** Bytes of a base64 string, in Node and in the browser; null when it is not base64. */
export function base64Bytes(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return null
  const bin = atob(s)
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0))
}

/**
 * An image the user brought (a file dropped on the window), already at the run's size:
 * width × height × channels bytes (0–255, row-major, channels last), base64-encoded.
 */
export const PixelImageSchema = z
  .object({
    width: z.number().int().min(1).max(LIMITS.maskSide.max),
    height: z.number().int().min(1).max(LIMITS.maskSide.max),
    channels: z.union([z.literal(1), z.literal(3)]),
    data: z.string().max(4 * Math.ceil((LIMITS.maskSide.max * LIMITS.maskSide.max * 3) / 3))
  })
  .strict()
  .refine((m) => base64Bytes(m.data)?.length === m.width * m.height * m.channels, 'the image must be width × height × channels bytes, base64-encoded')
export type PixelImage = z.infer<typeof PixelImageSchema>

/**
 * Which images a condition starts from: `count` images of `split` from index `start` (default 0),
 * in the split's own order, or, when `image` is given, that one image for every sample.
 */
const ConditionSource = { split: z.enum(['train', 'test']), start: ranged(LIMITS.imageIndex).optional(), image: PixelImageSchema.optional() }

/** Classifier guidance through another run's guidance classifier (same data set and SDE); default: the sampled run's own. */
const ClassifierRun = z.string().min(1).max(128).optional()

export const ConditionSchema = z.discriminatedUnion('kind', [
  /** Fill in the masked part of images (the rest is held to the image): a preset region or a drawn mask. */
  z.object({ kind: z.literal('inpaint'), mask: z.union([z.enum(INPAINT_PRESETS), DrawnMaskSchema]), ...ConditionSource }).strict(),
  /** Colour grey versions of images (3-channel data sets). */
  z.object({ kind: z.literal('colorize'), ...ConditionSource }).strict(),
  /**
   * Sample one class: on a class-conditional run by classifier-free guidance with weight
   * `guidance` (default 1; 0 is the plain conditional score), with any sampler; otherwise through
   * a noise-conditional classifier (the run's own guidance classifier, or `classifierRun`'s;
   * exact for toy-gmm, with pc) scaled by `guidance` (or `scale`).
   */
  z.object({ kind: z.literal('class'), label: ranged(LIMITS.classLabel), scale: ranged(LIMITS.classifierScale).optional(), guidance: ranged(LIMITS.guidance).optional(), classifierRun: ClassifierRun }).strict(),
  /**
   * Every class at once: `perClass` samples of each, one row per class in class order (the
   * request's count is replaced by perClass × classes); guided as for 'class'.
   */
  z.object({ kind: z.literal('classes'), perClass: ranged(LIMITS.perClass), scale: ranged(LIMITS.classifierScale).optional(), guidance: ranged(LIMITS.guidance).optional(), classifierRun: ClassifierRun }).strict()
])
export type Condition = z.infer<typeof ConditionSchema>

export const SampleRequestSchema = SampleCommonSchema.extend(SamplerChoiceSchema.shape)
  .extend({ trajectoryFrames: ranged(LIMITS.trajectoryFrames).optional(), condition: ConditionSchema.optional() })
  .strict()
export type SampleRequest = z.infer<typeof SampleRequestSchema>

/**
 * Sample quality on a 2-D toy set (whose true distribution is known), each number beside the same
 * number for fresh true samples: src/engine/metrics/toy.ts.
 */
export const ToySampleMetricsSchema = z.object({
  /** What the samples are measured against: the data set, or one class of it ("toy-gmm, class 2"). */
  target: z.string(),
  /** Finite samples measured, and NaN/Inf ones left out. */
  count: z.number().int(),
  nonFinite: z.number().int(),
  /** How log p was computed: the set's own density ('exact'; quadrature for moons) or a Gaussian KDE of fresh true samples ('kde'). */
  density: z.enum(['exact', 'kde']),
  kde: z.object({ points: z.number().int(), bandwidth: z.number() }).nullable(),
  /** Mean log p_data(x) of the samples, nats; logLikelihoodRef: of `count` fresh true samples. */
  logLikelihood: z.number(),
  logLikelihoodRef: z.number(),
  /** Sliced Wasserstein-2 to `count` fresh true samples; sw2Ref: between two fresh true sets (the floor). */
  sw2: z.number(),
  sw2Ref: z.number(),
  directions: z.number().int(),
  seed: z.number().int(),
  /** toy-gmm: share of samples (nearModesRef: of true samples) within 2 std of a mode. */
  nearModes: z.number().nullable(),
  nearModesRef: z.number().nullable()
})
export type ToySampleMetrics = z.infer<typeof ToySampleMetricsSchema>

/**
 * Image runs: what the data set's classifier predicts for the samples. Mode dropping shows as a
 * skewed histogram and an entropy below entropyMax = ln(classes); unrecognisable samples as a low
 * mean confidence (the largest class probability, averaged).
 */
export const ClassStatsSchema = z.object({
  histogram: z.array(z.number().int()),
  /** Of histogram / N, nats. */
  entropy: z.number(),
  entropyMax: z.number(),
  meanConfidence: z.number()
})
export type ClassStats = z.infer<typeof ClassStatsSchema>

/** One set of samples measured as a sweep point is (see SweepResultSchema), with the floor and ceiling beside it. */
export const SampleQualitySchema = z.object({
  metric: z.enum(['sw2', 'fd']),
  label: z.string(),
  value: z.number().nullable(),
  floor: z.number().nullable(),
  ceiling: z.number().nullable(),
  kid: z.object({ mean: z.number(), std: z.number() }).nullable(),
  precision: z.number().nullable(),
  recall: z.number().nullable(),
  /** Image runs: the classifier's predictions on the samples, and on N training images (realClasses). */
  classes: ClassStatsSchema.nullable().optional(),
  realClasses: ClassStatsSchema.nullable().optional()
})
export type SampleQuality = z.infer<typeof SampleQualitySchema>

export const SampleRecordSchema = z.object({
  id: z.string(),
  runId: z.string(),
  checkpoint: z.string(),
  step: z.number().int(),
  sampler: z.string(),
  settings: z.record(z.string(), z.unknown()),
  seed: z.number().int(),
  count: z.number().int(),
  nfe: z.number().int(),
  seconds: z.number(),
  stepsPerSecond: z.number(),
  createdAt: z.number(),
  /** File names under the run's samples/ folder. */
  png: z.string(),
  gif: z.string().nullable(),
  width: z.number().int(),
  height: z.number().int(),
  /** Set for the entries of a comparison. */
  compareId: z.string().nullable(),
  /** Controllable generation: the condition, and the PNG of the (masked or grey) references. */
  condition: ConditionSchema.nullable().optional(),
  reference: z.string().nullable().optional(),
  /** What `reference` shows: the condition (controllable generation) or fresh true samples of a toy set. */
  referenceKind: z.enum(['condition', 'truth', 'originals']).optional(),
  /** Toy runs: the samples measured against the true distribution. */
  toyMetrics: ToySampleMetricsSchema.nullable().optional(),
  /** Image runs, when a comparison asked for it: the samples' quality through the data set's classifier. */
  quality: SampleQualitySchema.nullable().optional(),
  /**
   * Class samples of an image run, when the data set has a feature classifier: the share of
   * samples it labels as the class they were asked for, overall and per class (null: none asked).
   */
  classAgreement: z.object({ rate: z.number(), perClass: z.array(z.number().nullable()), count: z.number().int() }).nullable().optional(),
  /**
   * A latent interpolation (samples.interpolate): the two images encoded to x(T) through the
   * probability-flow ODE, `frames` latents between them decoded; the round trip's error (the
   * decoded ends against the originals, in pixel units of [0, 1]) and the NFE each way.
   */
  interpolation: z
    .object({
      images: z.array(z.union([z.number().int(), z.literal('file')])),
      split: z.enum(['train', 'test']),
      frames: z.number().int(),
      reconstruction: z.object({ maxAbs: z.number(), rms: z.number() }),
      nfeEncode: z.number().int(),
      nfeDecode: z.number().int()
    })
    .optional()
})
export type SampleRecord = z.infer<typeof SampleRecordSchema>

/**
 * Quality against cost: each sampler at each budget (a target NFE for fixed-step samplers, a
 * tolerance for adaptive ones), all from the same seeds, N samples each, measured the same way.
 */
export const SweepRequestSchema = z
  .object({
    runId: z.string().min(1).max(128),
    checkpoint: z.string().min(1).max(200).optional(),
    seed: ranged(LIMITS.seed),
    useEma: z.boolean(),
    eps: ranged(LIMITS.eps).optional(),
    /** Samples per point. */
    n: ranged(LIMITS.qualityCount),
    samplers: z.array(SamplerChoiceSchema.omit({ steps: true })).min(1).max(LIMITS.compareEntries.max),
    /** Target NFE per point, for the fixed-step samplers (steps are chosen to meet each). */
    nfe: z.array(ranged(LIMITS.nfeBudget)).min(LIMITS.sweepBudgets.min).max(LIMITS.sweepBudgets.max),
    /** Tolerances per point, for the adaptive samplers (rtol = atol); their NFE is what it takes. */
    tolerances: z.array(ranged(LIMITS.odeTolerance)).min(LIMITS.sweepBudgets.min).max(LIMITS.sweepBudgets.max).optional(),
    /** Image runs: also FID in the literature's convention, through the user-supplied Inception weights (slow on a CPU). */
    fid: z.boolean().optional()
  })
  .strict()
export type SweepRequest = z.infer<typeof SweepRequestSchema>

/** What a quality number is: sliced W2 to fresh true samples (2-D toy sets), or the Fréchet distance of classifier features (images). */
export const QualityMetricSchema = z.enum(['sw2', 'fd'])

export const SweepPointSchema = z.object({
  sampler: z.string(),
  /** The point's caption ("heun · 10 steps", "ode · rk45 · tol 1e-3"). */
  label: z.string(),
  /** Steps taken (null for adaptive samplers) and the settings that ran. */
  steps: z.number().int().nullable(),
  settings: z.record(z.string(), z.unknown()),
  /** Mean NFE per batch (adaptive samplers differ between batches), and wall time for all N samples. */
  nfe: z.number(),
  seconds: z.number(),
  /** The quality number (lower is better; null when no sample was finite), and where known KID and precision/recall. */
  quality: z.number().nullable(),
  kid: z.object({ mean: z.number(), std: z.number() }).nullable(),
  precision: z.number().nullable(),
  recall: z.number().nullable(),
  /** Image runs: the classifier's predicted classes of the point's samples. */
  classes: ClassStatsSchema.nullable().optional(),
  /** When the sweep asked for it: FID (Inception-v3 pool3, 299×299) to the same N test images. */
  fid: z.number().nullable().optional(),
  /** Batches read back from an earlier, unfinished run of the same sweep (0: all sampled by this one). */
  resumedBatches: z.number().int().optional(),
  /** The sample record of this point (its picture), in the run's samples. */
  sampleId: z.string()
})
export type SweepPoint = z.infer<typeof SweepPointSchema>

export const SweepResultSchema = z.object({
  n: z.number().int(),
  seed: z.number().int(),
  checkpoint: z.string(),
  metric: QualityMetricSchema,
  /** The number in words, with its N ("sliced W2 to 1,000 true samples"). */
  metricLabel: z.string(),
  /** The same number for real data at the same N (the best a sampler can read), and for noise (the worst). */
  floor: z.number().nullable(),
  ceiling: z.number().nullable(),
  /** Image runs: the classifier's predicted classes of N training images, to read each point's against. */
  realClasses: ClassStatsSchema.nullable().optional(),
  /** When asked for: FID of N training images to the N test images (FID's floor at this N). */
  fidFloor: z.number().nullable().optional(),
  points: z.array(SweepPointSchema)
})
export type SweepResult = z.infer<typeof SweepResultSchema>

/** A data set's feature classifier (for quality numbers of image samples), as stored in the data folder. */
export const ClassifierInfoSchema = z.object({
  dataset: z.string(),
  /** Share of the data set's test split it classifies correctly. */
  testAccuracy: z.number().nullable(),
  steps: z.number().int().nullable(),
  seed: z.number().int().nullable(),
  trainSeconds: z.number().nullable(),
  bytes: z.number().int(),
  createdAt: z.number(),
  /** A run's noise-conditional (guidance) classifier: its run and its test accuracy at several t. */
  guidance: z.object({ runId: z.string(), accuracyByTime: z.array(z.object({ t: z.number(), accuracy: z.number() })) }).optional()
})
export type ClassifierInfo = z.infer<typeof ClassifierInfoSchema>

/** One logged step of a guidance classifier's training (runs/<id>/guidance-classifier/metrics.jsonl). */
export const GuidanceMetricPointSchema = z.object({
  step: z.number().int(),
  /** Wall-clock ms since the epoch. */
  time: z.number(),
  /** Mean cross-entropy over the steps since the last point. */
  loss: z.number(),
  /** Mean batch accuracy over the same steps (times drawn over the whole range). */
  accuracy: z.number(),
  /** The same accuracy per equal-width bucket of t over [ε, T] (null where a bucket drew no sample). */
  accuracyByBucket: z.array(z.number().nullable())
})
export type GuidanceMetricPoint = z.infer<typeof GuidanceMetricPointSchema>

/** A run's guidance classifier: the finished one (if any), its training curve, and an unfinished training to resume. */
export const GuidanceStateSchema = z.object({
  classifier: ClassifierInfoSchema.nullable(),
  metrics: z.array(GuidanceMetricPointSchema),
  /** A training stopped before its last step (cancelled or crashed): training again resumes it. */
  partial: z.object({ step: z.number().int(), steps: z.number().int(), seed: z.number().int() }).nullable()
})
export type GuidanceState = z.infer<typeof GuidanceStateSchema>

/** One data-set image, as bytes (0–255, row-major, channels last, base64), for the Control panel's canvas. */
export const DatasetImageSchema = z.object({
  width: z.number().int(),
  height: z.number().int(),
  channels: z.number().int(),
  data: z.string(),
  label: z.number().int().nullable(),
  /** Images in the split. */
  count: z.number().int()
})
export type DatasetImage = z.infer<typeof DatasetImageSchema>

/** Two images (data-set indices, or two brought images) to interpolate between through the flow. */
export const InterpolateRequestSchema = z
  .object({
    runId: z.string().min(1).max(128),
    checkpoint: z.string().min(1).max(200).optional(),
    useEma: z.boolean().optional(),
    split: z.enum(['train', 'test']),
    images: z.tuple([ranged(LIMITS.imageIndex), ranged(LIMITS.imageIndex)]).optional(),
    /** Brought images (dropped files) in place of the split's; either may be null to use `images`' entry. */
    files: z.tuple([PixelImageSchema.nullable(), PixelImageSchema.nullable()]).optional(),
    frames: ranged(LIMITS.interpolationFrames),
    rtol: ranged(LIMITS.odeTolerance).optional(),
    atol: ranged(LIMITS.odeTolerance).optional()
  })
  .strict()
  .refine((r) => r.images !== undefined || (r.files?.[0] && r.files[1]), 'give the two images: images [i, j] of the split, or files')
export type InterpolateRequest = z.infer<typeof InterpolateRequestSchema>

/** A likelihood job's answer: bits/dim of images (null for 2-D toy data, which report nats only). */
/** The likelihood's Hutchinson trace estimator: the probe's distribution and how many are averaged. */
export const LIKELIHOOD_ESTIMATORS = ['rademacher', 'gaussian'] as const

/** One checkpoint's likelihood, as kept in runs/<id>/likelihood.jsonl (the curve beside the loss). */
export const LikelihoodPointSchema = z.object({
  checkpoint: z.string(),
  step: z.number().int(),
  split: z.enum(['train', 'test']),
  count: z.number().int(),
  seed: z.number().int(),
  estimator: z.enum(LIKELIHOOD_ESTIMATORS),
  probes: z.number().int(),
  bitsPerDim: z.number().nullable(),
  bitsPerDimStdErr: z.number().nullable(),
  nllNats: z.number(),
  nfe: z.number().int(),
  time: z.number()
})
export type LikelihoodPoint = z.infer<typeof LikelihoodPointSchema>

export const LikelihoodResultSchema = z.object({
  count: z.number().int(),
  split: z.enum(['train', 'test']),
  checkpoint: z.string(),
  bitsPerDim: z.number().nullable(),
  bitsPerDimStdErr: z.number().nullable(),
  nllNats: z.number(),
  nfe: z.number().int(),
  nfePerBatch: z.number(),
  seconds: z.number(),
  estimator: z.enum(LIKELIHOOD_ESTIMATORS).optional(),
  probes: z.number().int().optional(),
  /** Each image's bits/dim (2-D toy data: each point's NLL in nats), in the order evaluated: the histogram. */
  perImage: z.array(z.number()).optional(),
  /** With allCheckpoints: one point per kept checkpoint, oldest first (the one above is the newest). */
  curve: z.array(LikelihoodPointSchema).optional()
})
export type LikelihoodResult = z.infer<typeof LikelihoodResultSchema>

/** What a finished job produced, by kind: one schema per kind of job that produces something. */
export const JobResultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('train'), outcome: z.enum(['finished', 'stopped', 'cancelled']), step: z.number().int(), trainMs: z.number() }),
  z.object({ kind: z.literal('sample'), samples: z.array(SampleRecordSchema) }),
  z.object({ kind: z.literal('compare'), samples: z.array(SampleRecordSchema) }),
  z.object({ kind: z.literal('interpolate'), samples: z.array(SampleRecordSchema) }),
  LikelihoodResultSchema.extend({ kind: z.literal('likelihood') }),
  SweepResultSchema.extend({ kind: z.literal('sweep') }),
  ClassifierInfoSchema.extend({ kind: z.literal('classifier') })
])
export type JobResult = z.infer<typeof JobResultSchema>
export type JobResultOf<K extends JobResult['kind']> = Extract<JobResult, { kind: K }>

export const JobKindSchema = z.enum(['train', 'sample', 'compare', 'likelihood', 'sweep', 'classifier', 'download', 'interpolate'])
export const JobInfoSchema = z.object({
  id: z.string(),
  kind: JobKindSchema,
  state: z.enum(['queued', 'running', 'paused', 'finished', 'failed', 'cancelled']),
  runId: z.string().nullable(),
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  endedAt: z.number().nullable(),
  fraction: z.number(),
  etaSeconds: z.number().nullable(),
  error: z.string().nullable(),
  /** What a finished job produced, typed by its kind (null until it finishes, and for kinds that produce nothing). */
  result: JobResultSchema.nullable(),
  /** While queued: 1 for the next to start in its lane (training, or sampling), 2 after it… */
  position: z.number().int().min(1).nullable().optional()
})
export type JobInfo = z.infer<typeof JobInfoSchema>

/** A job that has not ended: waiting, running or paused (one owner for the lab, the CLI and the UI). */
export function isLiveJobState(state: JobInfo['state'] | null | undefined): boolean {
  return state === 'queued' || state === 'running' || state === 'paused'
}

/** A job's result when it is of kind `kind` (null while it runs, after a failure, or for another kind). */
export function resultOf<K extends JobResult['kind']>(job: Pick<JobInfo, 'result'> | null | undefined, kind: K): JobResultOf<K> | null {
  const r = job?.result
  // The union's tag is checked here, once: TypeScript cannot narrow a union by a generic tag.
  return r && r.kind === kind ? (r as JobResultOf<K>) : null
}



const RunRef = z.object({ runId: z.string().min(1).max(128) }).strict()
const JobRef = z.object({ jobId: z.string().min(1).max(128) }).strict()
const Ack = z.object({ ok: z.literal(true) })

const Empty = z.object({}).strict()

const TrainingStartedSchema = z.object({ runId: z.string(), jobId: z.string(), run: RunSummarySchema })

export const procedures = {
  'system.info': { input: Empty, output: SystemInfoSchema },
  'system.doctor': { input: Empty, output: DoctorReportSchema },
  /** Forgets this machine's kept backend step times: the next start measures the backends again. */
  'system.remeasureBackends': {
    input: Empty,
    output: z.object({ forgotten: z.boolean(), file: z.string().nullable(), message: z.string() })
  },
  'engine.catalog': {
    input: Empty,
    output: z.object({
      models: z.array(z.object({ name: z.string(), description: z.string(), shapes: z.string() })),
      sdes: z.array(z.object({ name: z.string(), description: z.string(), defaults: z.record(z.string(), z.number()) })),
      weightings: z.array(z.object({ name: z.string(), description: z.string() })),
      samplers: z.array(
        z.object({
          name: z.string(),
          description: z.string(),
          defaults: z.record(z.string(), z.unknown()),
          /** Defaults that depend on the run's SDE, by SDE name (pc's snr: 0.16 VE, 0.01 VP/sub-VP); they replace `defaults`' values. */
          sdeDefaults: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
          /** Defaults that depend on the run's data range (`centered`: [−1, 1]; `zeroOne`: [0, 1]), e.g. adaptive_sde's atol; applied after sdeDefaults. */
          rangeDefaults: z.object({ centered: z.record(z.string(), z.unknown()), zeroOne: z.record(z.string(), z.unknown()) }).partial().optional(),
          /** The values a string setting takes, from the engine's registries (pc's predictor and corrector, ode's method). */
          choices: z.record(z.string(), z.array(z.string())).optional(),
          /**
           * Every setting the sampler takes, its own first (src/engine/samplers/settings.ts): the
           * sampler forms' fields and the CLI's flags. `range`: the bounds a request is checked
           * against (SAMPLER_SETTING_LIMITS) narrowed by the sampler's own; `gt`/`lt` leave min/max out.
           */
          settings: z.array(
            z.object({
              key: z.string(),
              label: z.string(),
              type: z.enum(['number', 'integer', 'boolean', 'choice']),
              /** Absent where the sampler works it out (heun's sTmax: no limit). */
              default: z.union([z.number(), z.string(), z.boolean()]).optional(),
              description: z.string(),
              choices: z.array(z.string()).optional(),
              range: z.object({ min: z.number().optional(), max: z.number().optional(), gt: z.boolean().optional(), lt: z.boolean().optional() }).optional()
            })
          )
        })
      ),
      /** classNames: the labels a class-conditional run learns (empty: the set has none). */
      datasets: z.array(z.object({ name: z.string(), title: z.string(), shape: z.array(z.number()), size: z.number(), synthetic: z.boolean(), classNames: z.array(z.string()).optional() })),
      presets: z.array(z.object({ name: z.string(), description: z.string(), config: TrainConfigSchema }))
    })
  },
  'datasets.list': { input: Empty, output: z.array(DatasetListingSchema) },
  /** Makes a set present (system copy, else download) as a job with progress events. */
  'datasets.get': { input: DatasetRef, output: z.object({ jobId: z.string() }) },
  'datasets.import': { input: z.object({ name: Name, path: z.string().min(1).max(4096) }).strict(), output: DatasetListingSchema },
  'datasets.verify': { input: DatasetRef, output: DatasetListingSchema },
  'datasets.delete': { input: DatasetRef, output: Ack },
  'datasets.stats': { input: DatasetRef, output: DatasetStatsSchema },
  'datasets.preview': {
    input: z.object({ name: Name, perClass: z.number().int().min(1).max(32).optional(), seed: ranged(LIMITS.seed).optional() }).strict(),
    output: z.object({ rows: z.number(), cols: z.number(), width: z.number(), height: z.number(), pngDataUrl: z.string() })
  },
  /** One image of a data set's split (the Control panel draws masks on it). */
  'datasets.image': {
    input: z.object({ name: Name, split: z.enum(['train', 'test']), index: ranged(LIMITS.imageIndex) }).strict(),
    output: DatasetImageSchema
  },
  'runs.list': { input: Empty, output: z.array(RunSummarySchema) },
  'runs.get': { input: RunRef, output: z.object({ run: RunSummarySchema, checkpoints: z.array(CheckpointInfoSchema) }) },
  'runs.metrics': {
    input: z.object({ runId: z.string().min(1).max(128), afterStep: z.number().int().optional() }).strict(),
    output: z.array(MetricPointSchema)
  },
  /** The latest training preview grid of a run (null before the first one). */
  'runs.preview': { input: RunRef, output: z.object({ step: z.number().int(), dataUrl: z.string() }).nullable() },
  /** The run's stored training previews, oldest step first (the latest ~30; empty before the first). */
  'runs.previews': { input: RunRef, output: z.array(z.object({ step: z.number().int(), dataUrl: z.string() })) },
  /** Learned (and, where known, true) score on an n×n grid at time t, for 2-D toy runs. */
  'runs.scoreField': {
    input: z.object({ runId: z.string().min(1).max(128), t: z.number().positive().max(1), n: z.number().int().min(4).max(64), useEma: z.boolean().optional() }).strict(),
    output: z.object({
      t: z.number(),
      sigma: z.number(),
      n: z.number(),
      extent: z.number(),
      points: z.array(z.number()),
      model: z.array(z.number()),
      truth: z.array(z.number()).nullable(),
      checkpoint: z.string(),
      step: z.number(),
      /** Fresh samples of the run's data set, [m, 2] row-major, drawn under the arrows. */
      data: z.array(z.number()).optional()
    })
  },
  /** Creates the run and queues its training; answers with the run as it now is (queued, its job set). */
  'runs.start': {
    input: z.object({ config: TrainConfigSchema, name: RunName.optional() }).strict(),
    output: TrainingStartedSchema
  },
  /**
   * A run group: the recipe trained once per value of one setting, queued one after another;
   * its runs share the tag group:<name> and each carries <setting>=<value>.
   */
  'runs.startGroup': {
    input: z
      .object({
        config: TrainConfigSchema,
        name: cleanText('group name', 64, true),
        vary: z.object({ setting: z.enum(GROUP_SETTINGS), values: z.array(z.union([z.number(), z.string().min(1).max(64)])).min(2).max(LIMITS.groupRuns.max) }).strict()
      })
      .strict(),
    output: z.object({ group: z.string(), runs: z.array(z.object({ runId: z.string(), jobId: z.string(), value: z.union([z.number(), z.string()]) })) })
  },
  /** `here`: take back a run that trains elsewhere (exported to PyTorch) and train it in this lab from its newest checkpoint. */
  /** `steps`: train until this many steps in all (a run brought back finished can go on). */
  'runs.resume': { input: z.object({ runId: z.string().min(1).max(128), here: z.boolean().optional(), steps: ranged(LIMITS.steps).optional() }).strict(), output: TrainingStartedSchema },
  /** What a run with these settings will cost here, before it starts (measured; cached per model and data shape). */
  'runs.estimate': { input: z.object({ config: TrainConfigSchema }).strict(), output: RunEstimateSchema },
  'runs.update': {
    input: z
      .object({
        runId: z.string().min(1).max(128),
        name: NewRunName.optional(),
        notes: z.string().max(4000).optional(),
        tags: z.array(Tag).max(TAGS_MAX, `at most ${TAGS_MAX} tags`).optional()
      })
      .strict(),
    output: RunSummarySchema
  },
  'runs.delete': { input: RunRef, output: Ack },
  /** A PyTorch tutorial state_dict (safetensors) becomes a new run with one checkpoint. */
  'runs.importTorch': {
    input: z.object({ path: z.string().min(1).max(4096), dataset: Name, name: RunName.optional() }).strict(),
    output: RunSummarySchema
  },
  /**
   * Writes a PyTorch training package of the run (model.py, train.py, recipe.json, its latest
   * checkpoint; resources/torch-package) into `path`, a new or empty folder.
   */
  'runs.exportTorch': {
    input: z.object({ runId: z.string().min(1).max(128), path: z.string().min(1).max(4096) }).strict(),
    output: z.object({ path: z.string(), runDir: z.string(), startStep: z.number().int(), files: z.array(z.string()), commands: z.array(z.string()) })
  },
  /** Makes a run folder outside the data folder (one the PyTorch package writes) a run of this lab, read live. */
  'runs.attach': { input: z.object({ path: z.string().min(1).max(4096) }).strict(), output: RunSummarySchema },
  'samples.start': { input: SampleRequestSchema, output: z.object({ jobId: z.string() }) },
  'samples.compare': {
    input: SampleCommonSchema.extend({
      entries: z.array(SamplerChoiceSchema).min(LIMITS.compareEntries.min).max(LIMITS.compareEntries.max),
      /** Image runs: measure each entry through the data set's classifier (FD, KID, precision/recall at N = count). */
      metric: z.boolean().optional()
    }).strict(),
    output: z.object({ jobId: z.string() })
  },
  /** Quality against cost (a job): every sampler at every budget, N samples each, one quality number per point. */
  'samples.sweep': { input: SweepRequestSchema, output: z.object({ jobId: z.string() }) },
  /**
   * Encodes two images to latents through the probability-flow ODE (adaptive RK45), interpolates
   * spherically and decodes `frames` latents (a job): a strip, a GIF and the round-trip error.
   */
  'samples.interpolate': { input: InterpolateRequestSchema, output: z.object({ jobId: z.string() }) },
  'samples.list': { input: RunRef, output: z.array(SampleRecordSchema) },
  'samples.image': {
    input: z.object({ runId: z.string().min(1).max(128), id: z.string().min(1).max(128) }).strict(),
    output: z.object({ pngDataUrl: z.string(), gifDataUrl: z.string().nullable(), frames: z.array(z.string()), referenceDataUrl: z.string().nullable() })
  },
  'samples.export': {
    input: z.object({ runId: z.string().min(1).max(128), id: z.string().min(1).max(128), path: z.string().min(1).max(4096), what: z.enum(['png', 'gif']), overwrite: z.boolean().optional() }).strict(),
    output: z.object({ path: z.string(), bytes: z.number() })
  },
  'likelihood.start': {
    input: z
      .object({
        runId: z.string().min(1).max(128),
        checkpoint: z.string().min(1).max(200).optional(),
        count: ranged(LIMITS.likelihoodCount),
        split: z.enum(['train', 'test']),
        seed: ranged(LIMITS.seed).optional(),
        useEma: z.boolean().optional(),
        rtol: ranged(LIMITS.odeTolerance).optional(),
        atol: ranged(LIMITS.odeTolerance).optional(),
        estimator: z.enum(LIKELIHOOD_ESTIMATORS).optional(),
        probes: ranged(LIMITS.probes).optional(),
        /** Every kept checkpoint in turn (same images, seed and probes): the likelihood over training. */
        allCheckpoints: z.boolean().optional()
      })
      .strict(),
    output: z.object({ jobId: z.string() })
  },
  /** The likelihoods measured of a run's checkpoints (runs/<id>/likelihood.jsonl), oldest first. */
  'runs.likelihoods': { input: RunRef, output: z.array(LikelihoodPointSchema) },
  'checkpoints.delete': {
    input: z.object({ runId: z.string().min(1).max(128), file: z.string().min(1).max(200) }).strict(),
    output: z.array(CheckpointInfoSchema)
  },
  /** Writes the checkpoint (ours, or the PyTorch tutorial layout) and a JSON config beside it. */
  'checkpoints.export': {
    input: z
      .object({ runId: z.string().min(1).max(128), file: z.string().min(1).max(200), path: z.string().min(1).max(4096), format: z.enum(['safetensors', 'torch']), overwrite: z.boolean().optional() })
      .strict(),
    output: z.object({ path: z.string(), configPath: z.string(), bytes: z.number() })
  },
  /** The feature classifiers in the data folder (one per image data set), for quality numbers. */
  'classifiers.list': { input: Empty, output: z.array(ClassifierInfoSchema) },
  /** Trains (or retrains) a data set's feature classifier as a job; seeded, a few minutes on a laptop CPU. */
  'classifiers.train': {
    input: z.object({ dataset: Name, steps: ranged(LIMITS.classifierSteps).optional(), seed: ranged(LIMITS.seed).optional() }).strict(),
    output: z.object({ jobId: z.string() })
  },
  /**
   * Trains a run's noise-conditional classifier p_t(y | x(t)) on the run's data set perturbed by the
   * run's SDE (a job; kept in the run's folder), for classifier guidance of its class samples.
   */
  'classifiers.trainGuidance': {
    /** An unfinished training of the same steps and seed resumes from its last checkpoint unless `fresh`. */
    input: z.object({ runId: z.string().min(1).max(128), steps: ranged(LIMITS.classifierSteps).optional(), seed: ranged(LIMITS.seed).optional(), fresh: z.boolean().optional() }).strict(),
    output: z.object({ jobId: z.string() })
  },
  /** A run's guidance classifier, its training curve and any unfinished training. */
  'classifiers.guidance': { input: z.object({ runId: z.string().min(1).max(128) }).strict(), output: GuidanceStateSchema },
  'jobs.list': { input: Empty, output: z.array(JobInfoSchema) },
  'jobs.pause': { input: JobRef, output: JobInfoSchema },
  'jobs.resume': { input: JobRef, output: JobInfoSchema },
  'jobs.stop': { input: JobRef, output: JobInfoSchema },
  'jobs.cancel': { input: JobRef, output: JobInfoSchema },
  /** Moves a queued job one place earlier or later among the queued jobs of its lane. */
  'jobs.move': { input: z.object({ jobId: z.string().min(1).max(128), direction: z.enum(['earlier', 'later']) }).strict(), output: z.array(JobInfoSchema) },
  'system.ping': {
    input: z.object({ message: Str }).strict(),
    output: z.object({ message: z.string(), receivedAt: z.number() })
  }
} as const satisfies Record<ProcedureName, { input: z.ZodType; output: z.ZodType }>

export type Procedures = typeof procedures
export type ProcInput<P extends ProcedureName> = z.input<Procedures[P]['input']>
export type ProcOutput<P extends ProcedureName> = z.output<Procedures[P]['output']>
export type SystemInfo = z.infer<typeof SystemInfoSchema>
export type DoctorReport = z.infer<typeof DoctorReportSchema>
export type BackendInfoDto = z.infer<typeof BackendInfoSchema>

// ---- streamed events (one push channel) ----

export const LabEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string(), jobId: z.string().optional(), time: z.number() }),
  z.object({
    type: z.literal('progress'),
    jobId: z.string(),
    fraction: z.number(),
    etaSeconds: z.number().nullable(),
    rate: z.number().nullable(),
    unit: z.string()
  }),
  z.object({ type: z.literal('job'), job: JobInfoSchema }),
  /** Metrics arrive in batches (at most a few per second) however fast the loop runs; all are stored. */
  z.object({ type: z.literal('metrics'), runId: z.string(), points: z.array(MetricPointSchema) }),
  z.object({ type: z.literal('run'), run: RunSummarySchema }),
  z.object({ type: z.literal('run-deleted'), runId: z.string() }),
  /** A checkpoint was written; `checkpoints` is the run's kept list after retention (newest step first). */
  z.object({ type: z.literal('checkpoint'), runId: z.string(), checkpoint: CheckpointInfoSchema, checkpoints: z.array(CheckpointInfoSchema) }),
  z.object({ type: z.literal('preview'), runId: z.string(), step: z.number().int(), dataUrl: z.string() })
])
export type LabEvent = z.infer<typeof LabEventSchema>

// ---- the error every transport returns ----

/** `exists`: an export target is already a file; the caller may ask the user and retry with overwrite. */
export const ErrorCodeSchema = z.enum(['bad_request', 'unknown_method', 'not_found', 'conflict', 'exists', 'internal', 'too_large', 'unauthorized'])
export type ErrorCode = z.infer<typeof ErrorCodeSchema>

export interface LabErrorDto {
  code: ErrorCode
  message: string
  /** Field-level problems for validation errors: path and message. */
  issues?: { path: string; message: string }[]
}

export type Envelope<T> = { ok: true; result: T } | { ok: false; error: LabErrorDto }

/** Thrown on the client side when a call fails; carries the server's code and issues. */
export class LabError extends Error {
  readonly code: ErrorCode
  readonly issues?: { path: string; message: string }[]
  constructor(dto: LabErrorDto) {
    super(dto.message)
    this.name = 'LabError'
    this.code = dto.code
    this.issues = dto.issues
  }
}

export function isProcedureName(name: unknown): name is ProcedureName {
  return typeof name === 'string' && (PROCEDURE_NAMES as readonly string[]).includes(name)
}

export { PROCEDURE_NAMES, type ProcedureName }

// ---- WebSocket frames (browser mode) ----

export const RequestFrameSchema = z.object({
  id: z.union([z.number().int(), z.string().max(64)]),
  method: z.string().max(128),
  input: z.unknown().optional()
})
export type RequestFrame = z.infer<typeof RequestFrameSchema>

export type ServerFrame =
  | { type: 'response'; id: number | string | null; envelope: Envelope<unknown> }
  | { type: 'event'; event: LabEvent }
