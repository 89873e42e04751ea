// A Python that has PyTorch, for the tests of the exported training package: SCORE_LAB_PYTHON,
// then Debian's /usr/bin/python3 (python3-torch), then python3 on PATH (a pyenv shim there often
// has no torch). Each is asked to `import torch`; the first that can is used.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

export interface TorchPython {
  python: string | null
  /** torchrun beside that Python (or on PATH), when present. */
  torchrun: string | null
  /** Why none was found (every candidate and what it said), for the skip message. */
  reason: string
}

let cached: TorchPython | null = null

export function findTorchPython(): TorchPython {
  if (cached) return cached
  const candidates = [process.env.SCORE_LAB_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => Boolean(c))
  const tried: string[] = []
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch, sys; print(torch.__version__); print(sys.executable)'], { encoding: 'utf8', timeout: 60_000 })
    if (r.status === 0) {
      const exe = r.stdout.trim().split('\n')[1] ?? python
      const beside = path.join(path.dirname(exe), 'torchrun')
      const onPath = spawnSync('sh', ['-c', 'command -v torchrun'], { encoding: 'utf8' }).stdout.trim()
      const torchrun = fs.existsSync(beside) ? beside : onPath || null
      return (cached = { python, torchrun, reason: '' })
    }
    tried.push(`${python}: ${(r.error?.message ?? r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`).slice(0, 120)}`)
  }
  return (cached = { python: null, torchrun: null, reason: `no Python with PyTorch (tried ${tried.join('; ')}); set SCORE_LAB_PYTHON or apt-get install python3-torch` })
}
