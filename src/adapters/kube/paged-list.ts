// Every list request in pages, as kubectl does (--chunk-size=500): `limit=500`, then the list's
// `metadata.continue` until it is empty. A big cluster then costs several small answers instead of one
// huge one the API server must hold in memory at once. Bounded: a server that keeps answering with a
// token (or repeats one) ends the list with an error instead of a loop.

/** kubectl's default --chunk-size. */
export const PAGE_SIZE = 500
/** 5 million objects of one kind: past any real cluster, short of forever. */
export const MAX_PAGES = 10_000

/** The paging parameters of one list request, as client-node's list calls take them. */
export interface Page {
  limit: number
  _continue?: string
}

/** The part of a client-node list answer paging reads. */
export interface PagedList<T> {
  items: T[]
  metadata?: {_continue?: string}
}

/** The server kept paging past the bounds. */
export class PagingError extends Error {}

/**
 * Fetches every page of one list and returns the items of all pages, in order. A page answered with nothing (denied, not found) ends the list with nothing: a partial list would
 * read as a complete one.
 */
export async function listAllPages<T>(
  what: string,
  fetchPage: (page: Page) => Promise<PagedList<T> | undefined>,
  maxPages = MAX_PAGES,
): Promise<T[] | undefined> {
  const items: T[] = []
  const seen = new Set<string>()
  let token: string | undefined
  for (let pages = 0; pages < maxPages; pages++) {
    const page = await fetchPage({limit: PAGE_SIZE, ...(token === undefined ? {} : {_continue: token})})
    if (!page) return undefined
    items.push(...page.items)
    token = page.metadata?._continue || undefined
    if (token === undefined) return items
    if (seen.has(token)) throw new PagingError(`${what}: the API server returned the same continue token twice (after ${items.length} items); stopped listing`)
    seen.add(token)
  }
  throw new PagingError(`${what}: still more after ${maxPages} pages of ${PAGE_SIZE} (${items.length} items); stopped listing`)
}
