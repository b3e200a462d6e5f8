// --conntrack on a live node: `conntrack -L -d IP` for each address the plan names (or `conntrack -L`
// for a check of every Service), run in the node's first round, and their lines kept as one capture.
// A node where conntrack cannot run keeps its traced rules: the reason goes in conntrackError.
import type {CollectionPlan} from '../../core/collection-plan.js'
import type {NodeDataplane} from '../../core/model.js'
import {withCapture} from '../../core/captures.js'
import type {BatchOutcomes, BatchStep} from './batch.js'
import {nodeCommands} from './commands.js'
import {isMissingProgram, NodeAccessError} from './connector.js'

const INSTALL_CONNTRACK =
  'install conntrack (Debian/Ubuntu: conntrack, RHEL: conntrack-tools), or read the node with --via exec --debug-pod-fallback (conntrack from a short-lived debug pod where the kube-proxy image lacks it)'

/** --conntrack: `conntrack -L -d IP` per address of the plan (`conntrack:N`), or `conntrack -L` once for the whole table. */
export function conntrackSteps(plan: CollectionPlan): BatchStep[] {
  const addresses = plan.conntrack?.addresses
  if (addresses === undefined) return []
  if (addresses === 'all') return [{id: 'conntrack', cmd: nodeCommands.conntrackList()}]
  return addresses.map((ip, i) => ({id: `conntrack:${i}`, cmd: nodeCommands.conntrackList(ip)}))
}

/**
 * The conntrack listings as one capture (each listing's lines, one after the other), or why they could
 * not be read: a node without conntrack, or sudo refusing it, still has its rules traced.
 */
export function placeConntrack(out: NodeDataplane, outcomes: BatchOutcomes, steps: readonly BatchStep[], node: string): void {
  if (steps.length === 0) return
  const texts: string[] = []
  for (const step of steps) {
    const o = outcomes.get(step.id)
    const line = step.cmd.argv.join(' ')
    if (o === undefined) {
      out.conntrackError = `\`${line}\` did not run on ${node}`
      return
    }
    if (o instanceof NodeAccessError) {
      // Over exec the connector knows the next step (a flag, an image); on a node, installing it is.
      out.conntrackError = isMissingProgram(o) ? `${o.message}; ${o.nextStep ?? INSTALL_CONNTRACK}` : o.message
      return
    }
    texts.push(o.stdout.endsWith('\n') || o.stdout === '' ? o.stdout : `${o.stdout}\n`)
  }
  const source = `${node}: ${steps.map((s) => s.cmd.argv.join(' ')).join('; ')}`
  out.captures = withCapture(out.captures, {kind: 'conntrack', text: texts.join(''), source})
}
