// The composition root: turns where-to-read flags into the adapters behind the app's ports. Heavy
// modules (client-node, ssh2) are imported only when a live cluster or node access needs them.
import {homedir} from 'node:os'
import {BundleDir} from '../adapters/bundle/reader.js'
import {SourceError, type ActivityLog, type CaptureSink, type ClusterSource, type NodeReader} from '../app/ports.js'
import type {NodeDataplane, NodesUntraced} from '../core/model.js'
import type {LoadedKubeconfig} from '../adapters/kube/kubeconfig.js'
import type {NodeConnector} from '../adapters/node/connector.js'
import {NODES_NOT_READ, type NodeAccess, type ReadSettings} from './node-flags.js'
import {unreadableNode} from '../core/captures.js'
import {exitAfterDrain} from './streams.js'
import {InterruptedError} from '../app/trace.js'

export interface SourceFlags {
  from?: string | undefined
  kubeconfig?: string | undefined
  context?: string | undefined
  namespace?: string | undefined
  requestTimeoutMs: number
  /** The User-Agent header of every API request (adapters/kube/user-agent.ts). */
  userAgent: string
}

export interface NodeHooks {
  /** Called as nodes finish (for the progress line). */
  onProgress?: (done: number, total: number) => void
  /** Called before a passphrase prompt takes the terminal (clears the progress line). */
  beforePrompt?: () => void
  /** -v: every API request and node command. */
  log?: ActivityLog
}

export interface Sources {
  cluster: ClusterSource
  reader: NodeReader
  /** Lines for the output that are not findings (e.g. that nodes were not read, and how to read them). */
  notices: string[]
}

/** --capture DIR as a CaptureSink; the bundle writer is loaded only when a capture is written. */
export function captureSink(dir: string): CaptureSink {
  return {
    async write(view, dataplanes, meta) {
      const {BundleWriter} = await import('../adapters/bundle/writer.js')
      await new BundleWriter(dir).write(view, dataplanes, meta)
    },
  }
}

/** Reads no node: API-only checks. */
class NoNodes implements NodeReader {
  constructor(readonly noNodes: NodesUntraced) {}

  async nodeNames(): Promise<string[]> {
    return []
  }

  async read(node: string): Promise<NodeDataplane> {
    return unreadableNode(node, 'nodes are not read in this mode')
  }
}

/** A bundle directory, or the live cluster of the kubeconfig context with its nodes read as `access` says. */
export async function openSources(flags: SourceFlags, access: NodeAccess, hooks: NodeHooks = {}): Promise<Sources> {
  if (flags.from) {
    if (flags.kubeconfig || flags.context)
      throw new SourceError('--from reads a bundle; --kubeconfig and --context are for a live cluster: give one or the other')
    const bundle = new BundleDir(flags.from)
    return {cluster: bundle, reader: access.via === 'none' && !access.implicit ? new NoNodes('via-none') : bundle, notices: []}
  }
  const [{loadKubeconfig}, {KubeApiSource}] = await Promise.all([import('../adapters/kube/kubeconfig.js'), import('../adapters/kube/api.js')])
  const loaded = await loadKubeconfig({kubeconfig: flags.kubeconfig, context: flags.context, namespace: flags.namespace, env: process.env})
  const cluster = new KubeApiSource(loaded, {timeoutMs: flags.requestTimeoutMs, userAgent: flags.userAgent, ...(hooks.log ? {log: hooks.log} : {})})
  if (access.via === 'none') {
    return {cluster, reader: new NoNodes(access.implicit ? 'not-asked' : 'via-none'), notices: access.implicit ? [NODES_NOT_READ] : []}
  }
  const {LiveNodeReader} = await import('../adapters/node/reader.js')
  const readerOptions = (read: ReadSettings, needsAddress: boolean, via: 'ssh' | 'exec') => ({
    parallel: read.parallel,
    ...(read.addressType ? {addressType: read.addressType} : {}),
    needsAddress,
    via,
    ...(hooks.onProgress ? {onProgress: hooks.onProgress} : {}),
    ...(hooks.log ? {log: hooks.log} : {}),
  })
  if (access.via === 'ssh') {
    const [{SshConnector}, {terminalPassphrasePrompt}] = await Promise.all([import('../adapters/ssh/connector.js'), import('../adapters/ssh/passphrase.js')])
    const prompt = terminalPassphrasePrompt(homedir(), process.stdin, process.stderr)
    const connector = new SshConnector({
      ...access.ssh,
      ...(prompt ? {passphrase: (key: string) => (hooks.beforePrompt?.(), prompt(key))} : {}),
      ...(process.env.SSH_AUTH_SOCK ? {agent: process.env.SSH_AUTH_SOCK} : {}),
      connectTimeoutMs: access.read.connectTimeoutMs,
      commandTimeoutMs: access.read.commandTimeoutMs,
    })
    // A host template that never uses {address} dials names only: a Node without addresses is fine then.
    const needsAddress = !access.ssh.hostTemplate || access.ssh.hostTemplate.includes('{address}')
    return {cluster, reader: new LiveNodeReader(connector, readerOptions(access.read, needsAddress, 'ssh')), notices: []}
  }
  const connector = await podExecConnector(loaded, access, flags.userAgent, hooks.log)
  return {cluster, reader: new LiveNodeReader(connector, readerOptions(access.read, false, 'exec')), notices: []}
}

async function podExecConnector(
  loaded: LoadedKubeconfig,
  access: Extract<NodeAccess, {via: 'exec'}>,
  userAgent: string,
  log: ActivityLog | undefined,
): Promise<NodeConnector> {
  const {PodExecConnector} = await import('../adapters/kube/pod-exec-connector.js')
  return new PodExecConnector(loaded, {
    debugPod: access.exec.debugPod,
    ...(access.exec.debugImage ? {debugImage: access.exec.debugImage} : {}),
    commandTimeoutMs: access.read.commandTimeoutMs,
    userAgent,
    ...(log ? {log} : {}),
  })
}

const CLOSE_LIMIT_MS = 15_000

/** How a run was interrupted, once it has been: the exit code it earns (130 for Ctrl-C, 143 for SIGTERM). */
export interface Interruption {
  signal: NodeJS.Signals
  code: number
}

/** The run was interrupted before anything could be printed; `code` is the exit code (130, 143). */
export class RunInterrupted extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message)
  }
}

/**
 * Runs `work` with Ctrl-C and SIGTERM handled: the first one settles `interrupted` (the work stops
 * waiting for nodes and returns what was read, marked partial), closes the reader (SSH sessions end,
 * debug pods are deleted) and is remembered for the exit code; a second one exits at once. The reader
 * is closed on every exit path: success, error and interruption.
 */
export async function withInterruption<T>(
  reader: NodeReader,
  work: (interrupted: Promise<void>) => Promise<T>,
  {closeLimitMs = CLOSE_LIMIT_MS}: {closeLimitMs?: number} = {},
): Promise<{result: T; interruption?: Interruption}> {
  let closing: Promise<void> | undefined
  const close = () => (closing ??= Promise.resolve(reader.close?.()).catch(() => undefined))
  let interruption: Interruption | undefined
  let settle: () => void = () => undefined
  const interrupted = new Promise<void>((resolve) => (settle = resolve))
  // Set by the first signal; cleared once the run has come back, so a report still going into a slow
  // pipe is never cut by it.
  let deadline: NodeJS.Timeout | undefined
  // Nothing has been written to stdout while these handlers are installed (the report is printed after
  // `work` returns), and both hard exits wait for stderr to take its message (exitAfterDrain): a
  // second signal, which the user asks for, and a run that does not come back in CLOSE_LIMIT_MS (a
  // close that hangs on a peer that stopped answering).
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143
    if (interruption || closing) {
      void exitAfterDrain(code)
      return
    }
    interruption = {signal, code}
    const what = signal === 'SIGINT' ? 'interrupted' : 'terminated'
    process.stderr.write(
      `\n${what}: closing node connections and printing what was read (${signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again to quit at once)…\n`,
    )
    deadline = setTimeout(() => void exitAfterDrain(code), closeLimitMs).unref()
    settle()
    void close()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const result = await work(interrupted)
    return {result, ...(interruption ? {interruption} : {})}
  } catch (err) {
    if (interruption && err instanceof InterruptedError) throw new RunInterrupted(err.message, interruption.code)
    throw err
  } finally {
    // Still listening while connections close (up to a few seconds on a peer that stopped answering):
    // a signal then means "quit now", with the exit code a signal earns.
    await close()
    clearTimeout(deadline)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
