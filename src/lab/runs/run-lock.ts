// Per-run locks between processes (two CLIs, or the CLI and the GUI, on one data folder).
//
// A lock is a listening local socket, not a lock file: an abstract-namespace Unix socket on
// Linux, a named pipe on Windows, a socket file in the temp folder elsewhere (macOS). The kernel
// releases it when its process dies, SIGKILL included, so there is never a stale lock to judge
// by a pid that may have been reused. Binding is atomic (EADDRINUSE when held), and connecting
// asks the holder who it is, so a refusal can name it.
//
// Two kinds per run:
//   train  exclusive: the one process that may write the run (train, resume, delete it or its
//          checkpoints) holds it for as long as its job is queued or running;
//   use    shared: a process sampling from the run holds one of USE_SLOTS slots, so a delete in
//          another process can see that someone is reading.
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { HandlerError } from '../dispatch'

export interface LockHolder {
  pid: number
  host: string
  /** What the process is ("score-lab train", "Score Lab (browser mode)"). */
  label: string
  /** What it holds the lock for ("training", "sampling", "deleting"). */
  purpose: string
  since: number
}

export interface Lease {
  readonly holder: LockHolder
  release(): Promise<void>
}

/** How many processes can sample from one run at once (a delete probes each slot). */
export const USE_SLOTS = 16
const PROBE_TIMEOUT_MS = 1500

type Probe = { state: 'free' } | { state: 'held'; holder: LockHolder | null }

/** Where the lock named `key` lives on this platform. */
function endpoint(key: string): string {
  if (process.platform === 'linux') return `\0score-lab/${key}`
  if (process.platform === 'win32') return `\\\\.\\pipe\\score-lab-${key}`
  const dir = path.join(os.tmpdir(), `score-lab-locks-${os.userInfo().uid}`)
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  return path.join(dir, `${key}.sock`)
}

/** Socket files outlive their process (abstract sockets and pipes do not): those can be stale. */
const fileBacked = () => process.platform !== 'linux' && process.platform !== 'win32'

function bind(where: string, holder: LockHolder): Promise<net.Server | null> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((sock) => {
      sock.on('error', () => {})
      sock.end(JSON.stringify(holder) + '\n')
    })
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(null) : reject(err)))
    server.listen(where, () => {
      server.unref() // a held lock never keeps a finished CLI alive
      // Once held, an error on the socket (a peer resetting mid-answer) must never take the lab down.
      server.on('error', () => {})
      resolve(server)
    })
  })
}

function probe(where: string): Promise<Probe> {
  return new Promise((resolve) => {
    const sock = net.connect(where)
    let text = ''
    const done = (p: Probe) => {
      clearTimeout(timer)
      sock.destroy()
      resolve(p)
    }
    // Connected but silent (a stopped process): held, by someone who cannot say who.
    const timer = setTimeout(() => done({ state: 'held', holder: null }), PROBE_TIMEOUT_MS)
    sock.on('data', (d) => {
      text += d.toString()
      if (text.includes('\n') || text.length > 4096) {
        try {
          done({ state: 'held', holder: JSON.parse(text.split('\n')[0]!) as LockHolder })
        } catch {
          done({ state: 'held', holder: null })
        }
      }
    })
    sock.on('error', () => done({ state: 'free' }))
    sock.on('end', () => {
      if (!text) done({ state: 'held', holder: null })
    })
  })
}

async function tryLock(key: string, holder: LockHolder): Promise<Lease | Probe> {
  const where = endpoint(key)
  for (let attempt = 0; attempt < 2; attempt++) {
    const server = await bind(where, holder)
    if (server) {
      return {
        holder,
        release: () => new Promise<void>((r) => server.close(() => r()))
      }
    }
    const p = await probe(where)
    if (p.state === 'held') return p
    // Free after all: released between our bind and probe, or a socket file left by a dead
    // process (file-backed platforms only), which nothing listens on.
    if (fileBacked()) fs.rmSync(where, { force: true })
  }
  return { state: 'held', holder: null }
}

export function describeHolder(h: LockHolder | null): string {
  if (!h) return 'another process that does not answer (stopped or hung)'
  const since = new Date(h.since).toLocaleTimeString()
  const where = h.host === os.hostname() ? '' : ` on ${h.host}`
  return `${h.label} (pid ${h.pid}${where}, ${h.purpose} since ${since})`
}

/** A lock someone else holds; the message is a clause ("it is in use by …") for the caller's sentence. */
export class RunLockBusy extends Error {
  override name = 'RunLockBusy'
  constructor(
    message: string,
    readonly holders: (LockHolder | null)[]
  ) {
    super(message)
  }
}

/** The lock keys of one data folder's runs, and who this process says it is. */
export class RunLocks {
  private readonly root: string

  constructor(
    runsRoot: string,
    private readonly label: string
  ) {
    this.root = fs.realpathSync(runsRoot)
  }

  private key(runId: string, suffix: string): string {
    const h = crypto.createHash('sha256').update(path.join(this.root, runId)).digest('hex').slice(0, 32)
    return `${h}.${suffix}`
  }

  private holder(purpose: string): LockHolder {
    return { pid: process.pid, host: os.hostname(), label: this.label, purpose, since: Date.now() }
  }

  /** The run's exclusive lock, or RunLockBusy naming who holds it. */
  async exclusive(runId: string, purpose: string): Promise<Lease> {
    const r = await tryLock(this.key(runId, 'train'), this.holder(purpose))
    if ('release' in r) return r
    const holder = r.state === 'held' ? r.holder : null
    throw new RunLockBusy(`it is in use by ${describeHolder(holder)}`, [holder])
  }

  /** A shared slot: many processes may sample from a run while one trains it. */
  async shared(runId: string, purpose: string): Promise<Lease> {
    const holders: (LockHolder | null)[] = []
    for (let k = 0; k < USE_SLOTS; k++) {
      const r = await tryLock(this.key(runId, `use${k}`), this.holder(purpose))
      if ('release' in r) return r
      if (r.state === 'held') holders.push(r.holder)
    }
    throw new RunLockBusy(`${USE_SLOTS} processes are already sampling from it; wait for one to finish`, holders)
  }

  /** Every process holding a shared slot of the run (this one included). */
  async users(runId: string): Promise<(LockHolder | null)[]> {
    const probes = await Promise.all(Array.from({ length: USE_SLOTS }, (_, k) => probe(endpoint(this.key(runId, `use${k}`)))))
    return probes.filter((p): p is Extract<Probe, { state: 'held' }> => p.state === 'held').map((p) => p.holder)
  }

  /**
   * For deleting the run or one of its checkpoints: the exclusive lock, and no process (this one
   * included) sampling from it. Hold the lease while deleting, then release it.
   */
  async forDelete(runId: string): Promise<Lease> {
    const lease = await this.exclusive(runId, 'deleting')
    const users = await this.users(runId)
    if (users.length > 0) {
      await lease.release()
      throw new RunLockBusy(`it is being sampled by ${users.map(describeHolder).join('; ')}`, users)
    }
    return lease
  }
}

/** Takes a run lock, or refuses with a conflict that names the process holding it. */
export async function lockOrRefuse(take: () => Promise<Lease>, action: string): Promise<Lease> {
  try {
    return await take()
  } catch (err) {
    if (err instanceof RunLockBusy) throw new HandlerError({ code: 'conflict', message: `Cannot ${action}: ${err.message}.` })
    throw err
  }
}
