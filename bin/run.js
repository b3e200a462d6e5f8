#!/usr/bin/env node
// Installed as kubectl-svctrace: kubectl finds it on PATH and runs it for `kubectl svctrace …`.
// Runs the CLI as one bundle, dist/svctrace.cjs, made by `npm run build` (scripts/bundle-dist.js);
// bin/dev.js runs the same command from the compiled modules instead.
import {createRequire} from 'node:module'

createRequire(import.meta.url)('../dist/svctrace.cjs')
