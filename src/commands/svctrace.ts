// kubectl svctrace: translates flags into a query, runs the trace, renders, sets the exit code.
import {Args, Command, Flags} from '@oclif/core'
import {clusterFlags, outputFlags, queryFlags} from './flags.js'
import {formatCidr, parseCidr, parseDestination, splitDestination} from '../core/address.js'
import {looksLikeDnsName, parseNameDestination} from '../core/dns-name.js'
import type {Query} from '../core/model.js'
import {QueryError} from '../core/report.js'
import {SourceError} from '../app/ports.js'
import {runTrace, type TraceOutcome, type TraceSettings} from '../app/run-trace.js'
import {unknownFindingMessage, withFlagSuggestion} from './usage-hints.js'
import {cleanLines} from '../render/style.js'
import {captureSink, openSources, RunInterrupted, withInterruption, type Interruption} from './wiring.js'
import {NODES_NOT_READ, nodeFlags, NodeFlagError, resolveNodeAccess, type NodeAccess, type NodeFlagValues} from './node-flags.js'
import {nodeProgress} from './progress.js'
import {parseServiceArg} from './service-arg.js'
import {verboseLog} from './verbose-log.js'
import {userAgent} from '../adapters/kube/user-agent.js'
import {verbosityArgs} from './verbosity.js'
import {DEFAULT_WIDTH} from '../render/layout.js'
import {explainFinding, findingSlugs} from '../render/explain.js'
import {isUtf8Locale, renderOutput} from './output.js'
import {writeFully, writePieces} from './streams.js'
import {keepHeapNearLive} from './heap-policy.js'

/** The terminal's width; through a pipe, COLUMNS when set (as `kubectl` and `ls` read it), else 80. */
function terminalWidth(): number {
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns
  const columns = Number.parseInt(process.env.COLUMNS ?? '', 10)
  return Number.isFinite(columns) && columns > 0 ? columns : DEFAULT_WIDTH
}

export default class Svctrace extends Command {
  static override summary = "Trace a Service's traffic through kube-proxy, node by node, and why it fails."
  static override description = `Reads the Service, its EndpointSlices, Endpoints and Pods, and each node's kube-proxy rules (iptables-save), then follows the destination hop by hop (KUBE-SERVICES → KUBE-SVC → KUBE-SEP → DNAT → pod) with each backend's probability, and reports what is broken.

Output (-o): table, the answer with alike nodes merged; wide, every node and hop; tree, per node each entry → every hop with the rule that matched → the backends (box-drawn when LC_ALL/LC_CTYPE/LANG name UTF-8); json and yaml, the versioned report; dot, a Graphviz graph (pipe to \`dot -Tsvg\`); mermaid, a flowchart. With -A, tree prints one tree per Service and dot/mermaid one graph with a box per Service.

Exit codes: 0 traced and no finding at or above --fail-on; 1 findings at or above --fail-on; 2 bad usage or nothing could be read.`

  static override usage = ['SERVICE [-n NAMESPACE] [flags]', '--ip IP|NAME.NS[:PORT][/PROTO] [flags]', '-A | -n NAMESPACE   (check every Service)']

  static override examples = [
    {description: 'Check a Service of the current kubectl context', command: 'kubectl svctrace hello-world -n default'},
    {description: 'Trace every port of a Service in the bundled example cluster', command: 'kubectl svctrace hello-world --from examples/hello-world'},
    {description: 'Find what owns an address, then trace it', command: 'kubectl svctrace --ip 10.96.77.44:80/tcp --from examples/hello-world'},
    {
      description: 'Draw a Service as a picture with Graphviz',
      command: 'kubectl svctrace hello-world --from examples/hello-world -o dot | dot -Tsvg > hello-world.svg',
    },
    {description: 'Trace a load balancer for one client, as JSON', command: 'kubectl svctrace web-lb --source 203.0.113.9 -o json --from examples/hello-world'},
    {
      description: 'Which part of a client network the source ranges let in',
      command: 'kubectl svctrace web-lb --source 203.0.112.0/23 --from examples/hello-world',
    },
    {description: 'Trace cluster DNS by its name (UDP and TCP 53)', command: 'kubectl svctrace --ip kube-dns.kube-system.svc.cluster.local'},
    {
      description: "Read each node's kube-proxy rules over SSH (host keys checked against known_hosts)",
      command: 'kubectl svctrace hello-world --via ssh --ssh-user core --ssh-key ~/.ssh/id_ed25519',
    },
    {description: 'Read them in the kube-proxy pods instead', command: 'kubectl svctrace hello-world --via exec'},
  ]

  static override args = {
    service: Args.string({description: 'the Service to trace: NAME, NAMESPACE/NAME, svc/NAME or NAME.NAMESPACE[.svc[.DOMAIN]]', required: false}),
  }

  static override flags = {
    help: Flags.help({char: 'h'}),
    version: Flags.version(),
    ...queryFlags,
    ...clusterFlags,
    ...outputFlags,
    ...nodeFlags,
  }

  async run(): Promise<void> {
    const verbosity = verbosityArgs(this.argv)
    if ('error' in verbosity) this.error(verbosity.error, {exit: 2})
    const {args, flags} = await this.parse(Svctrace, verbosity.argv)
    if (flags.explain !== undefined) {
      const text = explainFinding(flags.explain)
      if (!text) this.error(unknownFindingMessage('--explain', [flags.explain], findingSlugs()), {exit: 2})
      process.stdout.write(`${text}\n`)
      return
    }
    const ignore = (flags.ignore ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)
    const unknownIds = ignore.filter((id) => !findingSlugs().includes(id))
    if (unknownIds.length > 0) this.error(unknownFindingMessage('--ignore', unknownIds, findingSlugs()), {exit: 2})
    const settings: TraceSettings = {
      query: this.toQuery(args.service, flags),
      nodes: flags.nodes
        ? flags.nodes
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [],
      failOn: flags['fail-on'],
      ignore,
      ...(flags.conntrack ? {conntrack: true} : {}),
      counters: flags.counters,
      // Check mode's table (-o wide too) shows verdicts, findings and rule walks, never a path.
      summaryOnly: flags.output === 'table' || flags.output === 'wide',
    }
    // Check mode holds every Service's objects and the nodes' whole dumps for the whole run.
    if (settings.query.kind === 'all') keepHeapNearLive()
    const access = await this.nodeAccess(flags)
    if (flags.conntrack && access.via === 'none' && flags.from === undefined)
      this.error('--conntrack reads the nodes: add --via ssh (with --ssh-user …) or --via exec, or read a bundle with --from DIR', {exit: 2})
    const progress = access.via === 'none' ? undefined : nodeProgress(process.stderr)
    const log = flags.verbose ? verboseLog(process.stderr, progress) : undefined
    let outcome: TraceOutcome
    let interruption: Interruption | undefined
    let notices: string[] = []
    try {
      const sources = await openSources(
        {...flags, requestTimeoutMs: flags['request-timeout'] * 1000, userAgent: userAgent(this.config.name, this.config.version)},
        access,
        {
          ...(progress ? {onProgress: (done: number, total: number) => progress.update(done, total), beforePrompt: () => progress.clear()} : {}),
          ...(log ? {log} : {}),
        },
      )
      const {cluster, reader} = sources
      notices = sources.notices
      const capture = flags.capture === undefined ? {} : {capture: captureSink(flags.capture)}
      const run = await withInterruption(reader, async (interrupted) => {
        const result = await runTrace(settings, {cluster, reader, ...capture}, {interrupted})
        progress?.clear()
        return result
      })
      outcome = run.result
      interruption = run.interruption
    } catch (err) {
      progress?.clear()
      if (err instanceof SourceError || err instanceof QueryError) this.error(err.message, {exit: 2})
      if (err instanceof RunInterrupted) this.error(err.message, {exit: err.code})
      throw err
    }
    if (interruption && flags.capture !== undefined) process.stderr.write(`--capture: nothing was written to ${flags.capture}: the run was interrupted\n`)
    const {report, exit} = outcome
    const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && !flags['no-color']
    const style = {color, wide: false, width: terminalWidth(), unicode: isUtf8Locale(process.env)}
    // The expected paths' heading already says how to read the nodes.
    const out = renderOutput(flags.output, report, style, report.expected ? notices.filter((n) => n !== NODES_NOT_READ) : notices)
    // No process.exit: a pipe must get the whole output, however slowly it reads.
    await writePieces(process.stdout, out)
    // An interrupted run prints what it read, and still exits as an interrupted command does.
    process.exitCode = interruption?.code ?? exit.code
  }

  private async nodeAccess(flags: NodeFlagValues): Promise<NodeAccess> {
    try {
      return await resolveNodeAccess(flags)
    } catch (err) {
      if (err instanceof NodeFlagError) this.error(err.message, {exit: 2})
      throw err
    }
  }

  /** Errors print as kubectl prints them: `error: …` on stderr, one paragraph, no stack. */
  protected override async catch(err: Error & {oclif?: {exit?: number}}): Promise<void> {
    if (err.oclif?.exit === 0 || /\bEEXIT: \d/.test(err.message)) throw err
    const known = err.oclif?.exit !== undefined
    // Names from the cluster appear in messages too (similar Services, contexts): printed inert.
    const message = cleanLines(
      known
        ? withFlagSuggestion(err.message.replace(/\n+See more help with --help$/, ''), Svctrace.flags)
        : `internal error: ${err.message} (this is a bug in svctrace; please report it with the command you ran)`,
    )
    // No this.exit(): it would end the process with the message possibly still in a pipe. The error
    // is handled here, so oclif's development-build hint about an unparsed command does not apply.
    this.parsed = true
    process.exitCode = known ? (err.oclif?.exit ?? 2) : 2
    await writeFully(
      process.stderr,
      `error: ${message}\n${known && /Expected|Missing|Nonexistent|Unexpected|expects a value/.test(message) ? 'See kubectl svctrace --help\n' : ''}`,
    )
  }

  private toQuery(
    service: string | undefined,
    flags: {ip?: string | undefined; namespace?: string | undefined; source?: string | undefined; 'all-namespaces'?: boolean | undefined},
  ): Query {
    const range = flags.source === undefined ? undefined : parseCidr(flags.source.trim())
    if (flags.source !== undefined && !range) {
      this.error(`--source "${flags.source}" is not an IP address or CIDR range (e.g. --source 203.0.113.9 or --source 203.0.113.0/24)`, {exit: 2})
    }
    const source = range ? formatCidr(range) : undefined
    if (flags.ip !== undefined) {
      if (service) this.error(`give either a Service name or --ip, not both (got "${service}" and --ip ${flags.ip})`, {exit: 2})
      const host = splitDestination(flags.ip)
      if (!('error' in host) && looksLikeDnsName(host.host)) {
        const named = parseNameDestination(flags.ip)
        if ('error' in named) this.error(`--ip ${named.error}`, {exit: 2})
        if (flags.namespace !== undefined && flags.namespace !== named.dns.namespace) {
          this.error(`--ip ${flags.ip} names namespace ${named.dns.namespace} but -n says ${flags.namespace}: drop -n`, {exit: 2})
        }
        const {dns, port, protocol} = named
        return {
          kind: 'name',
          name: dns.fqdn,
          service: dns.name,
          namespace: dns.namespace,
          ...(port !== undefined ? {port} : {}),
          ...(protocol ? {protocol} : {}),
          ...(source ? {source} : {}),
        }
      }
      const parsed = parseDestination(flags.ip)
      if ('error' in parsed) this.error(`--ip ${parsed.error}`, {exit: 2})
      const {destination, portGiven} = parsed
      return {kind: 'ip', ip: destination.ip, ...(portGiven ? {port: destination.port} : {}), protocol: destination.protocol, ...(source ? {source} : {})}
    }
    if (flags['all-namespaces']) {
      if (service) this.error(`-A checks every Service; drop "${service}" or -A`, {exit: 2})
      if (flags.namespace) this.error('-A checks every namespace; drop -n or -A', {exit: 2})
      return {kind: 'all', ...(source ? {source} : {})}
    }
    if (!service) {
      if (flags.namespace) return {kind: 'all', namespace: flags.namespace, ...(source ? {source} : {})}
      this.error(
        'name a Service (kubectl svctrace SERVICE -n NAMESPACE), an address (--ip IP[:PORT][/PROTO]), or check them all (-A, or -n NAMESPACE); see kubectl svctrace --help',
        {exit: 2},
      )
    }
    const ref = parseServiceArg(service, flags.namespace)
    if ('error' in ref) this.error(ref.error, {exit: 2})
    return {kind: 'service', service: ref.name, ...(ref.namespace ? {namespace: ref.namespace} : {}), ...(source ? {source} : {})}
  }
}
