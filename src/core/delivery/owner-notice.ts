// Notices for the owner go to the first main chat whose channel is up; the local one always is.
import type { Store } from '../store/index.js';
import type { Channel, MessageButton } from '../types.js';

export type OwnerNotice = (text: string, opts?: { buttons?: MessageButton[] }) => void;

export const createOwnerNotice =
  (store: Store, channels: readonly Channel[]): OwnerNotice =>
  (text, opts) => {
    const mains = store.groups.list().filter((g) => g.isMain);
    const up = mains.find((g) => g.jid !== 'local:main' && channels.find((c) => c.ownsJid(g.jid))?.isConnected());
    const target = up ?? mains[0];
    if (target) store.outbox.enqueue(target.jid, text, { kind: 'system', buttons: opts?.buttons });
  };
