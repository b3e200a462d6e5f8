// The command as users meet it: through the real kubectl's plugin lookup, against the bundled
// example. Table output is compared with golden files (rendered without colour).
import {spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import yaml from 'js-yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {example, golden, kubectlSvctrace, pluginPath, root} from '../support/cli.js'
import {endpointChainName, servicePortChainName} from '../support/kube-proxy-rules.js'
import {findingSlugs} from '../../src/render/explain.js'

let plugin: ReturnType<typeof pluginPath>
let scratch: string
const run = (args: string[], env?: Record<string, string>) => kubectlSvctrace(plugin.dir, args, env)

beforeAll(() => {
  plugin = pluginPath()
  scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-cli-'))
})
afterAll(() => {
  plugin.remove()
  rmSync(scratch, {recursive: true, force: true})
})

/** A copy of the example bundle to break on purpose. */
function bundleCopy(name: string): string {
  const dir = path.join(scratch, name)
  cpSync(example, dir, {recursive: true})
  return dir
}

/** The example bundle with `count` more copies of hello-world (each its own cluster IP; the nodes have no rules for them). */
function manyServices(name: string, count: number): string {
  const dir = path.join(scratch, name)
  if (existsSync(dir)) return dir
  cpSync(example, dir, {recursive: true})
  const file = path.join(dir, 'cluster.yaml')
  const list = yaml.load(readFileSync(file, 'utf8')) as {items: Array<{kind: string; metadata: {name: string; labels?: Record<string, string>}}>}
  const service = list.items.find((o) => o.kind === 'Service' && o.metadata.name === 'hello-world')
  const slice = list.items.find((o) => o.kind === 'EndpointSlice' && o.metadata.labels?.['kubernetes.io/service-name'] === 'hello-world')
  for (let i = 0; i < count; i++) {
    const copy = structuredClone(service) as unknown as {
      metadata: {name: string}
      spec: {clusterIP: string; clusterIPs: string[]; ports: Array<{nodePort?: number}>}
    }
    const ip = `10.97.${Math.floor(i / 250)}.${(i % 250) + 1}`
    copy.metadata.name = `copy-${i}`
    copy.spec.clusterIP = ip
    copy.spec.clusterIPs = [ip]
    for (const p of copy.spec.ports) delete p.nodePort
    const sliceCopy = structuredClone(slice) as unknown as {metadata: {name: string; labels: Record<string, string>}}
    sliceCopy.metadata.name = `copy-${i}-abcde`
    sliceCopy.metadata.labels['kubernetes.io/service-name'] = `copy-${i}`
    list.items.push(copy as never, sliceCopy as never)
  }
  writeFileSync(file, yaml.dump(list))
  return dir
}

describe('kubectl svctrace (plugin lookup)', () => {
  it('prints its version', () => {
    const r = run(['--version'])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^kubectl-svctrace\/0\.1\.0 /)
  })

  it('shows usage written as kubectl svctrace, with -h', () => {
    const r = run(['-h'])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toContain('$ kubectl svctrace')
    expect(r.stdout).toContain('--ip=IP|NAME.NS[:PORT][/PROTO]')
    expect(r.stdout).toContain('--source=IP|CIDR')
  })
})

describe('golden table output on the bundled example', () => {
  it.each([
    ['hello-world.txt', ['hello-world'], 0],
    ['hello-cache.txt', ['hello-cache', '-n', 'default'], 1],
    ['web-lb.txt', ['web-lb'], 0],
    ['web-lb-source.txt', ['web-lb', '--source', '198.51.100.20'], 0],
    ['web-lb-source-range.txt', ['web-lb', '--source', '203.0.112.0/23', '-o', 'wide', '--nodes', 'node-a'], 0],
    ['ip-dns-name.txt', ['--ip', 'kube-dns.kube-system.svc.cluster.local', '--from', path.join(root, 'test/fixtures/cluster-dns-iptables-v1.26')], 0],
    ['ip-dns-headless.txt', ['--ip', 'db.default:5432', '--from', path.join(root, 'test/fixtures/cluster-dns-iptables-v1.26')], 0],
    ['hello-world-wide.txt', ['hello-world', '-o', 'wide', '--nodes', 'node-b'], 0],
    ['web-lb-wide.txt', ['web-lb', '-o', 'wide', '--nodes', 'node-a'], 0],
    ['check-storefront-wide.txt', ['-n', 'storefront', '-o', 'wide', '--from', path.join(root, 'test/fixtures/two-node-iptables-v1.26')], 1],
    ['ip-nodeport.txt', ['--ip', '192.168.49.3:30080'], 0],
    ['ip-pod.txt', ['--ip', '10.244.0.5:8080/tcp'], 0],
    ['ip-unowned.txt', ['--ip', '10.99.99.99:80'], 0],
    ['check-all.txt', ['-A'], 1],
    ['check-storefront.txt', ['-n', 'storefront', '--from', path.join(root, 'test/fixtures/two-node-iptables-v1.26')], 1],
    ['check-ignore.txt', ['-A', '--ignore', 'selector-matches-no-pods,service-rejected-no-endpoints'], 0],
  ])('%s', (file, args, code) => {
    const r = run(args.includes('--from') ? args : [...args, '--from', example])
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe(golden(file, r.stdout))
    expect(r.code).toBe(code)
    expect(r.stdout).not.toContain('\u001b[')
  })
})

describe('the answer fits the terminal', () => {
  const widest = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length))

  it('a healthy Service: the verdict first, at most 15 lines at 80 columns', () => {
    const r = run(['hello-world', '--from', example])
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^default\/hello-world {2}OK {2}\d+ entry points on 2 nodes → 3\/3 ready pods/)
    expect(lines.length).toBeLessThanOrEqual(15)
  })

  it.each([
    ['hello-world'],
    ['hello-cache'],
    ['web-lb'],
    ['kubernetes'],
    ['-A'],
    ['-A', '-o', 'wide'],
    ['hello-world', '-o', 'wide'],
    ['web-lb', '-o', 'wide'],
    ['--ip', '10.96.77.44'],
  ])('nothing wider than 80 columns: %s', (...args) => {
    const r = run([...args, '--from', example])
    expect(r.stderr).toBe('')
    expect(widest(r.stdout)).toBeLessThanOrEqual(80)
  })

  it('COLUMNS sets the width through a pipe: -o wide lays out to 120 columns, and to 60', () => {
    const wide = run(['web-lb', '-o', 'wide', '--from', example], {COLUMNS: '120'})
    const narrow = run(['web-lb', '-o', 'wide', '--from', example], {COLUMNS: '60'})
    expect(widest(wide.stdout)).toBeLessThanOrEqual(120)
    expect(widest(narrow.stdout)).toBeLessThanOrEqual(60)
    expect(narrow.stdout.split('\n').length).toBeGreaterThan(wide.stdout.split('\n').length)
  })

  it('-o wide names each chain whole with its table, and shows the KUBE-FW- chain where the source check happens', () => {
    const r = run(['web-lb', '-o', 'wide', '--from', example])
    const flat = r.stdout.replace(/\s+/g, ' ')
    expect(flat).toMatch(/nat\/PREROUTING → nat\/KUBE-SERVICES → nat\/KUBE-FW-3LHIKMIDIIQ5NUJW → filter\/FORWARD → filter\/KUBE-PROXY-FIREWALL/)
    expect(r.stdout).not.toContain('…')
    expect(r.stdout).toMatch(/KUBE-SEP-[A-Z0-9]{16}\b/)
  })
})

describe('output through a pipe', () => {
  /** `kubectl svctrace ARGS | (sleep 1; cat)`: the reader starts a second late; PIPESTATUS gives the command's own exit code. */
  const throughSlowPipe = (args: string[]) => {
    const piped = spawnSync('bash', ['-c', 'kubectl svctrace "$@" | (sleep 1; cat); echo "exit ${PIPESTATUS[0]}" >&2', 'bash', ...args], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 256 << 20,
      timeout: 60_000,
      env: {...process.env, PATH: `${plugin.dir}${path.delimiter}${process.env.PATH}`, NO_COLOR: '1', COLUMNS: '80'},
    })
    return {stdout: piped.stdout, exit: piped.stderr.trim().split('\n').at(-1)}
  }

  it('a slow reader still gets every byte of the example -A -o json, and the exit code of the findings', () => {
    const args = ['-A', '--from', example, '-o', 'json']
    const direct = run(args)
    expect(direct.code).toBe(1)
    expect(direct.stdout.length).toBeGreaterThan(64 * 1024) // more than a pipe holds: the writer has to wait
    const piped = throughSlowPipe(args)
    expect(piped.exit).toBe('exit 1')
    expect(piped.stdout).toBe(direct.stdout)
    expect(JSON.parse(piped.stdout).apiVersion).toBe('svctrace/v2')
  })

  it.each([
    ['json', '1', [], 1 << 20],
    ['json', '0', ['--fail-on', 'none'], 1 << 20],
    ['yaml', '1', [], 1 << 20],
    ['wide', '0', ['--fail-on', 'none'], 128 << 10],
    ['table', '1', [], 128 << 10],
  ])('-o %s through a slow reader arrives whole with exit %s', (output, code, more, size) => {
    const dir = manyServices('many-services', 400)
    const args = ['-A', '--from', dir, '-o', output, ...more]
    const direct = run(args)
    expect(Buffer.byteLength(direct.stdout)).toBeGreaterThan(size)
    expect(String(direct.code)).toBe(code)
    const piped = throughSlowPipe(args)
    expect(piped.exit).toBe(`exit ${code}`)
    expect(piped.stdout).toBe(direct.stdout)
  })

  it('-o json of a generated 600-Service bundle, written piece by piece, reaches a slow reader whole and as JSON.stringify writes it', () => {
    const dir = path.join(scratch, 'generated-600')
    const made = spawnSync(process.execPath, ['-e', `import('./bench/generate.js').then((m) => m.generateBundle(${JSON.stringify(dir)}, 600, 14))`], {
      cwd: root,
    })
    expect(made.status).toBe(0)
    const args = ['-A', '--from', dir, '-o', 'json', '--fail-on', 'none']
    const direct = run(args)
    expect(direct.code).toBe(0)
    expect(Buffer.byteLength(direct.stdout)).toBeGreaterThan(8 << 20) // over a hundred 64 KiB blocks
    const report = JSON.parse(direct.stdout) as {services: unknown[]; nodes: Array<{paths: unknown[]}>}
    expect(report.services).toHaveLength(600)
    expect(report.nodes[0]?.paths.length).toBeGreaterThanOrEqual(600)
    expect(direct.stdout).toBe(JSON.stringify(report, null, 2) + '\n')
    const piped = throughSlowPipe(args)
    expect(piped.exit).toBe('exit 0')
    expect(piped.stdout).toBe(direct.stdout)
  }, 180_000)

  it('an error reaches a slow stderr reader whole, with exit 2 and nothing on stdout', () => {
    const args = ['no-such-service', '--from', example]
    const direct = run(args)
    expect(direct.code).toBe(2)
    expect(direct.stderr).toMatch(/^error: Service "no-such-service" not found in namespace "default": /)
    const piped = spawnSync('bash', ['-c', 'kubectl svctrace "$@" 2>&1 >/dev/null | (sleep 1; cat); echo "exit ${PIPESTATUS[0]}"', 'bash', ...args], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: {...process.env, PATH: `${plugin.dir}${path.delimiter}${process.env.PATH}`, NO_COLOR: '1'},
    })
    expect(piped.stdout).toBe(`${direct.stderr}exit 2\n`)
    expect(direct.stdout).toBe('')
  })
})

describe('finding ids', () => {
  it('--explain prints one catalogue entry', () => {
    const r = run(['--explain', 'service-rejected-no-endpoints'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^service-rejected-no-endpoints \(error\): Connections are rejected/)
    expect(r.stdout).toMatch(/Fix:\n {2}Make the selector match/)
  })

  it.each([
    ['--explain', 'no-such-thing'],
    ['--ignore', 'traffic-dropped,no-such-thing'],
  ])('%s with an unknown id lists the known ones', (flag, value) => {
    const r = run([flag, value, 'hello-world', '--from', example])
    expect(r.code).toBe(2)
    const [head, intro, ...ids] = r.stderr.trimEnd().split('\n')
    expect(head).toBe(`error: ${flag}: no finding "no-such-thing"`)
    expect(intro).toBe('finding ids (kubectl svctrace --explain ID tells what each means):')
    // One id per line, every id of the catalogue.
    expect(ids.map((l) => l.trim())).toEqual(findingSlugs())
  })

  it.each([
    ['--explain', 'selector-match-no-pod', 'selector-matches-no-pods'],
    ['--ignore', 'trafic-dropped', 'traffic-dropped'],
  ])('%s %s: did you mean %s?', (flag, typo, meant) => {
    const r = run([flag, typo, 'hello-world', '--from', example])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe(`error: ${flag}: no finding "${typo}"; did you mean ${meant}?`)
  })
})

describe('json report', () => {
  it('carries the versioned shape with backends and probabilities', () => {
    const r = run(['hello-world', '-o', 'json', '--from', example])
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.apiVersion).toBe('svctrace/v2')
    expect(report.query).toEqual({kind: 'service', service: 'hello-world', namespace: 'default'})
    expect(report.nodes.map((n: {name: string; mode: string}) => `${n.name}:${n.mode}`)).toEqual(['node-a:iptables', 'node-b:iptables'])
    const clusterIP = report.nodes[0].paths.find((p: {entry: {kind: string}; from: string}) => p.entry.kind === 'cluster-ip' && p.from === 'node')
    expect(clusterIP.verdict).toBe('dnat')
    expect(clusterIP.masquerade).toBe('yes')
    expect(clusterIP.backends).toHaveLength(3)
    for (const b of clusterIP.backends) {
      expect(b.probability).toBeCloseTo(1 / 3, 9)
      expect(b.pod).toMatch(/^default\/hello-world-/)
      expect(b.chain).toBe(endpointChainName('default/hello-world:http', 'tcp', `${b.ip}:${b.port}`))
    }
    const svc = servicePortChainName('SVC', 'default/hello-world:http', 'tcp')
    expect(clusterIP.hops.map((h: {chain: string}) => h.chain)).toEqual(['OUTPUT', 'KUBE-SERVICES', svc, 'KUBE-MARK-MASQ'])
  })

  it('yaml holds the same report', () => {
    const json = JSON.parse(run(['web-lb', '-o', 'json', '--from', example]).stdout)
    const yamlOut = run(['web-lb', '-o', 'yaml', '--from', example]).stdout
    expect(yamlOut).toMatch(/^apiVersion: svctrace\/v2\n/)
    expect(yamlOut).toContain(`verdict: ${json.nodes[0].paths[0].verdict}`)
  })
})

describe('colour', () => {
  it('is used on a terminal and never with NO_COLOR or --no-color', () => {
    const cmd = (extra: string) => `kubectl svctrace hello-cache --from ${example} ${extra}`
    const tty = (extra: string, env: Record<string, string>) => {
      // script(1) gives the command a real pseudo-terminal.
      const r = kubectlViaScript(cmd(extra), env)
      return r
    }
    expect(tty('', {})).toContain('\u001b[')
    expect(tty('', {NO_COLOR: '1'})).not.toContain('\u001b[')
    expect(tty('--no-color', {})).not.toContain('\u001b[')
  })
})

function kubectlViaScript(command: string, env: Record<string, string>): string {
  const base = {...process.env, PATH: `${plugin.dir}${path.delimiter}${process.env.PATH}`, TERM: 'xterm'}
  delete (base as Record<string, string | undefined>).NO_COLOR
  const r = spawnSync('script', ['-qec', command, '/dev/null'], {encoding: 'utf8', timeout: 60_000, env: {...base, ...env}})
  return r.stdout
}

describe('bad input: one clear paragraph, the documented exit code', () => {
  it('a missing cluster.yaml', () => {
    const dir = bundleCopy('no-cluster')
    rmSync(path.join(dir, 'cluster.yaml'))
    const r = run(['hello-world', '--from', dir])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(
      /cluster\.yaml not found: a bundle needs the API objects; make it with: kubectl get svc,endpointslices,endpoints,pods,nodes -A -o yaml/,
    )
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('a cluster.yaml that is not YAML names the line', () => {
    const dir = bundleCopy('bad-yaml')
    writeFileSync(path.join(dir, 'cluster.yaml'), 'apiVersion: v1\nkind: List\nitems:\n- kind: Service\n  metadata: {name: x\n')
    const r = run(['x', '--from', dir])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/cluster\.yaml:\d+: not valid YAML/)
  })

  it('an invalid --ip', () => {
    const r = run(['--ip', '10.96.0', '--from', example])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/"10\.96\.0" is not an IP address; expected IP, IP:PORT or IP:PORT\/PROTO/)
  })

  it('an unknown Service suggests names', () => {
    const r = run(['hello-wrld', '--from', example])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/Service "hello-wrld" not found in namespace "default": similar names in default: hello-cache, hello-world/)
  })

  it('the Service in another namespace is pointed at', () => {
    const r = run(['hello-world', '-n', 'kube-system', '--from', example])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/a Service named "hello-world" exists in namespace default \(use -n default\)/)
  })

  it('neither a Service nor --ip', () => {
    const r = run(['--from', example])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/name a Service/)
  })

  it('a truncated dump on one node: that node is an error row, the other is traced', () => {
    const dir = bundleCopy('truncated')
    const file = path.join(dir, 'nodes/node-a/iptables-save.txt')
    const text = readFileSync(file, 'utf8')
    writeFileSync(file, text.slice(0, Math.floor(text.length * 0.7)))
    const r = run(['hello-world', '--from', dir])
    expect(r.code).toBe(1)
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(
      /NODE node-a \(unknown\) not traced: .*node-a\/iptables-save\.txt:\d+: table "nat" \(line \d+\) has no COMMIT: the dump is truncated/,
    )
    expect(r.stdout).toMatch(/NODE node-b {2}\(iptables\)\n {2}ENTRY/)
    expect(r.stdout).toContain('(node-unreadable)')
  })

  it('every node unreadable: the API findings still count (exit per --fail-on, not 2), and the report says why', () => {
    const dir = bundleCopy('all-broken')
    for (const n of ['node-a', 'node-b']) writeFileSync(path.join(dir, 'nodes', n, 'iptables-save.txt'), 'iptables-save: permission denied\n')
    const r = run(['hello-world', '--from', dir])
    expect(r.code).toBe(1)
    expect(run(['hello-world', '--from', dir, '--fail-on', 'none']).code).toBe(0)
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(/node-a\/iptables-save\.txt:1: unexpected line "iptables-save: permission denied"/)
  })

  it('a rule with an unknown match module makes the path uncertain, not wrong', () => {
    const dir = bundleCopy('unknown-module')
    const file = path.join(dir, 'nodes/node-a/iptables-save.txt')
    const text = readFileSync(file, 'utf8')
    // A rule some other agent put in front of the hello-world dispatch.
    const patched = text.replace(/^(-A KUBE-SERVICES -d 10\.96\.77\.44\/32 .*)$/m, '-A KUBE-SERVICES -d 10.96.77.44/32 -m geoip --src-cc XX -j DROP\n$1')
    expect(patched).not.toBe(text)
    writeFileSync(file, patched)
    const r = run(['hello-world', '--nodes', 'node-a', '-o', 'json', '--from', dir])
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    const p = report.nodes[0].paths.find((x: {entry: {kind: string}; from: string}) => x.entry.kind === 'cluster-ip' && x.from === 'node')
    expect(p.uncertain).toBe(true)
    expect(p.verdict).toBe('dnat')
    expect(p.alternatives).toEqual([{when: ['"-m geoip --src-cc XX" matches'], verdict: 'drop', backends: []}])
    expect(p.notes.map((n: {text: string}) => n.text).join('\n')).toMatch(/"-m geoip --src-cc XX" is not understood by svctrace/)
    expect(p.notes).toContainEqual(expect.objectContaining({kind: 'match-not-understood', text: expect.stringContaining('-m geoip')}))
    expect(report.findings.map((f: {id: string}) => f.id)).toContain('trace-uncertain')
  })

  it('control characters from the cluster never reach the terminal', () => {
    const dir = bundleCopy('hostile')
    const file = path.join(dir, 'cluster.yaml')
    writeFileSync(file, readFileSync(file, 'utf8').replace('tier: cahce', 'tier: "cahce\\e]0;pwned\\a\\e[2J"'))
    const r = run(['hello-cache', '--from', dir])
    expect(r.stdout).toContain('cahce?]0;pwned??[2J')
    // eslint-disable-next-line no-control-regex -- the point: no terminal control characters reach the output
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/)
  })
})

describe('README', () => {
  it('opens with the two commands this suite runs', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8')
    const firstBlock = /```(?:sh|bash)?\n([\s\S]*?)```/.exec(readme)![1]
    expect(firstBlock).toContain('kubectl svctrace hello-cache --from examples/hello-world')
    expect(firstBlock).toContain('npm test')
  })
})
