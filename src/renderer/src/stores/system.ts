import { defineStore, acceptHMRUpdate } from 'pinia'
import { ref } from 'vue'
import type { DoctorReport, SystemInfo } from '@shared/contract'
import { errorMessage, lab } from '../client'

export const useSystemStore = defineStore('system', () => {
  const info = ref<SystemInfo | null>(null)
  const doctor = ref<DoctorReport | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(false)
  /** What "Measure again" did, in words. */
  const remeasured = ref<string | null>(null)

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      info.value = await lab.system.info()
    } catch (err) {
      error.value = errorMessage(err)
    } finally {
      loading.value = false
    }
  }

  async function runDoctor(): Promise<void> {
    try {
      doctor.value = await lab.system.doctor()
    } catch (err) {
      error.value = errorMessage(err)
    }
  }

  async function remeasure(): Promise<void> {
    try {
      remeasured.value = (await lab.system.remeasureBackends()).message
    } catch (err) {
      error.value = errorMessage(err)
    }
  }

  return { info, doctor, error, loading, remeasured, load, runDoctor, remeasure }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useSystemStore, import.meta.hot))
