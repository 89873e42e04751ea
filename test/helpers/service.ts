import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createLabService, type LabService } from '../../src/lab/service'
import type { BackendInfo } from '../../src/engine/backend/types'

export const FAKE_BACKEND: BackendInfo = {
  name: 'cpu',
  device: 'CPU (test double)',
  forced: true,
  attempts: [{ name: 'cpu', ok: true }]
}

export function tempDir(prefix = 'score-lab-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** A lab service over a fresh temp data folder; the backend is a stub unless `real` is set. */
export function testService(opts: { real?: boolean; shell?: 'browser' | 'electron' | 'cli' } = {}): LabService {
  return createLabService({
    dataDir: tempDir(),
    shell: opts.shell ?? 'browser',
    backend: opts.real ? undefined : async () => FAKE_BACKEND
  })
}
