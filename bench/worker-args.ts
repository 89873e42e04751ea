// The `--name value` / `--flag` options of the bench's child scripts (the workers and the GPU
// bundle's entry), read one way: bench/run.ts has its own parser for the modules' ctx.args.
const argv = process.argv.slice(2)

/** The value after `--name`, or `def` when absent. */
export function opt(name: string, def: string): string {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def
}

/** Whether `--name` was given. */
export function flag(name: string): boolean {
  return argv.includes(`--${name}`)
}
