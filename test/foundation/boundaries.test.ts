// The architecture is engine → lab → shells → UI. These checks keep the layers honest.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const root = path.resolve(__dirname, '../..')

function sources(dir: string): string[] {
  const abs = path.join(root, dir)
  if (!fs.existsSync(abs)) return []
  return fs.readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|vue|mts)$/.test(f))
    .map((f) => path.join(abs, f))
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8')
  const specs = new Set<string>()
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g)) {
    specs.add(m[1] ?? m[2] ?? m[3] ?? m[4]!)
  }
  return [...specs]
}

function offenders(dir: string, banned: (spec: string, file: string) => boolean): string[] {
  return sources(dir).flatMap((f) => importsOf(f).filter((s) => banned(s, f)).map((s) => `${path.relative(root, f)} imports ${s}`))
}

const isUi = (s: string) => s === 'electron' || s.startsWith('electron/') || s === 'vue' || s.startsWith('@vue/') || s === 'pinia'

describe('layer boundaries', () => {
  it('finds the sources it checks', () => {
    expect(sources('src/engine').length).toBeGreaterThan(3)
    expect(sources('src/lab').length).toBeGreaterThan(3)
  })

  it('the engine and the lab service never import Electron or Vue', () => {
    expect(offenders('src/engine', isUi)).toEqual([])
    expect(offenders('src/lab', isUi)).toEqual([])
  })

  it('the engine never imports the lab or a shell', () => {
    expect(offenders('src/engine', (s) => /(^|\/)(lab|main|server|cli|renderer)\//.test(s))).toEqual([])
  })

  it('the shared contract imports nothing but zod and itself', () => {
    expect(offenders('src/shared', (s) => !(s === 'zod' || s.startsWith('./')))).toEqual([])
  })

  it('the renderer reaches the lab only through the shared contract', () => {
    expect(offenders('src/renderer', (s) => /(engine|lab|server|cli|main)\//.test(s) || s.startsWith('node:') || s === 'electron')).toEqual([])
  })

  it('the preload imports only electron and zod-free shared modules', () => {
    const bad = offenders('src/preload', (s, f) => {
      if (f.endsWith('.d.ts')) return false
      if (s === 'electron' || s === '../shared/procedures' || s === '../shared/api') return false
      // type-only imports are erased; the build check below confirms nothing else is bundled
      return !(s === '../shared/contract' && /import type/.test(fs.readFileSync(f, 'utf8')))
    })
    expect(bad).toEqual([])
  })

  it('no .vue file talks to a transport directly', () => {
    const vue = sources('src/renderer').filter((f) => f.endsWith('.vue'))
    const direct = vue.filter((f) => /window\.lab|ipcRenderer|new WebSocket|fetch\(/.test(fs.readFileSync(f, 'utf8')))
    expect(direct.map((f) => path.relative(root, f))).toEqual([])
  })
})

describe('build hazards', () => {
  // electron-vite's ESM shim finds "import" statements with a regex; a string literal ending in
  // " import" is taken for one and the shim lands inside it, breaking the build.
  it('no string literal in main-process code ends with the word "import"', () => {
    const bad = ['src/engine', 'src/lab', 'src/shared', 'src/main']
      .flatMap((d) => sources(d))
      .filter((f) => /\simport['"`]/.test(fs.readFileSync(f, 'utf8').replace(/^\s*import .*$/gm, '')))
    expect(bad.map((f) => path.relative(root, f))).toEqual([])
  })
})
