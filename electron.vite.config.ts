import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'
import type { Plugin } from 'vite'
import { contentSecurityPolicy } from './src/shared/csp'

const root = fileURLToPath(new URL('.', import.meta.url))

/**
 * Puts the renderer's Content-Security-Policy (src/shared/csp.ts, the one owner) into
 * index.html as a <meta> tag: Electron's packaged window loads the file from file://, where no
 * header can carry it. Pages from the dev server also get the dev server's localhost origins.
 */
function cspMetaTag(): Plugin {
  let devServer = false
  return {
    name: 'score-lab:csp-meta',
    configResolved(config) {
      devServer = config.command === 'serve'
    },
    // 'pre': before Vite adds the bundle's <script> and <link>, so the policy governs them.
    transformIndexHtml: {
      order: 'pre',
      handler: () => [
        { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy({ delivery: 'meta', devServer }) }, injectTo: 'head' }
      ]
    }
  }
}

export default defineConfig({
  main: {
    build: {
      rollupOptions: { input: { index: resolve(root, 'src/main/index.ts') } }
    }
  },
  preload: {
    build: {
      // Sandboxed preloads must be one CommonJS file that requires only 'electron'.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(root, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' }
      }
    }
  },
  renderer: {
    root: resolve(root, 'src/renderer'),
    resolve: {
      alias: {
        '@renderer': resolve(root, 'src/renderer/src'),
        '@shared': resolve(root, 'src/shared')
      }
    },
    build: {
      rollupOptions: { input: { index: resolve(root, 'src/renderer/index.html') } }
    },
    plugins: [vue(), cspMetaTag()]
  }
})
