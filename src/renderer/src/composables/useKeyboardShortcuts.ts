import { onMounted, onUnmounted } from 'vue'

/** Registers a keydown handler for the component's lifetime; the handler returns true when it used the key. */
export function useKeyboardShortcuts(handler: (e: KeyboardEvent) => boolean): void {
  const listener = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement | null
    if (target && ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName) && !e.altKey) return
    if (handler(e)) e.preventDefault()
  }
  onMounted(() => window.addEventListener('keydown', listener))
  onUnmounted(() => window.removeEventListener('keydown', listener))
}
