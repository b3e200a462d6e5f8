import {describe, expect, it} from 'vitest'
import {catalog} from '../../../src/core/checks/catalog.js'
import {externalNameHasSelector} from '../../../src/core/checks/external-name-has-selector.js'
import {externalNameIsIP} from '../../../src/core/checks/external-name-is-ip.js'
import {service} from '../../support/builders.js'

const billing = (externalName: string, selector: Record<string, string> | null = null) =>
  service({name: 'billing', namespace: 'shop', type: 'ExternalName', selector, spec: {externalName}})

describe('external-name-is-ip', () => {
  it.each(['203.0.113.7', '2001:db8::7'])('reports the IP %s where a DNS name belongs', (ip) => {
    expect(externalNameIsIP(billing(ip))).toEqual([
      {
        id: 'external-name-is-ip',
        fix: {text: catalog['external-name-is-ip'].fix},
        severity: 'error',
        message: `ExternalName Service shop/billing points at the IP address ${ip}: DNS answers billing.shop.svc with a CNAME to "${ip}", a name that does not resolve`,
        service: 'shop/billing',
        evidence: [`spec.externalName: ${ip}`],
      },
    ])
  })

  it('accepts a DNS name', () => {
    expect(externalNameIsIP(billing('billing.example.com'))).toEqual([])
  })
})

describe('external-name-has-selector', () => {
  it('reports the ignored selector', () => {
    const [f] = externalNameHasSelector(billing('billing.example.com', {app: 'billing'}))
    expect(f).toMatchObject({
      id: 'external-name-has-selector',
      severity: 'warning',
      evidence: ['spec.selector: app=billing', 'spec.externalName: billing.example.com'],
      fix: {
        text: catalog['external-name-has-selector'].fix,
        command: `kubectl -n shop patch service billing --type json -p '[{"op":"remove","path":"/spec/selector"}]'`,
      },
    })
  })

  it('is quiet without a selector, and for other types', () => {
    expect(externalNameHasSelector(billing('billing.example.com'))).toEqual([])
    expect(externalNameHasSelector(service())).toEqual([])
  })
})
