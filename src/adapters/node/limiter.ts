// A counting semaphore for bounded concurrency: nodes read at once, channels open on one SSH connection.

/** A counting semaphore: at most `size` holders; waiters are served in order (a queue with a moving head). */
export class Limiter {
  private active = 0
  private readonly waiting: Array<(() => void) | undefined> = []
  private head = 0

  constructor(private readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a pool needs at least one slot (got ${size})`)
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.active++
    try {
      return await work()
    } finally {
      this.release()
    }
  }

  private release(): void {
    const next = this.waiting[this.head]
    if (!next) {
      this.active--
      return
    }
    // The slot passes straight to the next waiter: `active` stays the same.
    this.waiting[this.head++] = undefined
    if (this.head === this.waiting.length) {
      this.waiting.length = 0
      this.head = 0
    }
    next()
  }
}
