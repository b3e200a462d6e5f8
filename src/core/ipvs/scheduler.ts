// How an IPVS scheduler spreads new connections over the real servers with weight > 0, as the
// share each one gets and a sentence that says how exact that share is.

const EVEN: Record<string, string> = {
  rr: 'round robin: new connections take the real servers in turn',
  lc: 'least connection: a new connection goes to the real server with the fewest active connections; the even split shown assumes equal load',
  nq: 'never queue: an idle real server first, else shortest expected delay; the even split shown assumes equal load',
  dh: 'destination hashing: the destination address picks the real server',
}

const WEIGHTED: Record<string, string> = {
  wrr: 'weighted round robin: new connections in proportion to the weights',
  wlc: 'weighted least connection: fewest active connections per unit of weight; the split shown assumes equal load',
  sed: 'shortest expected delay: weighted by active connections; the split shown assumes equal load',
  sh: "source hashing: each client address always lands on the same real server; the weights set each one's share of addresses",
  mh: "maglev hashing: each client address lands on a fixed real server; the weights set each one's share of addresses",
  lblc: 'locality-based least connection: a destination sticks to one real server until it is overloaded',
  lblcr: 'locality-based least connection with replication',
  ovf: 'weighted overflow: the highest-weight server until its active connections exceed its weight',
  twos: 'weighted random twos choice',
}

/** Each server's share (in input order) and how the scheduler picks; shares sum to 1. */
export function schedulerShares(scheduler: string, weights: number[]): {shares: number[]; note: string} {
  if (weights.length === 0) return {shares: [], note: EVEN[scheduler] ?? WEIGHTED[scheduler] ?? `scheduler ${scheduler}`}
  const even = EVEN[scheduler]
  if (even !== undefined) return {shares: weights.map(() => 1 / weights.length), note: even}
  if (scheduler === 'fo') {
    // Weighted failover: every new connection goes to the available server with the highest weight.
    const top = weights.indexOf(Math.max(...weights))
    return {
      shares: weights.map((_, i) => (i === top ? 1 : 0)),
      note: 'weighted failover: all new connections go to the available real server with the highest weight',
    }
  }
  const sum = weights.reduce((a, b) => a + b, 0)
  const note = WEIGHTED[scheduler] ?? `scheduler "${scheduler}" is not known to svctrace; shares are shown in proportion to the weights`
  return {shares: weights.map((w) => w / sum), note}
}
