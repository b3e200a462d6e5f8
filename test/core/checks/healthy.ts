// A healthy cluster for the checks' tests: two nodes, Service web (ClusterIP) with three ready
// pods of one Deployment spread over both nodes, and its EndpointSlice. Tests change one thing.
import type {ClusterView} from '../../../src/core/model.js'
import {node, pod, service, slice} from '../../support/builders.js'

export const webPods = [
  pod({name: 'web-6d4cf56db6-7xkqz', node: 'node-a', ip: '10.244.0.5'}),
  pod({name: 'web-6d4cf56db6-m2wbr', node: 'node-a', ip: '10.244.0.12'}),
  pod({name: 'web-6d4cf56db6-t9h5n', node: 'node-b', ip: '10.244.1.7'}),
]

export const webSlice = slice({
  endpoints: [
    {ip: '10.244.0.5', node: 'node-a', pod: 'web-6d4cf56db6-7xkqz'},
    {ip: '10.244.0.12', node: 'node-a', pod: 'web-6d4cf56db6-m2wbr'},
    {ip: '10.244.1.7', node: 'node-b', pod: 'web-6d4cf56db6-t9h5n'},
  ],
})

export const nodes = [
  node({name: 'node-a', ip: '192.168.49.2', podCIDR: '10.244.0.0/24'}),
  node({name: 'node-b', ip: '192.168.49.3', podCIDR: '10.244.1.0/24'}),
]

/** The healthy cluster, with Service web replaced or objects added as the test says. */
export function healthy(parts: Partial<ClusterView> = {}): ClusterView {
  return {services: [service()], endpointSlices: [webSlice], endpoints: [], pods: webPods, nodes, ...parts}
}
