// external-name-has-selector: an ExternalName Service is only a DNS alias; its selector is ignored.
import type {V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {formatSelector, selectorOf, serviceFinding, type CheckContext} from './check.js'
import {patchServiceCommand} from './fix-command.js'

/** An ExternalName Service carries a selector (no endpoints are made from it). */
export function externalNameHasSelector(svc: V1Service, _ctx?: Partial<CheckContext>): Finding[] {
  const sel = selectorOf(svc)
  if (svc.spec?.type !== 'ExternalName' || !sel) return []
  return [
    serviceFinding(
      'external-name-has-selector',
      svc,
      `ExternalName Service ${keyOf(svc)} has a selector (${formatSelector(sel)}), which is ignored: clients get a CNAME to "${svc.spec?.externalName ?? ''}", never the selected pods`,
      [`spec.selector: ${formatSelector(sel)}`, `spec.externalName: ${svc.spec?.externalName ?? '(empty)'}`],
      undefined,
      patchServiceCommand(svc, 'json', [{op: 'remove', path: '/spec/selector'}]),
    ),
  ]
}
