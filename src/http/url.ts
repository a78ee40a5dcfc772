/**
 * Cheap views of a request URL for the per-request hot path. Bun hands handlers absolute URLs
 * (`http://host:port/path?query`); Elysia routes on the raw path cut from that string, so these helpers cut it the
 * same way instead of building a URL object (the routes build one only when they need the query).
 */

/** Index where the path starts ('/' after the authority), or the string's length when there is no path. */
function pathStart(url: string): number {
  const scheme = url.indexOf('://')
  const i = url.indexOf('/', scheme < 0 ? 0 : scheme + 3)
  return i < 0 ? url.length : i
}

/** The raw path (no query, no fragment), as Elysia's router sees it. */
export function rawPath(url: string): string {
  const start = pathStart(url)
  let end = url.indexOf('?', start)
  if (end < 0) end = url.indexOf('#', start)
  return end < 0 ? url.slice(start) || '/' : url.slice(start, end) || '/'
}

/** scheme://authority of an absolute URL. */
export function originOf(url: string): string {
  return url.slice(0, pathStart(url))
}

/** Whether the URL has a query string at all (before building URLSearchParams for it). */
export function hasQuery(url: string): boolean {
  return url.indexOf('?') >= 0
}
