// Runs a script on the WebGPU backend in a child process and returns what it printed on its
// `RESULT {json}` line, or why no adapter could be used.
//
// A child, because Dawn finds the Vulkan loader through LD_LIBRARY_PATH, which the dynamic linker
// reads only at process start (measured: setting it in process.env is too late). The child first
// tries the machine's own adapters; if there is none and Chromium's SwiftShader Vulkan driver is
// installed (apt-get install chromium: /usr/lib/chromium/vk_swiftshader_icd.json, with its own
// libvulkan.so.1), it retries on SwiftShader.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'

export const ROOT = path.resolve(__dirname, '../..')
const CHROMIUM = '/usr/lib/chromium'
export const SWIFTSHADER_ICD = path.join(CHROMIUM, 'vk_swiftshader_icd.json')
const LOADER_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib']

export type WebgpuChildResult<T> = { ok: true; value: T } | { ok: false; why: string }

/** The environment that puts SwiftShader under Dawn (null where Chromium's driver is absent). */
export function swiftshaderEnv(): NodeJS.ProcessEnv | null {
  if (!existsSync(SWIFTSHADER_ICD)) return null
  const env: NodeJS.ProcessEnv = { VK_ICD_FILENAMES: SWIFTSHADER_ICD }
  const hasLoader = LOADER_DIRS.some((d) => existsSync(path.join(d, 'libvulkan.so.1')))
  if (!hasLoader) env.LD_LIBRARY_PATH = [CHROMIUM, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':')
  return env
}

function runOnce<T>(code: string, env: NodeJS.ProcessEnv, timeoutMs: number): { value?: T; error?: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: ROOT,
    env: { ...process.env, ...env, SCORE_LAB_BACKEND: '' },
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 2 ** 20
  })
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '))
  if (!line) return { error: `child exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` }
  const parsed = JSON.parse(line.slice(7)) as { error?: string }
  return parsed.error ? { error: parsed.error } : { value: parsed as T }
}

/**
 * Runs `code` (an ES module run from the repository root; it must print one `RESULT {json}` line,
 * or `RESULT {"error": "..."}` when the backend cannot start) on the machine's adapter, else on
 * SwiftShader. `ok: false` (the reason, for a test's skip message) only where neither exists:
 * where SwiftShader is installed (CI installs chromium) and the child still fails, it throws.
 */
export function runOnWebgpu<T>(code: string, timeoutMs = 300_000): WebgpuChildResult<T> {
  const own = runOnce<T>(code, {}, timeoutMs)
  if (own.value) return { ok: true, value: own.value }
  const env = swiftshaderEnv()
  if (!env) return { ok: false, why: `no usable WebGPU adapter (${own.error}) — \`apt-get install -y chromium\` provides SwiftShader for this test` }
  const soft = runOnce<T>(code, env, timeoutMs)
  if (soft.value) return { ok: true, value: soft.value }
  throw new Error(`WebGPU failed on SwiftShader too: the machine's own adapter: ${own.error}; SwiftShader (${JSON.stringify(env)}): ${soft.error}`)
}

/** The child's opening lines: the webgpu backend (software adapters allowed), or RESULT {error}. */
export const WEBGPU_CHILD_PRELUDE = `
import { tf } from './src/engine/tf.ts'
import { selectBackend } from './src/engine/backend/select.ts'
if (!tf.getGradient('Conv2D')) await import('@tensorflow/tfjs-core/dist/register_all_gradients.js')
let backendInfo
try {
  backendInfo = await selectBackend({ force: 'webgpu', allowSoftwareWebgpu: true })
} catch (e) {
  console.log('RESULT ' + JSON.stringify({ error: String(e.message ?? e) }))
  process.exit(0)
}
`
