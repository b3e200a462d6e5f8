// The real captures under test/fixtures and examples/, read once, by format: the seeds the mutators start from.
import {readdirSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))

/** Every file under `dir` (relative to the repository) whose path matches `pattern`, as text. */
function texts(dir: string, pattern: RegExp): string[] {
  const out: string[] = []
  for (const entry of readdirSync(root + dir, {recursive: true, withFileTypes: true})) {
    const file = `${entry.parentPath}/${entry.name}`
    if (entry.isFile() && pattern.test(file)) out.push(readFileSync(file, 'latin1'))
  }
  if (out.length === 0) throw new Error(`no fixture under ${dir} matches ${pattern}`)
  return out
}

/** iptables-save dumps and kube-proxy's restore inputs (IPv4 and IPv6). */
export const IPTABLES = [
  ...texts('test/fixtures/samples', /\/iptables-[^/]*\.txt$/),
  ...texts('test/fixtures', /ip6?tables-save\.txt$/),
  ...texts('examples', /iptables-save\.txt$/),
]
/** The iptables rules of IPVS mode. */
export const IPVS_IPTABLES = texts('test/fixtures/samples/ipvs', /(iptables-restore|iptables-save)\.txt$/)
/** `ipvsadm -Sn`. */
export const IPVSADM_SAVE = texts('test/fixtures/samples/ipvs', /ipvsadm-save\.txt$/)
/** `ipvsadm -Ln`. */
export const IPVSADM_LIST = texts('test/fixtures/samples/ipvs', /(ipvsadm-list|ipvsadm-ln)\.txt$/)
/** /proc/net/ip_vs. */
export const PROC_IP_VS = texts('test/fixtures/samples/ipvs', /proc-net-ip_vs\.txt$/)
/** `ipset save` and `ipset list`. */
export const IPSET = texts('test/fixtures/samples/ipvs', /ipset-(save|list)\.txt$/)
/** `nft -j list …`. */
export const NFT_JSON = texts('test/fixtures/samples/nftables', /\.nft\.json$/)
/** nft listings and `nft -f` transaction text. */
export const NFT_TEXT = texts('test/fixtures/samples/nftables', /(\.nft-list\.txt|nftables-[^/]*\.txt|\.nft)$/)
/** The bundled examples' cluster.yaml. */
export const CLUSTER_YAML = texts('examples', /cluster\.yaml$/)
/** `conntrack -L` as the conntrack fixtures hold it (written by real conntrack in a namespace). */
export const CONNTRACK = texts('test/fixtures', /conntrack\.txt$/)
