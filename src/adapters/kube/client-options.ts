// Per-call options for client-node 1.4: it takes an abort signal only through an observable-shaped
// middleware (its own timeout option came later), and an HTTP library per call (ConfigurationOptions
// httpApi), which is where -v watches every request go out and come back; the same middleware sets the
// User-Agent. One recipe for every adapter that calls the API.
import type {HttpLibrary, RequestContext, ResponseContext} from '@kubernetes/client-node'
import type {ActivityLog} from '../../app/ports.js'

/** The two client-node exports an observed HTTP library is made of (passed in: client-node loads lazily). */
export interface HttpLib {
  IsomorphicFetchHttpLibrary: new () => HttpLibrary
  wrapHttpLibrary(lib: {send(request: RequestContext): Promise<ResponseContext>}): HttpLibrary
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
 * client-node's own HTTP library, reporting each request to `log` once the response headers arrive
 * (or it fails): method, URL with query, status, milliseconds. The signal and TLS agent the
 * request context carries are used as they are; headers are never read.
 */
export function observedHttp(lib: HttpLib, log: ActivityLog, now: () => number = () => performance.now()): HttpLibrary {
  const base = new lib.IsomorphicFetchHttpLibrary()
  return lib.wrapHttpLibrary({
    async send(request) {
      const start = now()
      const method = String(request.getHttpMethod())
      const url = shownUrl(request.getUrl())
      try {
        const response = await base.send(request).toPromise()
        log.apiRequest({method, url, status: response.httpStatusCode, ms: Math.round(now() - start)})
        return response
      } catch (err) {
        log.apiRequest({method, url, error: noResponse(err), ms: Math.round(now() - start)})
        throw err
      }
    },
  })
}
