// -v for node commands: a NodeSession that reports each command it runs (node, argv, exit status,
// output bytes, milliseconds) to the ActivityLog, whichever connector (SSH or pod exec) is below it.
import type {ActivityLog} from '../../app/ports.js'
import type {NodeCommand} from './commands.js'
import {NodeAccessError, type CommandResult, type NodeSession} from './connector.js'

/** `session` with every run() reported to `log`; results and errors pass through unchanged. */
export function loggedSession(
  session: NodeSession,
  node: string,
  via: 'ssh' | 'exec',
  log: ActivityLog,
  now: () => number = () => performance.now(),
): NodeSession {
  return {
    async run(cmd: NodeCommand): Promise<CommandResult> {
      const start = now()
      const command = cmd.argv.join(' ')
      try {
        const result = await session.run(cmd)
        const bytes = Buffer.byteLength(result.stdout) + Buffer.byteLength(result.stderr)
        log.nodeCommand({node, via, command, exitCode: result.exitCode, bytes, ms: Math.round(now() - start)})
        return result
      } catch (err) {
        const failed = err instanceof NodeAccessError ? err : undefined
        const outcome = failed?.exitCode !== undefined ? {exitCode: failed.exitCode} : {error: failed?.kind ?? 'not run'}
        log.nodeCommand({node, via, command, ...outcome, ms: Math.round(now() - start)})
        throw err
      }
    },
    close: () => session.close(),
  }
}
