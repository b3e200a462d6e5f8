// Builders for API objects shaped like `kubectl get -o yaml` output, with the defaults of a
// healthy Deployment-backed ClusterIP Service, so a test states only what it cares about:
//   service({selector: {app: 'web', tier: 'cahce'}}), pod({labels: {app: 'web'}, ready: false})
import type {
  V1Container,
  V1ContainerPort,
  V1ContainerState,
  V1Endpoint,
  V1Endpoints,
  V1EndpointSlice,
  V1Node,
  V1Pod,
  V1PodCondition,
  V1Service,
  V1ServicePort,
  V1ServiceSpec,
} from '@kubernetes/client-node'
import type {ClusterView} from '../../src/core/model.js'

/** Timestamps as the API prints them; the core never reads the clock. */
const TIME = '2026-11-23T09:25:49Z' as unknown as Date

export interface ServiceOptions {
  name?: string
  namespace?: string
  type?: V1ServiceSpec['type']
  /** null: a Service without a selector. */
  selector?: Record<string, string> | null
  ports?: Array<Partial<V1ServicePort>>
  /** 'None' makes it headless. */
  clusterIP?: string
  labels?: Record<string, string>
  /** Anything else of the spec (externalTrafficPolicy, loadBalancerSourceRanges…). */
  spec?: Partial<V1ServiceSpec>
  /** status.loadBalancer.ingress IPs (a LoadBalancer gets 192.0.2.10 unless this says otherwise). */
  ingress?: string[]
}

/** A Service: ClusterIP 10.96.0.10, port http 80 → 8080, selector app=web in namespace default. */
export function service(o: ServiceOptions = {}): V1Service {
  const type = o.type ?? 'ClusterIP'
  const clusterIP = o.clusterIP ?? '10.96.0.10'
  const ports = (o.ports ?? [{name: 'http', port: 80, targetPort: 8080}]).map((p, i) => ({
    protocol: 'TCP',
    ...(type === 'NodePort' || type === 'LoadBalancer' ? {nodePort: 30080 + i} : {}),
    ...p,
    port: p.port ?? 80,
  }))
  const spec: V1ServiceSpec =
    type === 'ExternalName'
      ? {type, externalName: 'db.example.com', ports, sessionAffinity: 'None'}
      : {
          type,
          clusterIP,
          clusterIPs: [clusterIP],
          internalTrafficPolicy: 'Cluster',
          ipFamilies: ['IPv4'],
          ipFamilyPolicy: 'SingleStack',
          ports,
          sessionAffinity: 'None',
          ...(type === 'NodePort' || type === 'LoadBalancer' ? {externalTrafficPolicy: 'Cluster'} : {}),
        }
  if (o.selector !== null) spec.selector = o.selector ?? {app: 'web'}
  Object.assign(spec, o.spec)
  const ingress = o.ingress ?? (type === 'LoadBalancer' ? ['192.0.2.10'] : [])
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {name: o.name ?? 'web', namespace: o.namespace ?? 'default', creationTimestamp: TIME, ...(o.labels ? {labels: o.labels} : {})},
    spec,
    status: {loadBalancer: ingress.length > 0 ? {ingress: ingress.map((ip) => ({ip}))} : {}},
  }
}

export interface PodOptions {
  name?: string
  namespace?: string
  labels?: Record<string, string>
  node?: string | undefined
  ip?: string
  /** The Ready condition (and the container's ready flag). */
  ready?: boolean
  phase?: string
  /** containerPort entries of the one container, `app`. */
  ports?: Array<Partial<V1ContainerPort>>
  /** The controller ownerReference; null for a bare pod. Default: ReplicaSet <name minus the last segment>. */
  owner?: {kind: string; name: string} | null
  /** Replace the containers entirely. */
  containers?: V1Container[]
  /** Extra or replacing status conditions (matched by type). */
  conditions?: V1PodCondition[]
  /** The container status state (e.g. {waiting: {reason: 'CrashLoopBackOff'}}). */
  state?: V1ContainerState
  restarts?: number
  terminating?: boolean
}

/** A running, ready pod `web-6d4cf56db6-7xkqz` of ReplicaSet web-6d4cf56db6 (so labelled pod-template-hash) with port http 8080/TCP. */
export function pod(o: PodOptions = {}): V1Pod {
  const name = o.name ?? 'web-6d4cf56db6-7xkqz'
  const ready = o.ready ?? true
  const phase = o.phase ?? 'Running'
  const owner = o.owner === undefined ? {kind: 'ReplicaSet', name: name.replace(/-[^-]+$/, '')} : o.owner
  const containers = o.containers ?? [
    {
      name: 'app',
      image: 'registry.example.com/app:1.0',
      ports: (o.ports ?? [{name: 'http', containerPort: 8080}]).map((p) => ({protocol: 'TCP', containerPort: 8080, ...p})),
    },
  ]
  const base: V1PodCondition[] = [
    {type: 'Initialized', status: 'True', lastTransitionTime: TIME},
    {
      type: 'Ready',
      status: ready ? 'True' : 'False',
      lastTransitionTime: TIME,
      ...(ready ? {} : {reason: 'ContainersNotReady', message: `containers with unready status: [${containers.map((c) => c.name).join(' ')}]`}),
    },
    {type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: TIME, ...(ready ? {} : {reason: 'ContainersNotReady'})},
    {type: 'PodScheduled', status: 'True', lastTransitionTime: TIME},
  ]
  const conditions = [...base.filter((c) => !(o.conditions ?? []).some((x) => x.type === c.type)), ...(o.conditions ?? [])]
  const scheduled = o.node !== undefined || phase !== 'Pending'
  const node = o.node ?? 'node-a'
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      labels: {
        ...(owner?.kind === 'ReplicaSet' ? {'pod-template-hash': owner.name.slice(owner.name.lastIndexOf('-') + 1)} : {}),
        ...(o.labels ?? {app: 'web'}),
      },
      creationTimestamp: TIME,
      ...(owner
        ? {ownerReferences: [{apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: `uid-${owner.name}`, controller: true, blockOwnerDeletion: true}]}
        : {}),
      ...(o.terminating ? {deletionTimestamp: TIME, deletionGracePeriodSeconds: 30} : {}),
    },
    spec: {containers, ...(scheduled ? {nodeName: node} : {}), restartPolicy: 'Always'},
    status: {
      phase,
      conditions,
      ...(scheduled ? {hostIP: '192.168.49.2'} : {}),
      ...(phase === 'Running' ? {podIP: o.ip ?? '10.244.0.5', podIPs: [{ip: o.ip ?? '10.244.0.5'}]} : {}),
      containerStatuses: containers.map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        ready,
        restartCount: o.restarts ?? 0,
        started: phase === 'Running',
        state: o.state ?? (phase === 'Running' ? {running: {startedAt: TIME}} : {waiting: {reason: 'ContainerCreating'}}),
      })),
    },
  }
}

export interface EndpointOptions {
  ip: string
  node?: string
  /** The pod it names (targetRef); null for an address with no pod. */
  pod?: string | null
  ready?: boolean
  serving?: boolean
  terminating?: boolean
}

export interface SliceOptions {
  /** The Service it belongs to (the kubernetes.io/service-name label); null: no such label. */
  service?: string | null
  name?: string
  namespace?: string | undefined
  addressType?: string
  endpoints?: EndpointOptions[]
  /** null: `ports: null`, as the controller writes when no port resolves. */
  ports?: Array<{name?: string | undefined; port: number; protocol?: string}> | null | undefined
  labels?: Record<string, string>
  managedBy?: string
}

/** An EndpointSlice of Service web with one ready endpoint 10.244.0.5 on node-a, port http 8080. */
export function slice(o: SliceOptions = {}): V1EndpointSlice {
  const svc = o.service === undefined ? 'web' : o.service
  const namespace = o.namespace ?? 'default'
  const endpoints: V1Endpoint[] = (o.endpoints ?? [{ip: '10.244.0.5', node: 'node-a', pod: 'web-6d4cf56db6-7xkqz'}]).map((e) => {
    const terminating = e.terminating ?? false
    const ready = e.ready ?? !terminating
    return {
      addresses: [e.ip],
      conditions: {ready, serving: e.serving ?? ready, terminating},
      ...(e.node ? {nodeName: e.node} : {}),
      ...(e.pod ? {targetRef: {kind: 'Pod', name: e.pod, namespace, uid: `uid-${e.pod}`}} : {}),
    }
  })
  const labels = {
    ...(svc !== null ? {'kubernetes.io/service-name': svc} : {}),
    'endpointslice.kubernetes.io/managed-by': o.managedBy ?? 'endpointslice-controller.k8s.io',
    ...o.labels,
  }
  const ports =
    o.ports === null ? null : (o.ports ?? [{name: 'http', port: 8080}]).map((p) => ({name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP'}))
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    addressType: o.addressType ?? 'IPv4',
    metadata: {name: o.name ?? `${svc ?? 'manual'}-abcde`, namespace, labels, creationTimestamp: TIME},
    endpoints,
    ports: ports as NonNullable<V1EndpointSlice['ports']>,
  }
}

/** An Endpoints object (what a selectorless Service is usually given by hand). */
export function endpoints(o: {name?: string; namespace?: string; addresses?: string[]; ports?: Array<{name?: string; port: number}>} = {}): V1Endpoints {
  const addresses = o.addresses ?? ['10.244.0.5']
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {name: o.name ?? 'web', namespace: o.namespace ?? 'default', creationTimestamp: TIME},
    ...(addresses.length > 0
      ? {subsets: [{addresses: addresses.map((ip) => ({ip})), ports: (o.ports ?? [{name: 'http', port: 8080}]).map((p) => ({protocol: 'TCP', ...p}))}]}
      : {}),
  }
}

/** A Ready node node-a, InternalIP 192.168.49.2, pods 10.244.0.0/24. */
export function node(o: {name?: string; ip?: string; podCIDR?: string} = {}): V1Node {
  const podCIDR = o.podCIDR ?? '10.244.0.0/24'
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {name: o.name ?? 'node-a', labels: {'kubernetes.io/hostname': o.name ?? 'node-a', 'kubernetes.io/os': 'linux'}, creationTimestamp: TIME},
    spec: {podCIDR, podCIDRs: [podCIDR]},
    status: {
      addresses: [
        {type: 'InternalIP', address: o.ip ?? '192.168.49.2'},
        {type: 'Hostname', address: o.name ?? 'node-a'},
      ],
      conditions: [{type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: TIME, lastTransitionTime: TIME}],
    },
  }
}

/** A ClusterView of the objects given (the rest empty). */
export function view(parts: Partial<ClusterView>): ClusterView {
  return {services: [], endpointSlices: [], endpoints: [], pods: [], nodes: [], ...parts}
}
