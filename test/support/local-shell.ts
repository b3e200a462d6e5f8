// A NodeSession over a real local shell, for the compound-command tests: the node's programs are fake
// (a table of argv → output, exit status and error text) but the shell, tee, wc and cat are the real
// ones, so runBatch runs exactly the script an SSH or exec session sends. Without `compound`, the
// session has no runBatch and the node reader runs the steps one by one.
import {execFile} from 'node:child_process'
import {chmodSync, mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {runCompound, type BatchOutcomes, type BatchStep} from '../../src/adapters/node/batch.js'
import {shellLine, type NodeCommand} from '../../src/adapters/node/commands.js'
import type {CommandResult, NodeSession} from '../../src/adapters/node/connector.js'
import {commandError} from '../../src/adapters/ssh/errors.js'

export interface FakeAnswer {
  stdout?: string
  stderr?: string
  exit?: number
}

/** argv joined by spaces (without `env LC_ALL=C`) → what the fake program does; anything else exits 127. */
export type FakeNode = Record<string, FakeAnswer>

const PROGRAMS = ['iptables', 'iptables-save', 'iptables-legacy-save', 'iptables-nft-save', 'ip6tables', 'ip6tables-save', 'nft', 'ipvsadm', 'ipset', 'cat']

const keyOf = (argv: string[]) => Buffer.from(argv.join(' ')).toString('hex')

/** Writes the fake programs for `node` into `dir`/bin; `tools` false leaves out tee, wc and grep (a bare image). */
export function fakeNodeDir(dir: string, node: FakeNode, tools = true): string {
  const bin = path.join(dir, 'bin')
  const answers = path.join(dir, 'answers')
  mkdirSync(bin, {recursive: true})
  mkdirSync(answers, {recursive: true})
  for (const [line, a] of Object.entries(node)) {
    const key = keyOf(line.split(' '))
    writeFileSync(path.join(answers, `${key}.out`), a.stdout ?? '')
    writeFileSync(path.join(answers, `${key}.err`), a.stderr ?? '')
    writeFileSync(path.join(answers, `${key}.code`), String(a.exit ?? 0))
  }
  // The fake looks its argv up (hex of "name args…"); unknown lines act like a missing program.
  const fake = path.join(dir, 'fake')
  writeFileSync(
    fake,
    [
      '#!/bin/sh',
      'if [ "$(basename "$0")" = cat ] && [ $# -eq 0 ]; then exec /bin/cat; fi',
      'n=$(basename "$0"); if [ $# -gt 0 ]; then n="$n $*"; fi',
      `k=$(printf '%s' "$n" | od -An -tx1 | tr -d ' \\n')`,
      `a=${answers}/$k`,
      `if [ ! -f "$a.code" ]; then echo "sh: 1: $(basename "$0"): not found" >&2; exit 127; fi`,
      `/bin/cat "$a.out"; /bin/cat "$a.err" >&2; exit $(/bin/cat "$a.code")`,
      '',
    ].join('\n'),
  )
  chmodSync(fake, 0o755)
  for (const p of PROGRAMS) symlinkSync(fake, path.join(bin, p))
  if (tools) for (const t of ['tee', 'wc', 'grep', 'env', 'basename', 'od', 'tr']) symlinkSync(`/usr/bin/${t}`, path.join(bin, t))
  else for (const t of ['env', 'basename', 'od', 'tr']) symlinkSync(`/usr/bin/${t}`, path.join(bin, t))
  return bin
}

/** The fake program of a `fakeNodeDir` bin directory: link another name to it and that program answers from the table too. */
export function fakeProgram(bin: string): string {
  return path.join(path.dirname(bin), 'fake')
}

function shell(bin: string, args: string[]): Promise<{stdout: Buffer; stderr: string; exitCode: number}> {
  return new Promise((resolve) => {
    execFile('/bin/sh', args, {env: {PATH: bin}, encoding: 'buffer', maxBuffer: 1 << 28}, (err, stdout, stderr) => {
      const exitCode = err ? (typeof (err as {code?: unknown}).code === 'number' ? (err as {code: number}).code : -1) : 0
      resolve({stdout, stderr: stderr.toString('utf8'), exitCode})
    })
  })
}

export class LocalShellSession implements NodeSession {
  /** Channels opened: one per run(), one per runBatch(). */
  channels = 0
  runBatch?: (steps: readonly BatchStep[]) => Promise<BatchOutcomes>

  constructor(
    private readonly bin: string,
    private readonly node = 'node-a',
    compound = true,
  ) {
    if (compound) {
      this.runBatch = (steps) =>
        runCompound(
          steps,
          false,
          async (c) => {
            this.channels++
            const out = await shell(this.bin, ['-c', c.script])
            return {stdout: out.stdout, stderr: out.stderr}
          },
          (cmd, part) => commandError(this.node, cmd, false, part.exitCode, part.stderr),
        )
    }
  }

  async run(cmd: NodeCommand): Promise<CommandResult> {
    this.channels++
    const out = await shell(this.bin, ['-c', shellLine(cmd, false)])
    if (out.exitCode !== 0) throw commandError(this.node, cmd, false, out.exitCode, out.stderr)
    return {stdout: out.stdout.toString('utf8'), stderr: out.stderr, exitCode: 0}
  }

  async close(): Promise<void> {}
}
