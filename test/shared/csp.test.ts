// One Content-Security-Policy (src/shared/csp.ts) for every shell: browser mode's header,
// Electron's header and the <meta> tag the build puts into index.html (checked on the built
// file by test/ui/shell.test.ts) all come from the same builder, and no other copy exists.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contentSecurityPolicy } from '../../src/shared/csp'
import { startServer, type RunningServer } from '../../src/server/server'
import { testService } from '../helpers/service'

const root = path.resolve(__dirname, '../..')
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8')

let server: RunningServer
beforeAll(async () => {
  server = await startServer({ service: testService(), port: 0, staticDir: '/nonexistent-renderer' })
})
afterAll(() => server.close())

describe('Content-Security-Policy', () => {
  it('browser mode sends the shared policy as a header', async () => {
    const res = await fetch(`${server.url}index.html`)
    expect(res.headers.get('content-security-policy')).toBe(contentSecurityPolicy({ delivery: 'header' }))
  })

  it("Electron's response header comes from the same builder", () => {
    const main = read('src/main/index.ts')
    expect(main).toMatch(/from '\.\.\/shared\/csp'/)
    expect(main).toMatch(/'Content-Security-Policy': \[contentSecurityPolicy\(\{ delivery: 'header', devServer: Boolean\(devUrl\) \}\)\]/)
  })

  it('the renderer build injects it as a meta tag, and index.html has no copy of its own', () => {
    expect(read('electron.vite.config.ts')).toMatch(/contentSecurityPolicy\(\{ delivery: 'meta', devServer \}\)/)
    expect(read('src/renderer/index.html')).not.toMatch(/<meta[^>]*http-equiv="Content-Security-Policy"/i)
  })

  it('is written nowhere else', () => {
    const files = ['electron.vite.config.ts', 'src/renderer/index.html']
    for (const dir of ['src', 'scripts', 'bin']) {
      if (!fs.existsSync(path.join(root, dir))) continue
      for (const f of fs.readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })) {
        if (/\.(ts|mts|mjs|js|vue|html)$/.test(f)) files.push(path.join(dir, f))
      }
    }
    const copies = files.filter((f) => /default-src|object-src|base-uri/.test(read(f)))
    expect(copies).toEqual(['src/shared/csp.ts'])
  })

  it('differs between deliveries and the dev server only where it must', () => {
    const header = contentSecurityPolicy({ delivery: 'header' })
    const meta = contentSecurityPolicy({ delivery: 'meta' })
    // A meta tag cannot carry frame-ancestors; everything else is the same policy.
    expect(header).toBe(`${meta}; frame-ancestors 'none'`)
    expect(meta).toMatch(/connect-src 'self';/)
    expect(meta).not.toMatch(/localhost|ws:|unsafe-eval|\*/)
    // Only the dev server's pages may reach localhost (Vite and its hot-reload socket).
    const dev = contentSecurityPolicy({ delivery: 'header', devServer: true })
    expect(dev).toBe(header.replace("connect-src 'self'", "connect-src 'self' ws://localhost:* http://localhost:*"))
  })
})
