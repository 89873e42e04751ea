// A ref kept in localStorage under a key that may change (per data folder, per run): when the
// key changes the ref is read again (validated by `parse`, the defaults for anything missing or
// malformed); every change to the ref is written back under the current key at once, so a
// reload right after it still finds it. With no key yet (the data folder is not known before
// system.info answers) it holds the defaults and writes nothing. Storage that cannot be used
// (disabled, full) only means nothing is remembered.
import { ref, toRaw, toValue, watch, type MaybeRefOrGetter, type Ref } from 'vue'
import { decodePrefs, encodePrefs } from '../lib/prefs'

export function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage
  } catch {
    return null
  }
}

export function usePersistentState<T>(key: MaybeRefOrGetter<string | null>, parse: (data: unknown) => T): Ref<T> {
  const read = (k: string | null): T => {
    if (!k) return parse(undefined)
    try {
      return decodePrefs(storage()?.getItem(k), parse)
    } catch {
      return parse(undefined)
    }
  }
  let current = toValue(key)
  const state = ref(read(current)) as Ref<T>
  let written = encodePrefs(toRaw(state.value))

  watch(
    () => toValue(key),
    (k) => {
      if (k === current) return
      current = k
      state.value = read(k)
      written = encodePrefs(toRaw(state.value))
    },
    { flush: 'sync' }
  )
  watch(
    state,
    (v) => {
      const text = encodePrefs(toRaw(v))
      if (!current || text === written) return
      written = text
      try {
        storage()?.setItem(current, text)
      } catch {
        // Full or disabled: the state still works, it is just not remembered.
      }
    },
    { deep: true, flush: 'sync' }
  )
  return state
}
