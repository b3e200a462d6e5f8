#!/usr/bin/env node
// Renders the nftables fixtures the way a node shows them: each `nft -f` transaction file given (by
// default test/fixtures/samples/nftables/*.txt) is loaded into a scratch network namespace with the real
// nft, then listed back as JSON (`nft -j list table ip kube-proxy` → rendered/<name>.nft.json) and as text
// (`nft list table ip kube-proxy` → rendered/<name>.nft-list.txt).
//
// kube-proxy's test dumps are sorted line sets, so an endpoint chain can be used before it is created;
// as the shared reference's rendered/ did, every `add table|set|map|chain` line is moved first.
//
// Needs root and nft (nftables 1.0.6 was used). Usage: sudo node scripts/render-nft-fixtures.mjs [FILE.txt …]
import {execFileSync} from 'node:child_process'
import {readFileSync, readdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const dir = path.join(root, 'test/fixtures/samples/nftables')
const files =
  process.argv.slice(2).length > 0
    ? process.argv.slice(2).map((f) => path.resolve(f))
    : readdirSync(dir)
        .filter((f) => f.endsWith('.txt'))
        .map((f) => path.join(dir, f))

if (typeof process.getuid === 'function' && process.getuid() !== 0) {
  console.error('render-nft-fixtures: needs root (network namespaces and nft)')
  process.exit(2)
}

/** Definitions first, then rules and elements, otherwise in the file's order. */
function definitionsFirst(text) {
  const lines = text.split('\n')
  const isDefinition = (l) => /^add (table|set|map|chain) /.test(l)
  return [...lines.filter(isDefinition), ...lines.filter((l) => !isDefinition(l))].join('\n')
}

const ns = `svct-render-${process.pid}`
const run = (args, input) => execFileSync('ip', ['netns', 'exec', ns, ...args], {input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe']})
execFileSync('ip', ['netns', 'add', ns])
try {
  const version = run(['nft', '--version']).trim()
  for (const file of files) {
    const name = path.basename(file, '.txt')
    run(['nft', 'flush', 'ruleset'])
    try {
      run(['nft', '-f', '-'], definitionsFirst(readFileSync(file, 'utf8')))
    } catch (err) {
      throw new Error(`${file}: nft -f refused it: ${err.stderr ?? err.message}`)
    }
    const out = path.join(path.dirname(file), 'rendered')
    const json = run(['nft', '-j', 'list', 'table', 'ip', 'kube-proxy'])
    writeFileSync(path.join(out, `${name}.nft.json`), json.endsWith('\n') ? json : `${json}\n`)
    writeFileSync(path.join(out, `${name}.nft-list.txt`), run(['nft', 'list', 'table', 'ip', 'kube-proxy']))
    console.log(`${path.relative(root, file)} → rendered/${name}.nft.json, rendered/${name}.nft-list.txt (${version})`)
  }
} finally {
  execFileSync('ip', ['netns', 'del', ns])
}
