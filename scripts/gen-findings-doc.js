#!/usr/bin/env node
// Writes docs/findings.md from the compiled catalogue: run `npm run build` first.
// test/core/checks/catalog.test.ts fails when the committed file differs from a fresh rendering.
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
let renderFindingsDoc
try {
  ;({renderFindingsDoc} = await import(path.join(root, 'dist/render/findings-doc.js')))
} catch (err) {
  console.error(`cannot load dist/render/findings-doc.js (${err.message}); run npm run build first`)
  process.exit(2)
}
const file = path.join(root, 'docs/findings.md')
mkdirSync(path.dirname(file), {recursive: true})
writeFileSync(file, renderFindingsDoc())
console.log(`wrote ${path.relative(process.cwd(), file)}`)
