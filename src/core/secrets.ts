// Every known secret, and the redact() every sink passes text through; process-wide so no sink is missed.
export const SECRET_NAME = /(^|_)(TOKEN|KEY|SECRET|PASSWORD|PASS|PASSWD)$/;
// Shorter values are settings like "true" or a port; hiding them would garble every line.
const MIN_SECRET_LENGTH = 8;

// Hidden even when never registered (a token in a library's URL).
const SHAPES: [RegExp, string][] = [
  [/(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}/g, '[redacted telegram token]'],
  [/\bx(?:ox[abposre]|app)-[A-Za-z0-9-]{10,}/g, '[redacted slack token]'],
  [/\bsk-ant-[A-Za-z0-9_-]{10,}/g, '[redacted anthropic key]'],
  // scheme://user:password@host
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"'<>]+:)[^\s/@"'<>]+@/gi, '$1[redacted]@'],
  [/\b(Bearer|Bot)\s+[A-Za-z0-9._~+/-]{20,}=*/g, '$1 [redacted]'],
];

const known = new Map<string, string>();
let ordered: [string, string][] = [];

export function registerSecret(name: string, value: string | null | undefined): void {
  const v = value?.trim();
  if (!v || v.length < MIN_SECRET_LENGTH) return;
  // Its JSON and URL forms too (quotes, slashes).
  const forms = new Set([v, JSON.stringify(v).slice(1, -1), encodeURIComponent(v)]);
  // A Telegram token's secret half is the secret too.
  const half = /^\d+:(.{20,})$/.exec(v)?.[1];
  if (half) forms.add(half);
  const before = known.size;
  for (const f of forms) if (!known.has(f)) known.set(f, name);
  // Longest first, so a value that contains another is hidden whole.
  if (known.size > before) ordered = [...known].sort((a, b) => b[0].length - a[0].length);
}

export function registerSecretSettings(settings: Readonly<Record<string, string | null | undefined>>): void {
  for (const [name, value] of Object.entries(settings)) if (SECRET_NAME.test(name)) registerSecret(name, value);
}

export function redact(text: string): string {
  for (const [value, name] of ordered) text = text.replaceAll(value, `[redacted ${name}]`);
  for (const [shape, marker] of SHAPES) text = text.replace(shape, marker);
  return text;
}
