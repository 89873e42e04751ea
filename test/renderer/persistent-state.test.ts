// usePersistentState: a ref kept in localStorage under a key that may change.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { nextTick, ref } from 'vue'
import { usePersistentState } from '../../src/renderer/src/composables/usePersistentState'
import { encodePrefs, parseChartPrefs } from '../../src/renderer/src/lib/prefs'

class MemoryStorage {
  items = new Map<string, string>()
  writes = 0
  get length() { return this.items.size }
  clear() { this.items.clear() }
  getItem(k: string) { return this.items.get(k) ?? null }
  key(i: number) { return [...this.items.keys()][i] ?? null }
  removeItem(k: string) { this.items.delete(k) }
  setItem(k: string, v: string) { this.writes++; this.items.set(k, String(v)) }
}

let store: MemoryStorage
beforeEach(() => {
  store = new MemoryStorage()
  ;(globalThis as { localStorage?: unknown }).localStorage = store
})
afterEach(() => {
  delete (globalThis as { localStorage?: unknown }).localStorage
})

describe('usePersistentState', () => {
  it('writes each change at once and reads it back under the same key', () => {
    const a = usePersistentState(ref('k1'), parseChartPrefs)
    a.value.yScale = 'log'
    a.value.smoothing = 0.9
    expect(JSON.parse(store.getItem('k1')!)).toEqual({ v: 1, data: expect.objectContaining({ yScale: 'log', smoothing: 0.9 }) })
    const b = usePersistentState(ref('k1'), parseChartPrefs)
    expect(b.value).toMatchObject({ yScale: 'log', smoothing: 0.9 })
  })

  it('falls back to the defaults when what is stored is malformed', () => {
    store.setItem('bad-json', '{oops')
    store.setItem('bad-field', encodePrefs({ yScale: 'sideways', smoothing: 0.3 }))
    expect(usePersistentState(ref('bad-json'), parseChartPrefs).value).toEqual(parseChartPrefs(undefined))
    expect(usePersistentState(ref('bad-field'), parseChartPrefs).value).toMatchObject({ yScale: 'linear', smoothing: 0.3 })
  })

  it('reads again when the key changes (another run), and writes nothing without a key or a change', async () => {
    store.setItem('run-b', encodePrefs({ normalize: 'first' }))
    const key = ref<string | null>(null)
    const s = usePersistentState(key, parseChartPrefs)
    s.value.yScale = 'log' // no data folder yet: kept in memory only
    expect(store.items.size).toBe(1)
    key.value = 'run-a'
    expect(s.value.yScale).toBe('linear')
    s.value.xAxis = 'wall'
    key.value = 'run-b'
    expect(s.value).toMatchObject({ normalize: 'first', xAxis: 'step' })
    key.value = 'run-a'
    expect(s.value.xAxis).toBe('wall')
    const before = store.writes
    s.value.xAxis = 'wall' // the same value: nothing to write
    await nextTick()
    expect(store.writes).toBe(before)
  })

  it('still works when storage throws (full, or disabled)', () => {
    store.setItem = () => {
      throw new Error('QuotaExceededError')
    }
    const s = usePersistentState(ref('k'), parseChartPrefs)
    expect(() => (s.value.yScale = 'log')).not.toThrow()
    expect(s.value.yScale).toBe('log')
  })
})
