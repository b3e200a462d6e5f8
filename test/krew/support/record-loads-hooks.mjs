// Module hooks for record-loads.mjs: one line per module loaded.
import {appendFileSync} from 'node:fs'

let log
export function initialize(data) {
  log = data.log
}
export async function load(url, context, nextLoad) {
  appendFileSync(log, `load ${url}\n`)
  return nextLoad(url, context)
}
