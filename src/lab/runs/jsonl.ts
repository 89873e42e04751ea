// Append-only JSON-lines files (metric points, a guidance classifier's curve, likelihood points):
// a crash can tear the last line, so readers keep every line that parses and fits the schema and
// skip the rest instead of failing the whole file. A missing file is empty.
import fs from 'node:fs'
import type { z } from 'zod'

export function readJsonLines<S extends z.ZodType>(file: string, schema: S): z.infer<S>[] {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const out: z.infer<S>[] = []
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    let json: unknown
    try {
      json = JSON.parse(line)
    } catch {
      continue // torn write after a crash
    }
    const p = schema.safeParse(json)
    if (p.success) out.push(p.data)
  }
  return out
}
