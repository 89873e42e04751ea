import { defineStore, acceptHMRUpdate } from 'pinia'
import { computed, ref } from 'vue'
import type { ProcOutput } from '@shared/contract'
import { errorMessage, lab } from '../client'

export type Catalog = ProcOutput<'engine.catalog'>

/** What the engine offers (models, SDEs, weightings, data sets) and the presets that train well. */
export const useCatalogStore = defineStore('catalog', () => {
  const catalog = ref<Catalog | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(false)

  const presets = computed(() => catalog.value?.presets ?? [])
  const datasets = computed(() => catalog.value?.datasets ?? [])

  async function load(force = false): Promise<void> {
    if ((catalog.value && !force) || loading.value) return
    loading.value = true
    error.value = null
    try {
      catalog.value = await lab.engine.catalog()
    } catch (err) {
      error.value = `Could not load the model and data set catalogue: ${errorMessage(err)}`
    } finally {
      loading.value = false
    }
  }

  function datasetTitle(name: string): string {
    return datasets.value.find((d) => d.name === name)?.title ?? name
  }

  return { catalog, error, loading, presets, datasets, load, datasetTitle }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useCatalogStore, import.meta.hot))
