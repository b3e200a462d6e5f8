// The connect timeout of one SSH hop (TCP, handshake, authentication). It is ours rather than ssh2's
// readyTimeout because it must stop while the user types a key's passphrase.

/** A deadline that calls onExpire once, unless cancelled; whilePaused() stops the clock. */
export class Deadline {
  private timer: NodeJS.Timeout | undefined
  private left: number
  private since = 0
  private pausedBy = 0

  constructor(
    ms: number,
    private readonly onExpire: () => void,
  ) {
    this.left = ms
    this.start()
  }

  /** Awaits `work` with the clock stopped (nested and concurrent pauses count). */
  async whilePaused<T>(work: Promise<T>): Promise<T> {
    if (this.pausedBy++ === 0) this.stop()
    try {
      return await work
    } finally {
      if (--this.pausedBy === 0) this.start()
    }
  }

  cancel(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.left = Infinity
  }

  private start(): void {
    if (this.left === Infinity) return
    this.since = Date.now()
    this.timer = setTimeout(this.onExpire, this.left)
  }

  private stop(): void {
    if (this.timer === undefined) return
    clearTimeout(this.timer)
    this.timer = undefined
    this.left = Math.max(0, this.left - (Date.now() - this.since))
  }
}
