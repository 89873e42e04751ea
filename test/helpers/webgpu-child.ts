// Runs a script on the WebGPU backend in a child process and returns what it printed on its
// `RESULT {json}` line, or why no adapter could be used.
//
// A child, because Dawn finds the Vulkan loader through LD_LIBRARY_PATH, which the dynamic linker
// reads only at process start (measured: setting it in process.env is too late). The child first
// tries the machine's own adapters; if there is none and Chromium's SwiftShader Vulkan driver is
// installed (apt-get install chromium), it retries on SwiftShader (the environment for that is
// src/engine/backend/webgpu/software-adapter.ts, shared with the WebGPU bench).
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { swiftshaderEnv } from '../../src/engine/backend/webgpu/software-adapter'

export { SWIFTSHADER_ICD, swiftshaderEnv } from '../../src/engine/backend/webgpu/software-adapter'
export const ROOT = path.resolve(__dirname, '../..')

export type WebgpuChildResult<T> = { ok: true; value: T } | { ok: false; why: string }

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
