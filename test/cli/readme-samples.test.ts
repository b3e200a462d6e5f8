// The README's sample outputs are generated from the example bundle (scripts/readme-samples.mjs),
// so they cannot drift from what the command prints.
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {root} from '../support/cli.js'

describe('README samples', () => {
  it('are what the command prints today', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'scripts/readme-samples.mjs'), '--check'], {cwd: root, encoding: 'utf8', timeout: 60_000})
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  it('the first screen shows the answer: two commands, then a sample that starts with its verdict', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8')
    const firstScreen = readme.split('\n').slice(0, 40).join('\n')
    expect(firstScreen).toContain('npm test')
    expect(firstScreen).toMatch(/\$ kubectl svctrace hello-cache --from examples\/hello-world\ndefault\/hello-cache {2}BROKEN {2}/)
    expect(readme).not.toMatch(/npm i(nstall)? -g kubectl-svctrace/)
  })
})
