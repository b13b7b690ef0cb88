// Estimated cost of model usage, in US dollars per million tokens, from
// Anthropic's published list prices. It is an estimate: the upstream may be a
// different provider or a discounted plan. Unknown models are priced as Sonnet.
import type { UsageTotals } from './store.js';

export interface Price {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

const SONNET: Price = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };

/** First match wins; patterns are checked against the model id the upstream reported. */
export const PRICES: { pattern: RegExp; price: Price }[] = [
  // Opus 3, 4 and 4.1 were priced higher than the Opus models after them.
  {
    pattern: /3-opus|opus-3|opus-4-(?:0|1)(?!\d)|opus-4-\d{8}|opus-4$/,
    price: { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
  },
  { pattern: /opus/, price: { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 } },
  { pattern: /haiku-4|haiku-[5-9]/, price: { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 } },
  { pattern: /3-5-haiku|haiku-3-5/, price: { input: 0.8, output: 4, cacheRead: 0.08, cacheWrite: 1 } },
  { pattern: /3-haiku|haiku-3/, price: { input: 0.25, output: 1.25, cacheRead: 0.03, cacheWrite: 0.3 } },
  { pattern: /sonnet/, price: SONNET },
];

export function priceFor(model: string | null | undefined): Price {
  const id = (model ?? '').toLowerCase();
  return PRICES.find((p) => p.pattern.test(id))?.price ?? SONNET;
}

export function costUsd(model: string | null | undefined, t: UsageTotals): number {
  const p = priceFor(model);
  return (
    (t.inputTokens * p.input +
      t.outputTokens * p.output +
      t.cacheReadTokens * p.cacheRead +
      t.cacheWriteTokens * p.cacheWrite) /
    1_000_000
  );
}

/**
 * Sums per-model rows into one row per key, with the estimated cost. Rows
 * come from the usage queries, which group by key and model.
 */
export function rollUp<R extends UsageTotals & { model: string | null }, K extends string>(
  rows: R[],
  keyOf: (r: R) => string,
  label: (r: R) => Record<K, string>,
): (Record<K, string> & UsageTotals & { costUsd: number })[] {
  const out = new Map<string, Record<K, string> & UsageTotals & { costUsd: number }>();
  for (const r of rows) {
    const key = keyOf(r);
    let acc = out.get(key);
    if (!acc) {
      acc = { ...label(r), inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0 };
      out.set(key, acc);
    }
    acc.inputTokens += r.inputTokens;
    acc.outputTokens += r.outputTokens;
    acc.cacheReadTokens += r.cacheReadTokens;
    acc.cacheWriteTokens += r.cacheWriteTokens;
    acc.costUsd += costUsd(r.model, r);
  }
  return [...out.values()].map((v) => ({ ...v, costUsd: Math.round(v.costUsd * 1e6) / 1e6 }));
}
