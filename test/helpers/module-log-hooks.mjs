// Module hooks for module-log.mjs: record each resolved ES module URL (appended synchronously,
// so nothing is lost if the process exits abruptly).
import fs from 'node:fs'

let file = null

export function initialize(data) {
  file = data?.file ?? null
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context)
  if (file) fs.appendFileSync(file, result.url + '\n')
  return result
}
