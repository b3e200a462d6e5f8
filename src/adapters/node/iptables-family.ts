// kube-proxy runs one proxier per IP family: IPv4 rules are written with iptables, IPv6 ones with
// ip6tables, under the same chain names. A targeted read reads each family the same way with its tool.
import type {CollectionPlan, PlanTable} from '../../core/collection-plan.js'
import {nodeCommands, type NodeCommand} from './commands.js'

/**
 * One IP family's tool. The step ids of IPv6 reads end their kind in 6 (`nat6:KUBE-SVC-…`,
 * `whole6:nat`, `keep6:nat`), so both families' steps share one batch and each reads back its own.
 */
export interface IptablesFamily {
  tool: 'iptables' | 'ip6tables'
  idSuffix: '' | '6'
  listChain: (table: string, chain: string, counters?: boolean) => NodeCommand
  saveTable: (table: string, counters?: boolean) => NodeCommand
  /** The plan's first-round chains of this family. */
  chainsOf: (plan: CollectionPlan) => Record<PlanTable, string[]>
}

/** IPv4: iptables, CollectionPlan.chains. */
export const IPV4: IptablesFamily = {
  tool: 'iptables',
  idSuffix: '',
  listChain: nodeCommands.iptablesListChain,
  saveTable: nodeCommands.iptablesSaveTable,
  chainsOf: (plan) => plan.chains,
}

/** IPv6: ip6tables, CollectionPlan.chains6. */
export const IPV6: IptablesFamily = {
  tool: 'ip6tables',
  idSuffix: '6',
  listChain: nodeCommands.ip6tablesListChain,
  saveTable: nodeCommands.ip6tablesSaveTable,
  chainsOf: (plan) => plan.chains6,
}
