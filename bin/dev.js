#!/usr/bin/env node
// The development build: the compiled command (dist/commands/svctrace.js) under oclif, loaded
// module by module from dist/ and node_modules. bin/run.js runs the bundle of the same code;
// tests compare the bundles' output with this one's.
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
