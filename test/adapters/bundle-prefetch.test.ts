// BundleDir.prefetch reads the nodes' files while cluster.yaml is parsed: what read() returns must not
// depend on whether the files were read ahead, and naming nodes the bundle lacks must not break a run.
import {cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {captureText} from '../../src/core/captures.js'
import {indexCluster} from '../../src/core/cluster-index.js'
import {planCollection} from '../../src/core/collection-plan.js'
import type {NodeDataplane} from '../../src/core/model.js'

const bundle = fileURLToPath(new URL('../../examples/hello-world/', import.meta.url))

/** The node as read, with every capture's text decoded (read() keeps bundle files as bytes). */
const decoded = (dp: NodeDataplane) => ({...dp, captures: dp.captures.map((c) => ({...c, text: captureText(c)}))})

async function readAll(prefetch: readonly string[] | undefined): Promise<NodeDataplane[]> {
  const dir = new BundleDir(bundle)
  if (prefetch) dir.prefetch(prefetch)
  const {view} = await dir.load()
  const plan = planCollection(indexCluster(view), {kind: 'all'})
  return Promise.all((await dir.nodeNames()).map(async (n) => decoded(await dir.read(n, plan))))
}

describe('bundle read-ahead', () => {
  it.each([
    ['every node', []],
    ['the nodes asked for', ['node-a']],
    ['nodes the bundle lacks, and a name that is a path', ['nope', '../../etc', 'node-a']],
  ])('reads the same nodes whether or not it read ahead %s', async (_what, nodes) => {
    const plain = await readAll(undefined)
    expect(plain.length).toBeGreaterThan(1)
    expect(plain.every((dp) => dp.captures.length > 0 && dp.readError === undefined)).toBe(true)
    expect(await readAll(nodes)).toEqual(plain)
  })

  it('has every read under way when prefetch returns, before loading the API objects holds the main thread', async () => {
    // Seen from outside: each file was opened before prefetch returned, so what is read is the file as it
    // was then, not the one renamed over it right after (an open after that would read the new one).
    const dir = mkdtempSync(path.join(tmpdir(), 'svctrace-prefetch-'))
    try {
      cpSync(bundle, dir, {recursive: true})
      const early = new BundleDir(dir)
      early.prefetch([])
      for (const n of ['node-a', 'node-b']) {
        const file = path.join(dir, 'nodes', n, 'iptables-save.txt')
        writeFileSync(`${file}.new`, `# replaced after prefetch\n${readFileSync(file, 'utf8')}`)
        renameSync(`${file}.new`, file)
      }
      const {view} = await early.load()
      const plan = planCollection(indexCluster(view), {kind: 'all'})
      const got = await Promise.all(['node-a', 'node-b'].map(async (n) => decoded(await early.read(n, plan))))
      const plain = await readAll(undefined)
      expect(got.map((dp) => dp.captures.map((c) => c.text))).toEqual(plain.map((dp) => dp.captures.map((c) => c.text)))
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
