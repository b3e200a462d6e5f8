// Runs dist/svctrace.cjs (the CLI bundle) the way Node.js runs a CommonJS file, but through a
// vm.Script, so that V8 can start from the code cache the build made beside it
// (dist/svctrace.cjs.v8cache, scripts/code-cache.cjs): the bundle is then not parsed and compiled
// again on every run. V8 refuses a cache made by another Node.js or for other bytes, and then
// compiles as without one. bin/run.js runs the bundle with it; the build trains the cache with it.
'use strict'
const {readFileSync} = require('node:fs')
const {createRequire} = require('node:module')
const path = require('node:path')
const vm = require('node:vm')

/** The bundle's code cache, beside it: FILE + this. */
const CODE_CACHE_SUFFIX = '.v8cache'

/** Evaluates the bundle at `filename` as a CommonJS module; returns its vm.Script (the build makes the cache from it). */
function runBundle(filename) {
  let cachedData
  try {
    cachedData = readFileSync(filename + CODE_CACHE_SUFFIX)
  } catch {
    // No cache (a build without one, or a copied dist/): compile as require() would.
  }
  // The build writes ASCII only (scripts/krew/bundle.js asciiOnly): Latin-1 reads it into a one-byte
  // string without UTF-8 decoding.
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${readFileSync(filename, 'latin1')}\n})`
  const options = {filename, ...(cachedData ? {cachedData} : {})}
  // oclif's loader may import() an ES module; a vm.Script needs to be told where import() goes.
  if (vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER) options.importModuleDynamically = vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER
  const script = new vm.Script(wrapped, options)
  const mod = {exports: {}, filename, id: filename, loaded: false}
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(filename), mod, filename, path.dirname(filename))
  return script
}

module.exports = {runBundle, CODE_CACHE_SUFFIX}
