// The forget engine: preview what matches (grouped by place), then, on the
// requester's confirmation of that very preview, erase it, verify that nothing
// remains and store a receipt. A preview id is single-use, bound to the chat
// and the person who asked, and expires: a confirmation can never widen it.
import crypto from 'node:crypto';
import type { HomePaths } from '../../core/config/home.js';
import type { ForgetReceipt } from './store.js';
import type { Store } from '../../core/store/index.js';
import { eraseAll } from './erase.js';
import { findAll, logMatcherOf, matcherOf, total, type ForgetRequest } from './find.js';
import { buildReceipt, keptPlaces, previewPlaces, type PreviewPlace } from './receipt.js';
import type { ReceiptPlace } from './store.js';
import { verify } from './verify.js';

export type { ForgetRequest } from './find.js';
export { describePreview, describeReceipt, finalSearch } from './receipt.js';

/** Who asked: the chat a request came from and the sender in it ('cli' / 'api' for the owner's terminal). */
export interface Requester {
  chatJid: string;
  sender: string;
}

export interface Preview {
  id: string;
  request: ForgetRequest;
  places: PreviewPlace[];
  /** The audit trail's matches, which this forget keeps. */
  kept: ReceiptPlace[];
  total: number;
  expiresAt: Date;
}

export interface ForgetDeps {
  store: Store;
  paths: HomePaths;
  /**
   * Drops a group's session so its agent cannot recall what was erased; a live
   * sandbox is asked to close first. Resolves once no sandbox of that group runs.
   */
  resetSession(folder: string): Promise<void>;
  now?: () => number;
  /** How long a preview can be confirmed (default 10 minutes). */
  ttlMs?: number;
}

export type ForgetEngine = ReturnType<typeof createForgetEngine>;

const keyOf = (r: Requester) => `${r.chatJid}\n${r.sender}`;

export function createForgetEngine(deps: ForgetDeps) {
  const now = () => (deps.now ?? Date.now)();
  const ttl = deps.ttlMs ?? 10 * 60_000;
  const pending = new Map<string, { preview: Preview; by: string }>();

  const sweep = () => {
    for (const [id, p] of pending) if (p.preview.expiresAt.getTime() <= now()) pending.delete(id);
  };

  /** Runs the erasure again for what a live sandbox wrote after the receipt (its transcript), and updates the receipt. */
  const settle = (receiptId: string, r: ForgetRequest): void => {
    const receipt = deps.store.forget.receipt(receiptId);
    if (!receipt) return;
    const again = eraseAll(deps.store, findAll(deps, r), matcherOf(r), logMatcherOf(r));
    const places = receipt.places.map((p) => {
      const more = p.kept ? 0 : (again.find((a) => a.place === p.place)?.removed ?? 0);
      return more
        ? { ...p, removed: p.removed + more, detail: `${p.detail} (+${more} written by the sandbox after the erasure)` }
        : p;
    });
    const v = verify(deps, r);
    deps.store.forget.updateReceipt(receiptId, places, v.verified, v.remaining);
  };

  return {
    preview(request: ForgetRequest, by: Requester): Preview {
      sweep();
      const found = findAll(deps, request);
      const preview: Preview = {
        id: `fg-${crypto.randomBytes(4).toString('hex')}`,
        request,
        places: previewPlaces(found, matcherOf(request), deps.paths),
        kept: keptPlaces(found),
        total: total(found),
        expiresAt: new Date(now() + ttl),
      };
      if (preview.total > 0) pending.set(preview.id, { preview, by: keyOf(by) });
      return preview;
    },

    /** Erases what the preview found (searched again now, so what was added since goes too). */
    confirm(
      previewId: string,
      by: Requester,
    ): { ok: true; receipt: ForgetReceipt; settled: Promise<void> } | { ok: false; error: string } {
      sweep();
      const p = pending.get(previewId);
      if (!p)
        return {
          ok: false,
          error: `No open preview "${previewId.slice(0, 40)}": it was used, has expired, or never existed. Run forget_preview again.`,
        };
      if (p.by !== keyOf(by))
        return {
          ok: false,
          error: 'That preview was made for someone else or another chat; only its requester can confirm it there.',
        };
      pending.delete(previewId);
      const r = p.preview.request;
      const found = findAll(deps, r);
      const places = [...eraseAll(deps.store, found, matcherOf(r), logMatcherOf(r)), ...keptPlaces(found)];
      const receipt = buildReceipt(
        previewId.replace(/^fg-/, 'rc-'),
        r,
        by.sender,
        places,
        verify(deps, r),
        new Date(now()),
      );
      deps.store.forget.addReceipt(receipt);
      // A live sandbox may still write the turn in progress to its transcript: once it is gone, erase and verify again.
      const resets = found.sessions.map((folder) => deps.resetSession(folder));
      const settled = Promise.all(resets).then(() => settle(receipt.id, r));
      settled.catch(() => {});
      return { ok: true, receipt, settled };
    },
  };
}
