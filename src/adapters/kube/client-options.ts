// Per-call options for client-node 1.4: it takes an abort signal only through an observable-shaped
// middleware (its own timeout option came later). One recipe for every adapter that calls the API.

/** Options that make one client-node call abort with `signal`. */
export function withSignal(signal: AbortSignal): never {
  return {
    middleware: [
      {
        pre: (ctx: {setSignal(s: AbortSignal): void}) => {
          ctx.setSignal(signal)
          return {toPromise: async () => ctx}
        },
        post: (r: unknown) => ({toPromise: async () => r}),
      },
    ],
    middlewareMergeStrategy: 'append',
  } as never
}
