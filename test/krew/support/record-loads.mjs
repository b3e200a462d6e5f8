// Preload (node --import) that records every module the process loads into the file named by
// $SVCTRACE_LOAD_LOG: ES modules through a load hook (its own thread), CommonJS modules from
// require.cache at exit. Used to prove what is (not) on the start-up path.
import {appendFileSync} from 'node:fs'
import {createRequire, register} from 'node:module'

const log = process.env.SVCTRACE_LOAD_LOG
if (!log) throw new Error('record-loads.mjs needs SVCTRACE_LOAD_LOG')
register('./record-loads-hooks.mjs', import.meta.url, {data: {log}})
const cache = createRequire(import.meta.url).cache
process.on('exit', () => {
  appendFileSync(
    log,
    Object.keys(cache)
      .map((file) => `cjs ${file}\n`)
      .join(''),
  )
})
