// Runs the CLI's TypeScript sources in plain Node 20 without a module-hooks thread: `.ts` files
// are compiled on require() — by esbuild, to CommonJS — and the output is cached on disk by
// content (node_modules/.cache/score-lab-ts), so a warm start reads one small file per module
// and never loads esbuild.
//
// Why not tsx here (it still runs the job workers: src/lab/jobs/tsx-worker.mjs): tsx's ESM hooks
// run in a second thread that Node 20 must boot before the first import, and tsx loads itself and
// esbuild in both threads — about 0.4 s of CPU before the CLI's first line on the 2-core machine,
// where `score-lab runs list` should take under 0.5 s in all (bench/cli.bench.ts measures it).
// Node 20 has neither in-thread ESM hooks (module.registerHooks) nor --experimental-strip-types.
//
// The sources are ES modules; as CommonJS they keep their meaning here: import() becomes a
// deferred require() (same laziness), import.meta.url is each file's own URL, exports stay live
// bindings, and the code runs in strict mode. Packages load through their CommonJS entry points.
import crypto from 'node:crypto'
import fs from 'node:fs'
import Module, { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const require = createRequire(import.meta.url)
const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)))
// esbuild as tsx has it (a dependency of tsx, not of the app); required only on a cache miss.
const esbuildPath = createRequire(require.resolve('tsx/package.json')).resolve('esbuild')
const esbuildVersion = JSON.parse(fs.readFileSync(path.join(path.dirname(esbuildPath), '../package.json'), 'utf8')).version

const OPTIONS = {
  loader: 'ts',
  format: 'cjs',
  target: `node${process.versions.node}`,
  supported: { 'dynamic-import': false },
  sourcemap: 'inline',
  sourcesContent: false,
  keepNames: true
}
/** Changes whenever the output could: this file's scheme, esbuild's version, the options. */
const SALT = `score-lab-ts 1\0${esbuildVersion}\0${JSON.stringify(OPTIONS)}\0`
const CACHE_DAYS = 7

let cacheDir = path.join(root, 'node_modules/.cache/score-lab-ts')
let pruned = false

/** Makes require() compile .ts files (extensionless requires find them too). Idempotent. */
export function registerTypeScript() {
  if (Module._extensions['.ts']) return
  try {
    fs.mkdirSync(cacheDir, { recursive: true })
  } catch {
    cacheDir = null // read-only install: compile every time (slower, still correct)
  }
  Module._extensions['.ts'] = (module, filename) => {
    module._compile(compile(filename, fs.readFileSync(filename, 'utf8')), filename)
  }
}

function compile(file, source) {
  const key = crypto.createHash('sha1').update(SALT).update(file).update('\0').update(source).digest('hex')
  const cached = cacheDir && path.join(cacheDir, `${key}.cjs`)
  if (cached) {
    try {
      return fs.readFileSync(cached, 'utf8')
    } catch {
      /* a miss */
    }
  }
  let code
  try {
    const esbuild = require(esbuildPath)
    const define = { 'import.meta.url': JSON.stringify(pathToFileURL(file).href) }
    // ES modules are strict; their CommonJS form must say so (on line 1, so the map still fits).
    code = '"use strict";' + esbuild.transformSync(source, { ...OPTIONS, define, sourcefile: file }).code
  } catch (err) {
    const e = err.errors?.[0]
    throw new SyntaxError(e ? `${e.location ? `${file}:${e.location.line}:${e.location.column + 1}` : file}: ${e.text}` : String(err))
  }
  if (cached) {
    // Atomic: other score-lab processes may read the entry while this one writes it.
    const tmp = `${cached}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`
    try {
      fs.writeFileSync(tmp, code)
      fs.renameSync(tmp, cached)
    } catch {
      fs.rmSync(tmp, { force: true })
    }
    if (!pruned) prune()
  }
  return code
}

/** Drops entries older than CACHE_DAYS (after an edit the old ones are never read again). */
function prune() {
  pruned = true
  const cutoff = Date.now() - CACHE_DAYS * 86_400_000
  try {
    for (const name of fs.readdirSync(cacheDir)) {
      const p = path.join(cacheDir, name)
      try {
        if (fs.statSync(p).mtimeMs < cutoff) fs.rmSync(p, { force: true })
      } catch {
        /* gone already */
      }
    }
  } catch {
    /* no cache folder */
  }
}
