import {describe, expect, it} from 'vitest'
import {catalog} from '../../../src/core/checks/catalog.js'
import {targetPortNameUndefined} from '../../../src/core/checks/target-port-name-undefined.js'
import {targetPortNotDeclared} from '../../../src/core/checks/target-port-not-declared.js'
import {targetPortProtocolMismatch} from '../../../src/core/checks/target-port-protocol-mismatch.js'
import {pod, service, slice} from '../../support/builders.js'
import {first} from '../../support/defined.js'

const exporter = pod({name: 'exporter-84c9f6d7b-zq5lp', labels: {app: 'exporter'}, ports: [{name: 'metrics', containerPort: 9100}]})

describe('target-port-name-undefined', () => {
  it('reports a named targetPort no container defines, with the names they do declare', () => {
    const svc = service({name: 'metrics', selector: {app: 'exporter'}, ports: [{name: 'prom', port: 9100, targetPort: 'prom'}]})
    const f = first(targetPortNameUndefined(svc, {pods: [exporter], slices: [slice({name: 'metrics-4gkqj', service: 'metrics', ports: null})]}), 'finding')
    expect(f).toMatchObject({
      id: 'target-port-name-undefined',
      severity: 'error',
      message:
        'port prom 9100/TCP of Service default/metrics targets the named port "prom", which no container of its 1 pod defines: connections to it are refused',
    })
    expect(f.evidence).toEqual(['exporter-84c9f6d7b-zq5lp: declares metrics 9100/TCP (app)', 'EndpointSlice metrics-4gkqj has no port "prom"'])
  })

  it('counts a name declared for another protocol as undefined (FindPort matches both)', () => {
    const dns = pod({name: 'dns-0', labels: {app: 'dns'}, owner: null, ports: [{name: 'dns', containerPort: 53, protocol: 'TCP'}]})
    const svc = service({selector: {app: 'dns'}, ports: [{name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns'}]})
    const f = first(targetPortNameUndefined(svc, {pods: [dns], slices: []}), 'finding')
    expect(f.evidence).toContain('dns is declared as TCP, but the Service port is UDP: a named port must match the protocol too')
  })

  it('says which pods miss the name when only some do', () => {
    const svc = service({ports: [{name: 'http', port: 80, targetPort: 'http'}]})
    const pods = [pod(), pod({name: 'web-6d4cf56db6-old12', ports: [{name: 'htpp', containerPort: 8080}]})]
    const f = first(targetPortNameUndefined(svc, {pods, slices: []}), 'finding')
    expect(f.message).toContain('which 1 of its 2 pods do not define: those pods get none of its traffic')
    expect(f.evidence).toEqual(['web-6d4cf56db6-old12: declares htpp 8080/TCP (app)', 'similar port names: htpp'])
  })

  it('stays quiet when every pod defines the name, or no pod is selected', () => {
    const svc = service({ports: [{name: 'http', port: 80, targetPort: 'http'}]})
    expect(targetPortNameUndefined(svc, {pods: [pod()], slices: []})).toEqual([])
    expect(targetPortNameUndefined(svc, {pods: [], slices: []})).toEqual([])
  })
})

describe('target-port-name-undefined: the fix command', () => {
  const svc = service({
    name: 'metrics',
    selector: {app: 'exporter'},
    ports: [
      {name: 'web', port: 80},
      {name: 'prom', port: 9100, targetPort: 'prom'},
    ],
  })

  it('points the port at the one port the pods declare, guarded by a test of the old value', () => {
    expect(first(targetPortNameUndefined(svc, {pods: [exporter], slices: []}), 'finding').fix?.command).toBe(
      `kubectl -n default patch service metrics --type json -p '[{"op":"test","path":"/spec/ports/1/targetPort","value":"prom"},{"op":"replace","path":"/spec/ports/1/targetPort","value":"metrics"}]'`,
    )
  })

  it('uses the number when the one declared port has no name', () => {
    const bare = pod({name: 'exporter-84c9f6d7b-zq5lp', labels: {app: 'exporter'}, ports: [{containerPort: 9100}]})
    expect(first(targetPortNameUndefined(svc, {pods: [bare], slices: []}), 'finding').fix?.command).toContain(`"value":9100}]'`)
  })

  it.each([
    [
      'the pods declare two ports',
      [
        pod({
          name: 'e-1',
          labels: {app: 'exporter'},
          ports: [
            {name: 'metrics', containerPort: 9100},
            {name: 'admin', containerPort: 9101},
          ],
        }),
      ],
    ],
    ['the pods declare different ports', [exporter, pod({name: 'e-2', labels: {app: 'exporter'}, ports: [{name: 'stats', containerPort: 9102}]})]],
    [
      'some pods define the name (the others are to fix)',
      [exporter, pod({name: 'e-3', labels: {app: 'exporter'}, ports: [{name: 'prom', containerPort: 9100}]})],
    ],
  ])('gives no command when %s', (_name, pods) => {
    const f = first(targetPortNameUndefined(svc, {pods, slices: []}), 'finding')
    expect(f.fix).toEqual({text: catalog['target-port-name-undefined'].fix})
  })
})

describe('target-port-not-declared', () => {
  it('warns when pods declare other ports but not the targetPort number', () => {
    const f = first(targetPortNotDeclared(service({ports: [{name: 'http', port: 80, targetPort: 8000}]}), {pods: [pod()]}), 'finding')
    expect(f).toMatchObject({
      id: 'target-port-not-declared',
      severity: 'warning',
      message:
        'port http 80/TCP of Service default/web targets port 8000, which no container of its 1 pod declares; it works only if the process listens on 8000 anyway',
    })
    expect(f.evidence).toEqual(['web-6d4cf56db6-7xkqz: declares http 8080/TCP (app)'])
  })

  it('defaults targetPort to port', () => {
    expect(targetPortNotDeclared(service({ports: [{name: 'http', port: 8080}]}), {pods: [pod()]})).toEqual([])
  })

  it('says nothing about pods that declare no ports at all (containerPort is optional)', () => {
    const bare = pod({containers: [{name: 'app', image: 'app:1'}]})
    expect(targetPortNotDeclared(service({ports: [{port: 80, targetPort: 8000}]}), {pods: [bare]})).toEqual([])
  })
})

describe('target-port-protocol-mismatch', () => {
  it('reports a number the pods declare only for another protocol', () => {
    const dns = pod({name: 'dns-0', labels: {app: 'dns'}, owner: null, ports: [{name: 'dns-tcp', containerPort: 53, protocol: 'TCP'}]})
    const f = first(
      targetPortProtocolMismatch(service({selector: {app: 'dns'}, ports: [{name: 'dns', port: 53, protocol: 'UDP', targetPort: 53}]}), {pods: [dns]}),
      'finding',
    )
    expect(f).toMatchObject({
      id: 'target-port-protocol-mismatch',
      severity: 'warning',
      message: 'port dns 53/UDP of Service default/web targets 53/UDP, but its pods declare 53 only as TCP',
      evidence: ['dns-0: declare dns-tcp 53/TCP (app)'],
    })
  })

  it('stays quiet when the number is declared for both protocols', () => {
    const dns = pod({
      labels: {app: 'dns'},
      ports: [
        {containerPort: 53, protocol: 'TCP'},
        {containerPort: 53, protocol: 'UDP'},
      ],
    })
    expect(targetPortProtocolMismatch(service({selector: {app: 'dns'}, ports: [{port: 53, protocol: 'UDP', targetPort: 53}]}), {pods: [dns]})).toEqual([])
  })
})
