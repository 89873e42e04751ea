// npm start: build if needed, then launch Electron — or, where the Electron binary is
// missing (offline installs skip its download), say so in one line and serve browser mode.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureBuild } from './ensure-build.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)

export function electronBinary() {
  try {
    // The electron package exports the binary's path, and throws when it was never downloaded.
    const bin = require('electron')
    return typeof bin === 'string' ? { ok: true, path: bin } : { ok: false, reason: 'the electron package did not return a binary path' }
  } catch (err) {
    const msg = String(err.message).split('\n')[0]
    return {
      ok: false,
      reason: /failed to install correctly/.test(msg)
        ? 'its binary was never downloaded: installs without internet skip it; with internet run `node node_modules/electron/install.js`'
        : msg
    }
  }
}

ensureBuild()
const electron = electronBinary()
let child
if (electron.ok && !process.env.SCORE_LAB_BROWSER) {
  child = spawn(electron.path, [root, ...process.argv.slice(2)], { stdio: 'inherit' })
} else {
  console.log(`[score-lab] Electron is not available (${electron.reason ?? 'SCORE_LAB_BROWSER is set'}); starting browser mode instead.`)
  child = spawn(process.execPath, [path.join(root, 'bin/score-lab.mjs'), 'serve', ...process.argv.slice(2)], { stdio: 'inherit' })
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code) => process.exit(code ?? 0))
