// A NodeSession over a network namespace of this machine: each allow-listed command runs as
// `ip netns exec NS argv…` through execFile (no shell), which is what an SSH session runs on a real
// node. The namespace holds real iptables rules loaded with the real iptables-restore.
//
// rejectFailures mimics ssh/session.ts, which rejects a non-zero exit with a NodeAccessError carrying
// the command's stderr; without it a failed command resolves with its exit code.
import {execFile} from 'node:child_process'
import {allSteps, runCompound, type BatchOutcomes, type BatchStep} from '../../src/adapters/node/batch.js'
import {ALLOWED, MAX_COMMAND_OUTPUT_BYTES, type NodeCommand} from '../../src/adapters/node/commands.js'
import {NodeAccessError, type CommandResult, type NodeSession} from '../../src/adapters/node/connector.js'
import {NS_PREFIX, run, which} from './netns.js'

export interface NetnsSessionOptions {
  /** Reject a non-zero exit with NodeAccessError (kind "command"), as the SSH session does. */
  rejectFailures?: boolean
  /** Rewrites the argv run (`iptables …` → `iptables-legacy …`: a node whose iptables is the legacy backend). */
  argv?: (argv: string[]) => string[]
  /** Extra environment (XTABLES_LOCKFILE: a private xtables lock instead of /run/xtables.lock). */
  env?: Record<string, string>
}

/** Runs allow-listed commands inside one network namespace; records every argv it ran. */
export class NetnsSession implements NodeSession {
  readonly ran: string[] = []
  /** Compound commands run (one `sh -c` each, as over SSH). */
  batches = 0
  /** Absent when argv is rewritten: a batch runs the names the allow-list gives, so those run one by one. */
  runBatch?: (steps: readonly BatchStep[]) => Promise<BatchOutcomes>

  constructor(
    readonly netns: string,
    private readonly opts: NetnsSessionOptions = {},
  ) {
    if (!opts.argv) this.runBatch = (steps) => this.compound(steps)
  }

  private async compound(steps: readonly BatchStep[]): Promise<BatchOutcomes> {
    this.batches++
    const out = await runCompound(
      steps,
      false,
      (c) =>
        new Promise((resolve, reject) => {
          execFile(
            which('ip') ?? 'ip',
            ['netns', 'exec', this.netns, 'sh', '-c', c.script],
            {maxBuffer: MAX_COMMAND_OUTPUT_BYTES, encoding: 'buffer', env: {...process.env, ...this.opts.env}, timeout: 120_000},
            (err, stdout, stderr) =>
              err && typeof err.code !== 'number' ? reject(new Error(err.message)) : resolve({stdout, stderr: stderr.toString('utf8')}),
          )
        }),
      (cmd, part) =>
        new NodeAccessError(
          `\`${cmd.argv.join(' ')}\` on ${this.netns} exited with ${part.exitCode}: ${part.stderr.trim() || 'no error output'}`,
          'command',
          part.exitCode,
        ),
    )
    // A step may sit on several branches: it ran once.
    const ran = new Map(allSteps(steps).map((step) => [step.id, step.cmd.argv.join(' ')]))
    for (const [id, line] of ran) if (out.has(id)) this.ran.push(line)
    return out
  }

  run(cmd: NodeCommand): Promise<CommandResult> {
    const line = cmd.argv.join(' ')
    if (!ALLOWED[cmd.id]?.test(line)) return Promise.reject(new Error(`not on the allow-list: ${line}`))
    this.ran.push(line)
    const [program, ...args] = this.opts.argv?.(cmd.argv) ?? cmd.argv
    if (program === undefined) return Promise.reject(new Error(`empty argv for ${cmd.id}`))
    return new Promise((resolve, reject) => {
      execFile(
        which('ip') ?? 'ip',
        ['netns', 'exec', this.netns, which(program) ?? program, ...args],
        {maxBuffer: MAX_COMMAND_OUTPUT_BYTES, encoding: 'utf8', env: {...process.env, ...this.opts.env, LC_ALL: 'C'}, timeout: 120_000},
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
          if (code !== 0 && (this.opts.rejectFailures || code < 0)) {
            reject(new NodeAccessError(`\`${line}\` on ${this.netns} exited with ${code}: ${stderr.trim() || err?.message}`, 'command'))
          } else {
            resolve({stdout, stderr, exitCode: code})
          }
        },
      )
    })
  }

  async close(): Promise<void> {}
}

let seq = 0

/** A fresh namespace `svct-<pid>-tgt<n>-<label>` holding `rules` (iptables-save or restore text), loaded by `restore`. */
export async function namespaceWithRules(
  label: string,
  rules: string | undefined,
  restore = 'iptables-restore',
): Promise<{netns: string; destroy(): Promise<void>}> {
  const netns = `${NS_PREFIX}${process.pid}-tgt${++seq}-${label}`.slice(0, 60)
  await run(['ip', 'netns', 'add', netns])
  const destroy = () => run(['ip', 'netns', 'del', netns]).then(() => undefined)
  try {
    if (rules !== undefined) await run(['ip', 'netns', 'exec', netns, restore], {input: rules, timeoutMs: 600_000})
  } catch (err) {
    await destroy().catch(() => undefined)
    throw err
  }
  return {netns, destroy}
}
