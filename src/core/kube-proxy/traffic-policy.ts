// Which endpoint set kube-proxy sends an entry's traffic to: the cluster-wide one, or the node's own
// under a Local traffic policy (pkg/proxy/topology.go CategorizeEndpoints; docs: "Traffic policies").
import type {V1Service} from '@kubernetes/client-node'
import type {EntryKind, ProxyMode, SourceKind} from '../model.js'

/**
 * True when traffic to an entry of `kind` from `from` goes only to the node's local endpoints:
 * cluster IPs under internalTrafficPolicy Local; node ports, external and load-balancer IPs under
 * externalTrafficPolicy Local, for outside clients only (pods and the node itself are short-circuited
 * to the Cluster set). IPVS mode has no such short-circuit: its node-port, external-IP and
 * load-balancer virtual servers hold only the local real servers, whoever connects (reference 4.5).
 */
export function usesLocalEndpoints(svc: V1Service, kind: EntryKind, from: SourceKind, mode?: ProxyMode): boolean {
  if (kind === 'cluster-ip') return svc.spec?.internalTrafficPolicy === 'Local'
  if (kind === 'node-port' || kind === 'external-ip' || kind === 'load-balancer')
    return (from === 'external' || mode === 'ipvs') && svc.spec?.externalTrafficPolicy === 'Local'
  return false
}
