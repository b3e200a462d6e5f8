import {describe, expect, it} from 'vitest'
import {endpointSliceMissingServiceNameLabel} from '../../../src/core/checks/endpointslice-missing-service-name-label.js'
import {noSelectorNoEndpoints} from '../../../src/core/checks/no-selector-no-endpoints.js'
import {endpoints, service, slice} from '../../support/builders.js'
import {first} from '../../support/defined.js'

const partner = service({name: 'partner', selector: null})

describe('no-selector-no-endpoints', () => {
  it('reports a selectorless Service that nothing gives endpoints', () => {
    const f = first(noSelectorNoEndpoints(partner, {slices: []}), 'finding')
    expect(f).toMatchObject({
      id: 'no-selector-no-endpoints',
      severity: 'error',
      message: 'Service default/partner has no selector and no endpoints: nothing tells kube-proxy where to send its traffic',
      evidence: ['no EndpointSlice is labelled kubernetes.io/service-name=partner', 'no Endpoints object is named partner'],
    })
  })

  it('names empty objects when they exist', () => {
    const f = first(
      noSelectorNoEndpoints(partner, {
        slices: [slice({service: 'partner', name: 'partner-zfk4h', endpoints: []})],
        endpoints: endpoints({name: 'partner', addresses: []}),
      }),
      'finding',
    )
    expect(f.evidence).toEqual(['EndpointSlice partner-zfk4h lists no endpoints', 'Endpoints partner has no addresses'])
  })

  it.each([
    ['manual Endpoints', {slices: [], endpoints: endpoints({name: 'partner'})}],
    ['a mirrored EndpointSlice', {slices: [slice({service: 'partner', managedBy: 'endpointslicemirroring-controller.k8s.io'})]}],
  ])('is fine with %s', (_name, ctx) => {
    expect(noSelectorNoEndpoints(partner, ctx)).toEqual([])
  })

  it('leaves Services with a selector, and ExternalNames, alone', () => {
    expect(noSelectorNoEndpoints(service(), {slices: []})).toEqual([])
    expect(noSelectorNoEndpoints(service({type: 'ExternalName', selector: null}), {slices: []})).toEqual([])
  })
})

describe('endpointslice-missing-service-name-label', () => {
  it('finds a hand-written slice named after the Service but not labelled for it', () => {
    const manual = slice({service: null, name: 'partner-1', managedBy: 'staff', endpoints: [{ip: '203.0.113.20', pod: null}]})
    const f = first(endpointSliceMissingServiceNameLabel(partner, {namespaceSlices: [manual]}), 'finding')
    expect(f).toMatchObject({
      id: 'endpointslice-missing-service-name-label',
      severity: 'error',
      message:
        'EndpointSlice default/partner-1 looks meant for Service default/partner but has no kubernetes.io/service-name label, so kube-proxy never uses it',
      evidence: ['EndpointSlice partner-1: its name starts with partner; 1 endpoint (203.0.113.20); labels: endpointslice.kubernetes.io/managed-by=staff'],
    })
  })

  it('finds one whose ownerReference names the Service', () => {
    const manual = slice({service: null, name: 'external-backends'})
    manual.metadata!.ownerReferences = [{apiVersion: 'v1', kind: 'Service', name: 'partner', uid: 'u1'}]
    expect(endpointSliceMissingServiceNameLabel(partner, {namespaceSlices: [manual]})[0]?.evidence?.[0]).toContain('its ownerReference names Service partner')
  })

  it('ignores labelled slices, unrelated names and other namespaces', () => {
    const slices = [slice({service: 'partner'}), slice({service: null, name: 'other-1'}), slice({service: null, name: 'partner-2', namespace: 'elsewhere'})]
    expect(endpointSliceMissingServiceNameLabel(partner, {namespaceSlices: slices})).toEqual([])
  })
})
