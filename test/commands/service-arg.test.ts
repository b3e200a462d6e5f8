// The SERVICE argument read as kubectl users write it (parseServiceArg): one row per spelling.
import {describe, expect, it} from 'vitest'
import {parseServiceArg, type ServiceArg} from '../../src/commands/service-arg.js'

describe('parseServiceArg', () => {
  it.each<[string, string | undefined, ServiceArg]>([
    ['hello-world', undefined, {name: 'hello-world'}],
    ['hello-world', 'default', {name: 'hello-world', namespace: 'default'}],
    ['svc/hello-world', undefined, {name: 'hello-world'}],
    ['svc/hello-world', 'shop', {name: 'hello-world', namespace: 'shop'}],
    ['service/hello-world', undefined, {name: 'hello-world'}],
    ['services/hello-world', 'shop', {name: 'hello-world', namespace: 'shop'}],
    ['Service/hello-world', undefined, {name: 'hello-world'}],
    ['SVC/hello-world', undefined, {name: 'hello-world'}],
    ['shop/hello-world', undefined, {name: 'hello-world', namespace: 'shop'}],
    ['shop/hello-world', 'shop', {name: 'hello-world', namespace: 'shop'}],
    // kubectl's reading wins: svc/ is the type even when a namespace is named svc.
    ['svc/web', 'svc', {name: 'web', namespace: 'svc'}],
    ['shop/hello-world', 'default', {error: '"shop/hello-world" names namespace shop but -n says default: drop -n default, or write hello-world -n default'}],
    [
      'deploy/x',
      undefined,
      {error: "svctrace traces Services; got deploy/x: give the Service's name (svc/NAME), or for a Service x in namespace deploy: x -n deploy"},
    ],
    [
      'pods/web-0',
      'shop',
      {error: "svctrace traces Services; got pods/web-0: give the Service's name (svc/NAME), or for a Service web-0 in namespace pods: web-0 -n pods"},
    ],
    ['deployment.apps/web', undefined, {error: "svctrace traces Services; got deployment.apps/web: give the Service's name (svc/NAME)"}],
    ['svc/', undefined, {error: '"svc/" is not a Service: give NAME, NAMESPACE/NAME or svc/NAME (e.g. svc/hello-world -n default)'}],
    ['/web', undefined, {error: '"/web" is not a Service: give NAME, NAMESPACE/NAME or svc/NAME (e.g. svc/hello-world -n default)'}],
    // A Service's DNS name: NAME.NS, NAME.NS.svc, NAME.NS.svc.DOMAIN (any cluster domain), case folded.
    ['kube-dns.kube-system', undefined, {name: 'kube-dns', namespace: 'kube-system'}],
    ['kube-dns.kube-system.svc', 'kube-system', {name: 'kube-dns', namespace: 'kube-system'}],
    ['kube-dns.kube-system.svc.cluster.local', undefined, {name: 'kube-dns', namespace: 'kube-system'}],
    ['Kube-DNS.Kube-System.svc.corp.example.', undefined, {name: 'kube-dns', namespace: 'kube-system'}],
    [
      'kube-dns.kube-system',
      'default',
      {error: '"kube-dns.kube-system" names namespace kube-system but -n says default: drop -n default, or write kube-dns -n default'},
    ],
    [
      '1dns.kube-system',
      undefined,
      {
        error:
          '"1dns.kube-system": Service name "1dns" is no DNS label (lowercase letters, digits and "-"; start with a letter and end with a letter or digit); expected NAME.NAMESPACE[.svc[.cluster.local]] (e.g. kube-dns.kube-system.svc.cluster.local); or give the Service\'s plain NAME with -n NAMESPACE',
      },
    ],
    ['svc/shop/web', undefined, {error: '"svc/shop/web" is not a Service: give NAME, NAMESPACE/NAME or svc/NAME (e.g. svc/hello-world -n default)'}],
  ])('%s with -n %s', (arg, namespace, expected) => {
    expect(parseServiceArg(arg, namespace)).toEqual(expected)
  })
})
