// The browser-mode token file (<dataDir>/browser-token): made owner-only and atomically, reused
// when it can be trusted, replaced when others can read it, it is not a plain file, or it does
// not hold a token; and `score-lab serve` keeps it across restarts and rotates it on --new-token.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadAccessToken, readToken, TOKEN_FILE } from '../../src/lab/access-token'
import { tempDir } from '../helpers/service'

const POSIX = process.platform !== 'win32'
const mode = (file: string) => fs.statSync(file).mode & 0o777
const CLI = path.resolve(__dirname, '../../bin/score-lab.mjs')

describe('access token file', () => {
  it('is created 0600 whatever the umask, then reused', () => {
    const dir = tempDir()
    const old = process.umask(0o000)
    let first
    try {
      first = loadAccessToken(dir)
    } finally {
      process.umask(old)
    }
    expect(first.made).toBe('created')
    expect(first.file).toBe(path.join(dir, TOKEN_FILE))
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{32}$/)
    if (POSIX) expect(mode(first.file)).toBe(0o600)
    expect(loadAccessToken(dir)).toEqual({ token: first.token, file: first.file })
    expect(fs.readdirSync(dir)).toEqual([TOKEN_FILE]) // no temp file left behind
  })

  it('rotates on request', () => {
    const dir = tempDir()
    const a = loadAccessToken(dir)
    const b = loadAccessToken(dir, { rotate: true })
    expect(b.made).toBe('rotated')
    expect(b.token).not.toBe(a.token)
    expect(loadAccessToken(dir).token).toBe(b.token)
  })

  it.skipIf(!POSIX)('replaces a file others can read, with a new token and mode 0600', () => {
    const dir = tempDir()
    const { token, file } = loadAccessToken(dir)
    fs.chmodSync(file, 0o644)
    expect(readToken(file)).toEqual({ problem: 'readable by others (mode 0644)' })
    const next = loadAccessToken(dir)
    expect(next.made).toMatch(/readable by others/)
    expect(next.token).not.toBe(token)
    expect(mode(file)).toBe(0o600)
  })

  it('replaces bad content, and a symlink without following it', () => {
    const dir = tempDir()
    const file = path.join(dir, TOKEN_FILE)
    for (const bad of ['', 'short', 'has spaces in it and is long enough to pass?', 'x'.repeat(2000)]) {
      fs.writeFileSync(file, bad, { mode: 0o600 })
      const t = loadAccessToken(dir)
      expect(t.made).toMatch(/not a token/)
      expect(t.token).not.toBe(bad)
      expect(fs.readFileSync(file, 'utf8').trim()).toBe(t.token)
    }
    if (!POSIX) return
    const elsewhere = path.join(tempDir(), 'target')
    fs.writeFileSync(elsewhere, 'A'.repeat(40), { mode: 0o600 })
    fs.rmSync(file)
    fs.symlinkSync(elsewhere, file)
    const t = loadAccessToken(dir)
    expect(t.made).toBe('not a regular file')
    expect(fs.lstatSync(file).isFile()).toBe(true)
    expect(fs.readFileSync(elsewhere, 'utf8')).toBe('A'.repeat(40)) // untouched
  })
})

/** Runs `score-lab serve --json` until it prints its result line, then stops it with SIGTERM. */
function serveOnce(dataDir: string, ...extra: string[]): Promise<{ openUrl: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--backend', 'cpu', '--json', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    let result: { openUrl: string } | null = null
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.stderr.on('data', (d) => (err += d))
    child.stdout.on('data', (d) => {
      out += d
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line && !result) {
        result = JSON.parse(line)
        child.kill('SIGTERM')
      }
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (!result) reject(new Error(`serve printed no result (exit ${code}): ${err}`))
      else resolve({ openUrl: result.openUrl, stderr: err, code })
    })
  })
}

describe('score-lab serve', () => {
  it('reuses the data folder token across restarts and rotates it with --new-token', async () => {
    const dir = tempDir('score-lab-serve-')
    const tokenOf = (url: string) => new URL(url).searchParams.get('token')
    const a = await serveOnce(dir)
    const b = await serveOnce(dir)
    expect(a.code).toBe(0)
    expect(tokenOf(a.openUrl)).toMatch(/^[A-Za-z0-9_-]{32,}$/)
    expect(tokenOf(b.openUrl)).toBe(tokenOf(a.openUrl))
    expect(fs.readFileSync(path.join(dir, TOKEN_FILE), 'utf8').trim()).toBe(tokenOf(a.openUrl))
    if (POSIX) expect(mode(path.join(dir, TOKEN_FILE))).toBe(0o600)

    const c = await serveOnce(dir, '--new-token')
    expect(tokenOf(c.openUrl)).not.toBe(tokenOf(a.openUrl))
    expect(c.stderr).toMatch(/New access token/)
    const d = await serveOnce(dir)
    expect(tokenOf(d.openUrl)).toBe(tokenOf(c.openUrl))
    if (POSIX) expect(mode(path.join(dir, TOKEN_FILE))).toBe(0o600)
  })
})
