import { describe, expect, it } from 'vitest'
import { isTrustedSender, registerIpc, type IpcEventLike, type IpcMainLike } from '../../src/main/ipc'
import { createDispatch } from '../../src/lab/dispatch'
import { PROCEDURE_NAMES } from '../../src/shared/procedures'
import { testService } from '../helpers/service'

const INDEX = '/opt/score-lab/out/renderer/index.html'

/** Stands in for ipcMain: records handlers so the test can invoke them with a fake sender. */
class FakeIpcMain implements IpcMainLike {
  handlers = new Map<string, (event: IpcEventLike, ...args: unknown[]) => Promise<unknown>>()
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => Promise<unknown>): void {
    this.handlers.set(channel, listener)
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel)
  }
  invoke(channel: string, frameUrl: string | null, input: unknown): Promise<unknown> {
    const h = this.handlers.get(channel)
    if (!h) return Promise.reject(new Error(`No handler registered for '${channel}'`))
    return h({ senderFrame: frameUrl === null ? null : { url: frameUrl } }, input)
  }
}

describe('Electron IPC shell', () => {
  const ipc = new FakeIpcMain()
  registerIpc(ipc, createDispatch(testService().handlers), { indexFile: INDEX })
  const own = `file://${INDEX}`

  it('registers exactly one channel per procedure and no catch-all', () => {
    expect([...ipc.handlers.keys()].sort()).toEqual([...PROCEDURE_NAMES].sort())
  })

  it('serves our own window', async () => {
    const env = await ipc.invoke('system.ping', own, { message: 'pong?' })
    expect(env).toMatchObject({ ok: true, result: { message: 'pong?' } })
  })

  it('refuses other senders', async () => {
    for (const url of ['https://evil.example/', 'file:///tmp/other.html', 'about:blank', '']) {
      expect(await ipc.invoke('system.info', url, {})).toMatchObject({ ok: false, error: { code: 'unauthorized' } })
    }
    expect(await ipc.invoke('system.info', null, {})).toMatchObject({ ok: false, error: { code: 'unauthorized' } })
  })

  it('returns validation errors for malformed payloads', async () => {
    expect(await ipc.invoke('system.ping', own, { message: 5 })).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    expect(await ipc.invoke('system.ping', own, undefined)).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    expect(await ipc.invoke('system.ping', own, { message: 'y'.repeat(10_000_000) })).toMatchObject({ ok: false, error: { code: 'too_large' } })
    expect(await ipc.invoke('system.ping', own, [1, 2, 3])).toMatchObject({ ok: false, error: { code: 'bad_request' } })
  })

  it('trusts the dev server origin only in development', () => {
    expect(isTrustedSender('http://localhost:5173/', { indexFile: INDEX, devUrl: 'http://localhost:5173' })).toBe(true)
    expect(isTrustedSender('http://localhost:5173/', { indexFile: INDEX })).toBe(false)
    expect(isTrustedSender('http://localhost:5174/', { indexFile: INDEX, devUrl: 'http://localhost:5173' })).toBe(false)
  })
})

describe('native dialogs (Electron only)', () => {
  it('return the chosen path to our window, and nothing to others', async () => {
    const { registerDialogs, DIALOG_CHANNELS } = await import('../../src/main/dialogs')
    const ipc = new FakeIpcMain()
    const calls: unknown[] = []
    registerDialogs(
      ipc,
      {
        showOpenDialog: async (o) => (calls.push(o), { canceled: false, filePaths: ['/data/mnist'] }),
        showSaveDialog: async (o) => (calls.push(o), { canceled: true })
      },
      { indexFile: INDEX }
    )
    const own = `file://${INDEX}`
    expect(await ipc.invoke(DIALOG_CHANNELS.open, own, { folder: true, title: 'Import MNIST' })).toBe('/data/mnist')
    expect(calls[0]).toEqual({ title: 'Import MNIST', properties: ['openDirectory'] })
    expect(await ipc.invoke(DIALOG_CHANNELS.save, own, { defaultName: 'grid.png' })).toBeNull() // cancelled
    expect(await ipc.invoke(DIALOG_CHANNELS.open, 'https://evil.example/', {})).toBeNull()
    expect(calls).toHaveLength(2) // the untrusted call never opened a dialog
  })
})
