#!/usr/bin/env node
// Installed as kubectl-svctrace: kubectl finds it on PATH and runs it for `kubectl svctrace …`.
// Runs the CLI as one bundle, dist/svctrace.cjs, made by `npm run build` (scripts/bundle-dist.js),
// from its V8 code cache when the build made one (bin/load-bundle.cjs); bin/dev.js runs the same
// command from the compiled modules instead. `--version` alone is answered by the small
// dist/version.cjs first, before the bundle is read and compiled.
import {createRequire} from 'node:module'
import {fileURLToPath} from 'node:url'

const require = createRequire(import.meta.url)
if (!require('../dist/version.cjs').printedVersion(process.argv.slice(2))) {
  require('./load-bundle.cjs').runBundle(fileURLToPath(new URL('../dist/svctrace.cjs', import.meta.url)))
}
