// What the GPU bench says about the machine: GPU name, driver and fp32 peak (nvidia-smi when it
// exists, else what the WebGPU adapter reports), and the CPU's peak the way bench/scorenet.bench.ts
// computes it. No tfjs here: the bench's parent process stays light.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'

export interface NvidiaInfo {
  name: string
  driver: string
  maxSmClockMhz?: number
  memoryMib?: number
  computeCap?: string
}

/** The first GPU as nvidia-smi sees it, or null (no nvidia-smi, or it failed: the reason). */
export function nvidiaSmi(env: NodeJS.ProcessEnv): { gpu: NvidiaInfo | null; why?: string } {
  // compute_cap is missing from old drivers' nvidia-smi, which then rejects the whole query
  for (const fields of ['name,driver_version,clocks.max.sm,memory.total,compute_cap', 'name,driver_version,clocks.max.sm,memory.total']) {
    const r = spawnSync('nvidia-smi', [`--query-gpu=${fields}`, '--format=csv,noheader,nounits'], { encoding: 'utf8', env, timeout: 30_000 })
    if (r.error) return { gpu: null, why: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no nvidia-smi on PATH' : String(r.error.message) }
    if (r.status !== 0) continue
    const cells = (r.stdout.trim().split('\n')[0] ?? '').split(',').map((c) => c.trim())
    if (!cells[0]) continue
    const num = (s?: string) => (s && Number.isFinite(Number(s)) ? Number(s) : undefined)
    return { gpu: { name: cells[0], driver: cells[1] ?? '', maxSmClockMhz: num(cells[2]), memoryMib: num(cells[3]), computeCap: cells[4] } }
  }
  return { gpu: null, why: 'nvidia-smi failed' }
}

/** fp32 (non-tensor-core) peaks in TFLOP/s at boost clock, from NVIDIA's data sheets; first match wins. */
const NVIDIA_FP32_TFLOPS: Array<[RegExp, number]> = [
  [/GH200/i, 67],
  [/H200 NVL/i, 60],
  [/H200/i, 67],
  [/H100 NVL/i, 60],
  [/H100 PCIe/i, 51.2],
  [/H100/i, 66.9],
  [/B200/i, 80],
  [/A100/i, 19.5],
  [/A10G/i, 31.2],
  [/\bA10\b/i, 31.2],
  [/L40S/i, 91.6],
  [/\bL40\b/i, 90.5],
  [/\bL4\b/i, 30.3],
  [/\bT4\b/i, 8.1],
  [/V100.*PCIE/i, 14],
  [/V100/i, 15.7],
  [/RTX 6000 Ada/i, 91.1],
  [/RTX A6000/i, 38.7],
  [/RTX 4090/i, 82.6],
  [/RTX 3090/i, 35.6]
]

/** FP32 lanes per SM by compute capability (CUDA programming guide, arithmetic throughput table). */
function fp32PerSm(cc: string): number | undefined {
  const [major, minor] = cc.split('.').map(Number) as [number, number]
  if (!Number.isFinite(major)) return undefined
  if (major === 8 && minor === 0) return 64 // A100
  if (major === 7 || (major === 6 && minor === 0)) return 64
  if (major >= 5) return 128
  return undefined
}

/**
 * The GPU's fp32 peak in GFLOP/s and where the figure comes from: the table above by name, else
 * SMs × fp32 lanes × 2 (an FMA) × max SM clock when torch gave the SM count; else null.
 */
export function gpuPeak(name: string, opts: { smCount?: number; computeCap?: string; maxSmClockMhz?: number }): { gflops: number; source: string } | null {
  const hit = NVIDIA_FP32_TFLOPS.find(([re]) => re.test(name))
  if (hit) return { gflops: hit[1] * 1000, source: `data sheet fp32 (no tensor cores) for "${hit[0].source.replace(/\\b/g, '')}"` }
  const lanes = opts.computeCap ? fp32PerSm(opts.computeCap) : undefined
  if (opts.smCount && lanes && opts.maxSmClockMhz) {
    return {
      gflops: (opts.smCount * lanes * 2 * opts.maxSmClockMhz) / 1000,
      source: `${opts.smCount} SMs × ${lanes} fp32 lanes × 2 × ${opts.maxSmClockMhz} MHz (max SM clock)`
    }
  }
  return null
}

/** Peak float32 GFLOP/s from the CPU's flags and clock: two FMA pipes of the widest vector it exposes. */
export function cpuInfo(): { model: string; cores: number; peak: string; peakGflops?: number } {
  let text = ''
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8')
  } catch {}
  const flags = /^flags\s*:(.*)$/m.exec(text)?.[1] ?? ''
  const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(text)?.[1] ?? 0)
  const model = /^model name\s*:\s*(.*)$/m.exec(text)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown CPU'
  const has = (f: string) => new RegExp(`\\b${f}\\b`).test(flags)
  const [lanes, isa] = has('avx512f') ? [16, 'AVX-512'] : has('avx') ? [8, 'AVX'] : [4, 'SSE']
  const fma = has('fma') || has('avx512f')
  const perCycle = 2 * lanes * (fma ? 2 : 1)
  const cores = os.availableParallelism?.() ?? os.cpus().length
  if (!mhz) return { model, cores, peak: `unknown (no clock in /proc/cpuinfo; ${cores} cores, ${isa}${fma ? '+FMA' : ''})` }
  const gflops = (cores * mhz * perCycle) / 1000
  return { model, cores, peakGflops: gflops, peak: `${Math.round(gflops)} GFLOP/s (${cores} cores × ${(mhz / 1000).toFixed(2)} GHz × ${perCycle} FLOP/cycle: ${isa}${fma ? '+FMA' : ''}, two pipes)` }
}
