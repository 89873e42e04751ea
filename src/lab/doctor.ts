// `score-lab doctor`: a plain-words diagnosis of the compute setup with the exact fix for
// each problem. CUDA/cuDNN mismatches are the failure tfjs-node-gpu users report most.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import type { BackendInfo } from '../engine/backend/types'
import type { DoctorReport } from '../shared/contract'

type Check = DoctorReport['checks'][number]

/** Which shared libraries the dynamic loader can find (Linux); null where ldconfig is absent. */
export function loaderLibraries(): string[] | null {
  if (process.platform !== 'linux') return null
  try {
    const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    return out.split('\n').map((l) => l.trim().split(' ')[0] ?? '').filter(Boolean)
  } catch {
    return null
  }
}

export function diagnose(backend: BackendInfo, dataDir: string, libs: string[] | null = loaderLibraries()): DoctorReport {
  const checks: Check[] = []
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number]
  checks.push({
    name: 'Node.js',
    ok: major > 20 || (major === 20 && minor >= 19),
    detail: `Node ${process.versions.node}`,
    fix: 'Install Node.js 20.19 or newer'
  })
  const inUse = backend.attempts.find((a) => a.name === backend.name)
  const stepOf = (ms: number | undefined) => (ms !== undefined ? ` (training step ${Math.round(ms * 10) / 10} ms)` : '')
  checks.push({ name: 'Backend in use', ok: true, detail: `${backend.name} on ${backend.device}${stepOf(inUse?.stepMs)}` })
  if (backend.choice) {
    const t = backend.timing
    const kept = t ? `; measured ${t.measuredAt}${t.cached ? ', kept' : ''}${t.file ? ` in ${t.file}` : ''}${t.note ? `; ${t.note}` : ''}` : ''
    checks.push({ name: 'Backend choice', ok: true, detail: backend.choice + kept })
  }
  for (const a of backend.attempts) {
    // A backend that works but measured slower is no problem to fix: listed as fine, with its time.
    if (a.ok && a.name !== backend.name) checks.push({ name: `Backend ${a.name}`, ok: true, detail: a.reason ?? `works${stepOf(a.stepMs)}` })
    if (a.ok) continue
    checks.push({ name: `Backend ${a.name}`, ok: false, detail: a.reason ?? 'not available', fix: a.fix })
  }
  if (libs) {
    const has = (prefix: string) => libs.some((l) => l.startsWith(prefix))
    checks.push({
      name: 'CUDA 11.2 runtime (libcudart.so.11.0)',
      ok: has('libcudart.so.11.0'),
      detail: has('libcudart.so.11.0') ? 'found by the dynamic loader' : 'not found by the dynamic loader (needed only for tfjs-node-gpu)',
      fix: 'Install CUDA 11.2 and add /usr/local/cuda-11.2/lib64 to LD_LIBRARY_PATH (or /etc/ld.so.conf.d) then run ldconfig'
    })
    checks.push({
      name: 'cuDNN 8 (libcudnn.so.8)',
      ok: has('libcudnn.so.8'),
      detail: has('libcudnn.so.8') ? 'found by the dynamic loader' : 'not found by the dynamic loader (needed only for tfjs-node-gpu)',
      fix: 'Install cuDNN 8.1 for CUDA 11.2 and make libcudnn.so.8 visible to the loader'
    })
    checks.push({
      name: 'Vulkan loader (libvulkan.so.1)',
      ok: has('libvulkan.so.1'),
      detail: has('libvulkan.so.1') ? 'found' : 'not found (needed for the WebGPU backend on Linux)',
      fix: 'apt-get install libvulkan1 mesa-vulkan-drivers (or your GPU vendor\'s Vulkan driver)'
    })
  }
  let writable = true
  try {
    fs.accessSync(dataDir, fs.constants.W_OK)
  } catch {
    writable = false
  }
  checks.push({ name: 'Data folder', ok: writable, detail: dataDir, fix: 'Make the folder writable or set SCORE_LAB_HOME to another folder' })
  // GPU libraries are optional: the lab is healthy when the backend in use works and the data folder is writable.
  const ok = checks.filter((c) => c.name === 'Node.js' || c.name === 'Data folder').every((c) => c.ok)
  return { ok, backend, checks }
}
