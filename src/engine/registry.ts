// The engine's registries (SDEs, samplers, predictors, correctors, models, weightings, toys,
// backends) word "no such name" the same way, here. Plain TS: tf-free callers use it too.

/** The error for a name that is not one of `choices`, naming them all. */
export function unknownName(kind: string, name: string, choices: Iterable<string>): Error {
  return new Error(`Unknown ${kind} "${name}". Choose one of: ${[...choices].join(', ')}.`)
}

/** `table[name]`, or the error naming every key (own keys only: "toString" is not an SDE). */
export function lookup<T>(kind: string, table: Readonly<Record<string, T>>, name: string): T {
  if (!Object.hasOwn(table, name)) throw unknownName(kind, name, Object.keys(table))
  return table[name]!
}
