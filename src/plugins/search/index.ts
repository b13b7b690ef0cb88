// search_messages: full-text search over the stored messages, in the caller's own chats (every chat from the main
// chat). Every stored message is indexed in batches shortly after, off the ingest path.
import { cleanName } from '../../core/conversation/names.js';
import { localTime } from '../../core/conversation/router.js';
import type { Plugin } from '../../core/plugin.js';
import type { Store } from '../../core/store/index.js';
import { ok, oneLine } from '../../core/tools/answer.js';
import { tool, type HostTool } from '../../core/tools/registry.js';
import { searchMessages } from './definitions.js';
import { migrations, searchStore } from './store.js';

export const createSearchTools = ({ store, timezone }: { store: Store; timezone: string }): HostTool[] => [
  tool(searchMessages, ({ isMain, groupFolder }, { query, limit = 20 }) => {
    const own = store.groups.list().filter((g) => g.folder === groupFolder);
    const hits = store.search(query, { chatJids: isMain ? undefined : own.map((g) => g.jid), limit });
    if (!hits.length) return ok(`No messages match "${query}".`);
    const shown = hits.map(
      (h) =>
        `[${localTime(h.timestamp, timezone)}] ${h.chatName ?? h.chatJid} — ${cleanName(h.senderName)}: ${h.text.length > 400 ? h.text.slice(0, 400) + '…' : h.text}`,
    );
    return ok(shown.map(oneLine).join('\n'));
  }),
];

export const search: Plugin = {
  name: 'search',
  migrations,
  store: searchStore,
  setup: ({ store, config, logger, subscribe }) => {
    let timer: NodeJS.Timeout | null = null;
    const index = () => {
      timer = null;
      try {
        store.indexMessages();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'full-text indexing failed; search will retry');
      }
    };
    const unsubscribe = subscribe(() => void (timer ??= setTimeout(index, 250)));
    return {
      tools: createSearchTools({ store, timezone: config.timezone }),
      stop: () => {
        unsubscribe();
        if (timer) clearTimeout(timer);
      },
    };
  },
};
