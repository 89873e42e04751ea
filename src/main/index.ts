// Electron shell: one window with the renderer, the lab service served over IPC.
// Security: contextIsolation + sandbox, no nodeIntegration, a strict CSP (src/shared/csp.ts: a
// <meta> tag in the built index.html, since a file:// load has no headers, and a response header
// for the dev server's pages), navigation and new windows blocked (links open in the system browser).
import { app, BrowserWindow, dialog, ipcMain, session, shell } from 'electron'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLabService } from '../lab/service'
import { createDispatch } from '../lab/dispatch'
import { defaultDataDir } from '../lab/data-dir'
import { EVENT_CHANNEL } from '../shared/procedures'
import { contentSecurityPolicy } from '../shared/csp'
import { registerIpc } from './ipc'
import { registerDialogs } from './dialogs'
// electron-vite bundles the job worker with main; plain Node shells use the tsx bootstrap instead.
import createJobWorker from '../lab/worker/entry?nodeWorker'

const here = path.dirname(fileURLToPath(import.meta.url))
const indexFile = path.join(here, '../renderer/index.html')
const devUrl = process.env.ELECTRON_RENDERER_URL

app.setName('score-lab')

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1360,
    height: 880,
    minWidth: 1024,
    minHeight: 700,
    show: false,
    title: 'Score Lab',
    backgroundColor: '#111418',
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true
    }
  })
  win.on('ready-to-show', () => win.show())
  if (devUrl) void win.loadURL(devUrl)
  else void win.loadFile(indexFile)
  return win
}

app.on('web-contents-created', (_e, contents) => {
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
  contents.on('will-navigate', (event, url) => {
    if (devUrl && url.startsWith(devUrl)) return
    event.preventDefault()
    if (/^https?:\/\//.test(url)) void shell.openExternal(url)
  })
})

void app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [contentSecurityPolicy({ delivery: 'header', devServer: Boolean(devUrl) })]
      }
    })
  })
  const dataDir = defaultDataDir()
  console.log(`[score-lab] data folder: ${dataDir}`)
  const service = createLabService({
    dataDir,
    shell: 'electron',
    workerFactory: () => createJobWorker({}),
    extraVersions: { electron: process.versions.electron, chrome: process.versions.chrome }
  })
  registerIpc(ipcMain, createDispatch(service.handlers), { devUrl, indexFile })
  registerDialogs(ipcMain, dialog, { devUrl, indexFile })
  const win = createWindow()
  service.events.subscribe((event) => {
    if (!win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, event)
  })
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
