import { expect, test } from 'bun:test'
import { makeTestApp } from '../helpers/app'

const get = (t: ReturnType<typeof makeTestApp>, path: string, headers: Record<string, string> = {}) =>
  t.app.handle(new Request('http://localhost' + path, { headers }))

test('/docs is scimd’s own page: no CDN, every asset it names is served by scimd', async () => {
  const t = makeTestApp()
  const res = await get(t, '/docs')
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/html')
  const html = await res.text()
  expect(html).not.toMatch(/https?:\/\//) // nothing from the internet
  expect(html).toContain('"url":"/docs/json"')
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])
  expect(assets).toContain('/docs/assets/swagger-ui-bundle.js')
  expect(assets).toContain('/docs/assets/swagger-ui.css')
  for (const a of assets) {
    const r = await get(t, a)
    expect(r.status).toBe(200)
    expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(500)
  }
})

test('the bundle is gzip-compressed when the client accepts it, and identical once decompressed', async () => {
  const t = makeTestApp()
  const plain = new Uint8Array(await (await get(t, '/docs/assets/swagger-ui-bundle.js')).arrayBuffer())
  const res = await get(t, '/docs/assets/swagger-ui-bundle.js', { 'accept-encoding': 'gzip, br' })
  expect(res.headers.get('content-encoding')).toBe('gzip')
  expect(res.headers.get('content-type')).toContain('javascript')
  // Request/Response in Bun do not auto-decompress app.handle() output: the body is the gzip bytes
  const gz = new Uint8Array(await res.arrayBuffer())
  expect(gz.byteLength).toBeLessThan(plain.byteLength / 2)
  expect(Bun.gunzipSync(gz)).toEqual(plain)
  expect(new TextDecoder().decode(plain.subarray(0, 200))).not.toContain('<html')
})

test('an unknown asset is a SCIM 404, and the page is not listed in /docs/json', async () => {
  const t = makeTestApp()
  const r = await get(t, '/docs/assets/nope.js')
  expect(r.status).toBe(404)
  expect(r.headers.get('content-type')).toContain('application/scim+json')
  expect((await r.json()).status).toBe('404')
  const spec = await (await get(t, '/docs/json')).json()
  expect(Object.keys(spec.paths).filter((p) => p.startsWith('/docs'))).toEqual([])
})
