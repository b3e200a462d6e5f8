#!/usr/bin/env node
// Enforces the layering rule of ARCHITECTURE.md: src/core is pure (no I/O, no runtime use of
// client-node, ssh2, chalk…), src/render only turns reports into strings.
import {readFileSync, readdirSync, statSync} from 'node:fs'
import path from 'node:path'

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const rules = {
  'src/core': {
    allow: [/^\.{1,2}\//, /^node:crypto$/],
    typeOnly: [/^@kubernetes\/client-node$/],
    why: 'core is pure: relative imports, node:crypto, and `import type` from @kubernetes/client-node only',
  },
  'src/render': {
    allow: [/^\.\/[^/]+\.js$/, /^\.\.\/core\/model\.js$/, /^\.\.\/core\/checks\/catalog\.js$/, /^chalk$/, /^cli-table3$/, /^js-yaml$/],
    typeOnly: [/^\.\.\/core\//],
    why: 'render turns reports into strings: chalk, cli-table3, js-yaml, its own files, the finding catalogue and core types',
  },
}
const forbiddenGlobals = {'src/core': [/\bprocess\./, /\bconsole\./, /\bDate\.now\(/, /\bnew Date\(/, /\bMath\.random\(/, /\bawait\b/]}

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f)
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : []
  })
}

const problems = []
for (const [layer, rule] of Object.entries(rules)) {
  for (const file of files(path.join(root, layer))) {
    const text = readFileSync(file, 'utf8')
    const rel = path.relative(root, file)
    for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      const [, , typeOnly, spec] = m
      if (rule.allow.some((r) => r.test(spec))) continue
      if (typeOnly && rule.typeOnly.some((r) => r.test(spec))) continue
      problems.push(`${rel}: imports "${spec}"${typeOnly ? ' (type)' : ''} — ${rule.why}`)
    }
    for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) problems.push(`${rel}: dynamic import("${m[1]}") — ${rule.why}`)
    for (const g of forbiddenGlobals[layer] ?? []) {
      const code = text.replace(/\/\/.*$/gm, '').replace(/'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g, "''")
      if (g.test(code)) problems.push(`${rel}: uses ${g.source.replace(/\\b|\\/g, '')} — core takes the clock, randomness and I/O as parameters`)
    }
  }
}
if (problems.length > 0) {
  console.error(`layering rule broken (${problems.length}):\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log('layers: src/core and src/render import only what they may')
