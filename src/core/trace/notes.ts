// What a trace says besides its verdict: typed notes with a kind and parameters. The sentences are
// made by the renderer (src/render/notes.ts); code that needs to know whether a path is uncertain,
// or why, asks the kind, never the text.

/** A place in a node's dump: the rule's line (0 when the dump form has no lines) and its chain. */
interface At {
  line: number
}

/** Every note a trace can carry. */
export type Note =
  // The walk itself (any mode).
  | {kind: 'chain-missing'; table: string; chain: string}
  | {kind: 'jump-to-missing-chain'; chain: string}
  | {kind: 'jump-cycle'; verb: 'jump' | 'goto'; chain: string; stack: string[]; line?: number}
  | {kind: 'jump-cycle-at'; line: number}
  | {kind: 'branch-limit'; limit: number}
  | {kind: 'walk-limit'; limit: number}
  | {kind: 'path-limit'; limit: number}
  | ({kind: 'rule-unreadable'; error: string} & At)
  | ({kind: 'rule-skipped'} & At)
  | {kind: 'dnat-unreadable'; text: string; line?: number; chain?: string}
  | ({kind: 'target-not-understood'; target: string} & At)
  | ({kind: 'unknown-target'; target: string} & At)
  | {kind: 'hooks-assumed'; table: string; builtin: string; hooks: string[]}
  | {kind: 'no-nat-table'}
  | {kind: 'no-filter-table'}
  // iptables mode writes each IP family's rules with its own tool; the dump of this destination's family was not read.
  | {kind: 'family-not-read'; family: 4 | 6; missing: 'iptables-save' | 'ip6tables-save'; read: string}
  // iptables matches the tracer cannot decide.
  | ({kind: 'source-port-unknown'} & At)
  | ({kind: 'addrtype-unknown'; type: string} & At)
  | ({kind: 'mark-unknown'} & At)
  | ({kind: 'interface-untraced'; name: string} & At)
  | ({kind: 'ipset-unavailable'; set: string} & At)
  | ({kind: 'match-not-understood'; text: string} & At)
  // nftables statements.
  | {kind: 'statement-not-understood'; chain: string; text: string; line: number}
  | {kind: 'match-undecided'; chain: string; text: string}
  | {kind: 'map-key-unreadable'; chain: string; text: string}
  | {kind: 'redirect-to-local-process'; chain: string; text: string}
  | {kind: 'no-kube-proxy-table'; source: string; family: 'ip' | 'ip6'}
  // IPVS.
  | {kind: 'ipvs-scheduler'; server: string; scheduler: string; how: string; realServers: Array<{address: string; weight: number}>}
  | {kind: 'ipvs-draining'; server: string; realServer: string}
  | {kind: 'ipvs-persistent'; server: string; seconds: number}
  | {kind: 'ipvs-persistent-ticks'; server: string; ticks: number}
  | {kind: 'ipvs-flags'; server: string; flags: string[]}
  | {kind: 'ipvs-no-virtual-server'; ip: string; port: number | undefined; protocol: string}
  | {kind: 'ipvs-no-real-servers'; server: string; onlyDraining: boolean}
  | {kind: 'ipvs-hairpin'; ip: string}
  | {kind: 'ipvs-local-policy'; address: string; set: string}
  | {kind: 'ipvs-iptables-not-read'; missing: 'iptables-save' | 'ip6tables-save'}
  | {kind: 'ipvs-dnat-by-iptables'}
  // userspace mode.
  | {kind: 'userspace-proxy'; port: number}
  | {kind: 'userspace-no-portal'; chain: string; source: string}
  // The node and the path as a whole.
  | {kind: 'modes-mixed'; node: string; others: string[]; used: string; orderUncertain: boolean}
  | {kind: 'assumed'; conditions: string[]; sourceGiven: boolean}
  | {kind: 'fall-through'; share: number}
  // The address is a Service's, the port (or protocol) is none of its ports: no kube-proxy rule is meant to match.
  | {kind: 'no-service-port'; service: string; ip: string; port?: number; protocol: string}

export type NoteKind = Note['kind']

/**
 * The notes that make a trace uncertain: the tracer skipped or could not read something on the
 * path, so the verdict may be wrong (as opposed to notes that only explain).
 */
const UNCERTAIN: ReadonlySet<NoteKind> = new Set<NoteKind>([
  'chain-missing',
  'jump-cycle',
  'branch-limit',
  'walk-limit',
  'path-limit',
  'rule-unreadable',
  'rule-skipped',
  'dnat-unreadable',
  'target-not-understood',
  'no-filter-table',
  'ipset-unavailable',
  'match-not-understood',
  'statement-not-understood',
  'family-not-read',
])

/**
 * Notes that say the rules the path would go through were not read at all (not that they hold
 * nothing): such a path proves neither a missing rule nor a disagreement between nodes, and one
 * finding (proxy-mode-not-traced) reports it instead of trace-uncertain.
 */
const NOT_READ: ReadonlySet<NoteKind> = new Set<NoteKind>(['family-not-read'])

/** True when the note means the path's rules were not read, so the path was not traced. */
export function isNotRead(note: Note): boolean {
  return NOT_READ.has(note.kind)
}

/** True when the note means the traced verdict may be wrong. */
export function isUncertain(note: Note): boolean {
  return UNCERTAIN.has(note.kind)
}

// A note's value as a key, made once per note object: notes are never changed, and one object (the
// hooks a dump lacks, say) goes into every path of every trace on the node.
const noteKeys = new WeakMap<Note, string>()

function keyOfNote(note: Note): string {
  let key = noteKeys.get(note)
  if (key === undefined) {
    key = JSON.stringify(note)
    noteKeys.set(note, key)
  }
  return key
}

/** Notes without repeats (equal by value), in first-seen order: what a walk collects as it goes. */
export class NoteSet {
  private readonly byKey = new Map<string, Note>()
  /** Notes already added, by identity: a walk adds the same note object at every branch (no key to look up). */
  private readonly seen = new Set<Note>()

  add(note: Note): void {
    if (this.seen.has(note)) return
    this.seen.add(note)
    const key = keyOfNote(note)
    if (!this.byKey.has(key)) this.byKey.set(key, note)
  }

  values(): Note[] {
    return [...this.byKey.values()]
  }
}

/** The notes without repeats, in first-seen order. */
export function uniqueNotes(notes: Iterable<Note>): Note[] {
  const set = new NoteSet()
  for (const n of notes) set.add(n)
  return set.values()
}
