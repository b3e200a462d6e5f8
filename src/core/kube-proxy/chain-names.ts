// kube-proxy's chain names, recomputed from the API: sha256 of the service port name (+ protocol,
// + endpoint), base32, first 16 characters. They let a trace find the chains of a Service when
// kube-proxy leaves comments out (over 1000 endpoints), and drift checks name what is missing.
import {createHash} from 'node:crypto'

// RFC 4648 base32, as Go's base32.StdEncoding; padding is irrelevant after truncation.
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

function base32(bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff
    bits += 8
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31]
  return out
}

/** First 16 characters of base32(sha256(text)): the `<h>` of every KUBE-SVC/SVL/EXT/FW/SEP name (pkg/proxy/iptables/proxier.go `portProtoHash`). */
export function kubeProxyHash(text: string): string {
  return base32(createHash('sha256').update(text, 'utf8').digest()).slice(0, 16)
}

/** kube-proxy's service port name: `ns/svc:port`, or `ns/svc` for an unnamed port (no colon); pkg/proxy/types.go `ServicePortName.String`. */
export function servicePortName(namespace: string, service: string, port: string): string {
  return port ? `${namespace}/${service}:${port}` : `${namespace}/${service}`
}

/** `KUBE-SVC-…` (or SVL/EXT/FW) for a service port name like `ns/svc:port` and a protocol (proxier.go `servicePortPolicyClusterChain` and its siblings). */
export function servicePortChainName(prefix: 'SVC' | 'SVL' | 'EXT' | 'FW', spn: string, protocol: string): string {
  return `KUBE-${prefix}-${kubeProxyHash(spn + protocol.toLowerCase())}`
}

/** `KUBE-SEP-…` for a service port name, protocol and endpoint `IP:port` (`[IPv6]:port`); proxier.go `servicePortEndpointChainName`. */
export function endpointChainName(spn: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${kubeProxyHash(spn + protocol.toLowerCase() + endpoint)}`
}
