// Keys of the remembered state of the data folder the lab works in (see lib/prefs): null until
// system.info has said which folder that is, so nothing is read or written for the wrong one.
import { computed, toValue, type MaybeRefOrGetter, type Ref } from 'vue'
import { prefsKey, runSection } from '../lib/prefs'
import { useSystemStore } from '../stores/system'
import { storage } from './usePersistentState'

/** The data folder the lab works in (null until system.info has answered). */
export function useDataDir(): Readonly<Ref<string | null>> {
  const system = useSystemStore()
  return computed(() => system.info?.dataDir ?? null)
}

/** The key of one section of this data folder's state (null until the folder is known). */
export function usePrefsKey(section: MaybeRefOrGetter<string | null>): Readonly<Ref<string | null>> {
  const dataDir = useDataDir()
  return computed(() => {
    const s = toValue(section)
    return dataDir.value && s ? prefsKey(dataDir.value, s) : null
  })
}

/** Drops what was remembered about a deleted run (its chart, its Sample, Control and Compare forms). */
export function forgetRunPrefs(runId: string): void {
  const dataDir = useSystemStore().info?.dataDir
  if (!dataDir) return
  for (const section of ['chart', 'sample', 'control', 'compare'] as const) {
    try {
      storage()?.removeItem(prefsKey(dataDir, runSection(runId, section)))
    } catch {
      // nothing to forget
    }
  }
}
