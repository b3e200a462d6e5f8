// The kube-proxy mode the API shows: the KubeProxyConfiguration in ConfigMap kube-system/kube-proxy
// (kubeadm's layout) and a --proxy-mode flag on the kube-proxy DaemonSet. Compared with the mode
// each node's rules show, it tells a node that never picked up a change (or fell back) from one
// that is simply configured differently.
import {finding} from './checks/catalog.js'
import type {Finding, KubeProxyObjects, NodeReport} from './model.js'

export const KUBE_PROXY_NAMESPACE = 'kube-system'
export const KUBE_PROXY_NAME = 'kube-proxy'

const MODES = new Set(['iptables', 'ipvs', 'nftables', 'userspace', 'kernelspace'])

/** One place that states the mode, with the mode as written ('' = kube-proxy's default). */
export interface ModeSetting {
  mode: string
  where: string
  /** A --proxy-mode flag next to --config: kube-proxy takes the mode from the file and drops the flag. */
  ignored?: boolean
}

/** `mode:` at the top level of a KubeProxyConfiguration (YAML or JSON), without a YAML parser. */
export function modeInConfig(text: string): string | undefined {
  if (!/\bKubeProxyConfiguration\b/.test(text)) return undefined
  const yaml = /^mode:[ \t]*(?:"([^"\n]*)"|'([^'\n]*)'|([^\s#]*))[ \t]*(?:#.*)?$/m.exec(text)
  if (yaml) return yaml[1] ?? yaml[2] ?? yaml[3] ?? ''
  const json = /"mode"\s*:\s*"([^"]*)"/.exec(text)
  // No mode at all: kube-proxy's default.
  return json ? json[1] : ''
}

/** `--proxy-mode=X` or `--proxy-mode X` in a container's command and args. */
export function modeInArgs(words: string[]): string | undefined {
  for (const [i, w] of words.entries()) {
    if (w.startsWith('--proxy-mode=')) return w.slice('--proxy-mode='.length)
    if (w === '--proxy-mode' && i + 1 < words.length) return words[i + 1]
  }
  return undefined
}

/** Every place the API states kube-proxy's mode. */
function modeSettings(objects: KubeProxyObjects | undefined): ModeSetting[] {
  const out: ModeSetting[] = []
  const cm = objects?.configMap
  for (const [key, text] of Object.entries(cm?.data ?? {})) {
    const mode = modeInConfig(text)
    if (mode !== undefined)
      out.push({
        mode,
        where: `ConfigMap ${cm?.metadata?.namespace ?? KUBE_PROXY_NAMESPACE}/${cm?.metadata?.name ?? KUBE_PROXY_NAME} ${key}: mode: ${JSON.stringify(mode)}`,
      })
  }
  const ds = objects?.daemonSet
  for (const c of ds?.spec?.template?.spec?.containers ?? []) {
    const words = [...(c.command ?? []), ...(c.args ?? [])]
    const mode = modeInArgs(words)
    const ignored = words.some((w) => w === '--config' || w.startsWith('--config='))
    if (mode !== undefined) {
      out.push({
        mode,
        where: `DaemonSet ${ds?.metadata?.namespace ?? KUBE_PROXY_NAMESPACE}/${ds?.metadata?.name ?? KUBE_PROXY_NAME} container ${c.name}: --proxy-mode=${mode}${ignored ? ' (ignored: with --config kube-proxy takes every setting but logging from the file)' : ''}`,
        ...(ignored ? {ignored} : {}),
      })
    }
  }
  return out
}

/** The mode kube-proxy runs with on Linux for a setting ('' and unset mean iptables). */
function effectiveMode(mode: string): string {
  return mode === '' ? 'iptables' : mode.toLowerCase()
}

/** What the report says about the configured mode, or undefined when the API shows none. */
export function configuredMode(objects: KubeProxyObjects | undefined): {mode: string; evidence: string[]} | undefined {
  const settings = modeSettings(objects)
  if (settings.length === 0) return undefined
  // A flag counts only without --config; otherwise the file (the ConfigMap) decides.
  const chosen = settings.find((s) => s.where.startsWith('DaemonSet') && !s.ignored) ?? settings.find((s) => !s.ignored)
  if (!chosen) return undefined
  return {mode: effectiveMode(chosen.mode), evidence: settings.map((s) => s.where)}
}

/** Findings: a setting kube-proxy does not know, nodes whose rules show another mode than configured. */
export function modeConfigFindings(objects: KubeProxyObjects | undefined, nodes: NodeReport[]): Finding[] {
  const configured = configuredMode(objects)
  if (!configured) return []
  const out: Finding[] = []
  if (!MODES.has(configured.mode)) {
    out.push(
      finding('proxy-mode-config-invalid', {
        message: `kube-proxy is configured with mode "${configured.mode}", which it does not know (iptables, ipvs, nftables; kernelspace on Windows): it refuses to start`,
        evidence: configured.evidence,
      }),
    )
    return out
  }
  for (const node of nodes) {
    if (node.readError || node.mode === 'none' || node.mode === 'unknown' || node.mode === configured.mode) continue
    const fallback =
      configured.mode === 'ipvs' && node.mode === 'iptables'
        ? ' (kube-proxy up to v1.25 fell back to iptables when the ip_vs kernel modules were missing; check its log)'
        : ''
    out.push(
      finding('proxy-mode-differs-from-config', {
        message: `${node.name} runs kube-proxy in ${node.mode} mode, but it is configured for ${configured.mode}: kube-proxy on this node has not restarted since the change, or runs with other settings${fallback}`,
        node: node.name,
        evidence: configured.evidence,
      }),
    )
  }
  return out
}
