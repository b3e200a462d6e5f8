#!/usr/bin/env node
// The second half of `npm run build` (after tsc): bundles the compiled command (dist/) with
// @oclif/core and its other runtime dependencies into dist/svctrace.cjs, the file bin/run.js
// runs, with client-node and ssh2 in bundles of their own next to it, loaded on first use.
// The same bundle as the krew Node.js archive's lib/ (scripts/krew/bundle.js): one file to
// read and compile instead of a few hundred modules to resolve through node_modules
// (measured, 21 runs each, round-robin: --help 648 → 302 ms, --version 487 → 233 ms).
import {execFileSync} from 'node:child_process'
import {readdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {createRequire} from 'node:module'
import vm from 'node:vm'
import {bundleCli, bundleVersionCheck, CODE_CACHE_SUFFIX, LAZY_WRAPPER} from './krew/bundle.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dist = path.join(root, 'dist')
const {code, lazy} = await bundleCli(root)
// bundles of a previous build that this one no longer makes
for (const f of readdirSync(dist)) if (/^svctrace.*\.cjs(\.v8cache)?$/.test(f)) rmSync(path.join(dist, f))
writeFileSync(path.join(dist, 'svctrace.cjs'), code)
writeFileSync(path.join(dist, 'version.cjs'), await bundleVersionCheck(root))
for (const l of lazy) writeFileSync(path.join(dist, l.file), l.code)
for (const l of lazy) writeFileSync(path.join(dist, l.file + CODE_CACHE_SUFFIX), codeCache(path.join(dist, l.file), l.code))
// The main bundle's cache is trained by running it, in a process of its own (scripts/code-cache.cjs).
execFileSync(process.execPath, [path.join(root, 'scripts/code-cache.cjs')], {stdio: 'inherit'})

/**
 * The V8 code cache of a lazy bundle, made by evaluating it as __svctraceLoadLazy does and loading
 * every package it holds, so the functions a run compiles are in it: client-node's bundle then loads
 * in about half the time (measured, dist/svctrace-client-node.cjs: 148 → 66 ms). Only the Node.js
 * that made it (and these exact bytes) can use it; any other compiles the bundle as before.
 */
function codeCache(filename, code) {
  const script = new vm.Script(LAZY_WRAPPER[0] + code + LAZY_WRAPPER[1], {filename})
  const mod = {exports: {}}
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(filename), mod, filename, path.dirname(filename))
  for (const spec of Object.keys(mod.exports)) void mod.exports[spec]
  return script.createCachedData()
}
