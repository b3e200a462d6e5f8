// -v for API requests (observedHttp): each request through client-node's HTTP library is reported
// with method, URL (query kept, user:password dropped), status or why no response came, and time.
import {HttpMethod, Observable, RequestContext, ResponseContext, wrapHttpLibrary, type HttpLibrary} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import type {ApiRequestRecord} from '../../src/app/ports.js'
import {apiHttp, shownUrl} from '../../src/adapters/kube/client-options.js'

/** client-node's library stand-in: answers each request with `answer`. */
function libAnswering(answer: () => Promise<ResponseContext>) {
  return {
    IsomorphicFetchHttpLibrary: class {
      send(): Observable<ResponseContext> {
        return new Observable(answer())
      }
    },
    wrapHttpLibrary,
    ResponseContext,
  }
}

function observed(answer: () => Promise<ResponseContext>): {http: HttpLibrary; records: ApiRequestRecord[]} {
  const records: ApiRequestRecord[] = []
  let t = 100
  return {
    http: apiHttp(libAnswering(answer), {
      log: {apiRequest: (r) => records.push(r), nodeCommand: () => undefined, nodeRead: () => undefined},
      now: () => (t += 7),
    }),
    records,
  }
}

describe('apiHttp with -v', () => {
  it('reports an answered request with its status; the response passes through', async () => {
    const response = new ResponseContext(404, {}, {text: async () => '{}', binary: async () => Buffer.from('{}')})
    const {http, records} = observed(async () => response)
    const req = new RequestContext('https://10.0.0.1:6443/api/v1/namespaces/default/pods?labelSelector=app%3Dweb', HttpMethod.GET)
    req.setHeaderParam('Authorization', 'Bearer secret-token')
    expect(await http.send(req).toPromise()).toBe(response)
    expect(records).toEqual([{method: 'GET', url: 'https://10.0.0.1:6443/api/v1/namespaces/default/pods?labelSelector=app%3Dweb', status: 404, ms: 7}])
    expect(JSON.stringify(records)).not.toContain('secret-token')
  })

  it('reports a request that got no response with the reason, and rejects with the same error', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'})
    const {http, records} = observed(async () => {
      throw refused
    })
    await expect(http.send(new RequestContext('https://10.0.0.1:6443/api/v1/nodes', HttpMethod.GET)).toPromise()).rejects.toBe(refused)
    expect(records).toEqual([{method: 'GET', url: 'https://10.0.0.1:6443/api/v1/nodes', error: 'ECONNREFUSED', ms: 7}])
  })

  it('never shows a user:password in the URL', () => {
    expect(shownUrl('https://admin:hunter2@10.0.0.1:6443/api/v1/nodes?limit=5')).toBe('https://10.0.0.1:6443/api/v1/nodes?limit=5')
  })
})
