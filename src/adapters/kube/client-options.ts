// Per-call options for client-node 1.4: it takes an abort signal only through an observable-shaped
// middleware (its own timeout option came later), and an HTTP library per call (ConfigurationOptions
// httpApi), which is where requests go out on the run's shared connection (api-connection.ts) and
// where -v watches every request go out and come back; the same middleware sets the User-Agent. One
// recipe for every adapter that calls the API.
import type {HttpLibrary, RequestContext, ResponseContext} from '@kubernetes/client-node'
import type {ActivityLog} from '../../app/ports.js'
import {ApiConnections, type ResponseContextClass} from './api-connection.js'

/** The client-node exports the run's HTTP library is made of (passed in: client-node loads lazily). */
export interface HttpLib {
  IsomorphicFetchHttpLibrary: new () => HttpLibrary
  wrapHttpLibrary(lib: {send(request: RequestContext): Promise<ResponseContext>}): HttpLibrary
  ResponseContext: ResponseContextClass
}

/** What every call of one run carries besides its abort signal. */
export interface CallSettings {
  /** Sends through this HTTP library (-v's observed one). */
  http?: HttpLibrary | undefined
  /** The User-Agent header (userAgent()); client-node's fetch would send node-fetch's otherwise. */
  userAgent?: string | undefined
}

/** Options that make one client-node call abort with `signal`, identify the tool, and send through `http` when given. */
export function withSignal(signal: AbortSignal, {http, userAgent}: CallSettings = {}): never {
  return {
    middleware: [
      {
        pre: (ctx: {setSignal(s: AbortSignal): void; setHeaderParam(key: string, value: string): void}) => {
          ctx.setSignal(signal)
          if (userAgent) ctx.setHeaderParam('User-Agent', userAgent)
          return {toPromise: async () => ctx}
        },
        post: (r: unknown) => ({toPromise: async () => r}),
      },
    ],
    middlewareMergeStrategy: 'append',
    ...(http ? {httpApi: http} : {}),
  } as never
}

/** A URL as -v prints it: with its query, without a user:password part. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return url
  }
}

/** Why a request got no response, in a word: the socket's code, else the error's name. */
function noResponse(err: unknown): string {
  const e = err as {code?: unknown; name?: unknown; type?: unknown} | null
  const code = e?.code ?? (e?.type === 'aborted' ? 'AbortError' : undefined) ?? e?.name
  return typeof code === 'string' && code !== '' ? code : 'Error'
}

/**
 * The HTTP library of a run's API calls: each request on the shared connection (api-connection.ts),
 * or through client-node's own library where that cannot carry it; with `log` (-v), each request
 * reported once its response headers arrive (or it fails): method, URL with query, status,
 * milliseconds. The signal and TLS agent the request context carries are used as they are; headers
 * are never read. `connections`: the run's (one per adapter; tests pass none to use fetch alone).
 */
export function apiHttp(
  lib: HttpLib,
  {connections, log, now = () => performance.now()}: {connections?: ApiConnections; log?: ActivityLog | undefined; now?: () => number},
): HttpLibrary {
  const base = new lib.IsomorphicFetchHttpLibrary()
  const viaFetch = (request: RequestContext) => base.send(request).toPromise()
  return lib.wrapHttpLibrary({
    async send(request) {
      const start = now()
      const method = String(request.getHttpMethod())
      const url = shownUrl(request.getUrl())
      try {
        const response = await (connections ? connections.send(request, () => viaFetch(request)) : viaFetch(request))
        log?.apiRequest({method, url, status: response.httpStatusCode, ms: Math.round(now() - start)})
        return response
      } catch (err) {
        log?.apiRequest({method, url, error: noResponse(err), ms: Math.round(now() - start)})
        throw err
      }
    },
  })
}

/** A run's shared API connections, answering with client-node's response class. */
export function apiConnections(lib: HttpLib): ApiConnections {
  return new ApiConnections(lib.ResponseContext)
}
