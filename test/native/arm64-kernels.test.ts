// The addon's C++ kernels outside Node (native/test/kernels_test.cc: sgemm on every tile edge,
// strides and accumulate, the convolutions, GroupNorm, copyBlocks, all against naive loops), built
// twice: with the host g++ (the micro-kernel this CPU selects), and cross-compiled for aarch64 and
// run under qemu, which is how the NEON micro-kernel is tested on x86 CI. Each part skips, saying
// which Debian package is missing, where its compiler or emulator is absent.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const NATIVE = path.resolve(__dirname, '../../native')
const TEST_SOURCE = path.join(NATIVE, 'test/kernels_test.cc')

// The addon's own sources (less the N-API glue) and compiler flags, from binding.gyp.
const gyp = JSON.parse(fs.readFileSync(path.join(NATIVE, 'binding.gyp'), 'utf8')) as {
  targets: { sources: string[]; cflags_cc: string[] }[]
}
const target = gyp.targets[0]
const kernelSources = target.sources.filter((s) => !s.endsWith('addon.cc')).map((s) => path.join(NATIVE, s))
const flags = target.cflags_cc

function hasCommand(cmd: string): boolean {
  return !spawnSync(cmd, ['--version'], { stdio: 'ignore' }).error
}

const hostCxx = hasCommand('g++') ? 'g++' : null
const crossCxx = hasCommand('aarch64-linux-gnu-g++') ? 'aarch64-linux-gnu-g++' : null
const qemu = ['qemu-aarch64', 'qemu-aarch64-static'].find(hasCommand) ?? null

if (!hostCxx) console.log('arm64-kernels: host build skipped: g++ not found (Debian package g++)')
if (!crossCxx) console.log('arm64-kernels: aarch64 run skipped: aarch64-linux-gnu-g++ not found (Debian package g++-aarch64-linux-gnu)')
if (!qemu) console.log('arm64-kernels: aarch64 run skipped: qemu-aarch64 not found (Debian package qemu-user)')

// Compiling takes ~10–30 s on a busy 2-core machine; the runs take about a second.
const BUILD_TIMEOUT = 300_000

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'score-lab-kernels-'))
afterAll(() => fs.rmSync(work, { recursive: true, force: true }))

function compile(cxx: string, args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cxx, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    p.stderr.on('data', (d) => (stderr += d))
    p.on('error', (e) => resolve({ status: null, stderr: String(e) }))
    p.on('close', (status) => resolve({ status, stderr }))
  })
}

/**
 * Compiles the kernels with the addon's flags and the test driver at -O1 (its naive loops need no
 * more, and -O3 triples its compile time), all files at once, then links them.
 */
async function build(cxx: string, out: string, linkFlags: string[]): Promise<void> {
  const units = [...kernelSources.map((src) => ({ src, flags })), { src: TEST_SOURCE, flags: [...flags, '-O1'] }]
  const results = await Promise.all(
    units.map((u) => compile(cxx, [...u.flags, '-pthread', '-c', u.src, '-o', `${out}-${path.basename(u.src)}.o`]))
  )
  for (const [i, r] of results.entries()) expect(r.status, `${cxx} ${units[i].src} failed:\n${r.stderr}`).toBe(0)
  const link = await compile(cxx, [...linkFlags, '-pthread', ...units.map((u) => `${out}-${path.basename(u.src)}.o`), '-o', out])
  expect(link.status, `${cxx} (link) failed:\n${link.stderr}`).toBe(0)
}

/** Runs the program; returns the kernel it names and its pass count, after asserting nothing failed. */
function runKernels(cmd: string, args: string[]): { kernel: string; passed: number; seconds: number } {
  const t0 = Date.now()
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 })
  const seconds = (Date.now() - t0) / 1000
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`
  expect(r.error, out).toBeUndefined()
  const summary = /^(\d+) passed, (\d+) failed$/m.exec(out)
  expect(summary, out).not.toBeNull()
  expect(Number(summary![2]), out).toBe(0)
  expect(r.status, out).toBe(0)
  const passed = Number(summary![1])
  expect(passed).toBeGreaterThan(200)
  return { kernel: /^kernel: (\S+)$/m.exec(out)?.[1] ?? '', passed, seconds }
}

/** The micro-kernel sgemm must pick on this machine. */
function expectedHostKernel(): string {
  if (process.arch === 'arm64') return 'neon'
  if (process.arch !== 'x64') return 'generic'
  if (process.platform !== 'linux') return 'avx+fma|generic'
  const flagsLine = fs.readFileSync('/proc/cpuinfo', 'utf8')
  return /\bavx\b/.test(flagsLine) && /\bfma\b/.test(flagsLine) ? 'avx+fma' : 'generic'
}

describe('native kernels outside Node', () => {
  it.skipIf(!hostCxx)('pass against naive loops on this CPU, with the micro-kernel it supports', async () => {
    const exe = path.join(work, 'kernels-host')
    await build(hostCxx!, exe, [])
    const { kernel, passed, seconds } = runKernels(exe, [])
    console.log(`arm64-kernels: host (${process.arch}): kernel ${kernel}, ${passed} passed in ${seconds.toFixed(2)} s`)
    expect(expectedHostKernel().split('|')).toContain(kernel)
  }, BUILD_TIMEOUT)

  it.skipIf(!crossCxx || !qemu)('pass on aarch64 under qemu with the NEON micro-kernel', async () => {
    const exe = path.join(work, 'kernels-aarch64')
    // Static, so qemu needs no aarch64 sysroot.
    await build(crossCxx!, exe, ['-static'])
    const { kernel, passed, seconds } = runKernels(qemu!, [exe])
    console.log(`arm64-kernels: aarch64 under ${qemu}: kernel ${kernel}, ${passed} passed in ${seconds.toFixed(2)} s`)
    expect(kernel).toBe('neon')
    expect(seconds).toBeLessThan(30)
  }, BUILD_TIMEOUT)
})
