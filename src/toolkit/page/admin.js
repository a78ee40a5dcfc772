/*
 * scimd admin console: plain browser JavaScript, no framework, no CDN; served from the binary by /admin.
 * Views are tabs: each view is { id, title, mount(el, ctx), unmount?() } added with scimd.addView(view) before
 * start() runs (or at any time: the tab bar is re-rendered). The hash is #/<view id>[/<item>].
 * ctx: { api(path, init) → Response (401 → back to the login form), item: the part of the hash after the view id,
 *        navigate(hash) }.  All data is put into the page with textContent (never innerHTML).
 */
;(() => {
  'use strict'
  const views = []
  let current = null

  /** h('tag.class#id', {attr}, ...children) */
  function h(spec, attrs, ...kids) {
    const [, tag, rest] = /^([a-z0-9]+)(.*)$/i.exec(spec)
    const el = document.createElement(tag)
    for (const m of rest.matchAll(/([.#])([\w-]+)/g)) m[1] === '.' ? el.classList.add(m[2]) : (el.id = m[2])
    if (attrs)
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue
        if (k.startsWith('on')) el.addEventListener(k.slice(2), v)
        else if (k === 'text') el.textContent = v
        else el.setAttribute(k, v === true ? '' : String(v))
      }
    for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) el.append(k instanceof Node ? k : String(k))
    return el
  }

  async function api(path, init = {}) {
    const res = await fetch(path, { credentials: 'same-origin', ...init, headers: { accept: 'application/json', ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers || {}) } })
    if (res.status === 401 && !path.endsWith('/login')) {
      showLogin()
      throw new Error('not logged in')
    }
    return res
  }

  const $ = (sel) => document.querySelector(sel)

  function parseHash() {
    const parts = location.hash.replace(/^#\/?/, '').split('/')
    return { view: parts[0] || (views[0] && views[0].id), item: decodeURIComponent(parts.slice(1).join('/')) }
  }

  function renderTabs(active) {
    const nav = $('#tabs')
    nav.replaceChildren(...views.map((v) => h('a', { href: '#/' + v.id, class: v.id === active ? 'active' : null, 'data-view': v.id, text: v.title })))
  }

  function route() {
    if (!$('#login').hidden) return
    const { view, item } = parseHash()
    const v = views.find((x) => x.id === view) || views[0]
    renderTabs(v.id)
    if (current && current.view === v) {
      if (v.select) v.select(item)
      return
    }
    if (current && current.view.unmount) current.view.unmount()
    const el = $('#view')
    el.replaceChildren()
    current = { view: v }
    v.mount(el, { api, item, h, navigate: (hash) => (location.hash = hash) })
  }

  function showLogin() {
    if (current && current.view.unmount) current.view.unmount()
    current = null
    $('#view').replaceChildren()
    $('#login').hidden = false
    $('#logout').hidden = true
    $('#token').focus()
  }

  async function start() {
    const res = await fetch('/admin/session', { credentials: 'same-origin' })
    if (res.status !== 200) return showLogin()
    $('#login').hidden = true
    $('#logout').hidden = false
    route()
  }

  $('#login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault()
    $('#login-error').textContent = ''
    const res = await api('/admin/login', { method: 'POST', body: JSON.stringify({ token: $('#token').value }) })
    if (res.status === 204) {
      $('#token').value = ''
      start()
    } else $('#login-error').textContent = 'Wrong admin token'
  })
  $('#logout').addEventListener('click', async () => {
    await fetch('/admin/logout', { method: 'POST', credentials: 'same-origin' })
    showLogin()
  })
  window.addEventListener('hashchange', route)

  // ---------------------------------------------------------------- helpers shared by views
  const pretty = (text) => {
    if (text === null || text === undefined || text === '') return '(empty)'
    try {
      return JSON.stringify(JSON.parse(text), null, 2)
    } catch {
      return text
    }
  }
  const statusClass = (s) => (s === null ? 'sx' : 's' + String(s)[0])
  const time = (iso) => new Date(iso).toISOString().slice(11, 23)
  const kv = (obj) => h('dl.kv', null, Object.entries(obj).flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: typeof v === 'string' ? v : JSON.stringify(v) })]))

  /** top-level attribute differences between two resources */
  function diff(before, after) {
    const keys = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])].filter((k) => k !== 'meta')
    const rows = []
    for (const k of keys) {
      const a = before ? JSON.stringify(before[k], null, 1) : undefined
      const b = after ? JSON.stringify(after[k], null, 1) : undefined
      if (a !== b) rows.push(h('tr', null, h('td', { text: k }), h('td.old', { text: a ?? '' }), h('td.new', { text: b ?? '' })))
    }
    if (!rows.length) return h('p.note', { text: 'No attribute changed.' })
    return h('table.diff', null, h('thead', null, h('tr', null, h('th', { text: 'attribute' }), h('th', { text: 'before' }), h('th', { text: 'after' }))), h('tbody', null, rows))
  }

  // ---------------------------------------------------------------- Requests view
  const requestsView = {
    id: 'requests',
    title: 'Requests',
    mount(el, ctx) {
      this.ctx = ctx
      this.rows = new Map()
      this.lastSeq = 0
      const method = h('select#f-method', { 'aria-label': 'Method' }, ['', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => h('option', { value: m, text: m || 'any method' })))
      const path = h('input#f-path', { placeholder: 'path contains… or /Users/*', 'aria-label': 'Path', size: 28 })
      const status = h('input#f-status', { placeholder: 'status (201, 4xx)', 'aria-label': 'Status', size: 14 })
      // one tenant's exchanges (server-side filter of the list and of the stream); filled from GET /admin/tenants
      const tenant = h('select#f-tenant', { 'aria-label': 'Tenant' }, h('option', { value: '', text: 'all tenants' }), h('option', { value: 'default', text: 'default' }))
      this.fillTenants(tenant)
      tenant.addEventListener('change', () => this.load().then(() => this.connect()))
      const pause = h('input#f-pause', { type: 'checkbox' })
      this.count = h('span.note')
      const reload = () => this.load()
      for (const i of [method, path, status]) i.addEventListener('change', reload)
      path.addEventListener('keyup', (e) => e.key === 'Enter' && reload())
      this.filters = { method, path, status, tenant, pause }
      this.tbody = h('tbody')
      this.detail = h('div#detail.detail', null, h('p.note', { text: 'Select an exchange to see it in full.' }))
      el.append(
        h('div.toolbar', null, tenant, method, path, status, h('label', null, pause, ' pause live updates'), h('button', { type: 'button', onclick: reload, text: 'Refresh' }), this.count),
        h('div.split', null,
          h('div.panel', { style: 'max-height: calc(100vh - 130px)' },
            h('table#requests', null, h('thead', null, h('tr', null, ['time', 'method', 'url', 'status', 'ms', 'injected'].map((t) => h('th', { text: t })))), this.tbody)),
          h('div.panel', null, this.detail)),
      )
      this.load().then(() => this.connect())
      if (ctx.item) this.select(ctx.item)
    },
    unmount() {
      if (this.es) this.es.close()
      this.es = null
      $('#live').classList.remove('on')
      $('#live').textContent = ''
    },
    async fillTenants(select) {
      try {
        const res = await this.ctx.api('/admin/tenants')
        if (!res.ok) return
        const data = await res.json()
        for (const t of data.tenants || []) select.append(h('option', { value: t.id, text: t.id }))
      } catch {}
    },
    query() {
      const q = new URLSearchParams()
      const f = this.filters
      if (f.tenant.value) q.set('tenant', f.tenant.value)
      if (f.method.value) q.set('method', f.method.value)
      if (f.path.value) q.set('path', f.path.value)
      if (f.status.value) q.set('status', f.status.value)
      return q
    },
    matches(e) {
      const f = this.filters
      if (f.tenant.value && e.tenant !== undefined && e.tenant !== f.tenant.value) return false
      if (f.method.value && e.method !== f.method.value) return false
      const p = f.path.value.trim()
      if (p) {
        if (p.includes('*')) {
          const re = new RegExp('^' + (p.startsWith('*') ? '' : '.*') + p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$', 'i')
          if (!re.test(e.url.split('?')[0])) return false
        } else if (!e.url.toLowerCase().includes(p.toLowerCase())) return false
      }
      const s = f.status.value.trim().toLowerCase()
      if (s) {
        const v = e.status === null ? '' : String(e.status)
        if (/^\dxx$/.test(s) ? v[0] !== s[0] : v !== s) return false
      }
      return true
    },
    async load() {
      const q = this.query()
      q.set('limit', '500')
      const res = await this.ctx.api('/admin/requests?' + q)
      const data = await res.json()
      this.tbody.replaceChildren()
      this.rows.clear()
      for (const e of data.entries.reverse()) this.add(e, false)
      this.count.textContent = `${this.rows.size} shown · buffer keeps ${data.size}`
    },
    add(e, fresh) {
      this.lastSeq = Math.max(this.lastSeq, e.seq)
      if (!this.matches(e) || this.rows.has(e.id)) return
      const tr = h('tr', { 'data-id': e.id, class: fresh ? 'fresh' : null, onclick: () => this.ctx.navigate('#/requests/' + e.id) },
        h('td', { text: time(e.time) }),
        h('td', { text: e.method }),
        h('td.url', { text: e.url, title: e.url }),
        h('td', { class: statusClass(e.status), text: e.status === null ? e.outcome : e.status }),
        h('td', { text: Math.round(e.durationMs) }),
        h('td', null, e.injected ? h('span.badge', { text: e.injected, title: e.injected }) : ''),
      )
      this.rows.set(e.id, tr)
      this.tbody.prepend(tr)
      while (this.rows.size > 500) {
        const last = this.tbody.lastElementChild
        this.rows.delete(last.dataset.id)
        last.remove()
      }
      this.count.textContent = `${this.rows.size} shown`
    },
    connect() {
      if (this.es) this.es.close()
      const sq = new URLSearchParams({ after: String(this.lastSeq) })
      if (this.filters.tenant.value) sq.set('tenant', this.filters.tenant.value)
      const es = new EventSource('/admin/requests/stream?' + sq)
      this.es = es
      es.addEventListener('open', () => {
        $('#live').classList.add('on')
        $('#live').textContent = 'live'
      })
      es.addEventListener('error', () => {
        $('#live').classList.remove('on')
        $('#live').textContent = 'reconnecting…'
      })
      es.addEventListener('exchange', (m) => {
        if (this.filters.pause.checked) return
        this.add(JSON.parse(m.data), true)
      })
    },
    async select(id) {
      for (const tr of this.tbody.querySelectorAll('tr.selected')) tr.classList.remove('selected')
      if (!id) return
      const row = this.rows.get(id)
      if (row) row.classList.add('selected')
      const res = await this.ctx.api('/admin/requests/' + encodeURIComponent(id))
      if (res.status !== 200) {
        this.detail.replaceChildren(h('p.error', { text: `Exchange ${id} is no longer in the buffer.` }))
        return
      }
      const e = await res.json()
      const parts = [
        h('h2', { text: `${e.method} ${e.url}` }),
        kv({
          id: e.id,
          time: e.time,
          status: e.status === null ? `${e.outcome}: ${e.outcomeDetail || ''}` : e.status,
          duration: `${e.durationMs} ms`,
          injected: e.injected || '—',
          client: e.client || '—',
          auth: e.authMode,
          tenant: e.tenant,
          ...(e.resource ? { resource: `${e.resource.type} ${e.resource.id}` } : {}),
        }),
        h('h3', { text: 'Request headers' }), kv(e.requestHeaders),
        h('h3', { text: 'Request body' }), h('pre.req-body', { text: pretty(e.requestBody) }),
        h('h3', { text: 'Response headers' }), e.responseHeaders ? kv(e.responseHeaders) : h('p.note', { text: 'No response was sent.' }),
        h('h3', { text: 'Response body' }), h('pre.res-body', { text: pretty(e.responseBody) }),
      ]
      if ('before' in e) {
        parts.push(
          h('h3', { text: 'Changes' }), diff(e.before, e.after),
          h('div.pair', null,
            h('div', null, h('h3', { text: 'Before' }), h('pre.before', { text: e.before ? JSON.stringify(e.before, null, 2) : '(none)' })),
            h('div', null, h('h3', { text: 'After' }), h('pre.after', { text: e.after ? JSON.stringify(e.after, null, 2) : '(none)' }))),
        )
      }
      this.detail.replaceChildren(...parts)
    },
  }

  // ---------------------------------------------------------------- Chaos view
  const PRESETS = [
    ['Slow group pushes', { delayRules: 'PATCH /Groups/*=65s\nPUT /Groups/*=65s' }],
    ['429 storm on user creation', { faults: 'POST /Users=429 p=0.5 retry-after=5' }],
    ['Flaky 5xx', { faults: '* /Users*=500 every=3\n* /Groups*=503 p=0.2 retry-after=2' }],
    ['Timeouts', { faults: 'GET /Users=hang p=0.2' }],
    ['Dropped connections', { faults: '* /Groups/*=drop p=0.3' }],
    ['Broken bodies', { faults: 'GET /Users=truncate every=2\nGET /Groups=badjson every=2' }],
    ['Slow filter lookups', { delayRules: 'GET /Users?filter=*=1.5s' }],
    ['Clear everything', { delay: '', delayRules: '', faults: '' }],
  ]
  const chaosView = {
    id: 'chaos',
    title: 'Chaos',
    async mount(el, ctx) {
      this.ctx = ctx
      const delay = h('input#c-delay', { placeholder: '2000, 2s or 500ms-3s', size: 24 })
      const rules = h('textarea#c-delay-rules', { rows: 5, placeholder: 'PATCH /Groups/*=65s\nGET /Users?filter=*=1.5s\n* /Users/*=200ms-800ms' })
      const faults = h('textarea#c-faults', { rows: 5, placeholder: 'POST /Users=429 p=0.3 retry-after=5\nGET /Users/*=500 every=3\nPATCH /Groups/*=hang' })
      const seed = h('input#c-seed', { type: 'number', min: 0, max: 4294967295, size: 12 })
      const msg = h('p#c-msg.error', { role: 'status' })
      const parsed = h('pre#c-parsed')
      this.inputs = { delay, rules, faults, seed, msg, parsed }
      const save = async () => {
        msg.className = 'error'
        msg.textContent = ''
        const body = { delay: delay.value.trim() || null, delayRules: rules.value, faults: faults.value }
        if (seed.value !== '' && Number(seed.value) !== this.seed) body.seed = Number(seed.value)
        const res = await ctx.api('/admin/chaos', { method: 'PUT', body: JSON.stringify(body) })
        const data = await res.json()
        if (res.status !== 200) {
          msg.textContent = data.detail || 'Not saved'
          return
        }
        this.show(data)
        msg.className = 'ok'
        msg.textContent = 'Saved: the rules apply to the next request.'
      }
      el.append(
        h('div.chaos', null,
          h('p.note', { text: 'Rules are tried in order; method or *, a path below the base path (* within a segment, ** across), optional ?filter=<pattern> and op=<add|remove|replace>[:path] for PATCH. Delay rules: the first match wins, else the default delay applies. Fault rules: the first rule that matches and fires wins.' }),
          h('div.presets', null, PRESETS.map(([name, p]) => h('button', { type: 'button', onclick: () => {
            if ('delay' in p) delay.value = p.delay
            if ('delayRules' in p) rules.value = p.delayRules
            if ('faults' in p) faults.value = p.faults
          }, text: name }))),
          h('div', null, h('label', { for: 'c-delay', text: 'Default delay (SCIMD_DELAY)' }), delay, h('p.help', { text: 'Applies to every SCIM request no delay rule matches.' })),
          h('div', null, h('label', { for: 'c-delay-rules', text: 'Delay rules (SCIMD_DELAY_RULES), one per line' }), rules),
          h('div', null, h('label', { for: 'c-faults', text: 'Fault rules (SCIMD_FAULTS), one per line' }), faults,
            h('p.help', { text: 'Faults: 429 | 500 | 502 | 503 | hang | drop | truncate | badjson, with p=<0..1> or every=<N>, and retry-after=<s> for 429/503.' })),
          h('div', null, h('label', { for: 'c-seed', text: 'Seed (SCIMD_SEED)' }), seed, h('p.help', { text: 'Change it to restart the random sequence; the same seed gives the same decisions.' })),
          h('div.toolbar', null, h('button#c-save.primary', { type: 'button', onclick: save, text: 'Apply' }), msg),
          h('div', null, h('label', { text: 'Active rules (parsed)' }), parsed),
        ),
      )
      const res = await ctx.api('/admin/chaos')
      this.show(await res.json())
    },
    show(data) {
      const i = this.inputs
      this.seed = data.seed
      i.delay.value = data.delay || ''
      i.rules.value = data.delayRules.join('\n')
      i.faults.value = data.faults.join('\n')
      i.seed.value = data.seed
      i.parsed.textContent = JSON.stringify(data.parsed, null, 2)
    },
  }

  window.scimd = {
    addView(v) {
      const at = views.findIndex((x) => x.id === v.id)
      if (at >= 0) views[at] = v
      else views.push(v)
      if (current) renderTabs(current.view.id)
      // a view added after start-up (its own script) that the address names: show it now
      if (current && current.view.id !== v.id && parseHash().view === v.id) route()
    },
    h,
    api,
  }
  window.scimd.addView(requestsView)
  window.scimd.addView(chaosView)
  start()
})()
