// What the lab remembers (lib/prefs): a small versioned schema, read back only when it is
// well-formed, and the defaults (field by field) for anything that is not.
import { describe, expect, it } from 'vitest'
import {
  PREFS_VERSION,
  assignColors,
  decodePrefs,
  defaultChartPrefs,
  encodePrefs,
  parseChartPrefs,
  parseColors,
  parseCompareForm,
  parseRunLink,
  parseRunsComparePrefs,
  parseSampleForm,
  parseUiPrefs,
  prefsKey,
  runLink,
  runSection
} from '../../src/renderer/src/lib/prefs'

const stored = (data: unknown) => encodePrefs(data)

describe('versioned envelope', () => {
  it('round-trips what it wrote', () => {
    const chart = { yScale: 'log', smoothing: 0.9, xAxis: 'wall', normalize: 'first', zoom: { x: [10, 200], y: [0.1, 2] } }
    expect(decodePrefs(stored(chart), parseChartPrefs)).toEqual(chart)
    expect(JSON.parse(stored(chart)).v).toBe(PREFS_VERSION)
  })

  it('gives the defaults for missing, unparsable, non-object and other-version values', () => {
    const def = defaultChartPrefs()
    for (const raw of [null, undefined, '', '{', 'null', '42', '"log"', '[]', '{"data":{"yScale":"log"}}', JSON.stringify({ v: PREFS_VERSION + 1, data: { yScale: 'log' } }), JSON.stringify({ v: '1', data: { yScale: 'log' } })]) {
      expect(decodePrefs(raw, parseChartPrefs)).toEqual(def)
    }
  })

  it('keys each section under its data folder and run (folders with odd characters included)', () => {
    expect(prefsKey('/data/lab', 'ui')).toBe('score-lab/%2Fdata%2Flab/ui')
    expect(prefsKey('/data/lab', runSection('r1', 'chart'))).not.toBe(prefsKey('/data/other', runSection('r1', 'chart')))
    expect(runSection('a/b', 'sample')).toBe('run/a%2Fb/sample')
  })
})

describe('chart settings', () => {
  it('replaces each malformed field by its default and keeps the rest', () => {
    const got = parseChartPrefs({ yScale: 'cubic', smoothing: 0.8, xAxis: 7, normalize: 'minmax', zoom: { x: [5, 1], y: [0, 1] } })
    expect(got).toEqual({ yScale: 'linear', smoothing: 0.8, xAxis: 'step', normalize: 'minmax', zoom: { x: null, y: [0, 1] } })
  })

  it('refuses smoothing outside [0, 0.999], NaN-ish values and broken zoom ranges', () => {
    for (const smoothing of [-0.1, 1, 2, '0.5', null, Number.NaN]) expect(parseChartPrefs({ smoothing }).smoothing).toBe(0.6)
    for (const x of [[1], [1, 2, 3], ['0', '1'], [Number.POSITIVE_INFINITY, 1], [3, 3], 'wide', {}]) expect(parseChartPrefs({ zoom: { x } }).zoom.x).toBeNull()
    expect(parseChartPrefs({ zoom: 'all' }).zoom).toEqual({ x: null, y: null })
  })

  it('hands out a fresh defaults object every time (no shared mutable state)', () => {
    const a = parseChartPrefs(undefined)
    a.zoom.x = [1, 2]
    expect(parseChartPrefs(undefined).zoom.x).toBeNull()
  })
})

describe('panel, selected runs and colours', () => {
  it('reads the panel and run ids, dropping unknown panels and ids that are not run ids', () => {
    expect(parseUiPrefs({ panel: 'training', runId: '20250101-toy-gmm-abc123', sampleRunId: null })).toEqual({ panel: 'training', runId: '20250101-toy-gmm-abc123', sampleRunId: null })
    expect(parseUiPrefs({ panel: 'settings', runId: '../../etc', sampleRunId: 5 })).toEqual({ panel: null, runId: null, sampleRunId: null })
    expect(parseUiPrefs('training')).toEqual({ panel: null, runId: null, sampleRunId: null })
    expect(parseRunsComparePrefs({ onlyDifferences: 'yes' })).toEqual({ onlyDifferences: false })
  })

  it('keeps valid colours one by one', () => {
    expect(parseColors({ a: '#FF0000', b: 'red', c: '#12345', 'bad id!': '#000000', d: '#00ff00' })).toEqual({ a: '#ff0000', d: '#00ff00' })
    expect(parseColors(['#ff0000'])).toEqual({})
  })

  it('gives new runs the least-used palette colour, never repainting runs that have one', () => {
    const palette = ['#111111', '#222222', '#333333']
    expect(assignColors(['a', 'b', 'c', 'd'], {}, palette)).toEqual({ a: '#111111', b: '#222222', c: '#333333', d: '#111111' })
    expect(assignColors(['a', 'b', 'c'], { a: '#222222', b: '#abcdef' }, palette)).toEqual({ c: '#111111' })
    expect(assignColors(['a'], { a: '#111111' }, palette)).toEqual({})
  })
})

describe('Sample and Compare forms', () => {
  it('default per kind of run: many points for a 2-D toy run, a grid of 64 for images', () => {
    expect(parseSampleForm(undefined, true).common.count).toBe(1000)
    expect(parseSampleForm(undefined, false).common.count).toBe(64)
    expect(parseCompareForm(undefined, false)).toEqual({ entries: [], common: { seed: 0, count: 64, eps: null, useEma: true }, sweep: { nfe: [10, 20, 50, 100], n: 1000, fid: false } })
    expect(parseCompareForm(undefined, true).sweep.n).toBe(1000)
  })

  it('keeps a stored sweep and drops a malformed one', () => {
    expect(parseCompareForm({ sweep: { nfe: [5, 40], n: 256 } }, false).sweep).toEqual({ nfe: [5, 40], n: 256, fid: false })
    expect(parseCompareForm({ sweep: { nfe: [5, 40], n: 256, fid: true } }, false).sweep.fid).toBe(true)
    expect(parseCompareForm({ sweep: { nfe: [5, 40], n: 256, fid: 'yes' } }, false).sweep.fid).toBe(false)
    expect(parseCompareForm({ sweep: { nfe: [0, 'x'], n: 5 } }, false).sweep).toEqual({ nfe: [10, 20, 50, 100], n: 1000, fid: false })
    expect(parseCompareForm({ sweep: { nfe: Array.from({ length: 13 }, (_, i) => i + 1), n: 100 } }, false).sweep.nfe).toEqual([10, 20, 50, 100])
  })

  it('reads a stored form back and drops what is malformed', () => {
    const form = { choice: { sampler: 'ode', steps: null, settings: { method: 'rk45', rtol: 0.001 } }, common: { seed: 3, count: 600, eps: 0.001, useEma: false }, trajectoryFrames: 12 }
    expect(parseSampleForm(form, true)).toEqual(form)
    const bad = parseSampleForm({ choice: { sampler: 'a b', steps: 3, settings: {} }, common: { seed: -1, count: 9999, eps: 2, useEma: 'no' }, trajectoryFrames: 1.5 }, false)
    expect(bad).toEqual({ choice: { sampler: '', steps: null, settings: {} }, common: { seed: 0, count: 64, eps: null, useEma: true }, trajectoryFrames: 20 })
    // Bad settings are dropped one by one; bad steps become the SDE's own.
    expect(parseSampleForm({ choice: { sampler: 'pc', steps: 0, settings: { snr: 0.16, x: { y: 1 }, n: null } } }, false).choice).toEqual({ sampler: 'pc', steps: null, settings: { snr: 0.16 } })
  })

  it('starts Compare over when any entry is broken, and keeps at most 8', () => {
    const e = { sampler: 'pc', steps: 10, settings: {} }
    expect(parseCompareForm({ entries: [e, { steps: 3 }] }, true).entries).toEqual([])
    expect(parseCompareForm({ entries: Array(12).fill(e) }, true).entries).toHaveLength(8)
    expect(parseCompareForm({ entries: 'pc' }, true).entries).toEqual([])
  })
})

describe('links to a run', () => {
  it('reads #run=…&panel=… and ignores what is not a run id or a panel', () => {
    expect(parseRunLink('#run=20250101-toy-gmm-abc123&panel=training')).toEqual({ runId: '20250101-toy-gmm-abc123', panel: 'training' })
    expect(parseRunLink('#panel=sample')).toEqual({ runId: null, panel: 'sample' })
    expect(parseRunLink('#run=%3Cscript%3E&panel=nope')).toEqual({ runId: null, panel: null })
    expect(parseRunLink('')).toEqual({ runId: null, panel: null })
  })

  it('links to the page without its query (never the access token)', () => {
    const link = runLink('http://127.0.0.1:5173/?token=secret#old', 'r-1', 'training')
    expect(link).toBe('http://127.0.0.1:5173/#run=r-1&panel=training')
    expect(parseRunLink(new URL(link).hash)).toEqual({ runId: 'r-1', panel: 'training' })
  })
})
