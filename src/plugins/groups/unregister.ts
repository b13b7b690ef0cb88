// The assistant stops answering in a chat; its folder is kept. The main chat cannot be unregistered.
import type { Result } from '../../core/groups/registration.js';
import type { Store } from '../../core/store/index.js';
import type { RegisteredGroup } from '../../core/types.js';

export function unregisterGroup(store: Store, jid: string): Result<RegisteredGroup> {
  const group = store.groups.get(jid);
  if (!group) return { ok: false, error: `${jid} is not registered.`, code: 'not_found' };
  if (group.isMain) return { ok: false, error: 'The main group cannot be unregistered.' };
  store.groups.remove(jid);
  return { ok: true, value: group };
}
