#!/usr/bin/env node
// Runs the CLI from its TypeScript sources, so the CLI, the browser-mode server and their worker
// threads need no separate build step. This thread compiles them on require() with an on-disk
// cache (./ts-require.mjs: a warm start loads neither tsx nor esbuild); job workers register tsx
// themselves (src/lab/jobs/tsx-worker.mjs).
import { createRequire } from 'node:module'
import { registerTypeScript } from './ts-require.mjs'

registerTypeScript()
const { run } = createRequire(import.meta.url)('../src/cli/index.ts')
await run(process.argv.slice(2))
