// A registered chat as the store keeps it, for tests that build groups by hand: `local:<folder>`, named after
// its folder, answering only its trigger unless it is the main chat.
import type { RegisteredGroup } from '../../src/core/types.js';

export function localGroup(folder: string, isMain = false, extra: Partial<RegisteredGroup> = {}): RegisteredGroup {
  return {
    jid: `local:${folder}`,
    name: folder[0]!.toUpperCase() + folder.slice(1),
    folder,
    trigger: '@Andy',
    requiresTrigger: !isMain,
    isMain,
    sandbox: {},
    addedAt: '2025-01-01T00:00:00.000Z',
    ...extra,
  };
}
