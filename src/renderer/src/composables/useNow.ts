import { onMounted, onUnmounted, ref, type Ref } from 'vue'

/** The current time, ticking every `everyMs` while the component is mounted (for live durations). */
export function useNow(everyMs = 1000): { now: Ref<number> } {
  const now = ref(Date.now())
  let timer: ReturnType<typeof setInterval> | undefined
  onMounted(() => (timer = setInterval(() => (now.value = Date.now()), everyMs)))
  onUnmounted(() => clearInterval(timer))
  return { now }
}
