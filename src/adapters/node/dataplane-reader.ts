// What is read from one open node session, and in which order: the kube-proxy mode is found from what
// is there (nat KUBE-SERVICES, `table ip kube-proxy`, IPVS virtual servers), never assumed. Every
// command comes from nodeCommands (the allow-list); nothing here builds a command line.
import type {CollectionPlan} from '../../core/collection-plan.js'
import type {NodeDataplane} from '../../core/model.js'
import {countKubeProxyRules} from '../../core/kube-proxy/other-backend.js'
import {captureOf, withCapture} from '../../core/captures.js'
import {iptablesBackendOf, nodeCommands, type NodeCommand} from './commands.js'
import {NodeAccessError, type NodeSession} from './connector.js'

/** The targeted iptables read (src/adapters/node/targeted-iptables.ts): null when nat has no KUBE-SERVICES. */
export type TargetedIptablesReader = (
  session: NodeSession,
  plan: CollectionPlan,
  node: string,
  backend?: 'legacy' | 'nft',
) => Promise<{text: string; source: string} | null>

type Backend = 'legacy' | 'nft'

interface IptablesText {
  text: string
  source: string
}

/** A program that is not on the node (exit 127): that mode is simply not there. */
function isNotInstalled(err: unknown): boolean {
  return err instanceof NodeAccessError && err.kind === 'command' && /\bnot installed\b|exited with 127/.test(err.message)
}

/** Runs a probe whose failure only means "not there" (a missing table, file or program); access problems still end the node. */
async function probe(session: NodeSession, cmd: NodeCommand): Promise<string | undefined> {
  try {
    return (await session.run(cmd)).stdout
  } catch (err) {
    if (err instanceof NodeAccessError && (err.kind === 'command' || err.kind === 'too-large')) return undefined
    throw err
  }
}

/** Runs a main read; a missing program gives undefined, anything else ends the node. */
async function mainRead<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read()
  } catch (err) {
    if (isNotInstalled(err)) return undefined
    throw err
  }
}

const KUBE_SERVICES = /^(:KUBE-SERVICES |-A KUBE-SERVICES )/m
const IPSET_DISPATCH = /^-A KUBE-SERVICES .*--match-set KUBE-/m
// Virtual servers in /proc/net/ip_vs: `TCP  0A600001:01BB rr` (the header lines start otherwise).
const IPVS_SERVER = /^(TCP|UDP|SCTP|FWM)\s+\S/m

/** The other backend's save output (every table), counted as a bundle's iptables-legacy-save.txt is. */
async function readOtherBackend(
  session: NodeSession,
  node: string,
  current: Backend,
): Promise<(IptablesText & {backend: Backend; kubeRules: number}) | undefined> {
  const backend: Backend = current === 'nft' ? 'legacy' : 'nft'
  const cmd = backend === 'legacy' ? nodeCommands.iptablesLegacySave() : nodeCommands.iptablesNftSave()
  const text = await probe(session, cmd)
  if (text === undefined) return undefined
  return {backend, text, source: `${node}: ${cmd.argv.join(' ')}`, kubeRules: countKubeProxyRules(text)}
}

/** iptables: the whole dump, or only the chains on the plan's paths; plus the other backend's count. */
async function readIptables(session: NodeSession, node: string, plan: CollectionPlan, targeted: TargetedIptablesReader, out: NodeDataplane): Promise<boolean> {
  // Asked once: the targeted reader needs it too (legacy lists a chain by loading the whole table).
  const backend = iptablesBackendOf((await probe(session, nodeCommands.iptablesVersion())) ?? '')
  const primary: IptablesText | null | undefined = plan.full
    ? await mainRead(async () => ({text: (await session.run(nodeCommands.iptablesSave())).stdout, source: `${node}: iptables-save`}))
    : await mainRead(() => targeted(session, plan, node, backend))
  if (primary === undefined) return false
  const other = backend ? await readOtherBackend(session, node, backend) : undefined
  const hasKube = primary !== null && KUBE_SERVICES.test(primary.text)
  if (!hasKube && other && other.kubeRules > 0 && backend) {
    // The node's default `iptables` is not the backend kube-proxy writes (its image picks one itself):
    // trace the backend that holds the rules.
    out.captures = withCapture(out.captures, {kind: 'iptables-save', text: other.text, source: other.source})
    out.otherIptablesBackend = {backend, kubeRules: 0, source: primary?.source ?? `${node}: iptables`}
    return true
  }
  if (primary) out.captures = withCapture(out.captures, {kind: 'iptables-save', text: primary.text, source: primary.source})
  if (other) out.otherIptablesBackend = {backend: other.backend, kubeRules: other.kubeRules, source: other.source}
  return true
}

async function readNft(session: NodeSession, node: string, out: NodeDataplane): Promise<void> {
  const cmd = nodeCommands.nftListKubeProxy('ip')
  const text = await probe(session, cmd)
  if (text !== undefined && text.trim() !== '') {
    out.captures = withCapture(out.captures, {kind: 'nft', text, source: `${node}: ${cmd.argv.join(' ')}`})
  }
}

/** IPVS only when the kernel already has virtual servers: ipvsadm would load the ip_vs module otherwise. */
async function readIpvs(session: NodeSession, node: string, out: NodeDataplane): Promise<void> {
  const proc = await probe(session, nodeCommands.procIpVs())
  if (proc === undefined || !IPVS_SERVER.test(proc)) return
  const ipvsadm = await probe(session, nodeCommands.ipvsadmSave())
  // The kube-proxy image has no ipvsadm: the kernel's own listing holds the same table.
  out.captures = withCapture(
    out.captures,
    ipvsadm !== undefined
      ? {kind: 'ipvsadm', text: ipvsadm, source: `${node}: ipvsadm -S -n`}
      : {kind: 'proc-ip-vs', text: proc, source: `${node}: /proc/net/ip_vs`},
  )
  const ipset = await probe(session, nodeCommands.ipsetSave())
  if (ipset !== undefined) out.captures = withCapture(out.captures, {kind: 'ipset', text: ipset, source: `${node}: ipset save`})
}

/**
 * Reads one node's data plane as the plan says. Whole dumps: iptables-save, kube-proxy's nft table,
 * IPVS state when there is any. Targeted: the iptables chains on the paths; nft and IPVS only when
 * nat KUBE-SERVICES is missing or dispatches to ipsets. Access errors reject (NodeAccessError).
 */
export async function readNodeDataplane(session: NodeSession, node: string, plan: CollectionPlan, targeted: TargetedIptablesReader): Promise<NodeDataplane> {
  const out: NodeDataplane = {name: node, captures: []}
  const hasIptables = await readIptables(session, node, plan, targeted, out)
  const iptablesText = () => captureOf(out, 'iptables-save')?.text
  const kube = KUBE_SERVICES.test(iptablesText() ?? '')
  if (plan.full || !kube) await readNft(session, node, out)
  if (plan.full || !kube || IPSET_DISPATCH.test(iptablesText() ?? '')) await readIpvs(session, node, out)
  const found = kube || out.captures.some((c) => c.kind === 'nft' || c.kind === 'ipvsadm' || c.kind === 'proc-ip-vs')
  if (!found && hasIptables && !iptablesText()?.trim()) {
    // No kube-proxy rules anywhere: the whole (small) dump shows what is there instead (another data
    // plane's chains, the REJECTs of the filter table); when it prints no table at all, the nat table,
    // which iptables-save -t lists even when empty.
    const whole = captureOf(out, 'iptables-save') === undefined ? await probe(session, nodeCommands.iptablesSave()) : undefined
    const [text, source] = whole?.trim() ? [whole, 'iptables-save'] : [await probe(session, nodeCommands.iptablesSaveTable('nat')), 'iptables-save -t nat']
    out.captures = withCapture(out.captures, {kind: 'iptables-save', text: text ?? '', source: `${node}: ${source}`})
  }
  if (!found && !hasIptables) {
    throw new NodeAccessError(
      `${node} has none of iptables-save, nft (table ip kube-proxy) or IPVS state: is kube-proxy running there, and are the iptables tools installed?`,
      'command',
    )
  }
  return out
}
