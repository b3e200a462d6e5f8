// A node's captures indexed for tracing: the iptables dump by chain (rules decoded only when a walk
// reaches them), the nftables ruleset, the IPVS table and the ipsets. Throws DumpError on text that
// is no dump of its kind.
import {indexIptablesSave, type IptablesDump} from './iptables/dump.js'
import {parseIpset, type Ipsets} from './ipvs/ipset.js'
import {parseIpvsTable, type IpvsTable} from './ipvs/ipvsadm.js'
import type {NodeDataplane} from './model.js'
import type {NftRuleset} from './nftables/model.js'
import {parseNft} from './nftables/parse.js'

/** What was indexed from one node. */
export interface IndexedCaptures {
  iptables?: IptablesDump
  nft?: NftRuleset
  ipvs?: IpvsTable
  ipsets?: Ipsets
}

/** Indexes every capture the node has. */
export function indexCaptures(dp: NodeDataplane): IndexedCaptures {
  const n = dp.name
  const ipvsText = dp.ipvsadm ?? dp.procIpVs
  return {
    ...(dp.iptablesSave !== undefined ? {iptables: indexIptablesSave(dp.iptablesSave, dp.iptablesSource ?? `${n}: iptables-save`)} : {}),
    ...(dp.nft !== undefined ? {nft: parseNft(dp.nft, dp.nftSource ?? `${n}: nft`)} : {}),
    ...(ipvsText !== undefined ? {ipvs: parseIpvsTable(ipvsText, (dp.ipvsadm !== undefined ? dp.ipvsadmSource : dp.procIpVsSource) ?? `${n}: ipvsadm`)} : {}),
    ...(dp.ipset !== undefined ? {ipsets: parseIpset(dp.ipset, dp.ipsetSource ?? `${n}: ipset`)} : {}),
  }
}
