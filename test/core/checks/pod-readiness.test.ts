import {describe, expect, it} from 'vitest'
import {noReadyPods} from '../../../src/core/checks/no-ready-pods.js'
import {onlyTerminatingEndpoints} from '../../../src/core/checks/only-terminating-endpoints.js'
import {describeNotReady} from '../../../src/core/checks/pod-state.js'
import {pod, service, slice} from '../../support/builders.js'
import {first} from '../../support/defined.js'

describe('no-ready-pods', () => {
  it('reports each pod with its failing condition, container state and readiness probe', () => {
    const pods = [
      pod({
        ready: false,
        containers: [{name: 'app', image: 'app:1', ports: [{containerPort: 8080}], readinessProbe: {httpGet: {path: '/healthz', port: 8080}}}],
        state: {waiting: {reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container=app'}},
        restarts: 7,
      }),
      pod({
        name: 'web-6d4cf56db6-pend1',
        phase: 'Pending',
        ready: false,
        conditions: [{type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient cpu.'}],
      }),
    ]
    const f = first(noReadyPods(service(), {pods}), 'finding')
    expect(f).toMatchObject({id: 'no-ready-pods', severity: 'error', message: '2 pods match the selector app=web of Service default/web, but none is ready'})
    expect(f.evidence).toEqual([
      'web-6d4cf56db6-7xkqz on node-a: phase Running; Ready=False (ContainersNotReady: containers with unready status: [app]); container app: waiting CrashLoopBackOff (back-off 5m0s restarting failed container=app), 7 restarts; readiness probe httpGet http://:8080/healthz',
      'web-6d4cf56db6-pend1 (not scheduled): phase Pending; Ready=False (ContainersNotReady: containers with unready status: [app]); PodScheduled=False (Unschedulable: 0/2 nodes are available: 2 Insufficient cpu.); container app: waiting ContainerCreating',
    ])
  })

  it('names a readiness gate that was never reported', () => {
    const p = pod({ready: false})
    p.spec!.readinessGates = [{conditionType: 'target-health.elbv2.k8s.aws/web'}]
    first(p.status!.containerStatuses!).ready = true
    expect(describeNotReady(p)).toContain('readiness gate target-health.elbv2.k8s.aws/web not reported yet')
  })

  it.each([
    ['one ready pod among unready ones', service(), [pod({ready: false}), pod({name: 'web-6d4cf56db6-ok123'})]],
    ['no pod at all (selector-matches-no-pods says it)', service(), []],
    ['publishNotReadyAddresses', service({spec: {publishNotReadyAddresses: true}}), [pod({ready: false})]],
  ])('stays quiet with %s', (_name, svc, pods) => {
    expect(noReadyPods(svc, {pods})).toEqual([])
  })
})

describe('only-terminating-endpoints', () => {
  it('reports endpoints that are all terminating, and which still serve', () => {
    const slices = [
      slice({
        endpoints: [
          {ip: '10.244.0.5', node: 'node-a', pod: 'web-old-1', terminating: true, serving: true},
          {ip: '10.244.1.7', node: 'node-b', pod: 'web-old-2', terminating: true, serving: false},
        ],
      }),
    ]
    const f = first(onlyTerminatingEndpoints(service(), {slices}), 'finding')
    expect(f).toMatchObject({
      id: 'only-terminating-endpoints',
      severity: 'warning',
      message: 'all 2 endpoints of Service default/web are terminating: kube-proxy uses the one still serving (web-old-1 (10.244.0.5)) until it stops',
    })
    expect(f.evidence).toEqual([
      'web-old-1 (10.244.0.5) on node-a: terminating, still serving',
      'web-old-2 (10.244.1.7) on node-b: terminating, no longer serving',
    ])
  })

  it('says connections are refused when none serves', () => {
    const f = first(onlyTerminatingEndpoints(service(), {slices: [slice({endpoints: [{ip: '10.244.0.5', terminating: true, serving: false}]})]}), 'finding')
    expect(f.message).toContain('none is serving, so new connections are refused')
  })

  it('stays quiet while one endpoint is not terminating, and with no endpoints', () => {
    const mixed = slice({endpoints: [{ip: '10.244.0.5', terminating: true}, {ip: '10.244.0.6'}]})
    expect(onlyTerminatingEndpoints(service(), {slices: [mixed]})).toEqual([])
    expect(onlyTerminatingEndpoints(service(), {slices: [slice({endpoints: []})]})).toEqual([])
  })
})
