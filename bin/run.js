#!/usr/bin/env node
// Installed as kubectl-svctrace: kubectl finds it on PATH and runs it for `kubectl svctrace …`.
// Runs the CLI as one bundle, dist/svctrace.cjs, made by `npm run build` (scripts/bundle-dist.js);
// bin/dev.js runs the same command from the compiled modules instead. `--version` alone is answered
// by the small dist/version.cjs first, before the bundle is read and compiled.
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)
if (!require('../dist/version.cjs').printedVersion(process.argv.slice(2))) require('../dist/svctrace.cjs')
