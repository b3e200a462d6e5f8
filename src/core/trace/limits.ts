// Bounds every walk shares, whatever the mode: a hostile or broken dump cannot make a trace fork
// without end or follow jumps forever.

/** Branches one trace may create before it stops forking (and says the result is incomplete). */
export const MAX_BRANCHES = 4096

/** Chains deep a walk may go (jumps inside jumps) before a jump counts as a cycle. */
export const MAX_DEPTH = 64

/** kube-proxy's default --iptables-masquerade-bit 14, the mark KUBE-MARK-MASQ sets. */
export const DEFAULT_MASQ_MARK = 0x4000
