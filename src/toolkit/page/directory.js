/*
 * scimd admin console — Directory view: users and groups in tables (SCIM filter, server-side paging), a resource's
 * JSON, its memberships, and its timeline of changes with a diff per change. Plain browser JavaScript served from the
 * binary; everything goes into the page with textContent. Hash: #/directory/<resource id>.
 */
;(() => {
  'use strict'
  const { h } = window.scimd
  const PAGE = 50

  const when = (iso) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')
  const show = (v) => (v === undefined ? '' : JSON.stringify(v, null, 1))

  /** attribute-level differences (extension attributes one level down), meta left out */
  function changes(before, after) {
    const out = []
    const b = before || {}
    const a = after || {}
    for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) {
      if (k === 'meta' || k === 'id') continue
      const x = b[k]
      const y = a[k]
      if (JSON.stringify(x) === JSON.stringify(y)) continue
      const obj = (v) => v && typeof v === 'object' && !Array.isArray(v)
      if (k.startsWith('urn:') && (obj(x) || obj(y))) for (const c of changes(obj(x) ? x : {}, obj(y) ? y : {})) out.push({ ...c, path: k + ':' + c.path })
      else out.push({ path: k, before: x, after: y })
    }
    return out
  }

  /** a short headline for a change: what support engineers look for first */
  function headline(e) {
    if (e.op === 'delete') return 'deleted'
    if (e.op === 'create') return 'created'
    if (e.op === 'member_add') return `${e.members.count} member${e.members.count === 1 ? '' : 's'} added`
    if (e.op === 'member_remove') return `${e.members.count} member${e.members.count === 1 ? '' : 's'} removed`
    const b = e.before || {}
    const a = e.after || {}
    if (b.active !== false && a.active === false) return 'deactivated'
    if (b.active === false && a.active === true) return 'reactivated'
    return e.changed.length ? 'changed ' + e.changed.join(', ') : 'no attribute changed'
  }

  function diffTable(e) {
    const rows = changes(e.before, e.after).map((c) => h('tr', null, h('td', { text: c.path }), h('td.old', { text: show(c.before) }), h('td.new', { text: show(c.after) })))
    if (!rows.length) return h('p.note', { text: 'No attribute changed.' })
    return h('table.diff', null, h('thead', null, h('tr', null, h('th', { text: 'attribute' }), h('th', { text: 'before' }), h('th', { text: 'after' }))), h('tbody', null, rows))
  }

  function timelineEntry(e) {
    const head = headline(e)
    const req = e.requestId
      ? e.inInspector
        ? h('a.req', { href: '#/requests/' + e.requestId, text: 'request ' + e.requestId })
        : h('span.note', { text: `request ${e.requestId} (no longer in the inspector)` })
      : h('span.note', { text: 'no request id' })
    const parts = [
      h('div.tl-head', null,
        h('span.tl-time', { text: when(e.time) }),
        h('span', { class: 'op op-' + e.op, text: e.op }),
        h('strong.tl-what', { text: head }),
        h('span.tl-who', { text: e.principal ? 'by ' + e.principal : 'by (unknown)' }),
        req),
    ]
    if (e.members) {
      parts.push(h('p.note', { text: `${e.members.truncated ? 'first ' + e.members.ids.length + ' of ' + e.members.count : e.members.count}: ` }, h('span.mono', { text: e.members.ids.join(', ') })))
    } else if (e.before || e.after) {
      const details = h('details', null, h('summary', { text: 'before / after' }), h('div.pair', null,
        h('pre', { text: e.before ? JSON.stringify(e.before, null, 2) : '(none)' }),
        h('pre', { text: e.after ? JSON.stringify(e.after, null, 2) : '(none)' })))
      parts.push(diffTable(e), details)
    }
    return h('li', { class: 'tl tl-' + e.op + (head === 'deactivated' ? ' tl-deactivated' : ''), 'data-seq': e.seq }, parts)
  }

  const directoryView = {
    id: 'directory',
    title: 'Directory',
    mount(el, ctx) {
      this.ctx = ctx
      this.kind = 'users'
      this.start = 1
      const kindSel = h('select#d-kind', { 'aria-label': 'Resource type' }, h('option', { value: 'users', text: 'Users' }), h('option', { value: 'groups', text: 'Groups' }))
      const filter = h('input#d-filter', { placeholder: 'SCIM filter, e.g. userName sw "j" and active eq false', 'aria-label': 'Filter', size: 48 })
      const go = () => {
        this.start = 1
        this.load()
      }
      kindSel.addEventListener('change', () => {
        this.kind = kindSel.value
        filter.placeholder = this.kind === 'users' ? 'SCIM filter, e.g. userName sw "j" and active eq false' : 'SCIM filter, e.g. displayName co "eng"'
        go()
      })
      filter.addEventListener('keyup', (e) => e.key === 'Enter' && go())
      this.filter = filter
      this.msg = h('span#d-msg.note')
      this.prev = h('button#d-prev', { type: 'button', text: '‹ Prev', onclick: () => { this.start = Math.max(1, this.start - PAGE); this.load() } })
      this.next = h('button#d-next', { type: 'button', text: 'Next ›', onclick: () => { this.start += PAGE; this.load() } })
      const byId = h('input#d-id', { placeholder: 'resource id (also deleted)', 'aria-label': 'Resource id', size: 38 })
      byId.addEventListener('keyup', (e) => e.key === 'Enter' && byId.value.trim() && ctx.navigate('#/directory/' + encodeURIComponent(byId.value.trim())))
      this.thead = h('thead')
      this.tbody = h('tbody')
      this.detail = h('div#d-detail.detail', null, h('p.note', { text: 'Select a user or group to see its JSON, memberships and timeline of changes.' }))
      el.append(
        h('div.toolbar', null, kindSel, filter, h('button#d-search', { type: 'button', onclick: go, text: 'Search' }), this.prev, this.next, this.msg, h('span.spacer'), byId),
        h('div.split', null,
          h('div.panel', { style: 'max-height: calc(100vh - 130px)' }, h('table#d-table', null, this.thead, this.tbody)),
          h('div.panel', null, this.detail)),
      )
      this.load()
      if (ctx.item) this.select(ctx.item)
    },
    async load() {
      const q = new URLSearchParams({ startIndex: String(this.start), count: String(PAGE) })
      const f = this.filter.value.trim()
      if (f) q.set('filter', f)
      const res = await this.ctx.api(`/admin/${this.kind}?` + q)
      const data = await res.json()
      if (res.status !== 200) {
        this.msg.className = 'error'
        this.msg.textContent = data.detail || 'Search failed'
        this.tbody.replaceChildren()
        return
      }
      this.msg.className = 'note'
      const last = data.startIndex + data.rows.length - 1
      this.msg.textContent = data.totalResults ? `${data.startIndex}–${last} of ${data.totalResults}` : 'nothing found'
      this.prev.disabled = data.startIndex <= 1
      this.next.disabled = last >= data.totalResults
      const cols = this.kind === 'users' ? ['userName', 'displayName', 'email', 'active', 'lastModified'] : ['displayName', 'externalId', 'lastModified']
      this.thead.replaceChildren(h('tr', null, cols.map((c) => h('th', { text: c }))))
      this.tbody.replaceChildren(
        ...data.rows.map((r) =>
          h('tr', { 'data-id': r.id, class: r.id === this.selected ? 'selected' : null, onclick: () => this.ctx.navigate('#/directory/' + r.id) },
            cols.map((c) => h('td', { class: c === 'active' && r.active === false ? 'inactive' : null, text: r[c] === null || r[c] === undefined ? '' : String(c === 'lastModified' ? when(r[c]) : r[c]) }))),
        ),
      )
    },
    async select(id) {
      this.selected = id
      for (const tr of this.tbody.querySelectorAll('tr')) tr.classList.toggle('selected', tr.dataset.id === id)
      if (!id) return
      const api = this.ctx.api
      const [rr, hr] = await Promise.all([api('/admin/resources/' + encodeURIComponent(id)), api(`/admin/resources/${encodeURIComponent(id)}/history?count=200`)])
      if (this.selected !== id) return
      const parts = []
      if (rr.status === 200) {
        const r = await rr.json()
        const res = r.resource
        parts.push(h('h2', { text: `${r.resourceType} ${res.userName || res.displayName || ''}` }), h('p.note.mono', { text: res.id }))
        parts.push(h('h3', { text: 'Memberships' }))
        if (r.resourceType === 'User') {
          parts.push(r.groups.length
            ? h('ul#d-memberships', null, r.groups.map((g) => h('li', null, h('a', { href: '#/directory/' + g.id, text: g.display || g.id }))))
            : h('p.note', { text: 'Member of no group.' }))
        } else {
          const m = r.members
          parts.push(m.totalResults
            ? h('div', null,
                h('p.note', { text: `${m.totalResults} member${m.totalResults === 1 ? '' : 's'}${m.totalResults > m.rows.length ? `, first ${m.rows.length} shown` : ''}` }),
                h('ul#d-memberships', null, m.rows.map((x) => h('li', null, h('a', { href: '#/directory/' + x.value, text: `${x.display || x.value} (${x.type})` })))))
            : h('p.note', { text: 'No members.' }))
        }
        parts.push(h('h3', { text: 'JSON' }), h('pre#d-json', { text: JSON.stringify(res, null, 2) }))
      } else {
        parts.push(h('h2', { text: id }), h('p.error', { text: 'No such user or group now (deleted?). Its history:' }))
      }
      parts.push(h('h3', { text: 'Timeline of changes' }))
      if (hr.status === 200) {
        const hist = await hr.json()
        if (hist.entries.length) {
          parts.push(h('ol#d-timeline.timeline', null, hist.entries.map(timelineEntry)))
          if (hist.totalResults > hist.entries.length) parts.push(h('p.note', { text: `${hist.totalResults - hist.entries.length} older changes not shown (GET /admin/resources/${id}/history?startIndex=…)` }))
        } else parts.push(h('p.note', { text: `No recorded changes (history is kept ${hist.historyDays} days${hist.historyDays === 0 ? ': off' : ''}).` }))
      } else {
        const err = await hr.json().catch(() => ({}))
        parts.push(h('p.error', { text: err.detail || 'History unavailable' }))
      }
      this.detail.replaceChildren(...parts)
    },
  }

  window.scimd.addView(directoryView)
})()
