// Which Service owns an address: the live source's pre-filter and the report agree, IPv6 included.
import type {V1Service} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {capturedAddresses, isNodeAddress, ownsAddress} from '../../../src/core/kube-proxy/captured-addresses.js'
import {node, service} from '../../support/builders.js'

describe('ownsAddress', () => {
  const v6 = service({clusterIP: 'FD00:10:96:0:0:0:0:A', spec: {externalIPs: ['2001:db8::0:7']}})
  it.each([
    ['its cluster IP, written another way', v6, 'fd00:10:96::a', false, true],
    ['its external IP, written another way', v6, '2001:db8::7', false, true],
    ['another address', v6, 'fd00:10:96::b', false, false],
    ['a node address with one of its node ports', service({type: 'NodePort'}), '192.168.49.2', true, true],
    ['a node address, no node port', service(), '192.168.49.2', true, false],
    [
      'an ipMode Proxy load-balancer IP, which kube-proxy does not capture',
      {...service({type: 'LoadBalancer'}), status: {loadBalancer: {ingress: [{ip: '192.0.2.10', ipMode: 'Proxy'}]}}},
      '192.0.2.10',
      false,
      false,
    ],
  ] as Array<[string, V1Service, string, boolean, boolean]>)('%s', (_what, svc, ip, onNode, want) => {
    expect(ownsAddress(svc, {ip}, onNode)).toBe(want)
  })

  it('lists the captured addresses canonically', () => {
    expect(capturedAddresses(v6)).toEqual(['fd00:10:96::a', '2001:db8::7'])
  })
})

describe('isNodeAddress', () => {
  it.each([
    ['192.168.49.2', true],
    ['127.0.0.1', true],
    ['::1', true],
    ['192.168.49.3', false],
    ['node-a', false],
  ])('%s → %s', (ip, want) => {
    expect(isNodeAddress([node()], ip)).toBe(want)
  })
})
