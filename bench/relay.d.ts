// Types for relay.js (plain JavaScript, used by the benches and by tests that count round trips).
export interface RelayConnection {
  turns: number
  up: {bytes: number; chunks: number}
  down: {bytes: number; chunks: number}
  closed: boolean
  error: string | undefined
}

export interface Relay {
  address: {host: string; port: number}
  connections: RelayConnection[]
  idle(ms?: number): Promise<boolean>
  close(): Promise<void>
}

export function startRelay(opts: {
  listen: {host: string; port: number}
  target: {host: string; port: number}
  delayMs?: number
  quietMs?: number
}): Promise<Relay>
