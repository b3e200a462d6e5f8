// The API over one connection per server, as kubectl does: HTTP/2 (offered by ALPN, as every
// kube-apiserver answers it), each request of a run a stream on that connection. client-node's own
// library (node-fetch) makes a new https.Agent for every request, so every request paid a TCP and a
// TLS handshake of its own: on a real network two round trips more per request, and for a paged list
// per page. A server that does not choose h2 gets client-node's library, as before; so does a
// kubeconfig with a proxy (client-node's agent is then a proxy agent) and anything but https.
import http2 from 'node:http2'
import https from 'node:https'
import {isIP} from 'node:net'
import tls from 'node:tls'
import zlib from 'node:zlib'
import type {RequestContext, ResponseContext} from '@kubernetes/client-node'

/** client-node's response class (passed in: client-node loads lazily). */
export type ResponseContextClass = new (
  status: number,
  headers: Record<string, string>,
  body: {text(): Promise<string>; binary(): Promise<Buffer>},
) => ResponseContext

/**
 * The flow-control windows the connection offers: HTTP/2's default 64 KiB would let a page of a list
 * (up to a few MB) come at 64 KiB per round trip. client-go's transport offers 4 MiB per stream and
 * 1 GiB for the connection; so do we.
 */
const STREAM_WINDOW = 4 << 20
const CONNECTION_WINDOW = 1 << 30

/** Request headers HTTP/2 forbids (RFC 9113 §8.2.2); `host` becomes :authority. */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te'])

/** A connection to one server with one set of TLS settings: HTTP/2, or the server did not choose it. */
interface Link {
  ready: Promise<http2.ClientHttp2Session | 'http1'>
  /** Requests waiting for it or with a stream on it: it keeps the process alive only while there are some. */
  users: number
  socket: tls.TLSSocket
  session?: http2.ClientHttp2Session
}

/** The TLS settings client-node put on the request's agent, for a connection of our own. */
function tlsSettings(agent: https.Agent, url: URL): tls.ConnectionOptions {
  const o = agent.options
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  const servername = o.servername ?? (isIP(host) ? undefined : host)
  return {
    host,
    port: Number(url.port || 443),
    ...(servername ? {servername} : {}),
    ...(o.ca !== undefined ? {ca: o.ca} : {}),
    ...(o.cert !== undefined ? {cert: o.cert} : {}),
    ...(o.key !== undefined ? {key: o.key} : {}),
    ...(o.pfx !== undefined ? {pfx: o.pfx} : {}),
    ...(o.passphrase !== undefined ? {passphrase: o.passphrase} : {}),
    // Left out when unset: then NODE_TLS_REJECT_UNAUTHORIZED decides, as with client-node's fetch.
    ...(o.rejectUnauthorized !== undefined ? {rejectUnauthorized: o.rejectUnauthorized} : {}),
    ALPNProtocols: ['h2', 'http/1.1'],
  }
}

/** Connections are shared by requests to the same server with the same TLS settings (one kubeconfig user). */
function linkKey(url: URL, settings: tls.ConnectionOptions): string {
  const {ALPNProtocols: _alpn, ...rest} = settings
  // By content: client-node makes new Buffers of the same CA and keys for every request. A Buffer's
  // toJSON runs before a replacer sees it, so the replacer looks at the holder's own value.
  return `${url.origin}\n${JSON.stringify(rest, function (this: Record<string, unknown>, k: string, v: unknown) {
    const own = this[k]
    return Buffer.isBuffer(own) ? own.toString('base64') : v
  })}`
}

function abortError(): Error {
  // The name client-node's fetch gives an aborted request, and what the adapters test for.
  return Object.assign(new Error('The request was aborted'), {name: 'AbortError'})
}

/** The request's agent when it is a plain https.Agent (not a proxy's): its settings are then ours to use. */
function plainHttpsAgent(request: RequestContext): https.Agent | undefined {
  const agent = request.getAgent() as unknown
  return agent instanceof https.Agent && agent.constructor === https.Agent ? agent : undefined
}

/** The response body as sent: gzip and deflate undone (we ask for gzip, as client-go does). */
function decoded(body: Buffer, encoding: string | undefined): Promise<Buffer> {
  if (encoding !== 'gzip' && encoding !== 'deflate') return Promise.resolve(body)
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer) => (err ? reject(err) : resolve(out))
    if (encoding === 'gzip') zlib.gunzip(body, done)
    else zlib.inflate(body, done)
  })
}

/** Every API request of a run, each as a stream on one HTTP/2 connection per server. */
export class ApiConnections {
  private readonly links = new Map<string, Link>()
  /** Servers that answered with HTTP/1.1: their requests go through `fallback`. */
  private readonly http1 = new Set<string>()

  constructor(private readonly ResponseContext: ResponseContextClass) {}

  /** Sends `request` on the shared connection, or through `fallback` when that cannot carry it. */
  async send(request: RequestContext, fallback: () => Promise<ResponseContext>): Promise<ResponseContext> {
    const url = new URL(request.getUrl())
    const agent = plainHttpsAgent(request)
    const body = request.getBody() as unknown
    if (url.protocol !== 'https:' || !agent || (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body))) return fallback()
    const settings = tlsSettings(agent, url)
    const key = linkKey(url, settings)
    const signal = request.getSignal()
    // A second try only for a request the server never took: the connection was going away
    // (GOAWAY, e.g. kube-apiserver's --goaway-chance) or the stream was refused.
    for (let attempt = 0; ; attempt++) {
      if (this.http1.has(key)) return fallback()
      if (signal?.aborted) throw abortError()
      const link = this.linkFor(key, url.origin, settings)
      const release = this.use(key, link)
      try {
        const session = await untilAborted(link.ready, signal)
        if (session === 'http1') {
          release()
          return await fallback()
        }
        return await this.stream(session, request, url, body, signal, release)
      } catch (err) {
        release()
        if (attempt === 0 && err instanceof NotTaken) continue
        throw err instanceof NotTaken ? err.cause : err
      }
    }
  }

  /** The link for `key`, connecting to `origin` (scheme, host with an IPv6 address in brackets, port: the :authority of every stream). */
  private linkFor(key: string, origin: string, settings: tls.ConnectionOptions): Link {
    const known = this.links.get(key)
    if (known && !known.session?.closed && !known.session?.destroyed) return known
    const socket = tls.connect(settings)
    let ready!: (session: http2.ClientHttp2Session | 'http1') => void
    let failed!: (err: Error) => void
    const link: Link = {
      socket,
      users: 0,
      ready: new Promise((resolve, reject) => {
        ready = resolve
        failed = reject
      }),
    }
    // Each request sees a failure through its own await.
    link.ready.catch(() => undefined)
    const onError = (err: Error) => {
      this.forget(key, link)
      failed(err)
    }
    socket.once('error', onError)
    socket.once('secureConnect', () => {
      socket.off('error', onError)
      if (socket.alpnProtocol !== 'h2') {
        // An HTTP/1.1 server: its requests go through client-node's library from now on.
        this.http1.add(key)
        this.forget(key, link)
        socket.destroy()
        ready('http1')
        return
      }
      let session: http2.ClientHttp2Session
      try {
        session = http2.connect(origin, {createConnection: () => socket, settings: {initialWindowSize: STREAM_WINDOW}})
      } catch (err) {
        socket.destroy()
        onError(err as Error)
        return
      }
      link.session = session
      // A connection that fails or ends is not used again; its streams fail with its error.
      session.on('error', () => this.forget(key, link))
      session.once('close', () => this.forget(key, link))
      session.once('goaway', () => this.forget(key, link))
      session.once('connect', () => session.setLocalWindowSize(CONNECTION_WINDOW))
      if (link.users === 0) session.unref()
      ready(session)
    })
    this.links.set(key, link)
    return link
  }

  private forget(key: string, link: Link): void {
    if (this.links.get(key) === link) this.links.delete(key)
  }

  /**
   * One more request on the link; returns its release, which may be called more than once. The last
   * user gone, an idle connection stays for the next request but no longer holds the process; one
   * still connecting is dropped.
   */
  private use(key: string, link: Link): () => void {
    if (link.users++ === 0) {
      link.socket.ref()
      link.session?.ref()
    }
    let released = false
    return () => {
      if (released) return
      released = true
      if (--link.users > 0) return
      if (link.session) {
        if (!link.session.destroyed) link.session.unref()
      } else if (this.links.get(key) === link) {
        this.forget(key, link)
        link.socket.destroy()
      }
    }
  }

  /**
   * The request as a stream of `session`: resolves with the response once its headers are in (its body
   * is read by the caller, as with fetch); `done` runs when the stream has ended or failed. Rejects with
   * NotTaken when the server did not take the stream.
   */
  private stream(
    session: http2.ClientHttp2Session,
    request: RequestContext,
    url: URL,
    body: string | Buffer | undefined,
    signal: AbortSignal | undefined,
    done: () => void,
  ): Promise<ResponseContext> {
    const headers: http2.OutgoingHttpHeaders = {
      ':method': String(request.getHttpMethod()),
      ':path': `${url.pathname}${url.search}`,
      // Host and port as the URL writes them (an IPv6 address in brackets; Node's own would drop them).
      ':authority': url.host,
      'accept-encoding': 'gzip',
    }
    for (const [name, value] of Object.entries(request.getHeaders())) {
      const lower = name.toLowerCase()
      if (!CONNECTION_HEADERS.has(lower)) headers[lower] = value
    }
    let stream: http2.ClientHttp2Stream
    try {
      stream = session.request(headers, {endStream: body === undefined})
    } catch (err) {
      // Closing or gone (GOAWAY came, or it failed since): nothing was sent.
      return Promise.reject(new NotTaken(err))
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      let answered = false
      let settle: (err: Error | undefined) => void = () => undefined
      const onAbort = () => {
        stream.close(http2.constants.NGHTTP2_CANCEL)
        settle(abortError())
      }
      const whole = new Promise<Buffer>((res, rej) => {
        settle = (err) => {
          settle = () => undefined
          signal?.removeEventListener('abort', onAbort)
          done()
          if (err) rej(err)
          else res(Buffer.concat(chunks))
        }
      })
      whole.catch((err: Error) => {
        if (!answered) reject(err)
      })
      // A stream refused before any answer was never processed: NotTaken, to be sent again.
      const failed = (err: Error) => settle(stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM && !answered ? new NotTaken(err) : err)
      signal?.addEventListener('abort', onAbort, {once: true})
      stream.on('error', failed)
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => settle(undefined))
      // Closed without an 'error' event: ended, or reset with a code Node does not report as one (CANCEL).
      stream.on('close', () => {
        const code = stream.rstCode ?? http2.constants.NGHTTP2_NO_ERROR
        if (code === http2.constants.NGHTTP2_NO_ERROR) settle(undefined)
        else failed(Object.assign(new Error(`the API server reset the stream (HTTP/2 error ${code})`), {code: 'ERR_HTTP2_STREAM_ERROR'}))
      })
      stream.on('response', (h) => {
        answered = true
        const out: Record<string, string> = {}
        for (const [name, value] of Object.entries(h)) {
          if (!name.startsWith(':') && value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : String(value)
        }
        const encoding = out['content-encoding']
        let bytes: Promise<Buffer> | undefined
        const binary = () => (bytes ??= whole.then((raw) => decoded(raw, encoding)))
        resolve(new this.ResponseContext(Number(h[':status']), out, {binary, text: async () => (await binary()).toString('utf8')}))
      })
      if (body !== undefined) stream.end(body)
    })
  }
}

/** A request the server did not take (never sent, or refused): safe to send again. */
class NotTaken extends Error {
  constructor(cause: unknown) {
    super('the API server did not take the request', {cause})
  }
}

/** `work`, or an AbortError as soon as `signal` aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortError())
    signal.addEventListener('abort', onAbort, {once: true})
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (err: Error) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
