// What bench/run.ts hands to every bench/*.bench.ts module. To add a bench, create
// bench/<name>.bench.ts exporting `export async function run(ctx: BenchContext)`; it is
// discovered automatically and selectable with `npm run bench -- --only <name>`.
export interface BenchContext {
  /** The module's name (file name without .bench.ts). */
  name: string
  /** Repository root. */
  root: string
  /** --quick: fewer steps and rounds. */
  quick: boolean
  /** Every --flag [value] given to bench/run.ts. */
  args: Record<string, string | true>
  /** Progress line on stdout. */
  log(msg: string): void
  /** A value stored under benches.<name>.<key> in the results JSON. */
  record(key: string, value: unknown): void
  /** Markdown appended to this module's section of the results .md. */
  markdown(text: string): void
}

export interface BenchModule {
  run(ctx: BenchContext): Promise<void>
}
