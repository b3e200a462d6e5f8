// Everything svctrace runs of @kubernetes/client-node (and of the WebSocket library its exec uses),
// in one place. The adapters load it on demand (`await import('./client-node.js')`), so --help,
// --version and offline traces never read it; the build bundles this module, not the whole package,
// as the client-node bundle (scripts/krew/bundle.js), so only these and what they need are in it.
// Types are imported from the package itself: they cost nothing at run time.
export {AppsV1Api, CoreV1Api, DiscoveryV1Api, Exec, KubeConfig} from '@kubernetes/client-node'
/** @public The three that make the run's HTTP library: the module itself is passed to apiHttp (client-options.ts). */
export {IsomorphicFetchHttpLibrary, ResponseContext, wrapHttpLibrary} from '@kubernetes/client-node'
// Not re-exported by the package index in 1.4.0; needed to own the socket (timeouts, refusal bodies).
export {WebSocketHandler} from '@kubernetes/client-node/dist/web-socket-handler.js'
export {default as WebSocket} from 'isomorphic-ws'
