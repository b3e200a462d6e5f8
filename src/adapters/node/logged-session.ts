// -v for node commands: a NodeSession that reports each command it runs (node, argv, exit status,
// output bytes, milliseconds) to the ActivityLog, whichever connector (SSH or pod exec) is below it.
// A compound command (runBatch) is reported as one line per part, each naming its channel.
import type {ActivityLog} from '../../app/ports.js'
import {allSteps, type BatchOutcomes, type BatchStep} from './batch.js'
import type {NodeCommand} from './commands.js'
import {NodeAccessError, type CommandResult, type NodeSession} from './connector.js'

/** Where a session runs, when a node's commands run in more than one place; the channel count they share. */
export interface SessionPlace {
  /** `debug pod kube-system/svctrace-…`, shown on each command's line. */
  where?: string
  /** Compound commands numbered across the node's sessions. */
  channels?: {count: number}
}

/** `session` with every run() and runBatch() reported to `log`; results and errors pass through unchanged. */
export function loggedSession(
  session: NodeSession,
  node: string,
  via: 'ssh' | 'exec',
  log: ActivityLog,
  now: () => number = () => performance.now(),
  place: SessionPlace = {},
): NodeSession {
  const numbered = place.channels ?? {count: 0}
  const where = place.where !== undefined ? {where: place.where} : {}
  const failed = (err: unknown) => {
    const e = err instanceof NodeAccessError ? err : undefined
    return e?.exitCode !== undefined ? {exitCode: e.exitCode} : {error: e?.kind ?? 'not run'}
  }
  const logged: NodeSession = {
    async run(cmd: NodeCommand): Promise<CommandResult> {
      const start = now()
      const command = cmd.argv.join(' ')
      try {
        const result = await session.run(cmd)
        const bytes = Buffer.byteLength(result.stdout) + Buffer.byteLength(result.stderr)
        log.nodeCommand({node, via, ...where, command, exitCode: result.exitCode, bytes, ms: Math.round(now() - start)})
        return result
      } catch (err) {
        log.nodeCommand({node, via, ...where, command, ...failed(err), ms: Math.round(now() - start)})
        throw err
      }
    },
    close: () => session.close(),
  }
  const runBatch = session.runBatch?.bind(session)
  if (runBatch) {
    logged.runBatch = async (steps: readonly BatchStep[]): Promise<BatchOutcomes> => {
      const start = now()
      const outcomes = await runBatch(steps)
      const ms = Math.round(now() - start)
      const channel = {number: ++numbered.count, commands: outcomes.size}
      // A step may sit on several branches (only one ran): one line per step id.
      const byId = new Map(allSteps(steps).map((step) => [step.id, step]))
      for (const step of byId.values()) {
        const o = outcomes.get(step.id)
        if (o === undefined) continue
        const command = step.cmd.argv.join(' ')
        if (o instanceof NodeAccessError) log.nodeCommand({node, via, ...where, command, ...failed(o), channel, ms})
        else log.nodeCommand({node, via, ...where, command, exitCode: 0, bytes: Buffer.byteLength(o.stdout) + Buffer.byteLength(o.stderr), channel, ms})
      }
      return outcomes
    }
  }
  return logged
}
