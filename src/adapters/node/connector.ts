// How a node is reached: a connection that runs allow-listed commands. SSH and pod exec both
// implement it; the node reader above them decides what to read.
import type {BatchOutcomes, BatchStep} from './batch.js'
import type {NodeCommand} from './commands.js'

/** A node to reach: its name and the address to connect to. */
export interface NodeTarget {
  name: string
  address: string
}

export interface CommandResult {
  stdout: string
  stderr: string
  exitCode: number
}

/** An open connection to one node. */
export interface NodeSession {
  /** Runs one command (output capped at MAX_COMMAND_OUTPUT_BYTES); rejects with NodeAccessError. */
  run(cmd: NodeCommand): Promise<CommandResult>
  /**
   * Runs a batch as one compound command in one channel (batch.ts), when the session can run a shell.
   * Rejects with FramingError when it cannot (no shell, unframed output): the caller runs the steps one by one.
   */
  runBatch?(steps: readonly BatchStep[]): Promise<BatchOutcomes>
  /** -v: set when the session reports its own commands (it runs them in more than one place). */
  readonly reportsCommands?: boolean
  close(): Promise<void>
}

/**
 * A node read's first batch, for a connection made before the read knows it: the reader sets `steps`
 * once it has the plan, and a connector may send them while it is still logging in (SSH: with the
 * login's last flight, a round trip sooner). The session's runBatch() with these very steps then gives
 * their output, run once.
 */
export interface FirstBatch {
  steps?: readonly BatchStep[]
}

export interface NodeConnector {
  /** What this connector is, for messages ("ssh as core@…", "exec into kube-proxy pods"). */
  readonly description: string
  connect(target: NodeTarget, first?: FirstBatch): Promise<NodeSession>
  /** Releases what the connector holds across nodes (bastion connections, debug pods); idempotent. */
  close?(): Promise<void>
}

/** Why a node could not be read, in a sentence that says what to do. */
export class NodeAccessError extends Error {
  constructor(
    message: string,
    /** unreachable | auth | host-key | timeout | sudo | command | too-large */
    readonly kind: string,
    /** The command's exit status, when it ran to the end and failed (for -v). */
    readonly exitCode?: number,
    /**
     * What to do about it, where the sentence does not say and the connector knows better than the
     * reader (a program missing from the kube-proxy image: the flag that reads it from a debug pod).
     */
    readonly nextStep?: string,
  ) {
    super(message)
  }
}

/** A command that failed because its program is not on the node (exit 127, "not installed"). */
export function isMissingProgram(err: NodeAccessError): boolean {
  return err.kind === 'command' && /\bnot installed\b|exited with 127/.test(err.message)
}
