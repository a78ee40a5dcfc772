/**
 * The HTTP side shared by the floor servers of `bun run bench` (floor.ts for SQLite, floor-pg.ts for PostgreSQL):
 * Bun.serve on PORT, GET /Users/{id} and PATCH /Users/{id} with `{"Operations":[{"value": true|false}]}`, the
 * store's work given as two functions. Nothing of scimd runs here.
 */
export interface FloorRow {
  id: string
  version: number
  created: string
  lastModified: string
  data: Record<string, unknown>
}

export function serveFloor(store: {
  read(id: string): FloorRow | undefined | Promise<FloorRow | undefined>
  setActive(id: string, active: boolean, time: string): FloorRow | Promise<FloorRow>
}) {
  const json = (body: unknown) => new Response(JSON.stringify(body), { headers: { 'content-type': 'application/scim+json' } })
  Bun.serve({
    port: Number(process.env.PORT),
    hostname: '127.0.0.1',
    async fetch(req) {
      const url = req.url
      const id = url.slice(url.lastIndexOf('/') + 1)
      if (req.method === 'PATCH') {
        const body = (await req.json()) as { Operations: { value: boolean }[] }
        const time = new Date().toISOString()
        const after = await store.setActive(id, body.Operations[0].value, time)
        return json({ id, ...after.data, meta: { version: `W/"${after.version}"`, lastModified: time } })
      }
      const row = await store.read(id)
      if (!row) return new Response('not found', { status: 404 })
      return json({ id: row.id, ...row.data, meta: { created: row.created, lastModified: row.lastModified, version: `W/"${row.version}"` } })
    },
  })
}
