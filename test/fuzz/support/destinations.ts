// Destinations and trace requests for fuzzed traces: addresses the fixtures hold (so walks go deep)
// mixed with random ones of both families.
import fc from 'fast-check'
import type {TraceRequest} from '../../../src/core/trace/branch.js'
import {IPTABLES, IPVSADM_LIST, NFT_TEXT} from './fixtures.js'

/** Every IPv4 address the fixtures mention. */
const KNOWN = [...new Set([...IPTABLES, ...IPVSADM_LIST, ...NFT_TEXT].flatMap((t) => t.match(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g) ?? []))]

/** An address to trace or to stand for a client or node. */
export const address: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...KNOWN), fc.ipV4(), fc.ipV6(), fc.constantFrom('fd00::1', '::1', '0.0.0.0'))

/** One destination on one node from one kind of client. */
export const traceRequest: fc.Arbitrary<TraceRequest> = fc
  .record({
    ip: address,
    port: fc.option(fc.oneof(fc.constantFrom(80, 443, 53, 30080, 8080), fc.integer({min: 0, max: 65535})), {nil: undefined}),
    protocol: fc.constantFrom('TCP' as const, 'UDP' as const, 'SCTP' as const),
    from: fc.constantFrom('pod' as const, 'external' as const, 'node' as const),
    source: fc.option(address, {nil: undefined}),
    nodeAddresses: fc.array(address, {maxLength: 3}),
    podNetworks: fc.subarray(['10.244.0.0/16', '10.0.0.0/8', 'fd00:10:244::/56', '192.168.0.0/16']),
  })
  .map((r) => ({
    node: {name: 'node-a', addresses: r.nodeAddresses},
    destination: {ip: r.ip, ...(r.port !== undefined ? {port: r.port} : {}), protocol: r.protocol},
    from: r.from,
    ...(r.source !== undefined ? {source: r.source} : {}),
    podNetworks: r.podNetworks,
  }))
