#!/usr/bin/env node
// The last step of `npm run build` (scripts/bundle-dist.js): trains dist/svctrace.cjs's V8 code
// cache. Runs the bundle once, as bin/run.js does, on the bundled example (its output discarded),
// and writes what V8 compiled by then beside the bundle: the functions a run needs, not only the
// top level. bin/load-bundle.cjs starts from it (measured, `hello-world --from examples/hello-world`,
// 8 runs round-robin: fastest run 315 ms without a cache, 293 ms with the top level only, 256 ms trained).
'use strict'
const {rmSync, writeFileSync} = require('node:fs')
const path = require('node:path')
const {runBundle, CODE_CACHE_SUFFIX} = require('../bin/load-bundle.cjs')

const root = path.resolve(__dirname, '..')
const bundle = path.join(root, 'dist/svctrace.cjs')
rmSync(bundle + CODE_CACHE_SUFFIX, {force: true})
process.argv = [process.argv[0], bundle, 'hello-world', '--from', path.join(root, 'examples/hello-world')]
const out = []
process.stdout.write = (chunk) => out.push(String(chunk)) > 0
process.stderr.write = (chunk) => out.push(String(chunk)) > 0
const script = runBundle(bundle)
process.on('exit', (code) => {
  // A run that failed trains the wrong code: say so and leave no cache (bin/run.js then compiles).
  if (code !== 0 || !out.join('').includes('default/hello-world')) {
    process.exitCode = 1
    require('node:fs').writeSync(2, `code-cache: the training run failed (exit ${code}):\n${out.join('')}\n`)
    return
  }
  writeFileSync(bundle + CODE_CACHE_SUFFIX, script.createCachedData())
})
