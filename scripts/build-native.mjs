// Builds Score Lab's native kernels (native/, a C++ N-API addon) with node-gyp, which npm ships.
// Run by `npm install` (postinstall) and `npm run build:native`. The addon is optional: when no
// C++ toolchain is present the build is skipped with one line saying why, `npm install` still
// succeeds, and the app runs on the wasm backend (the backend report names the missing addon).
// `--strict` turns a failed build into a non-zero exit (for CI, where the toolchain is expected).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dir = path.join(root, 'native')
const strict = process.argv.includes('--strict')
const require = createRequire(import.meta.url)

function nodeGyp() {
  // npm's own copy (no extra dependency); the global npm's when run outside npm.
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.env.npm_execpath ?? ''), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
  ]
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'))
  } catch {}
  return candidates.find((c) => c && fs.existsSync(c))
}

function nodeDir() {
  // Build against the running Node's own headers rather than downloading them (no internet).
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir
  const prefix = path.resolve(path.dirname(process.execPath), '..')
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined
}

function skip(why) {
  console.log(`[score-lab] native kernels not built: ${why}. Score Lab will use the wasm backend; see README "Native kernels".`)
  process.exit(strict ? 1 : 0)
}

if (process.env.SCORE_LAB_SKIP_NATIVE_BUILD === '1') skip('SCORE_LAB_SKIP_NATIVE_BUILD=1')
const gyp = nodeGyp()
if (!gyp) skip('node-gyp was not found (it ships with npm)')
const nodedir = nodeDir()
const args = [gyp, 'rebuild', '--release', ...(nodedir ? [`--nodedir=${nodedir}`] : [])]
const t0 = Date.now()
const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' })
if (r.status !== 0) {
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`
  const hint = /not found: make|gyp ERR! stack Error: not found|g\+\+|c\+\+: not found|No such file or directory.*(g\+\+|c\+\+)/.test(out)
    ? 'no C++ toolchain (Debian: apt-get install python3 make g++)'
    : /network|ENOTFOUND|EAI_AGAIN|download/i.test(out)
      ? 'node-gyp tried to download Node headers (set npm_config_nodedir to a Node install with include/node)'
      : `node-gyp failed (exit ${r.status}); last lines:\n${out.trim().split('\n').slice(-8).join('\n')}`
  skip(hint)
}
console.log(`[score-lab] native kernels built in ${((Date.now() - t0) / 1000).toFixed(1)} s (native/build/Release/score_lab_native.node)`)
