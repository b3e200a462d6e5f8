import {describe, expect, it} from 'vitest'
import {ownerOf, selectorMatchesSeveralOwners} from '../../../src/core/checks/selector-matches-several-owners.js'
import {pod, service} from '../../support/builders.js'
import {first} from '../../support/defined.js'

describe('selector-matches-several-owners', () => {
  it('names each workload the selector reaches and the labels that set it apart', () => {
    const pods = [
      pod({name: 'web-6d4cf56db6-7xkqz', labels: {app: 'web', tier: 'frontend', 'pod-template-hash': '6d4cf56db6'}}),
      pod({name: 'web-6d4cf56db6-m2wbr', labels: {app: 'web', tier: 'frontend', 'pod-template-hash': '6d4cf56db6'}}),
      pod({name: 'web-admin-5b8f7c9d4-hk2vz', labels: {app: 'web', tier: 'admin', 'pod-template-hash': '5b8f7c9d4'}}),
    ]
    const f = first(selectorMatchesSeveralOwners(service(), {pods}), 'finding')
    expect(f).toMatchObject({
      id: 'selector-matches-several-owners',
      severity: 'warning',
      message: 'selector app=web of Service default/web matches pods of 2 workloads: Deployment web, Deployment web-admin',
    })
    expect(f.evidence).toEqual([
      'Deployment web: 2 pods (web-6d4cf56db6-7xkqz, web-6d4cf56db6-m2wbr); labels that set it apart: tier=frontend',
      'Deployment web-admin: 1 pod (web-admin-5b8f7c9d4-hk2vz); labels that set it apart: tier=admin',
    ])
  })

  it('does not count bare pods as workloads: one Deployment and two bare pods is no finding', () => {
    const pods = [pod(), pod({name: 'debug', owner: null}), pod({name: 'debug-2', owner: null})]
    expect(selectorMatchesSeveralOwners(service(), {pods})).toEqual([])
  })

  it('lists the bare pods as one group when two controllers own pods, with the labels that differ between the groups', () => {
    const pods = [
      pod({name: 'web-6d4cf56db6-7xkqz', labels: {app: 'web', track: 'stable'}}),
      pod({name: 'canary-5b8f7c9d4-hk2vz', labels: {app: 'web', track: 'canary'}}),
      pod({name: 'debug', owner: null, labels: {app: 'web', run: 'debug'}}),
      pod({name: 'shell', owner: null, labels: {app: 'web', run: 'debug'}}),
    ]
    const f = first(selectorMatchesSeveralOwners(service(), {pods}), 'finding')
    expect(f.message).toBe(
      'selector app=web of Service default/web matches pods of 2 workloads: Deployment web, Deployment canary, and 2 pods with no controller',
    )
    expect(f.evidence).toEqual([
      'Deployment web: 1 pod (web-6d4cf56db6-7xkqz); labels that set it apart: track=stable',
      'Deployment canary: 1 pod (canary-5b8f7c9d4-hk2vz); labels that set it apart: track=canary',
      'pods with no controller: 2 pods (debug, shell); labels that set it apart: run=debug',
    ])
  })

  it('shows only labels no pod of another group carries', () => {
    const pods = [
      pod({name: 'web-6d4cf56db6-7xkqz', labels: {app: 'web', tier: 'frontend', track: 'stable'}}),
      pod({name: 'web-admin-5b8f7c9d4-hk2vz', labels: {app: 'web', tier: 'frontend', track: 'admin'}}),
      pod({name: 'web-batch-7c9d5f8d4b-q2x8z', labels: {app: 'web', tier: 'batch', track: 'admin'}}),
    ]
    expect(first(selectorMatchesSeveralOwners(service(), {pods}), 'finding').evidence).toEqual([
      'Deployment web: 1 pod (web-6d4cf56db6-7xkqz); labels that set it apart: track=stable',
      'Deployment web-admin: 1 pod (web-admin-5b8f7c9d4-hk2vz)',
      'Deployment web-batch: 1 pod (web-batch-7c9d5f8d4b-q2x8z); labels that set it apart: tier=batch',
    ])
  })

  it('treats a rollout (two ReplicaSets of one Deployment) as one owner', () => {
    const pods = [
      pod({name: 'web-6d4cf56db6-7xkqz', labels: {app: 'web', 'pod-template-hash': '6d4cf56db6'}}),
      pod({name: 'web-7f5b8c4d6a-kp3zr', labels: {app: 'web', 'pod-template-hash': '7f5b8c4d6a'}}),
    ]
    expect(selectorMatchesSeveralOwners(service(), {pods})).toEqual([])
  })

  it('ignores finished pods (a completed Job pod is no endpoint)', () => {
    const pods = [pod(), pod({name: 'migrate-x7k2p', phase: 'Succeeded', ready: false, owner: {kind: 'Job', name: 'migrate'}})]
    expect(selectorMatchesSeveralOwners(service(), {pods})).toEqual([])
  })

  it.each([
    ['ReplicaSet of a Deployment', pod({name: 'web-6d4cf56db6-7xkqz', labels: {'pod-template-hash': '6d4cf56db6'}}), 'Deployment web'],
    [
      'ReplicaSet of an Argo Rollout',
      pod({name: 'web-7c9d5f8d4b-q2x8z', labels: {'rollouts-pod-template-hash': '7c9d5f8d4b'}, owner: {kind: 'ReplicaSet', name: 'web-7c9d5f8d4b'}}),
      'Rollout web',
    ],
    ['StatefulSet', pod({name: 'redis-0', owner: {kind: 'StatefulSet', name: 'redis'}}), 'StatefulSet redis'],
    [
      'no ownerReferences, Deployment-style name',
      pod({name: 'api-5d8c6f7b9-hq7vd', owner: null, labels: {'pod-template-hash': '5d8c6f7b9'}}),
      'Deployment api',
    ],
    [
      'no ownerReferences, StatefulSet pod-name label',
      pod({name: 'cache-1', owner: null, labels: {'statefulset.kubernetes.io/pod-name': 'cache-1'}}),
      'StatefulSet cache',
    ],
    ['no ownerReferences, an ordinal name but no StatefulSet label (a bare pod)', pod({name: 'debug-2', owner: null}), undefined],
    ['a bare pod', pod({name: 'debug', owner: null}), undefined],
  ])('ownerOf: %s', (_name, p, owner) => {
    expect(ownerOf(p)).toBe(owner)
  })
})
