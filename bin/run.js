#!/usr/bin/env node
// Installed as kubectl-svctrace: kubectl finds it on PATH and runs it for `kubectl svctrace …`.
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
