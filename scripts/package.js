#!/usr/bin/env node
// npm run package: builds the release archives for krew, reproducibly, and writes their
// sha256 into krew-manifest.yaml.
//
//   release/svctrace-vX.Y.Z-node.tar.gz         kubectl-svctrace.cjs (launcher, needs Node.js >= 20),
//                                               lib/svctrace.cjs (esbuild bundle), lib/svctrace-client-node.cjs
//                                               (loaded only for live clusters), lib/svctrace-ssh2.cjs (only
//                                               for --via ssh), lib/version.cjs (answers --version
//                                               alone, before the bundle), LICENSE, THIRD-PARTY-NOTICES
//   release/svctrace-vX.Y.Z-linux-amd64.tar.gz  kubectl-svctrace (Node.js single executable, the lazy
//                                               bundles as assets), LICENSE, THIRD-PARTY-NOTICES (with Node.js's license)
//   release/svctrace.yaml                       the manifest to submit as krew-index plugins/svctrace.yaml
//   release/SHA256SUMS
//
// Options: --out DIR (default release/), --no-build (use dist/ as it is), --no-manifest (leave
// krew-manifest.yaml alone), --no-sea (Node.js archive only, for hosts other than linux x64),
// --check (build, then fail if krew-manifest.yaml differs from the result).
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {bundleCli, bundleVersionCheck, launcher, thirdPartyNotices} from './krew/bundle.js'
import {manifestWarnings, sha256, validateManifestText} from './krew/krew.js'
import {buildSea, nodeLicense, seaUnsupportedReason} from './krew/sea.js'
import {tarGz} from './krew/tar.js'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const PLUGIN_NAME = 'svctrace'
export const TEMPLATE = 'scripts/krew/krew-manifest.template.yaml'

/** Archive file names for a version ("v0.1.0"). */
export function archiveNames(version) {
  return {node: `${PLUGIN_NAME}-${version}-node.tar.gz`, linuxAmd64: `${PLUGIN_NAME}-${version}-linux-amd64.tar.gz`}
}

/** The lowest Node.js major the package supports, from package.json engines.node (">=20" → 20). */
export function minNodeMajor(pkg) {
  const m = /^>=\s*(\d+)/.exec(pkg.engines?.node ?? '')
  if (!m) throw new Error(`package.json engines.node should read ">=N", not "${pkg.engines?.node}"`)
  return Number(m[1])
}

/** Fills the manifest template. */
export function renderManifest(template, values) {
  return template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, key) => {
    if (values[key] === undefined) throw new Error(`${TEMPLATE}: no value for {{${key}}}`)
    return String(values[key])
  })
}

function log(quiet, msg) {
  if (!quiet) process.stderr.write(`package: ${msg}\n`)
}

/**
 * Builds both archives into outDir and returns what was written:
 * {version, outDir, archives: {node, linuxAmd64}: {name, path, sha256, bytes}, manifest, manifestPath, nodeVersion, complete}.
 * build: run tsc first. writeManifest: also replace <root>/krew-manifest.yaml.
 * sea: false skips the self-contained executable (for hosts that cannot build it); the
 * manifest in outDir then carries a placeholder sha256 for it and krew-manifest.yaml is left alone.
 */
export async function packageRelease({root = ROOT, outDir = path.join(root, 'release'), build = true, sea = true, writeManifest = true, quiet = false} = {}) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
  const version = `v${pkg.version}`
  const minMajor = minNodeMajor(pkg)
  const unsupported = sea ? seaUnsupportedReason() : undefined
  if (unsupported) throw new Error(`${unsupported}; use --no-sea to build only the Node.js archive`)

  if (build) {
    log(quiet, 'tsc -p tsconfig.build.json')
    const r = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {cwd: root, encoding: 'utf8'})
    if (r.status !== 0) throw new Error(`tsc failed:\n${r.stdout}${r.stderr}`)
  }

  log(quiet, 'esbuild: bundling dist/ and its dependencies into one CommonJS file')
  const {code, lazy, packages} = await bundleCli(root)
  const license = readFileSync(path.join(root, 'LICENSE'))
  const names = archiveNames(version)
  mkdirSync(outDir, {recursive: true})
  const archives = {}
  const write = (key, entries) => {
    const bytes = tarGz(entries)
    const file = path.join(outDir, names[key])
    writeFileSync(file, bytes)
    archives[key] = {name: names[key], path: file, sha256: sha256(bytes), bytes: bytes.length}
    log(quiet, `${names[key]}  ${(bytes.length / 1e6).toFixed(1)} MB  sha256 ${archives[key].sha256}`)
  }

  write('node', [
    {name: 'kubectl-svctrace.cjs', mode: 0o755, data: launcher('lib/svctrace.cjs', minMajor, 'lib/version.cjs')},
    {name: 'lib/svctrace.cjs', mode: 0o644, data: code},
    {name: 'lib/version.cjs', mode: 0o644, data: await bundleVersionCheck(root)},
    ...lazy.map((l) => ({name: `lib/${l.file}`, mode: 0o644, data: l.code})),
    {name: 'LICENSE', mode: 0o644, data: license},
    {name: 'THIRD-PARTY-NOTICES', mode: 0o644, data: thirdPartyNotices(root, packages)},
  ])

  let nodeVersion = process.version
  if (sea) {
    log(quiet, `node single executable from ${process.execPath} (${process.version}), stripped, blob injected`)
    const work = mkdtempSync(path.join(tmpdir(), 'svctrace-sea-'))
    try {
      const exe = path.join(work, 'kubectl-svctrace')
      nodeVersion = await buildSea({code, assets: Object.fromEntries(lazy.map((l) => [l.file, l.code])), output: exe, workDir: work})
      const nodeNotice = `kubectl-svctrace (linux-amd64) is a Node.js ${nodeVersion} executable (https://nodejs.org) with svctrace\nembedded. Node.js license:\n\n${nodeLicense()}`
      write('linuxAmd64', [
        {name: 'kubectl-svctrace', mode: 0o755, data: readFileSync(exe)},
        {name: 'LICENSE', mode: 0o644, data: license},
        {name: 'THIRD-PARTY-NOTICES', mode: 0o644, data: thirdPartyNotices(root, packages, nodeNotice)},
      ])
    } finally {
      rmSync(work, {recursive: true, force: true})
    }
  }

  const manifest = renderManifest(readFileSync(path.join(root, TEMPLATE), 'utf8'), {
    VERSION: version,
    SHA256_NODE: archives.node.sha256,
    SHA256_LINUX_AMD64: archives.linuxAmd64?.sha256 ?? '0'.repeat(64),
    SEA_NODE_VERSION: nodeVersion,
    MIN_NODE_MAJOR: minMajor,
  })
  const plugin = validateManifestText(`${PLUGIN_NAME}.yaml`, manifest) // krew's rules, before anything is written
  for (const w of manifestWarnings(plugin)) log(quiet, `warning: ${w}`)
  const manifestPath = path.join(outDir, `${PLUGIN_NAME}.yaml`)
  writeFileSync(manifestPath, manifest)
  writeFileSync(
    path.join(outDir, 'SHA256SUMS'),
    Object.values(archives)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((a) => `${a.sha256}  ${a.name}\n`)
      .join(''),
  )
  if (writeManifest && sea) {
    writeFileSync(path.join(root, 'krew-manifest.yaml'), manifest)
    log(quiet, 'krew-manifest.yaml updated')
  } else if (writeManifest) {
    log(quiet, 'krew-manifest.yaml left alone: no linux-amd64 archive was built')
  }
  return {version, outDir, archives, manifest, manifestPath, nodeVersion, complete: sea}
}

async function main(argv) {
  const opts = {build: true, writeManifest: true}
  let check = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--out') opts.outDir = path.resolve(argv[++i] ?? '')
    else if (a === '--no-build') opts.build = false
    else if (a === '--no-manifest') opts.writeManifest = false
    else if (a === '--no-sea') opts.sea = false
    else if (a === '--check') check = true
    else throw new Error(`unknown option ${a} (use --out DIR, --no-build, --no-manifest, --no-sea, --check)`)
  }
  if (check) opts.writeManifest = false
  const started = Date.now()
  const r = await packageRelease(opts)
  if (check) {
    const committed = readFileSync(path.join(ROOT, 'krew-manifest.yaml'), 'utf8')
    if (committed !== r.manifest)
      throw new Error(`krew-manifest.yaml does not match the archives just built (run npm run package and commit it); built manifest: ${r.manifestPath}`)
    log(false, 'krew-manifest.yaml matches the archives')
  }
  log(false, `done in ${((Date.now() - started) / 1000).toFixed(1)} s → ${path.relative(process.cwd(), r.outDir) || '.'}/`)
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`package: error: ${err.message}\n`)
    process.exit(1)
  })
}
