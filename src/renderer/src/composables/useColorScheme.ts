import { onMounted, onUnmounted, ref, type Ref } from 'vue'

/** The system colour scheme, following changes (charts redraw their axes with it). */
export function useColorScheme(): { scheme: Ref<'dark' | 'light'> } {
  const query = window.matchMedia('(prefers-color-scheme: dark)')
  const scheme = ref<'dark' | 'light'>(query.matches ? 'dark' : 'light')
  const update = () => (scheme.value = query.matches ? 'dark' : 'light')
  onMounted(() => query.addEventListener('change', update))
  onUnmounted(() => query.removeEventListener('change', update))
  return { scheme }
}
