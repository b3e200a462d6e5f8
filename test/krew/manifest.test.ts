// The committed krew-manifest.yaml, checked by krew's rules as if submitted to krew-index as
// plugins/svctrace.yaml, and against package.json and its template.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {KNOWN_PLATFORMS, manifestWarnings, matchPlatform, parseVersion, validateManifestText} from '../../scripts/krew/krew.js'
import {archiveNames, minNodeMajor, TEMPLATE} from '../../scripts/package.js'
import {root} from '../support/cli.js'

const text = readFileSync(path.join(root, 'krew-manifest.yaml'), 'utf8')
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {version: string; license: string; engines: {node: string}}
const plugin = validateManifestText('svctrace.yaml', text)
const version = `v${pkg.version}`
const RELEASES = 'https://github.com/svctrace/svctrace/releases/download'

describe('krew-manifest.yaml', () => {
  it('passes krew validation as plugins/svctrace.yaml, without line-length warnings', () => {
    expect(plugin.apiVersion).toBe('krew.googlecontainertools.github.com/v1alpha2')
    expect(plugin.kind).toBe('Plugin')
    expect(plugin.metadata.name).toBe('svctrace')
    expect(manifestWarnings(plugin)).toEqual([])
  })

  it('carries the package.json version with a v, and release URLs for that tag', () => {
    expect(plugin.spec.version).toBe(version)
    expect(parseVersion(plugin.spec.version)).toMatchObject({preRelease: []})
    const names = archiveNames(version)
    for (const p of plugin.spec.platforms) {
      expect([`${RELEASES}/${version}/${names.node}`, `${RELEASES}/${version}/${names.linuxAmd64}`]).toContain(p.uri)
      expect(p.sha256).toMatch(/^[a-f0-9]{64}$/)
    }
  })

  it('has a homepage, a one-line short description and the Node.js requirement in the caveats', () => {
    expect(plugin.spec.homepage).toMatch(/^https:\/\//)
    expect(plugin.spec.shortDescription).not.toMatch(/\n/)
    expect(plugin.spec.description).toContain('kube-proxy')
    expect(plugin.spec.caveats).toContain(`Node.js >= ${minNodeMajor(pkg)}`)
    expect(plugin.spec.caveats).toMatch(/linux\/amd64 .*self-contained/)
  })

  it('gives linux/amd64 the self-contained build, macOS and other Linux the Node.js build, Windows nothing', () => {
    const names = archiveNames(version)
    const chosen = Object.fromEntries(KNOWN_PLATFORMS.map((env) => [`${env.os}/${env.arch}`, matchPlatform(plugin, env)?.uri.split('/').pop() ?? 'none']))
    expect(chosen).toEqual({
      'windows/386': 'none',
      'windows/amd64': 'none',
      'windows/arm64': 'none',
      'linux/386': names.node,
      'linux/amd64': names.linuxAmd64,
      'linux/arm': names.node,
      'linux/arm64': names.node,
      'linux/ppc64le': names.node,
      'darwin/386': names.node,
      'darwin/amd64': names.node,
      'darwin/arm64': names.node,
    })
  })

  it('installs the bin, the LICENSE and the notices on every platform; one archive has one sha256', () => {
    const shaByUri = new Map<string, string>()
    for (const p of plugin.spec.platforms) {
      const moved = (p.files ?? []).map((f) => f.from)
      expect(p.files?.every((f) => f.to === '.')).toBe(true)
      expect(moved).toContain(p.bin)
      expect(moved).toContain('LICENSE')
      expect(moved).toContain('THIRD-PARTY-NOTICES')
      expect(shaByUri.get(p.uri) ?? p.sha256).toBe(p.sha256)
      shaByUri.set(p.uri, p.sha256)
    }
    expect(shaByUri.size).toBe(2)
  })

  it('is the template filled in (edit the template, then npm run package)', () => {
    const template = readFileSync(path.join(root, TEMPLATE), 'utf8')
    const pattern = template
      .split(/\{\{[A-Z0-9_]+\}\}/)
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('(.+?)')
    expect(text).toMatch(new RegExp(`^${pattern}$`))
  })

  it('LICENSE is the Apache License 2.0 that package.json names', () => {
    expect(pkg.license).toBe('Apache-2.0')
    const license = readFileSync(path.join(root, 'LICENSE'), 'utf8')
    expect(license).toMatch(/^\s*Apache License\n\s*Version 2\.0, January 2004\n/)
    expect(license).toContain('END OF TERMS AND CONDITIONS')
  })
})
