// Where data sets and runs live: SCORE_LAB_HOME, else the platform's per-user app-data
// folder — the same folder Electron's app.getPath('userData') gives for an app named
// "score-lab", so the GUI, the browser mode and the CLI all see the same runs.
import os from 'node:os'
import path from 'node:path'
import fs from 'node:fs'
import { RUNS_DIR } from './runs/run-layout'

export const APP_DIR_NAME = 'score-lab'

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.SCORE_LAB_HOME) return path.resolve(env.SCORE_LAB_HOME)
  const home = os.homedir()
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', APP_DIR_NAME)
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), APP_DIR_NAME)
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), APP_DIR_NAME)
}

/** The kept backend step times (engine/backend/timings-cache.ts) of the machines using this folder. */
export const BACKEND_TIMINGS_FILE = 'backend-timings.json'

/**
 * Where the lab keeps the measured backend step times: SCORE_LAB_BACKEND_TIMINGS (one file for
 * many data folders, e.g. a test suite's temporary ones), else in the data folder.
 */
export function backendTimingsPath(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.SCORE_LAB_BACKEND_TIMINGS ? path.resolve(env.SCORE_LAB_BACKEND_TIMINGS) : path.join(dataDir, BACKEND_TIMINGS_FILE)
}

/** Creates the folder (and its standard subfolders) and checks it is writable. */
export function ensureDataDir(dir: string): string {
  for (const sub of ['', 'datasets', RUNS_DIR]) fs.mkdirSync(path.join(dir, sub), { recursive: true })
  fs.accessSync(dir, fs.constants.W_OK)
  return dir
}
