// node-port-outside-default-range: a nodePort outside 30000-32767. The API server accepted it, so
// its --service-node-port-range was widened; firewalls and security groups often were not.
import type {V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {serviceFinding, type CheckContext} from './check.js'
import {formatServicePort} from './container-ports.js'

/** kube-apiserver's default --service-node-port-range. */
const DEFAULT_NODE_PORT_RANGE = {min: 30000, max: 32767}

const outside = (port: number): boolean => port < DEFAULT_NODE_PORT_RANGE.min || port > DEFAULT_NODE_PORT_RANGE.max

/** Node ports (and the health-check node port) outside the default range. */
export function nodePortOutsideDefaultRange(svc: V1Service, _ctx?: Partial<CheckContext>): Finding[] {
  const evidence = (svc.spec?.ports ?? []).filter((p) => p.nodePort && outside(p.nodePort)).map((p) => `port ${formatServicePort(p)}: nodePort ${p.nodePort}`)
  const health = svc.spec?.healthCheckNodePort
  if (health && outside(health)) evidence.push(`healthCheckNodePort ${health}`)
  if (evidence.length === 0) return []
  return [
    serviceFinding(
      'node-port-outside-default-range',
      svc,
      `Service ${keyOf(svc)} uses node ports outside the default range ${DEFAULT_NODE_PORT_RANGE.min}-${DEFAULT_NODE_PORT_RANGE.max}`,
      evidence,
    ),
  ]
}
