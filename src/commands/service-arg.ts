// The SERVICE argument as kubectl users type it: NAME, NS/NAME, svc/NAME, service/NAME, services/NAME,
// or the Service's DNS name NAME.NS[.svc[.cluster.local]].
// kubectl reads TYPE/NAME; svctrace also reads NS/NAME (a namespace has no dot and is not a type
// name kubectl knows), so `svc/x` is always the Service x, even where a namespace is named svc.

import {parseServiceDnsName} from '../core/dns-name.js'

/** Which Service the argument names; namespace only when the argument or -n gave one. */
export type ServiceArg = {name: string; namespace?: string} | {error: string}

const SERVICE_TYPES = new Set(['svc', 'service', 'services'])
// kubectl's names and short names of the other resources one might paste from `kubectl get`.
const OTHER_TYPES = new Set(
  [
    'po pod pods deploy deployment deployments rs replicaset replicasets sts statefulset statefulsets ds daemonset daemonsets',
    'ep endpoints endpointslice endpointslices ing ingress ingresses no node nodes ns namespace namespaces cm configmap configmaps',
    'secret secrets job jobs cj cronjob cronjobs pvc persistentvolumeclaim persistentvolumeclaims pv persistentvolume persistentvolumes',
    'sa serviceaccount serviceaccounts netpol networkpolicy networkpolicies hpa rc replicationcontroller replicationcontrollers',
  ]
    .join(' ')
    .split(' '),
)

/** A Service's DNS name (NAME.NS[.svc[.cluster.local]]): a Service name has no dot, so a dot means one. */
function fromDnsName(arg: string, namespaceFlag: string | undefined): ServiceArg {
  const dns = parseServiceDnsName(arg)
  if ('error' in dns) return {error: `${dns.error}; or give the Service's plain NAME with -n NAMESPACE`}
  if (namespaceFlag !== undefined && namespaceFlag !== dns.namespace) {
    return {error: `"${arg}" names namespace ${dns.namespace} but -n says ${namespaceFlag}: drop -n ${namespaceFlag}, or write ${dns.name} -n ${namespaceFlag}`}
  }
  return {name: dns.name, namespace: dns.namespace}
}

/** Parses SERVICE with the -n value; the error says what to type instead. */
export function parseServiceArg(arg: string, namespaceFlag: string | undefined): ServiceArg {
  const parts = arg.split('/')
  if (parts.length === 1 && arg.includes('.')) return fromDnsName(arg, namespaceFlag)
  if (parts.length === 1) return {name: arg, ...(namespaceFlag ? {namespace: namespaceFlag} : {})}
  const [prefix = '', name = ''] = parts
  const type = prefix.toLowerCase()
  if (parts.length > 2 || name === '' || prefix === '') {
    return {error: `"${arg}" is not a Service: give NAME, NAMESPACE/NAME or svc/NAME (e.g. svc/hello-world -n default)`}
  }
  if (SERVICE_TYPES.has(type)) return {name, ...(namespaceFlag ? {namespace: namespaceFlag} : {})}
  // A namespace is a DNS label: a dot means TYPE.GROUP (deployment.apps/x).
  if (prefix.includes('.')) return {error: `svctrace traces Services; got ${arg}: give the Service's name (svc/NAME)`}
  if (OTHER_TYPES.has(type)) {
    return {
      error: `svctrace traces Services; got ${arg}: give the Service's name (svc/NAME), or for a Service ${name} in namespace ${prefix}: ${name} -n ${prefix}`,
    }
  }
  if (namespaceFlag !== undefined && namespaceFlag !== prefix) {
    return {error: `"${arg}" names namespace ${prefix} but -n says ${namespaceFlag}: drop -n ${namespaceFlag}, or write ${name} -n ${namespaceFlag}`}
  }
  return {name, namespace: prefix}
}
