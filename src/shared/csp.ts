// The renderer's Content-Security-Policy, written once for every way it reaches a page:
// - browser mode's HTTP server sends it as a response header (src/server/server.ts);
// - Electron adds it as a response header (src/main/index.ts), which covers the pages of the
//   dev server only: a file:// load has no HTTP response, so no header can carry a policy there;
// - so the renderer build puts it into index.html as a <meta> tag (electron.vite.config.ts),
//   the policy of Electron's packaged window. Browser mode serves that same index.html: the tab
//   is then under both the header and the meta tag, and must satisfy both, so they must agree.
// Imports nothing: the Vite config, Node and Electron all read it.

export interface CspOptions {
  /**
   * 'header' for an HTTP response header; 'meta' for the <meta http-equiv> tag, which may not
   * carry frame-ancestors (browsers ignore it there, with a console warning).
   */
  delivery: 'header' | 'meta'
  /**
   * The page comes from Vite's dev server (`npm run dev`): it also connects to localhost (the
   * dev server and its hot-reload WebSocket, wherever Vite put them).
   */
  devServer?: boolean
}

/**
 * The policy, as the header's or the meta tag's value.
 * connect-src is 'self' in both shells: browser mode's one connection is the WebSocket to /api
 * on its own host and port (which 'self' covers for ws: and wss:, CSP Level 3) and GET
 * /api/ping; Electron's renderer talks to the lab over IPC and connects nowhere.
 * style-src allows inline styles (Vue's style bindings); img-src data: and blob: carry the
 * sample grids, previews and the inline tab icon.
 */
export function contentSecurityPolicy(opts: CspOptions): string {
  const directives: [string, string][] = [
    ['default-src', "'self'"],
    ['script-src', "'self'"],
    ['style-src', "'self' 'unsafe-inline'"],
    ['img-src', "'self' data: blob:"],
    ['connect-src', "'self'" + (opts.devServer ? ' ws://localhost:* http://localhost:*' : '')],
    ['object-src', "'none'"],
    ['base-uri', "'none'"]
  ]
  if (opts.delivery === 'header') directives.push(['frame-ancestors', "'none'"])
  return directives.map(([name, value]) => `${name} ${value}`).join('; ')
}
