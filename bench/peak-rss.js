// Runs the command in this process and prints its peak resident memory on stderr.
import {execute} from '@oclif/core'

process.on('exit', () => {
  process.stderr.write(`peak-rss-mib ${Math.round(process.resourceUsage().maxRSS / 1024)}\n`)
})
await execute({dir: new URL('../bin/run.js', import.meta.url).href, args: process.argv.slice(2)})
