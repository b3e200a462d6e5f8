// The layer rules of .dependency-cruiser.cjs, run the way `npm run lint:layers` runs them, on a
// small tree in a temp directory: each file below states one import and the rules it must break.
// The retired regex check (scripts/check-layers.js) let every relative import out of src/core
// through (`/^\.{1,2}\//` was allowed without resolving where it points) and never saw a bare
// `import '…'`: the first three cases are what it missed.
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {root} from '../support/cli.js'

const tree: Record<string, {code: string; breaks: string[]}> = {
  'src/core/bundle-leak.ts': {
    code: `import {\n  parseClusterFile,\n  type BundleSource,\n} from '../adapters/bundle-dir.js'\n\nexport const read = (s: BundleSource) => parseClusterFile(s.text)\n`,
    breaks: ['core-imports-only-core'],
  },
  'src/core/checks/bundle-leak-type.ts': {
    code: `import type {BundleSource} from '../../adapters/bundle-dir.js'\n\nexport type Source = BundleSource\n`,
    breaks: ['core-imports-only-core'],
  },
  'src/core/side-effect.ts': {code: `import '../adapters/bundle-dir.js'\n`, breaks: ['core-imports-only-core']},
  'src/core/reads-files.ts': {code: `import {readFileSync} from 'node:fs'\n\nexport const f = readFileSync\n`, breaks: ['core-no-node-builtin-but-crypto']},
  'src/core/runs-client-node.ts': {
    code: `import {KubeConfig} from '@kubernetes/client-node'\n\nexport const k = new KubeConfig()\n`,
    breaks: ['core-client-node-types-only'],
  },
  'src/core/colours.ts': {code: `import chalk from 'chalk'\n\nexport const c = chalk\n`, breaks: ['core-no-npm-but-client-node-types']},
  'src/core/pure.ts': {
    code: `import {createHash} from 'node:crypto'\nimport type {V1Service} from '@kubernetes/client-node'\nimport {read} from './bundle-leak.js'\n\nexport const h = (s: V1Service) => createHash('sha256').update(String(read)).update(s.metadata?.name ?? '').digest('hex')\n`,
    breaks: [],
  },
  'src/render/table.ts': {
    code: `import Table from 'cli-table3'\nimport type {Source} from '../core/checks/bundle-leak-type.js'\nimport {h} from '../core/pure.js'\n\nexport const t = [Table, h] as unknown as Source\n`,
    breaks: [],
  },
  'src/render/writes.ts': {
    code: `import {writeFileSync} from 'node:fs'\n\nexport const w = writeFileSync\n`,
    breaks: ['render-imports-core-chalk-cli-table3-js-yaml'],
  },
  'src/app/trace.ts': {
    code: `import {parseClusterFile} from '../adapters/bundle-dir.js'\n\nexport const p = parseClusterFile\n`,
    breaks: ['render-app-not-adapters-or-commands'],
  },
  'src/adapters/bundle-dir.ts': {
    code: `import {flags} from '../commands/svctrace.js'\n\nexport interface BundleSource {\n  text: string\n}\nexport const parseClusterFile = (t: string) => [t, flags]\n`,
    breaks: ['adapters-not-commands'],
  },
  'src/commands/svctrace.ts': {code: `import {parseClusterFile} from '../adapters/bundle-dir.js'\n\nexport const flags = parseClusterFile\n`, breaks: []},
}

interface Violation {
  from: string
  to: string
  rule: {name: string; severity: string}
}

let dir: string
let violations: Violation[]
let status: number | null

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'svctrace-layers-'))
  for (const [file, {code}] of Object.entries(tree)) {
    mkdirSync(path.dirname(path.join(dir, file)), {recursive: true})
    writeFileSync(path.join(dir, file), code)
  }
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({compilerOptions: {module: 'Node16', moduleResolution: 'Node16', strict: true}, include: ['src']}),
  )
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'))
  const depcruise = (output: string) =>
    spawnSync(
      process.execPath,
      [
        path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
        'src',
        '--config',
        path.join(root, '.dependency-cruiser.cjs'),
        '--output-type',
        output,
      ],
      {
        cwd: dir,
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      },
    )
  // The reporter npm run lint:layers uses (it sets the exit code), then the same run as data.
  status = depcruise('err').status
  const r = depcruise('json')
  if (!r.stdout) throw new Error(`depcruise printed nothing (exit ${r.status}): ${r.stderr}`)
  violations = (JSON.parse(r.stdout) as {summary: {violations: Violation[]}}).summary.violations
}, 60_000)

afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('layer rules (dependency-cruiser)', () => {
  it('fail the run when a rule is broken', () => {
    expect(status).not.toBe(0)
  })

  it.each(Object.entries(tree))('%s', (file, {breaks}) => {
    const broken = violations.filter((v) => v.from === file).map((v) => v.rule.name)
    expect([...new Set(broken)].sort()).toEqual([...breaks].sort())
  })

  it('report the core → adapters import with its target, as an error', () => {
    expect(violations).toContainEqual(
      expect.objectContaining({from: 'src/core/bundle-leak.ts', to: 'src/adapters/bundle-dir.ts', rule: {name: 'core-imports-only-core', severity: 'error'}}),
    )
  })
})
