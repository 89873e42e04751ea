// The CLI's option tables and usage lines that every command line needs (parseArgs and --help),
// apart from the commands' code: src/cli/index.ts imports this statically and each command
// module only when it runs. Keep it free of imports (test/cli/lazy-load.test.ts).

export const TRAIN_OPTIONS = {
  dataset: { type: 'string' },
  model: { type: 'string' },
  sde: { type: 'string' },
  steps: { type: 'string' },
  epochs: { type: 'string' },
  minutes: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  weighting: { type: 'string' },
  /** train --objective dsm|ssm [--projections rademacher|gaussian]: the loss (sliced score matching: mlp only). */
  objective: { type: 'string' },
  projections: { type: 'string' },
  ema: { type: 'string' },
  seed: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  'sigma-max': { type: 'string' },
  conditional: { type: 'boolean' },
  'label-dropout': { type: 'string' },
  /** train-classifier --for RUN: that run's guidance (noise-conditional) classifier. */
  for: { type: 'string' },
  /** train-classifier --for RUN --fresh: start over instead of resuming an unfinished training. */
  fresh: { type: 'boolean' },
  name: { type: 'string' },
  /** train-group --vary SETTING=A,B,C: one run per value. */
  vary: { type: 'string' },
  resume: { type: 'string' },
  /** train --resume RUN --here: take back a run that trains elsewhere (exported to PyTorch). */
  here: { type: 'boolean' }
} as const

export const DATASETS_USAGE = 'score-lab datasets list | get NAME | import NAME PATH | verify NAME | delete NAME'

export const RUNS_USAGE =
  'score-lab runs list | show RUN | delete RUN (RUN: id, name or folder) | import-torch FILE.safetensors --dataset NAME [--name RUN]\n' +
  '  | export-torch RUN --out DIR (a PyTorch DDP training package) | attach DIR (a run folder trained elsewhere; delete detaches it)'
