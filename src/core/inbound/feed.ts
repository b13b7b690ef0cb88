// Every stored message goes to live listeners: the chat API's stream and plugins (the search plugin's index).
import type { Logger } from '../logger.js';
import type { StoredMessage } from '../store/messages.js';

export function createMessageFeed(deps: { logger: Logger }) {
  const listeners = new Set<(m: StoredMessage) => void>();
  return {
    emit(m: StoredMessage): void {
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
  };
}
