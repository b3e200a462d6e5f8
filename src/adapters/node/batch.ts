// A node read as one compound command: a batch of allow-listed commands, some run only when an
// earlier one printed a marker or failed, sent as one `sh -c` so a whole read costs one exec channel
// (one round trip plus sshd's session set-up) instead of one per command. The outputs come back
// framed on the channel's stdout:
//
//   NONCE ID\n                       before each part
//   <the part's stdout, streamed>
//   \nNONCE ID EXIT BYTES\n          after it: exit status and the byte count `wc -c` saw
//
// and on stderr `NONCE ID\n` before each part's error output. NONCE is random per batch, so no output
// (rule comments come from the cluster) can forge a marker, and a byte count that disagrees with what
// arrived (a shell whose /dev/fd cannot reopen the channel) rejects the framing: the caller then runs
// the commands one by one. A session that cannot run a shell (distroless kube-proxy images) runs the
// same steps through runSeparately, with the same semantics.
import {randomBytes} from 'node:crypto'
import {keepPattern, shellLine, UnsafeArgumentError, type NodeCommand} from './commands.js'
import {NodeAccessError, type CommandResult, type NodeSession} from './connector.js'
import {Limiter} from './limiter.js'

/** One command of a batch, named by `id` (one id, one command), and what runs after it depending on its result. */
export interface BatchStep {
  id: string
  cmd: NodeCommand
  /**
   * Send only these chains of the dump `cmd` prints (`| grep -E keepPattern(keep)` on the node, where
   * there is a shell; one by one, the whole output, which the reader reads the same way).
   */
  keep?: readonly string[]
  /** Tried in order; the first that holds runs its steps (if / elif / else). */
  branches?: BatchBranch[]
  /**
   * Its output is small (one chain's rules, a small table): the script keeps it in the shell and counts
   * it there (`g`), which starts fewer processes per step than streaming it through tee and wc (`f`).
   */
  small?: boolean
}

export interface BatchBranch {
  when: BranchCondition
  steps: BatchStep[]
}

/**
 * `printed`: the step exited 0 and its stdout contains one of these texts; `printedAtMost`: it exited 0
 * and printed at most this many bytes; `failed`: it exited non-zero; `always`: else.
 */
export type BranchCondition = {printed: readonly string[]} | {printedAtMost: number} | {failed: true} | {always: true}

/** What one step gave: its output (exit 0), or why not (a non-zero exit is a NodeAccessError of kind `command`). */
export type StepOutcome = CommandResult | NodeAccessError

/** The outcome of every step that ran, by id; steps on branches not taken are absent. */
export type BatchOutcomes = Map<string, StepOutcome>

/** The compound command's output did not frame as expected: run the steps one by one instead. */
export class FramingError extends Error {}

/** The batch's marker and the shell text of one batch, for a session that can run `sh -c`. */
export interface CompoundCommand {
  nonce: string
  /** The `sh -c` script (argv[2] over exec; single-quoted on the SSH line). */
  script: string
  /** Every step of the batch by id, for the outcomes and error messages. */
  steps: Map<string, BatchStep>
}

const STEP_ID = /^[A-Za-z0-9_:-]{1,80}$/
// What a `printed` text may hold: it is written between double quotes in the script.
const PRINTED_TEXT = /^[A-Za-z0-9_.:() -]{1,40}$/

/** Every step in the batch, depth first (the order the script may run them in). */
export function allSteps(steps: readonly BatchStep[]): BatchStep[] {
  return steps.flatMap((s) => [s, ...(s.branches ?? []).flatMap((b) => allSteps(b.steps))])
}

function needsOutput(step: BatchStep): boolean {
  return (step.branches ?? []).some((b) => 'printed' in b.when || 'printedAtMost' in b.when)
}

function condition(when: BranchCondition): string {
  if ('printed' in when) {
    for (const t of when.printed) if (!PRINTED_TEXT.test(t)) throw new UnsafeArgumentError(`refusing to test for "${t}" in a node command's output`)
    return when.printed.map((t) => `has "${t}"`).join(' || ')
  }
  if ('printedAtMost' in when) {
    if (!Number.isSafeInteger(when.printedAtMost) || when.printedAtMost < 0) throw new UnsafeArgumentError('a size test needs a whole number of bytes')
    return `[ "$r" = 0 ] && [ \${#o} -le ${when.printedAtMost} ]`
  }
  return 'failed' in when ? '[ "$r" != 0 ]' : ''
}

function scriptOf(steps: readonly BatchStep[], sudo: boolean): string {
  return steps
    .map((step) => {
      // shellLine checks the argv against the allow-list; its words need no quoting. The prologue
      // exports LC_ALL=C, so the line needs no env of its own.
      const line = shellLine(step.cmd, sudo, true)
      if (step.keep && needsOutput(step)) throw new UnsafeArgumentError(`step ${step.id} cannot both filter and branch`)
      const run = step.keep ? `k ${step.id} "${keepPattern(step.keep)}" ${line}` : `${needsOutput(step) || step.small ? 'g' : 'f'} ${step.id} ${line}`
      const branches = step.branches ?? []
      if (branches.length === 0) return run
      const parts = branches.map((b, i) => {
        const test = condition(b.when)
        const body = scriptOf(b.steps, sudo) || ':'
        if (test === '') return i === 0 ? `if :; then ${body};` : `else ${body};`
        return `${i === 0 ? 'if' : 'elif'} ${test}; then ${body};`
      })
      return `${run}; ${parts.join(' ')} fi`
    })
    .join('; ')
}

// f streams a part's stdout to the channel (tee to fd 3) while wc counts it; g keeps it in $o for
// `has`, for the small outputs a branch looks at. Both frame the same way and leave the exit in $r.
// The steps run inside `{ exec 3>&1; …; } | cat`: tee reopens fd 3 through /dev/fd, which works for a
// pipe but not for a socket (what some exec runtimes and Node give a child), so fd 3 is always a pipe.
// A shell without tee, wc, cat or grep says so with a marker: the session then runs the steps one by one.
const PROLOGUE = [
  'LC_ALL=C',
  'export LC_ALL',
  'f() { t=$1; shift; printf "%s %s\\n" "$M" "$t" >&2; printf "%s %s\\n" "$M" "$t"; n=$( { { "$@"; echo $? >&5; } | tee /dev/fd/3 | wc -c; } 5>&1 ); set -- $n; r=$1; printf "\\n%s %s %s %s\\n" "$M" "$t" "$1" "$2"; }',
  'g() { t=$1; shift; printf "%s %s\\n" "$M" "$t" >&2; printf "%s %s\\n" "$M" "$t"; o=$("$@"; r=$?; printf x; exit $r); r=$?; o=${o%x}; printf "%s" "$o"; printf "\\n%s %s %s %s\\n" "$M" "$t" "$r" "${#o}"; }',
  // k is f with the dump filtered by grep on the node; the exit status is the dump's, not grep's.
  'k() { t=$1; p=$2; shift 2; printf "%s %s\\n" "$M" "$t" >&2; printf "%s %s\\n" "$M" "$t"; n=$( { { { "$@"; echo $? >&5; } | grep -E "$p"; } | tee /dev/fd/3 | wc -c; } 5>&1 ); set -- $n; r=$1; printf "\\n%s %s %s %s\\n" "$M" "$t" "$1" "$2"; }',
  'has() { [ "$r" = 0 ] || return 1; case $o in *"$1"*) return 0;; esac; return 1; }',
]

/** The compound command for `steps`: ids checked, every command through the allow-list. Throws UnsafeArgumentError. */
export function compoundCommand(steps: readonly BatchStep[], sudo: boolean, nonce = randomBytes(12).toString('hex')): CompoundCommand {
  const byId = new Map<string, BatchStep>()
  for (const step of allSteps(steps)) {
    // One id, one command: the same step may sit on several branches (only one of them runs).
    const same = byId.get(step.id)
    if (!STEP_ID.test(step.id) || (same && same.cmd.argv.join(' ') !== step.cmd.argv.join(' ')))
      throw new UnsafeArgumentError(`refusing to run a batch with step id "${step.id}"`)
    byId.set(step.id, step)
  }
  if (!/^[a-f0-9]{16,64}$/.test(nonce)) throw new UnsafeArgumentError('a batch marker must be hex')
  const check =
    'command -v tee >/dev/null && command -v wc >/dev/null && command -v cat >/dev/null && command -v grep >/dev/null || { echo "$M no-tee"; exit 97; }'
  const script = [`M=${nonce}`, ...PROLOGUE, `{ exec 3>&1; ${check}; ${scriptOf(steps, sudo)}; } | cat`].join('; ')
  // The SSH line single-quotes the script: it must hold no quote of its own.
  if (script.includes("'")) throw new UnsafeArgumentError('refusing to run a batch script with a single quote in it')
  return {nonce, script, steps: byId}
}

/** A part of the framed output: what one step printed, and how it ended. */
export interface FramedPart {
  stdout: string
  stderr: string
  exitCode: number
}

function framingError(what: string): FramingError {
  return new FramingError(`the compound command's output is not framed as expected (${what})`)
}

/** The stderr segments by step id (the text after each `NONCE ID` line, up to the next). */
function stderrParts(stderr: string, nonce: string): Map<string, string> {
  const parts = new Map<string, string>()
  const lines = stderr.split('\n')
  let current: string | undefined
  let text: string[] = []
  const flush = () => current !== undefined && parts.set(current, text.join('\n').trim())
  for (const line of lines) {
    if (line.startsWith(`${nonce} `)) {
      flush()
      current = line.slice(nonce.length + 1)
      text = []
    } else text.push(line)
  }
  flush()
  return parts
}

/**
 * Splits the framed stdout (and stderr) into parts by step id. Throws FramingError when a part's byte
 * count disagrees with what arrived, a trailer is missing, or the shell lacked tee or wc.
 */
export function parseFramed(stdout: Buffer, stderr: string, nonce: string): Map<string, FramedPart> {
  const errors = stderrParts(stderr, nonce)
  const parts = new Map<string, FramedPart>()
  const marker = Buffer.from(`${nonce} `)
  let at = stdout.indexOf(marker)
  while (at >= 0) {
    const eol = stdout.indexOf(10, at)
    if (eol < 0) throw framingError('a marker line is cut short')
    const id = stdout.subarray(at + marker.length, eol).toString('latin1')
    if (id === 'no-tee') throw framingError('the shell has no tee, wc, cat or grep')
    if (!STEP_ID.test(id)) throw framingError(`unexpected marker "${id.slice(0, 40)}"`)
    const start = eol + 1
    const end = stdout.indexOf(Buffer.from(`\n${nonce} ${id} `), start)
    if (end < 0) throw framingError(`no end marker for ${id}: the output stopped early`)
    const close = stdout.indexOf(10, end + 1)
    const trailer = stdout.subarray(end + 1, close < 0 ? stdout.length : close).toString('latin1')
    const m = new RegExp(`^${nonce} ${id} (\\d+) (\\d+)$`).exec(trailer)
    if (!m) throw framingError(`end marker for ${id} reads "${trailer.slice(0, 80)}"`)
    const data = stdout.subarray(start, end)
    if (Number(m[2]) !== data.length) throw framingError(`${id} printed ${m[2]} bytes but ${data.length} arrived`)
    parts.set(id, {stdout: data.toString('utf8'), stderr: errors.get(id) ?? '', exitCode: Number(m[1])})
    at = close < 0 ? -1 : stdout.indexOf(marker, close + 1)
  }
  return parts
}

/** The outcomes of a compound command's parts, each non-zero exit turned into the session's own error. */
function outcomesOf(
  parts: Map<string, FramedPart>,
  compound: CompoundCommand,
  failure: (cmd: NodeCommand, part: FramedPart) => NodeAccessError,
): BatchOutcomes {
  const out: BatchOutcomes = new Map()
  for (const [id, part] of parts) {
    const step = compound.steps.get(id)
    if (!step) continue
    out.set(id, part.exitCode === 0 ? {stdout: part.stdout, stderr: part.stderr, exitCode: 0} : failure(step.cmd, part))
  }
  return out
}

/** Steps that ran one by one: the same semantics as the compound command, through session.run. */
async function runStep(session: NodeSession, step: BatchStep, out: BatchOutcomes, pool: Limiter): Promise<void> {
  let outcome: StepOutcome
  try {
    const result = await pool.run(() => session.run(step.cmd))
    // A session that resolves a failed command (exec statuses do not): the same outcome as in a batch.
    outcome =
      result.exitCode === 0
        ? result
        : new NodeAccessError(
            `\`${step.cmd.argv.join(' ')}\` exited with ${result.exitCode}: ${result.stderr.trim().split('\n')[0] || 'no error output'}`,
            'command',
            result.exitCode,
          )
  } catch (err) {
    // A command that ran and failed is an outcome; losing the node ends the batch.
    if (!(err instanceof NodeAccessError) || (err.kind !== 'command' && err.kind !== 'too-large' && err.kind !== 'sudo')) throw err
    outcome = err
  }
  out.set(step.id, outcome)
  const branch = (step.branches ?? []).find((b) => holds(b.when, outcome))
  if (branch) await Promise.all(branch.steps.map((s) => runStep(session, s, out, pool)))
}

function holds(when: BranchCondition, outcome: StepOutcome): boolean {
  if ('always' in when) return true
  if ('failed' in when) return outcome instanceof NodeAccessError
  if ('printedAtMost' in when) return !(outcome instanceof NodeAccessError) && Buffer.byteLength(outcome.stdout) <= when.printedAtMost
  return !(outcome instanceof NodeAccessError) && when.printed.some((t) => outcome.stdout.includes(t))
}

/** Runs the steps through session.run, at most `concurrency` commands at once (a branch waits for its step). */
export async function runSeparately(session: NodeSession, steps: readonly BatchStep[], concurrency = 8): Promise<BatchOutcomes> {
  const out: BatchOutcomes = new Map()
  const pool = new Limiter(concurrency)
  await Promise.all(steps.map((s) => runStep(session, s, out, pool)))
  return out
}

/**
 * The batch in one channel where the session can, else step by step (`fellBack` says why: a shell
 * without tee, a distroless image).
 */
export async function runBatch(session: NodeSession, steps: readonly BatchStep[], fellBack?: (why: string) => void): Promise<BatchOutcomes> {
  if (!session.runBatch) return runSeparately(session, steps)
  try {
    return await session.runBatch(steps)
  } catch (err) {
    if (!(err instanceof FramingError)) throw err
    fellBack?.(err.message)
    return runSeparately(session, steps)
  }
}

/** What a session's channel gave back for a compound command. */
export interface ChannelOutput {
  stdout: Buffer
  stderr: string
}

/**
 * Runs `steps` as one compound command through `exec` (one channel), and reads the framed parts back.
 * Rejects with FramingError when the output is not framed (no shell, no tee, a part missing); errors of
 * `exec` itself (connection lost, timeout, output too large) pass through.
 */
export async function runCompound(
  steps: readonly BatchStep[],
  sudo: boolean,
  exec: (compound: CompoundCommand) => Promise<ChannelOutput>,
  failure: (cmd: NodeCommand, part: FramedPart) => NodeAccessError,
  /** The compound command already made for these steps (its exec went out ahead: ssh/session.ts). */
  compound: CompoundCommand = compoundCommand(steps, sudo),
): Promise<BatchOutcomes> {
  const {stdout, stderr} = await exec(compound)
  const parts = parseFramed(stdout, stderr, compound.nonce)
  const lost = steps.find((s) => !parts.has(s.id))
  if (lost) {
    const said = stderr.split('\n').find((l) => l.trim() !== '' && !l.startsWith(compound.nonce))
    throw framingError(`no output for ${lost.id}${said ? `: ${said.slice(0, 200)}` : ''}`)
  }
  return outcomesOf(parts, compound, failure)
}

/** Counts the stderr markers seen so far: each one is a part starting (a per-command deadline restarts there). */
export function markerCounter(nonce: string): (chunk: Buffer) => number {
  const marker = `${nonce} `
  let tail = ''
  return (chunk) => {
    const text = tail + chunk.toString('latin1')
    let n = 0
    for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + marker.length)) n++
    tail = text.slice(-(marker.length - 1))
    return n
  }
}
