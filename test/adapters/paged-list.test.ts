import {describe, expect, it} from 'vitest'
import {listAllPages, MAX_PAGES, PAGE_SIZE, PagingError, type Page, type PagedList} from '../../src/adapters/kube/paged-list.js'

/** A server answering from `pages` in order, recording each request's paging parameters. */
function server(pages: Array<PagedList<number> | undefined>) {
  const asked: Page[] = []
  let i = 0
  return {
    asked,
    fetch: async (page: Page) => {
      asked.push(page)
      return pages[i++]
    },
  }
}

describe('listAllPages', () => {
  it('asks for 500 at a time and follows continue until it is empty, keeping every item in order', async () => {
    const s = server([
      {items: [1, 2], metadata: {_continue: 'a'}},
      {items: [3], metadata: {_continue: 'b'}},
      {items: [4], metadata: {_continue: ''}},
    ])
    expect(await listAllPages('list pods', s.fetch)).toEqual([1, 2, 3, 4])
    expect(PAGE_SIZE).toBe(500)
    expect(s.asked).toEqual([{limit: 500}, {limit: 500, _continue: 'a'}, {limit: 500, _continue: 'b'}])
  })

  it('one page without metadata is the whole list', async () => {
    const s = server([{items: [7]}])
    expect(await listAllPages('list nodes', s.fetch)).toEqual([7])
    expect(s.asked).toHaveLength(1)
  })

  it('a page answered with nothing (denied, not found) makes the whole list nothing, not a partial one', async () => {
    const s = server([{items: [1], metadata: {_continue: 'a'}}, undefined])
    expect(await listAllPages('list pods', s.fetch)).toBeUndefined()
  })

  it('a repeated continue token stops the list with an error naming it', async () => {
    const s = server([
      {items: [1], metadata: {_continue: 'a'}},
      {items: [2], metadata: {_continue: 'b'}},
      {items: [3], metadata: {_continue: 'a'}},
    ])
    const err = await listAllPages('list pods cluster-wide', s.fetch).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PagingError)
    expect((err as Error).message).toBe('list pods cluster-wide: the API server returned the same continue token twice (after 3 items); stopped listing')
    expect(s.asked).toHaveLength(3)
  })

  it('a server that never stops paging is cut off after maxPages requests', async () => {
    const asked: Page[] = []
    let n = 0
    const endless = async (page: Page) => (asked.push(page), {items: [n], metadata: {_continue: `t${n++}`}})
    await expect(listAllPages('list services', endless, 4)).rejects.toThrow('list services: still more after 4 pages of 500 (4 items); stopped listing')
    expect(asked).toHaveLength(4)
    expect(MAX_PAGES).toBe(10_000)
  })
})
