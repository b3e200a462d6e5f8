// The krew re-implementation in scripts/krew/krew.js, checked against krew's own rules and
// test tables, and the deterministic tar writer checked against GNU tar. Small, synthetic
// manifests and archives: fast, no build needed.
import {spawnSync} from 'node:child_process'
import {lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import yaml from 'js-yaml'
import {
  KNOWN_PLATFORMS,
  detectArchiveType,
  findInstalledLicense,
  krewInstall,
  parseVersion,
  pluginBinName,
  readTar,
  selectorMatches,
  sha256,
  validateManifestText,
  validatePlugin,
  type Plugin,
} from '../../scripts/krew/krew.js'
import {tar, tarGz, type Entry} from '../../scripts/krew/tar.js'

let scratch: string
beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-krew-rules-'))
})
afterAll(() => rmSync(scratch, {recursive: true, force: true}))

const SHA = 'a'.repeat(64)

function plugin(over: (p: Plugin) => void = () => {}): Plugin {
  const p: Plugin = {
    apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
    kind: 'Plugin',
    metadata: {name: 'foo'},
    spec: {
      version: 'v1.2.3',
      shortDescription: 'Does foo',
      platforms: [
        {uri: 'https://example.com/foo-linux.tar.gz', sha256: SHA, bin: 'kubectl-foo', selector: {matchLabels: {os: 'linux'}}, files: [{from: '*', to: '.'}]},
        {uri: 'https://example.com/foo-darwin.tar.gz', sha256: SHA, bin: 'kubectl-foo', selector: {matchLabels: {os: 'darwin'}}},
      ],
    },
  }
  over(p)
  return p
}

const check =
  (p: Plugin, file = 'foo.yaml') =>
  () =>
    validateManifestText(file, yaml.dump(p))

describe('manifest rules (ValidatePlugin + validate-krew-manifest)', () => {
  it('accepts a well-formed manifest', () => {
    expect(check(plugin())()).toMatchObject({metadata: {name: 'foo'}})
  })

  it.each([
    ['the name must equal the file name', plugin(), 'bar.yaml', 'plugin should be named "bar", not "foo"'],
    ['the file must end in .yaml', plugin(), 'foo.yml', 'expected manifest extension ".yaml" but found ".yml"'],
    ['names are word characters and dashes', plugin((p) => (p.metadata.name = 'foo.bar')), 'foo.bar.yaml', 'the plugin name "foo.bar" is not allowed'],
    ['Windows device names are refused', plugin((p) => (p.metadata.name = 'con')), 'con.yaml', 'the plugin name "con" is not allowed'],
    [
      'apiVersion',
      plugin((p) => (p.apiVersion = 'krew.googlecontainertools.github.com/v1alpha1')),
      'foo.yaml',
      'apiVersion="krew.googlecontainertools.github.com/v1alpha1", not supported',
    ],
    ['kind', plugin((p) => (p.kind = 'Plugins')), 'foo.yaml', 'only "Plugin" is supported'],
    ['a short description is required', plugin((p) => (p.spec.shortDescription = '')), 'foo.yaml', 'should have a short description'],
    [
      'the short description is one line',
      plugin((p) => (p.spec.shortDescription = 'two\nlines')),
      'foo.yaml',
      'should not have line breaks in short description',
    ],
    ['a version is required', plugin((p) => (p.spec.version = '')), 'foo.yaml', 'should have a version specified'],
    ['versions start with v', plugin((p) => (p.spec.version = '1.2.3')), 'foo.yaml', 'version string "1.2.3" not starting with \'v\''],
    ['versions are major.minor.patch', plugin((p) => (p.spec.version = 'v1.2')), 'foo.yaml', 'illegal version string "v1.2"'],
    ['at least one platform', plugin((p) => (p.spec.platforms = [])), 'foo.yaml', 'should have a platform specified'],
    ['a uri per platform', plugin((p) => (p.spec.platforms[0]!.uri = '')), 'foo.yaml', '`uri` has to be set'],
    ['a sha256 per platform', plugin((p) => (p.spec.platforms[0]!.sha256 = '')), 'foo.yaml', '`sha256` sum has to be set'],
    ['sha256 is lowercase hex', plugin((p) => (p.spec.platforms[0]!.sha256 = 'A'.repeat(64))), 'foo.yaml', 'is not valid, must match pattern ^[a-f0-9]{64}$'],
    ['sha256 has 64 digits', plugin((p) => (p.spec.platforms[0]!.sha256 = 'a'.repeat(63))), 'foo.yaml', 'is not valid'],
    ['a bin per platform', plugin((p) => (p.spec.platforms[0]!.bin = '')), 'foo.yaml', '`bin` has to be set'],
    ['files is absent or non-empty', plugin((p) => (p.spec.platforms[0]!.files = [])), 'foo.yaml', '`files` has to be unspecified or non-empty'],
    ['every file operation has a to', plugin((p) => (p.spec.platforms[0]!.files = [{from: 'x', to: ''}])), 'foo.yaml', '`to` field has to be set'],
    ['a selector is required', plugin((p) => delete p.spec.platforms[0]!.selector), 'foo.yaml', 'nil selector is not supported'],
    ['an empty selector is refused', plugin((p) => (p.spec.platforms[0]!.selector = {})), 'foo.yaml', 'empty selector is not supported'],
    [
      'selectors use os and arch only',
      plugin((p) => (p.spec.platforms[0]!.selector = {matchLabels: {os: 'linux', distro: 'debian'}})),
      'foo.yaml',
      'key "distro" not supported',
    ],
    [
      'matchLabels is not empty when given',
      plugin((p) => (p.spec.platforms[0]!.selector = {matchLabels: {}, matchExpressions: [{key: 'os', operator: 'In', values: ['linux']}]})),
      'foo.yaml',
      '`matchLabels` specified but empty',
    ],
    [
      'every platform selects something krew knows',
      plugin((p) => (p.spec.platforms[1]!.selector = {matchLabels: {os: 'plan9'}})),
      'foo.yaml',
      "spec.platform[1]'s selector",
    ],
    [
      'no os/arch is selected twice',
      plugin((p) => (p.spec.platforms[1]!.selector = {matchLabels: {arch: 'amd64'}})),
      'foo.yaml',
      'multiple spec.platforms (at indexes [0 1]) have overlapping selectors that select (linux/amd64)',
    ],
  ])('%s', (_what, p, file, message) => {
    expect(check(p, file)).toThrow(message)
  })

  // krew: internal/installation/semver/version_test.go TestParse
  it.each([
    ['', false],
    ['v0.0.0', true],
    ['1.0.0', false],
    ['v 1.0.0', false],
    ['v1', false],
    ['v1.2', false],
    ['v1.2.3', true],
    ['v1.2.3-beta.2+foo.bar', true],
    ['v1.0.1-', false],
    ['v1.0.1+', false],
    ['v-1.2.3', false],
    ['v1.-2.3', false],
    ['v1.2.-3', false],
    ['v01.2.3', false],
    ['v1.02.3', false],
    ['v1.2.03', false],
    ['v0a.0.0', false],
    ['v0.0a.0', false],
    ['v0.0.0a', false],
  ])('version %j valid: %s', (version, valid) => {
    if (valid) expect(parseVersion(version)).toMatchObject({major: expect.any(Number)})
    else expect(() => parseVersion(version)).toThrow()
  })

  it('label selectors: matchLabels, In, NotIn (also when the key is absent), Exists, and malformed ones', () => {
    const linuxArm = {os: 'linux', arch: 'arm64'}
    expect(selectorMatches({matchLabels: {os: 'linux'}}, linuxArm)).toBe(true)
    expect(selectorMatches({matchLabels: {os: 'linux', arch: 'amd64'}}, linuxArm)).toBe(false)
    expect(selectorMatches({matchExpressions: [{key: 'arch', operator: 'NotIn', values: ['amd64']}]}, linuxArm)).toBe(true)
    expect(selectorMatches({matchExpressions: [{key: 'arch', operator: 'NotIn', values: ['arm64']}]}, linuxArm)).toBe(false)
    expect(selectorMatches({matchExpressions: [{key: 'arch', operator: 'NotIn', values: ['amd64']}]}, {os: 'linux'})).toBe(true)
    expect(selectorMatches({matchExpressions: [{key: 'os', operator: 'In', values: ['darwin', 'linux']}]}, linuxArm)).toBe(true)
    expect(selectorMatches({matchExpressions: [{key: 'os', operator: 'In', values: ['darwin']}]}, linuxArm)).toBe(false)
    expect(selectorMatches({matchExpressions: [{key: 'os', operator: 'Exists'}]}, linuxArm)).toBe(true)
    expect(selectorMatches({matchExpressions: [{key: 'os', operator: 'DoesNotExist'}]}, linuxArm)).toBe(false)
    expect(selectorMatches(null, linuxArm)).toBe(false)
    expect(() => selectorMatches({matchExpressions: [{key: 'os', operator: 'In', values: []}]}, linuxArm)).toThrow("values set can't be empty")
    expect(() => selectorMatches({matchExpressions: [{key: 'os', operator: 'Equals', values: ['linux']}]}, linuxArm)).toThrow(
      'not a valid label selector operator',
    )
  })

  it('knows the eleven os/arch pairs of validate-krew-manifest', () => {
    expect(KNOWN_PLATFORMS.map((p) => `${p.os}/${p.arch}`)).toEqual([
      'windows/386',
      'windows/amd64',
      'windows/arm64',
      'linux/386',
      'linux/amd64',
      'linux/arm',
      'linux/arm64',
      'linux/ppc64le',
      'darwin/386',
      'darwin/amd64',
      'darwin/arm64',
    ])
  })

  it('validatePlugin alone takes the name from the caller (as --manifest does)', () => {
    expect(() => validatePlugin('foo', plugin())).not.toThrow()
    expect(() => validatePlugin('other', plugin())).toThrow('plugin should be named "other", not "foo"')
  })
})

describe('deterministic tar writer', () => {
  const entries: Entry[] = [
    {name: 'kubectl-foo', mode: 0o755, data: '#!/bin/sh\necho foo\n'},
    {name: 'LICENSE', mode: 0o644, data: 'license text\n'},
    {name: 'a/b.txt', mode: 0o600, data: Buffer.alloc(1000, 7)},
  ]

  it('gives the same bytes for the same entries in any order', () => {
    expect(sha256(tarGz(entries))).toBe(sha256(tarGz([...entries].reverse())))
    expect(sha256(tarGz(entries))).not.toBe(sha256(tarGz(entries, {mtime: 1})))
  })

  it('writes sorted ustar entries owned by 0:0 at the fixed time, in whole 10 KiB records', () => {
    const t = tar(entries)
    expect(t.length % 10240).toBe(0)
    const read = readTar(t)
    expect(read.map((e) => e.name)).toEqual(['LICENSE', 'a/b.txt', 'kubectl-foo'])
    for (const e of read) expect([e.type, e.uid, e.gid, e.uname, e.gname, e.mtime]).toEqual(['0', 0, 0, '', '', 0])
    expect(read.map((e) => e.mode)).toEqual([0o644, 0o600, 0o755])
    expect(read[1]!.data.equals(Buffer.alloc(1000, 7))).toBe(true)
  })

  it('is read the same way by GNU tar', () => {
    const file = path.join(scratch, 'gnu.tar.gz')
    writeFileSync(file, tarGz(entries))
    const r = spawnSync('tar', ['--numeric-owner', '--utc', '-tvzf', file], {encoding: 'utf8'})
    expect(r.stderr).toBe('')
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.replace(/\s+/g, ' ')),
    ).toEqual(['-rw-r--r-- 0/0 13 1970-01-01 00:00 LICENSE', '-rw------- 0/0 1000 1970-01-01 00:00 a/b.txt', '-rwxr-xr-x 0/0 19 1970-01-01 00:00 kubectl-foo'])
  })

  it('writes gzip without a name or time stamp', () => {
    const gz = tarGz(entries)
    expect(detectArchiveType(gz)).toBe('application/x-gzip')
    expect(gz[3]! & 0x08).toBe(0) // FNAME not set
    expect(gz.readUInt32LE(4)).toBe(0) // MTIME
    expect(gz[9]).toBe(3) // OS: Unix, whatever the build host
  })
})

describe('install as `kubectl krew install --manifest --archive` does', () => {
  let n = 0
  /** A manifest for plugin foo with one linux platform, and its archive. */
  function fixture(archiveEntries: Entry[], platform: Partial<Plugin['spec']['platforms'][number]> = {}, opts: {sha?: string; raw?: Buffer} = {}) {
    const dir = path.join(scratch, `case-${++n}`)
    const archive = path.join(dir, 'foo.tar.gz')
    const bytes = opts.raw ?? tarGz(archiveEntries)
    const p = plugin((pl) => {
      pl.spec.platforms = [
        {uri: 'https://example.com/foo.tar.gz', sha256: opts.sha ?? sha256(bytes), bin: 'kubectl-foo', selector: {matchLabels: {os: 'linux'}}, ...platform},
      ]
    })
    const manifest = path.join(dir, 'foo.yaml')
    spawnSync('mkdir', ['-p', dir])
    writeFileSync(archive, bytes)
    writeFileSync(manifest, yaml.dump(p))
    const krewRoot = path.join(dir, 'krew')
    return {manifest, archive, krewRoot, install: () => krewInstall({manifest, archive, krewRoot, os: 'linux', arch: 'amd64'})}
  }
  const good: Entry[] = [
    {name: 'kubectl-foo', mode: 0o755, data: '#!/bin/sh\necho foo\n'},
    {name: 'LICENSE', mode: 0o644, data: 'license\n'},
    {name: 'docs/README.md', mode: 0o644, data: 'readme\n'},
  ]

  it('installs into store/<name>/<version> and links bin/kubectl-<name> relatively', () => {
    const f = fixture(good, {
      files: [
        {from: 'kubectl-foo', to: '.'},
        {from: 'LICENSE', to: '.'},
      ],
    })
    const r = f.install()
    expect(r.installDir).toBe(path.join(f.krewRoot, 'store/foo/v1.2.3'))
    expect(r.link).toBe(path.join(f.krewRoot, 'bin/kubectl-foo'))
    expect(lstatSync(r.link).isSymbolicLink()).toBe(true)
    expect(readlinkSync(r.link)).toBe('../store/foo/v1.2.3/kubectl-foo')
    expect(statSync(r.link).mode & 0o111).not.toBe(0)
    expect(spawnSync(r.link, [], {encoding: 'utf8'}).stdout).toBe('foo\n')
    expect(findInstalledLicense(f.krewRoot)).toBe(path.join(r.installDir, 'LICENSE'))
    // files: only what was asked for; the archive's docs/ stays behind
    expect(spawnSync('ls', [r.installDir], {encoding: 'utf8'}).stdout.split('\n').filter(Boolean)).toEqual(['LICENSE', 'kubectl-foo'])
    expect(readFileSync(path.join(f.krewRoot, 'receipts/foo.yaml'), 'utf8')).toContain('name: foo')
    expect(() => f.install()).toThrow("can't install, the newest version is already installed")
  })

  it('without files, moves everything (from "*" to ".")', () => {
    const f = fixture(good)
    const r = f.install()
    expect(readFileSync(path.join(r.installDir, 'docs/README.md'), 'utf8')).toBe('readme\n')
  })

  it('refuses an archive whose sha256 differs from the manifest', () => {
    expect(fixture(good, {}, {sha: SHA}).install).toThrow(`checksum does not match, want: ${SHA}`)
  })

  it.each([
    [
      'a symlink',
      [...good, {name: 'node_modules/.bin/x', mode: 0o777, type: 'symlink', linkname: '../x/cli.js'}] as Entry[],
      'unable to handle file type 50 for "node_modules/.bin/x" in tar',
    ],
    [
      'a hard link',
      [...good, {name: 'copy', mode: 0o755, type: 'hardlink', linkname: 'kubectl-foo'}] as Entry[],
      'unable to handle file type 49 for "copy" in tar',
    ],
    [
      'a path with ..',
      [...good, {name: 'lib/../../evil', mode: 0o644, data: 'x'}] as Entry[],
      'refusing to unpack archive with suspicious entry "lib/../../evil"',
    ],
    ['an absolute path', [...good, {name: '/etc/evil', mode: 0o644, data: 'x'}] as Entry[], 'refusing to unpack archive with absolute entry "/etc/evil"'],
  ])('refuses an archive with %s', (_what, entries, message) => {
    expect(fixture(entries).install).toThrow(message)
  })

  it('accepts only gzip and zip archives (by content, not by name)', () => {
    expect(fixture([], {}, {raw: tar(good)}).install).toThrow('mime type "application/octet-stream" for archive file is not a supported archive format')
  })

  it('fails when files match nothing, or bin is not in the installed tree', () => {
    expect(fixture(good, {files: [{from: 'bin/*', to: '.'}]}).install).toThrow('no files in the plugin archive matched the glob pattern=bin/*')
    expect(fixture(good, {files: [{from: 'LICENSE', to: '.'}]}).install).toThrow('source binary')
  })

  it('fails when no platform matches the machine', () => {
    const f = fixture(good)
    expect(() => krewInstall({manifest: f.manifest, archive: f.archive, krewRoot: f.krewRoot, os: 'darwin', arch: 'arm64'})).toThrow(
      'plugin "foo" does not offer installation for this platform',
    )
  })

  it('names the link with underscores for dashed plugin names', () => {
    expect(pluginBinName('service-trace', 'linux')).toBe('kubectl-service_trace')
    expect(pluginBinName('svctrace', 'windows')).toBe('kubectl-svctrace.exe')
  })
})
