#!/usr/bin/env node
// Runs the CLI from its TypeScript sources through tsx (a runtime dependency), so the CLI,
// the browser-mode server and their worker threads need no separate build step.
import { register } from 'tsx/esm/api'

register()
const { run } = await import('../src/cli/index.ts')
await run(process.argv.slice(2))
