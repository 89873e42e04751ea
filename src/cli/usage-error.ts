// A mistake in the command line: the CLI prints its message on one line and exits 2. Its own
// module, free of imports, so src/cli/index.ts can throw it before loading anything else.
export class UsageError extends Error {}
