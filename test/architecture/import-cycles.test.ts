// An import cycle makes load order decide what a module sees (an undefined export at startup)
// and ties modules that should have one owner. Type-only imports count: a cycle is a cycle.
import fs from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = path.resolve(__dirname, '../..')
const src = path.join(root, 'src')
const aliases: Record<string, string> = {
  '@shared/': path.join(src, 'shared'),
  '@renderer/': path.join(src, 'renderer/src'),
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|vue)$/.test(f))
    .map((f) => path.join(dir, f))
}

/** The script of a .ts file, or the <script> blocks of a .vue file. */
function scriptOf(file: string): string {
  const text = fs.readFileSync(file, 'utf8')
  if (!file.endsWith('.vue')) return text
  return [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n')
}

/** Module specifiers of static imports, re-exports and import() calls (the compiler's own scanner, so comments and strings don't count). */
function specifiersOf(file: string): string[] {
  return ts.preProcessFile(scriptOf(file), true, true).importedFiles.map((f) => f.fileName)
}

function resolve(spec: string, from: string): string | undefined {
  const bare = spec.replace(/\?.*$/, '')
  const alias = Object.keys(aliases).find((a) => bare.startsWith(a))
  const base = alias ? path.join(aliases[alias], bare.slice(alias.length))
    : bare.startsWith('.') ? path.resolve(path.dirname(from), bare) : undefined
  if (!base) return undefined
  const candidates = [base, `${base}.ts`, path.join(base, 'index.ts'), `${base}.vue`]
  return candidates.find((c) => /\.(ts|vue)$/.test(c) && fs.existsSync(c) && fs.statSync(c).isFile())
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of sourceFiles(src)) {
    const deps = specifiersOf(file).map((s) => resolve(s, file)).filter((d): d is string => d !== undefined)
    graph.set(path.relative(root, file), [...new Set(deps.map((d) => path.relative(root, d)))])
  }
  return graph
}

/** Strongly connected components with a cycle in them (Tarjan), each as a shortest cycle through its first member. */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const components: string[][] = []
  const visit = (v: string): void => {
    index.set(v, index.size)
    low.set(v, index.get(v)!)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!))
      }
    }
    if (low.get(v) !== index.get(v)) return
    const component: string[] = []
    let w: string
    do {
      w = stack.pop()!
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component.sort())
  }
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v)
  return components.sort((a, b) => a[0].localeCompare(b[0])).map((c) => shortestCycle(graph, c))
}

/** Breadth-first from the component's first member back to it, staying inside the component. */
function shortestCycle(graph: ReadonlyMap<string, readonly string[]>, component: string[]): string[] {
  const start = component[0]
  const inside = new Set(component)
  const parent = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const v = queue.shift()!
    for (const w of graph.get(v) ?? []) {
      if (!inside.has(w)) continue
      if (w === start) {
        const cycle = [start]
        for (let u = v; u !== start; u = parent.get(u)!) cycle.unshift(u)
        return [start, ...cycle]
      }
      if (!parent.has(w)) {
        parent.set(w, v)
        queue.push(w)
      }
    }
  }
  return [start, start]
}

const describeCycle = (cycle: string[]): string => cycle.join(' → ')

describe('import cycles', () => {
  it('the cycle finder reports each cycle once, and nothing for a DAG', () => {
    const graph = new Map<string, string[]>([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts', 'd.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['e.ts']],
      ['e.ts', ['d.ts', 'f.ts']],
      ['f.ts', []],
      ['g.ts', ['g.ts']],
    ])
    expect(findCycles(graph).map(describeCycle)).toEqual([
      'a.ts → b.ts → c.ts → a.ts',
      'd.ts → e.ts → d.ts',
      'g.ts → g.ts',
    ])
    expect(findCycles(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', []]]))).toEqual([])
  })

  it('resolves relative, index and alias imports of the real sources', () => {
    const graph = importGraph()
    expect(graph.get('src/engine/sde/vp.ts')).toContain('src/engine/sde/base.ts')
    expect([...graph.values()].flat()).toContain('src/shared/contract.ts')
    expect(graph.size).toBeGreaterThan(100)
  })

  it('src/ has no import cycles', () => {
    expect(findCycles(importGraph()).map(describeCycle)).toEqual([])
  })
})
