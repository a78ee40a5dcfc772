/**
 * The /docs page, served offline: Swagger UI's browser bundle (npm swagger-ui-dist, pinned) is embedded in the
 * binary (`with { type: 'file' }` imports become files inside the executable) and served by scimd itself, so the
 * page works with no internet access. The OpenAPI document stays with @elysiajs/swagger at /docs/json.
 * Assets are read on first request and gzip-compressed once (nothing happens at start-up).
 */
import { Elysia } from 'elysia'
import { notFound } from '../scim/errors'
import bundlePath from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import cssPath from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }
import iconPath from 'swagger-ui-dist/favicon-32x32.png' with { type: 'file' }

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export function docsPageHtml(title: string, specUrl: string): string {
  const config = {
    url: specUrl,
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null, // Swagger UI would otherwise call validator.swagger.io
    tryItOutEnabled: false,
    persistAuthorization: false,
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<style>body{margin:0}</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle(${JSON.stringify(config).replace(/</g, '\\u003c')})</script>
</body>
</html>
`
}

interface Asset {
  path: string
  type: string
  raw?: Uint8Array<ArrayBuffer>
  gz?: Uint8Array<ArrayBuffer>
}

const ASSETS: Record<string, Asset> = {
  'swagger-ui-bundle.js': { path: bundlePath, type: 'text/javascript; charset=utf-8' },
  'swagger-ui.css': { path: cssPath, type: 'text/css; charset=utf-8' },
  'favicon-32x32.png': { path: iconPath, type: 'image/png' },
}

async function serveAsset(name: string, request: Request): Promise<Response | undefined> {
  const a = ASSETS[name]
  if (!a) return undefined
  if (!a.raw) a.raw = new Uint8Array(await Bun.file(a.path).arrayBuffer())
  const headers: Record<string, string> = { 'content-type': a.type, 'cache-control': 'public, max-age=86400', vary: 'accept-encoding' }
  if (a.type !== 'image/png' && /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '')) {
    a.gz ??= Bun.gzipSync(a.raw) as Uint8Array<ArrayBuffer>
    return new Response(a.gz, { headers: { ...headers, 'content-encoding': 'gzip' } })
  }
  return new Response(a.raw, { headers })
}

/** GET /docs (the page) and GET /docs/assets/* (its scripts and styles). Mount after @elysiajs/swagger: this /docs wins. */
export function docsUi(opts: { title: string; specUrl: string }) {
  const page = docsPageHtml(opts.title, opts.specUrl)
  return new Elysia({ name: 'scim.docs-ui' })
    .get('/docs', () => new Response(page, { headers: { 'content-type': 'text/html; charset=utf-8' } }), { detail: { hide: true } })
    .get('/docs/assets/:name', async ({ params, request }) => {
      const res = await serveAsset(params.name, request)
      if (!res) throw notFound('No such documentation asset')
      return res
    }, { detail: { hide: true } })
}
