// Every stored message goes to live listeners (the chat API's stream) and is full-text indexed in batches
// shortly after, off the ingest path.
import type { Logger } from '../logger.js';
import type { Store } from '../store/index.js';
import type { StoredMessage } from '../store/messages.js';

export function createMessageFeed(deps: { store: Store; logger: Logger; indexDelayMs?: number }) {
  const listeners = new Set<(m: StoredMessage) => void>();
  let indexTimer: NodeJS.Timeout | null = null;
  const index = () => {
    indexTimer = null;
    try {
      deps.store.messages.indexPending();
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, 'full-text indexing failed; search will retry');
    }
  };
  return {
    emit(m: StoredMessage): void {
      indexTimer ??= setTimeout(index, deps.indexDelayMs ?? 250);
      for (const l of listeners) {
        try {
          l(m);
        } catch (err) {
          deps.logger.warn({ err }, 'listener failed');
        }
      }
    },
    subscribe(listener: (m: StoredMessage) => void): () => void {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    stop(): void {
      if (indexTimer) clearTimeout(indexTimer);
      indexTimer = null;
    },
  };
}
