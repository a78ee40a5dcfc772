import { expect, test } from 'bun:test'
import { makeTestApp } from '../helpers/app'

test('/docs/json lists every SCIM route with request and response schemas and the auth schemes', async () => {
  const t = makeTestApp({ basicAuth: { user: 'u', password: 'p' } })
  const r = await t.req('GET', 'http://localhost/docs/json', undefined, { auth: false })
  expect(r.status).toBe(200)
  const spec = r.json
  const ops: [string, string][] = [
    ['/scim/v2/Users', 'post'], ['/scim/v2/Users', 'get'], ['/scim/v2/Users/.search', 'post'],
    ['/scim/v2/Users/{id}', 'get'], ['/scim/v2/Users/{id}', 'put'], ['/scim/v2/Users/{id}', 'patch'], ['/scim/v2/Users/{id}', 'delete'],
    ['/scim/v2/Groups', 'post'], ['/scim/v2/Groups', 'get'], ['/scim/v2/Groups/.search', 'post'],
    ['/scim/v2/Groups/{id}', 'get'], ['/scim/v2/Groups/{id}', 'put'], ['/scim/v2/Groups/{id}', 'patch'], ['/scim/v2/Groups/{id}', 'delete'],
  ]
  for (const [path, method] of ops) {
    const op = spec.paths[path]?.[method]
    expect(op).toBeDefined()
    expect(Object.keys(op.responses).length).toBeGreaterThan(1)
    if (['post', 'put', 'patch'].includes(method)) expect(op.requestBody.content['application/scim+json'].schema.$ref).toStartWith('#/components/schemas/')
  }
  expect(spec.components.schemas.User.properties.userName.type).toBe('string')
  expect(spec.components.schemas.User.properties['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].properties.employeeNumber).toBeDefined()
  expect(spec.components.schemas.Group.properties.members.type).toBe('array')
  expect(Object.keys(spec.components.securitySchemes).sort()).toEqual(['basicAuth', 'bearerAuth'])
  const html = await t.app.handle(new Request('http://localhost/docs'))
  expect(html.status).toBe(200)
  expect(html.headers.get('content-type')).toContain('text/html')
})

test('/docs says the inspector and the chaos rules are per process (several replicas share only the store)', async () => {
  const t = makeTestApp({ adminToken: 'admin-token-0123456789abcdef' })
  const doc = (await t.req('GET', 'http://localhost/docs/json', undefined, { auth: false })).json
  for (const [path, method] of [['/admin/chaos', 'get'], ['/admin/chaos', 'put'], ['/admin/requests', 'get'], ['/admin/requests/stream', 'get']])
    expect(doc.paths[path][method].description).toContain('Per process')
})
