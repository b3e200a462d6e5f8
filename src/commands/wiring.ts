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

/**
 * Runs `work` with Ctrl-C and SIGTERM closing the reader first (SSH sessions end, debug pods are
 * deleted), then exiting 130/143; a second signal exits at once. The reader is closed on every
 * other exit path too: success and error.
 */
export async function withReaderClosed<T>(reader: NodeReader, work: () => Promise<T>): Promise<T> {
  let closing: Promise<void> | undefined
  const close = () => (closing ??= Promise.resolve(reader.close?.()).catch(() => undefined))
  let interrupted = false
  // While these handlers are installed nothing has been written to stdout yet: the report is printed
  // only after `work` returns and they are removed. So ending the process here loses no output once
  // stderr has taken the message (exitAfterDrain). The two hard exits are escape hatches a user asks
  // for: a second Ctrl-C, and a close that hangs (a node or API server that stopped answering).
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143
    if (interrupted) process.exit(code)
    interrupted = true
    process.stderr.write(`\n${signal === 'SIGINT' ? 'interrupted' : 'terminated'}: closing node connections…\n`)
    setTimeout(() => process.exit(code), CLOSE_LIMIT_MS).unref()
    void close().finally(() => exitAfterDrain(code))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    return await work()
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await close()
  }
}
