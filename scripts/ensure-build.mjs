// Builds the app (electron-vite) when out/ is missing or older than any source file.
import fs from 'node:fs'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function newest(dir) {
  let t = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs)
  }
  return t
}

export function ensureBuild() {
  const marker = path.join(root, 'out/renderer/index.html')
  const built = fs.existsSync(marker) ? fs.statSync(marker).mtimeMs : 0
  const sources = Math.max(newest(path.join(root, 'src')), fs.statSync(path.join(root, 'electron.vite.config.ts')).mtimeMs)
  if (built >= sources) return
  console.log('[score-lab] building the app (electron-vite build)…')
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    console.error('[score-lab] build failed; see the output above')
    process.exit(r.status ?? 1)
  }
}
