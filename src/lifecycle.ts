// Each part of the host says how it stops at the moment it starts; stopping
// runs those in reverse order, so a part stops before anything it was built on.
// Nobody keeps a hand-ordered stop list that a new part could be missing from.

export interface Lifecycle {
  /** How the part just made stops (awaited before the part made before it stops). */
  onStop(stop: () => unknown): void;
  /** Stops everything, last made first; a part that fails to stop does not keep the others running. */
  stop(): Promise<void>;
}

export function createLifecycle(onError: (err: unknown) => void = () => {}): Lifecycle {
  const stops: (() => unknown)[] = [];
  return {
    onStop: (stop) => void stops.push(stop),
    async stop() {
      while (stops.length) {
        try {
          await stops.pop()!();
        } catch (err) {
          onError(err);
        }
      }
    },
  };
}
