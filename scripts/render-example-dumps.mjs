#!/usr/bin/env node
// Regenerates an example bundle's node dumps: for every Node in DIR/cluster.yaml, render the rules
// kube-proxy v1.26 would write (test/support/kube-proxy-rules.ts), load them with the real
// iptables-restore into a fresh network namespace, and save what the real iptables-save prints to
// DIR/nodes/<node>/iptables-save.txt. When a Service has an IPv6 cluster IP, the IPv6 proxier's rules
// go the same way through ip6tables-restore and ip6tables-save to ip6tables-save.txt (except on the
// nodes named with --ipv4-only-node, which stand for nodes whose IPv6 rules were not captured).
// Also rewrites DIR/meta.yaml. No packet is ever sent.
//
//   sudo node scripts/render-example-dumps.mjs [DIR] [--cluster-cidr CIDR[,CIDR6]] [--ipv4-only-node NODE]…
//   (defaults: examples/hello-world, 10.244.0.0/16)
import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import yaml from 'js-yaml'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RENDERER = join(ROOT, 'test/support/kube-proxy-rules.ts')
const KUBE_PROXY_VERSION = 'v1.26.1'

const USAGE = 'render-example-dumps.mjs [DIR] [--cluster-cidr CIDR[,CIDR6]] [--ipv4-only-node NODE]…'

function parseArgs(argv) {
  const args = {dir: join(ROOT, 'examples/hello-world'), clusterCIDR: '10.244.0.0/16', ipv4Only: new Set()}
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--cluster-cidr') args.clusterCIDR = argv[++i]
    else if (argv[i] === '--ipv4-only-node') args.ipv4Only.add(argv[++i])
    else if (argv[i].startsWith('-')) throw new Error(`unknown flag ${argv[i]}; usage: ${USAGE}`)
    else args.dir = resolve(argv[i])
  }
  return args
}

/** The IP family of an address or CIDR text (a colon means IPv6). */
const familyOf = (text) => (text.includes(':') ? 6 : 4)

/** Compiles the renderer (and the src/core modules it imports) with the project's tsc and imports it. */
async function loadRenderer(workDir) {
  const tsc = join(ROOT, 'node_modules/.bin/tsc')
  const flags = ['--outDir', workDir, '--rootDir', ROOT, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022']
  execFileSync(tsc, [...flags, '--strict', '--skipLibCheck', '--types', 'node', RENDERER], {cwd: ROOT, stdio: 'inherit'})
  writeFileSync(join(workDir, 'package.json'), '{"type": "module"}\n') // the output is ESM
  return import(pathToFileURL(join(workDir, 'test/support/kube-proxy-rules.js')).href)
}

/** Network namespaces this run created and has not deleted yet. */
const liveNamespaces = new Set()
function deleteNamespace(ns) {
  try {
    execFileSync('ip', ['netns', 'delete', ns], {stdio: 'ignore'})
  } finally {
    liveNamespaces.delete(ns)
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const ns of liveNamespaces) deleteNamespace(ns)
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15))
  })
}

/** What the real iptables-save (ip6tables-save) prints after the real iptables-restore (ip6tables-restore) loaded `rules` into an empty netns. */
function loadAndDump(rules, node, family) {
  const tool = family === 6 ? 'ip6tables' : 'iptables'
  const ns = `svctrace-render-${process.pid}-${randomBytes(3).toString('hex')}-${node}`.slice(0, 60)
  execFileSync('ip', ['netns', 'add', ns])
  liveNamespaces.add(ns)
  try {
    execFileSync('ip', ['netns', 'exec', ns, `${tool}-restore`], {input: rules, stdio: ['pipe', 'inherit', 'inherit']})
    return execFileSync('ip', ['netns', 'exec', ns, `${tool}-save`], {encoding: 'utf8'})
  } finally {
    deleteNamespace(ns)
  }
}

async function main() {
  const {dir, clusterCIDR, ipv4Only} = parseArgs(process.argv.slice(2))
  const list = yaml.load(readFileSync(join(dir, 'cluster.yaml'), 'utf8'))
  const ofKind = (kind) => (list.items ?? []).filter((item) => item.kind === kind)
  const cluster = {services: ofKind('Service'), endpointSlices: ofKind('EndpointSlice'), pods: ofKind('Pod'), nodes: ofKind('Node')}
  const iptablesVersion = execFileSync('iptables', ['--version'], {encoding: 'utf8'})
    .trim()
    .replace(/^iptables /, '')

  const workDir = mkdtempSync(join(tmpdir(), 'svctrace-render-'))
  try {
    const {renderKubeProxyRestore} = await loadRenderer(workDir)
    // kube-proxy's IPv6 proxier exists on a node only in a cluster with IPv6 Services.
    const ipv6 = cluster.services.some((s) => (s.spec?.clusterIPs ?? [s.spec?.clusterIP ?? '']).some((ip) => ip && ip !== 'None' && familyOf(ip) === 6))
    for (const node of cluster.nodes) {
      const name = node.metadata.name
      const internal = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address)
      const families = ipv6 && !ipv4Only.has(name) ? [4, 6] : [4]
      mkdirSync(join(dir, 'nodes', name), {recursive: true})
      for (const family of families) {
        const nodeIPs = internal.filter((ip) => familyOf(ip) === family)
        const cidr = clusterCIDR.split(',').find((c) => c && familyOf(c) === family) ?? ''
        const dump = loadAndDump(renderKubeProxyRestore(cluster, name, {clusterCIDR: cidr, nodeIPs, family}), name, family)
        const file = family === 6 ? 'ip6tables-save.txt' : 'iptables-save.txt'
        writeFileSync(join(dir, 'nodes', name, file), dump)
        console.log(`${name}: ${dump.split('\n').filter((l) => l.startsWith('-A ')).length} rules -> nodes/${name}/${file}`)
      }
    }
  } finally {
    rmSync(workDir, {recursive: true, force: true})
  }

  const meta = {
    capturedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    source: 'rendered',
    kubeProxyMode: 'iptables',
    kubeProxyVersion: KUBE_PROXY_VERSION,
    iptablesVersion,
  }
  const header = '# Node dumps rendered by scripts/render-example-dumps.mjs (see README.md), not captured from a live cluster.\n'
  writeFileSync(join(dir, 'meta.yaml'), header + yaml.dump(meta, {quotingType: '"'}))
}

main().catch((err) => {
  for (const ns of liveNamespaces) deleteNamespace(ns)
  console.error(`render-example-dumps: ${err.message}`)
  process.exit(1)
})
