// The API side on a slow link: `kubectl svctrace` against the fake API server (test/support) through a
// TCP relay that adds 50 ms each way (bench/relay.js), the nodes not read (--via none), so the figure is
// the API's round trips alone. Each scenario twice, alternated run by run: against a server that offers
// HTTP/2 (as kube-apiserver does: the run's requests share one connection, src/adapters/kube/api-connection.ts)
// and against one that offers HTTP/1.1 only (then client-node's fetch opens a connection per request,
// as every request did before; the first costs one more TLS handshake, which learned the protocol).
// The relay delays data, not its own TCP handshake (loopback): on a real network each new connection
// costs one round trip more than here.
//
//   node bench/api.js    (npm run bench:api builds dist/ first; BENCH_API_RUNS, default 5; needs openssl)
//
// Prints a table and writes it into docs/performance.md (its own section).
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {loadSupport, median, runChild} from './child.js'
import {startRelay} from './relay.js'
import {writePerformanceDoc} from './performance-doc.js'

const RUNS = Number(process.env.BENCH_API_RUNS ?? 5)
const DELAY_MS = 50
const FIXTURE = 'test/fixtures/two-node-iptables-v1.26'
const CLI_TIMEOUT_MS = 60_000
const SECTION = '## The API on a slow link (issue 12)'

/** One server (HTTP/2 offered or not) behind its relay, with a kubeconfig through the relay. */
async function serverBehindRelay(support, work, view, pki, http1Only) {
  const server = await support.startFakeApiServer({view, pki, http1Only})
  const relay = await startRelay({listen: {host: '127.0.0.1', port: 0}, target: {host: '127.0.0.1', port: server.port}, delayMs: DELAY_MS})
  const kubeconfig = path.join(work, http1Only ? 'kubeconfig-http1' : 'kubeconfig-h2')
  writeFileSync(kubeconfig, server.kubeconfig({context: 'bench', namespace: 'default', port: relay.address.port}))
  return {server, relay, kubeconfig, name: http1Only ? 'HTTP/1.1 only' : 'HTTP/2'}
}

/** One run of the CLI against `side`: wall ms, TCP connections the server accepted, requests it answered. */
async function once(root, side, args) {
  side.server.reset()
  const env = {...process.env, KUBECONFIG: side.kubeconfig, HOME: path.dirname(side.kubeconfig), NO_COLOR: '1'}
  const r = await runChild([process.execPath, path.join(root, 'bin/run.js'), ...args, '--via', 'none', '-o', 'json'], {env, timeoutMs: CLI_TIMEOUT_MS})
  if (r.code !== 0 && r.code !== 1) throw new Error(`${args.join(' ')} against ${side.name}: exit ${r.code}: ${r.stderr.trim().split('\n').pop()}`)
  JSON.parse(r.stdout)
  return {ms: r.ms, connections: side.server.connections, requests: side.server.requests.length}
}

const range = (xs) => (Math.min(...xs) === Math.max(...xs) ? String(xs[0]) : `${Math.min(...xs)}–${Math.max(...xs)}`)

export async function benchApi({root, command = 'node bench/api.js'}) {
  const work = path.join(root, '.bench', `api-${process.pid}`)
  mkdirSync(work, {recursive: true})
  const sides = []
  try {
    const support = await loadSupport(
      root,
      work,
      [
        ['{startFakeApiServer, makeTestPki}', 'test/support/fake-apiserver.ts'],
        ['{parseClusterFile}', 'src/adapters/bundle/cluster-file.ts'],
      ],
      ['startFakeApiServer', 'makeTestPki', 'parseClusterFile'],
    )
    const view = support.parseClusterFile(readFileSync(path.join(root, FIXTURE, 'cluster.yaml'), 'utf8'), 'cluster.yaml')
    const pki = await support.makeTestPki()
    const h2 = await serverBehindRelay(support, work, view, pki, false)
    sides.push(h2)
    const h1 = await serverBehindRelay(support, work, view, pki, true)
    sides.push(h1)
    const frontend = view.services.find((s) => s.metadata?.name === 'frontend')
    const scenarios = [
      {name: 'frontend -n storefront', args: ['frontend', '-n', 'storefront']},
      {name: `--ip ${frontend.spec.clusterIP}`, args: ['--ip', frontend.spec.clusterIP]},
      {name: '-A', args: ['-A']},
    ]
    const rows = []
    for (const s of scenarios) {
      const got = new Map(sides.map((side) => [side, []]))
      // A warm-up run each (file cache), then alternated runs.
      for (const side of sides) await once(root, side, s.args)
      for (let i = 0; i < RUNS; i++) for (const side of sides) got.get(side).push(await once(root, side, s.args))
      const ms = (side) => Math.round(median(got.get(side).map((r) => r.ms)))
      rows.push({
        name: s.name,
        h2: ms(h2),
        h1: ms(h1),
        h2conns: range(got.get(h2).map((r) => r.connections)),
        h1conns: range(got.get(h1).map((r) => r.connections)),
        requests: range(got.get(h2).map((r) => r.requests)),
      })
    }
    const header = `${'scenario (--via none)'.padEnd(28)}${'HTTP/2'.padStart(9)}${'HTTP/1.1'.padStart(10)}${'ratio'.padStart(8)}   connections (HTTP/2, HTTP/1.1)   requests`
    const lines = [
      header,
      ...rows.map(
        (r) =>
          `${r.name.padEnd(28)}${`${r.h2} ms`.padStart(9)}${`${r.h1} ms`.padStart(10)}${`${(r.h2 / r.h1).toFixed(2)}×`.padStart(8)}   ${`${r.h2conns}, ${r.h1conns}`.padEnd(32)} ${r.requests}`,
      ),
    ]
    const intro =
      `\`${command}\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}; the fake API server ` +
      `(${FIXTURE}'s objects) behind a relay adding ${DELAY_MS} ms each way, reached as a server that offers HTTP/2 and as one that offers HTTP/1.1 only ` +
      `(there client-node's fetch makes a connection per request, as every request did before; the first TLS handshake, which learned the protocol, is one more); ` +
      `wall time of the whole process, median of ${RUNS} alternated runs after a warm-up; connections: TCP connections the server accepted per run ` +
      `(the relay's own handshake is not delayed: on a real network each costs a round trip more).`
    writePerformanceDoc(root, SECTION, 'One shared connection against one per request', [intro, '', '```text', ...lines, '```'].join('\n'))
    return [intro, '', ...lines]
  } finally {
    for (const side of sides) {
      side.relay.close()
      await side.server.close()
    }
    rmSync(work, {recursive: true, force: true})
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const command = process.env.npm_lifecycle_event === 'bench:api' ? 'npm run bench:api' : 'node bench/api.js'
  console.log((await benchApi({root, command})).join('\n'))
}
