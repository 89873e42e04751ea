#!/usr/bin/env node
// Builds the GPU bench bundle (npm run bench:gpu-bundle): everything `bash bundle/run.sh` needs on
// a bare Linux x86-64 GPU machine with no network and no install —
//   bench-gpu.mjs     bench/gpu/bench-gpu.ts and the engine, one esbuild bundle (Node 18)
//   torch_bench.py    the PyTorch side (runs where python3 has torch)
//   node_modules/     the `webgpu` addon (Dawn) and tfjs-backend-wasm's .wasm files, found at run
//                     time by the engine's own require()/require.resolve()
//   native/           Score Lab's C++ kernels (native/build/Release/score_lab_native.node)
//   vulkan/           the Vulkan loader, from Debian's libvulkan1
//   runtime/          Node 18 from Debian's nodejs + libnode108 and the libraries it links
//   run.sh, README.txt, MANIFEST.json, licenses/
// and packs it as score-lab-gpu-bench.tar.gz, whose entries unpack to bundle/. The archive must
// stay under 60 MiB (what gets copied to the GPU machine); the build fails above that.
//
//   node scripts/build-gpu-bundle.mjs [--out DIR]     (default: bundle/ in the repository)
//
// Debian packages are fetched once with `apt-get download` into .cache/gpu-bundle/debs (reused
// after), so building needs apt (Debian 12 bookworm, amd64) the first time only.
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import * as tar from 'tar'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const argOut = process.argv.indexOf('--out')
const OUT = path.resolve(argOut >= 0 ? process.argv[argOut + 1] : path.join(ROOT, 'bundle'))
const CACHE = path.join(ROOT, '.cache', 'gpu-bundle')
const DEBS = path.join(CACHE, 'debs')
const ARCHIVE_NAME = 'score-lab-gpu-bench.tar.gz'
const LIMIT = 60 * 2 ** 20
const MA = 'x86_64-linux-gnu'

// Node 18's runtime: libnode108 links these (apt-cache depends libnode108); libc, libm,
// libstdc++ and libgcc_s come from the target, with Debian's libstdc++ as a fallback (run.sh).
// node-acorn, node-cjs-module-lexer and node-undici hold the five builtins Debian's Node reads
// from /usr/share/nodejs at start (see patchLibnode).
const PACKAGES = ['libnode108', 'libuv1', 'libc-ares2', 'libicu72', 'libbrotli1', 'libnghttp2-14', 'libssl3', 'zlib1g', 'node-acorn', 'node-cjs-module-lexer', 'node-undici', 'libstdc++6', 'libvulkan1']
const NODE_LIBS = ['libnode.so.108', 'libuv.so.1', 'libcares.so.2', 'libicudata.so.72', 'libicui18n.so.72', 'libicuuc.so.72', 'libbrotlicommon.so.1', 'libbrotlidec.so.1', 'libbrotlienc.so.1', 'libnghttp2.so.14', 'libssl.so.3', 'libcrypto.so.3', 'libz.so.1']
const SYSTEM_LIBS = /^(linux-vdso|libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|ld-linux-x86-64)\.so/
const BUILTINS = ['acorn/dist/acorn.js', 'acorn-walk/dist/walk.js', 'cjs-module-lexer/lexer.js', 'cjs-module-lexer/dist/lexer.js', 'undici/undici-fetch.js']
const BUILTIN_DIR_FROM = '/usr/share/nodejs/'
// Same length as BUILTIN_DIR_FROM (the string is patched in place), relative to the working
// directory, which run.sh sets to the bundle folder before starting Node.
const BUILTIN_DIR_TO = './runtime/nodejs//'

const log = (msg) => console.log(`[gpu-bundle] ${msg}`)
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts })

function debFile(pkg) {
  const hit = fs.existsSync(DEBS) ? fs.readdirSync(DEBS).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb')) : undefined
  return hit ? path.join(DEBS, hit) : null
}

function download(spec) {
  // apt-get download needs no root and installs nothing; it fails where Debian's archive is unreachable
  const r = spawnSync('apt-get', ['download', spec], { cwd: DEBS, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`apt-get download ${spec} failed (${r.error?.message ?? r.stderr.trim().split('\n').pop()}): building the bundle needs Debian 12's archive the first time, or the .deb in ${DEBS}`)
}

function ensureDebs() {
  fs.mkdirSync(DEBS, { recursive: true })
  for (const pkg of PACKAGES) if (!debFile(pkg)) download(pkg)
  // nodejs (the 26 KB `node` launcher) must be Debian's build of libnode108's version: a newer
  // candidate from another repository (e.g. NodeSource) would not link against it
  if (!debFile('nodejs')) download(`nodejs=${sh('dpkg-deb', ['-f', debFile('libnode108'), 'Version']).trim()}`)
  return [...PACKAGES, 'nodejs'].map((p) => ({ pkg: p, file: debFile(p), version: sh('dpkg-deb', ['-f', debFile(p), 'Version']).trim() }))
}

/**
 * Debian builds Node with five builtins "externalized" to absolute paths under /usr/share/nodejs
 * (configure --shared-builtin-*-path), read when every Node process starts; a target without
 * Debian's node packages has none of them, and Node aborts. The paths are compile-time strings
 * in libnode, so they are rewritten in place to a same-length path relative to the bundle folder.
 */
function patchLibnode(src, dst) {
  const buf = fs.readFileSync(src)
  const from = Buffer.from(BUILTIN_DIR_FROM)
  const to = Buffer.from(BUILTIN_DIR_TO)
  if (from.length !== to.length) throw new Error('internal: the patched builtin path must keep its length')
  let n = 0
  for (let i = buf.indexOf(from); i >= 0; i = buf.indexOf(from, i + from.length)) {
    to.copy(buf, i)
    n++
  }
  if (n < BUILTINS.length) throw new Error(`libnode.so.108: expected at least ${BUILTINS.length} references to ${BUILTIN_DIR_FROM}, found ${n}`)
  fs.mkdirSync(path.dirname(dst), { recursive: true })
  fs.writeFileSync(dst, buf)
  return n
}

function copy(src, dst, mode) {
  fs.mkdirSync(path.dirname(dst), { recursive: true })
  fs.copyFileSync(src, dst)
  if (mode) fs.chmodSync(dst, mode)
}

/** Shared objects lose their symbol tables (a quarter of Dawn's size); kept as is without `strip`. */
function stripped(dst) {
  const r = spawnSync('strip', ['--strip-unneeded', dst])
  return r.status === 0
}

function du(dir) {
  let total = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    total += e.isDirectory() ? du(p) : fs.lstatSync(p).size
  }
  return total
}
const mib = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`

// tfjs-backend-cpu's package.json lists the files with side effects, and not its Node entry, so
// esbuild would drop src/engine/tf.ts's bare `import '@tensorflow/tfjs-backend-cpu'` (which
// registers the backend). Node runs every import: so does the bundle.
const keepSideEffects = {
  name: 'keep-bare-imports',
  setup(b) {
    b.onResolve({ filter: /^@tensorflow\/tfjs-backend-cpu$/ }, async (args) => {
      if (args.pluginData?.keep) return undefined
      const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { keep: true } })
      return r.errors.length ? { errors: r.errors } : { path: r.path, sideEffects: true }
    })
  }
}

async function main() {
  const t0 = Date.now()
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error('the GPU bundle is built for Linux x86-64 (its Node runtime and addons are), on such a machine')
  const nativeAddon = path.join(ROOT, 'native', 'build', 'Release', 'score_lab_native.node')
  if (!fs.existsSync(nativeAddon)) throw new Error(`${path.relative(ROOT, nativeAddon)} is missing: npm run build:native first`)
  const dawn = path.join(ROOT, 'node_modules', 'webgpu', 'dist', 'linux-x64.dawn.node')
  if (!fs.existsSync(dawn)) throw new Error('node_modules/webgpu is missing (optional dependency): npm install webgpu')

  const debs = ensureDebs()
  const root = path.join(CACHE, 'root')
  fs.rmSync(root, { recursive: true, force: true })
  for (const d of debs) sh('dpkg-deb', ['-x', d.file, root])

  const archivePath = path.join(OUT, ARCHIVE_NAME)
  fs.rmSync(OUT, { recursive: true, force: true })
  fs.mkdirSync(OUT, { recursive: true })
  const at = (...p) => path.join(OUT, ...p)
  const findLib = (name) => [path.join(root, 'usr/lib', MA, name), path.join(root, 'lib', MA, name)].find((p) => fs.existsSync(p))

  // 1. The bench, one file. ESM for import.meta.url (the engine finds the native addon and the
  // wasm files relative to it); require/__dirname for the CommonJS parts of tfjs.
  await build({
    entryPoints: [path.join(ROOT, 'bench/gpu/bench-gpu.ts')],
    outfile: at('bench-gpu.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node18',
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [keepSideEffects],
    banner: {
      js: "import { createRequire as __slCreateRequire } from 'node:module'; import { fileURLToPath as __slToPath } from 'node:url'; import { dirname as __slDirname } from 'node:path'; const require = __slCreateRequire(import.meta.url); const __filename = __slToPath(import.meta.url); const __dirname = __slDirname(__filename);"
    }
  })
  copy(path.join(ROOT, 'bench/gpu/torch_bench.py'), at('torch_bench.py'))
  copy(path.join(ROOT, 'bench/gpu/run.sh'), at('run.sh'), 0o755)
  copy(path.join(ROOT, 'bench/gpu/README.txt'), at('README.txt'))

  // 2. Addons and wasm, where the engine's runtime lookups find them. The `webgpu` package is ESM,
  // which Node 18 cannot require(): the bundle's copy is a CommonJS wrapper around the same addon.
  const webgpuPkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/webgpu/package.json'), 'utf8'))
  copy(dawn, at('node_modules/webgpu/dist/linux-x64.dawn.node'))
  const dawnStripped = stripped(at('node_modules/webgpu/dist/linux-x64.dawn.node'))
  fs.writeFileSync(at('node_modules/webgpu/package.json'), JSON.stringify({ name: 'webgpu', version: webgpuPkg.version, license: webgpuPkg.license ?? 'MIT', main: 'index.js' }, null, 2) + '\n')
  fs.writeFileSync(at('node_modules/webgpu/index.js'), "// CommonJS wrapper of webgpu's index.js (Linux x86-64 only): the bundle's Node 18 cannot require() ESM\nmodule.exports = require('./dist/linux-x64.dawn.node')\n")
  copy(path.join(ROOT, 'node_modules/webgpu/LICENSE.md'), at('licenses/webgpu.LICENSE.md'))
  const wasmDir = path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm')
  copy(path.join(wasmDir, 'package.json'), at('node_modules/@tensorflow/tfjs-backend-wasm/package.json'))
  for (const f of fs.readdirSync(path.join(wasmDir, 'dist')).filter((f) => f.endsWith('.wasm'))) copy(path.join(wasmDir, 'dist', f), at('node_modules/@tensorflow/tfjs-backend-wasm/dist', f))
  copy(nativeAddon, at('native/build/Release/score_lab_native.node'))
  stripped(at('native/build/Release/score_lab_native.node'))

  // 3. Vulkan loader and Node runtime from the Debian packages.
  copy(findLib('libvulkan.so.1'), at('vulkan/libvulkan.so.1'))
  copy(path.join(root, 'usr/bin/node'), at('runtime/node'), 0o755)
  for (const lib of NODE_LIBS) {
    const src = findLib(lib)
    if (!src) throw new Error(`${lib} not found in the extracted Debian packages`)
    if (lib === 'libnode.so.108') patchLibnode(src, at('runtime/lib', lib))
    else copy(src, at('runtime/lib', lib))
  }
  copy(findLib('libstdc++.so.6'), at('runtime/libstdcxx/libstdc++.so.6'))
  for (const b of BUILTINS) copy(path.join(root, 'usr/share/nodejs', b), at('runtime/nodejs', b))
  for (const d of debs) {
    const c = path.join(root, 'usr/share/doc', d.pkg, 'copyright')
    if (fs.existsSync(c)) copy(c, at('licenses', `${d.pkg}.copyright`))
  }

  fs.rmSync(root, { recursive: true, force: true }) // extracted packages: everything needed is copied

  // 4. Check the runtime is complete: everything node links must be in runtime/lib or be a
  // base system library (ldd with only the bundle's folders on the search path).
  const env = { ...process.env, LD_LIBRARY_PATH: at('runtime/lib') }
  for (const bin of [at('runtime/node'), at('runtime/lib/libnode.so.108')]) {
    for (const line of sh('ldd', [bin], { env }).split('\n').filter((l) => l.includes('=>'))) {
      const [name, where] = line.trim().split(/\s*=>\s*/)
      if (SYSTEM_LIBS.test(name)) continue
      if (!where.startsWith(at('runtime/lib'))) throw new Error(`${path.basename(bin)} links ${name}, which the bundle lacks (${where})`)
    }
  }
  const smoke = spawnSync(at('runtime/node'), ['-e', 'process.stdout.write(process.version)'], { cwd: OUT, env, encoding: 'utf8' })
  if (smoke.status !== 0 || !smoke.stdout.startsWith('v18.')) throw new Error(`the bundled Node does not start: ${smoke.stderr.trim().split('\n')[0]}`)

  const manifest = {
    built: new Date().toISOString(),
    commit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() || 'unknown',
    node: smoke.stdout,
    webgpu: webgpuPkg.version,
    tfjs: JSON.parse(fs.readFileSync(path.join(wasmDir, 'package.json'), 'utf8')).version,
    debian_packages: Object.fromEntries(debs.map((d) => [d.pkg, d.version])),
    notes: [
      `runtime/lib/libnode.so.108: ${BUILTIN_DIR_FROM} rewritten to ${BUILTIN_DIR_TO} (run.sh starts Node in this folder)`,
      dawnStripped ? 'node_modules/webgpu/dist/linux-x64.dawn.node: strip --strip-unneeded' : 'linux-x64.dawn.node: not stripped (no strip here)'
    ]
  }
  fs.writeFileSync(at('MANIFEST.json'), JSON.stringify(manifest, null, 2) + '\n')

  // 5. The archive: entries under bundle/, whatever the output folder is called.
  const unpacked = du(OUT)
  const entries = fs.readdirSync(OUT).filter((e) => e !== ARCHIVE_NAME).sort()
  await tar.c({ gzip: { level: 9 }, file: archivePath, cwd: OUT, prefix: 'bundle', portable: true }, entries)
  const size = fs.statSync(archivePath).size
  log(`${path.relative(process.cwd(), archivePath) || archivePath}: ${mib(size)} (limit ${mib(LIMIT)}); unpacked ${mib(unpacked)}; ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  if (size > LIMIT) throw new Error(`the archive is ${mib(size)}, over the ${mib(LIMIT)} limit`)
  log(`copy it to the GPU machine, then: tar xzf ${ARCHIVE_NAME} && bash bundle/run.sh --out results`)
}

main().catch((e) => {
  console.error(`[gpu-bundle] ${e.message ?? e}`)
  process.exit(1)
})
