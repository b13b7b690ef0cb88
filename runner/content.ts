// A turn's files as model content; one over its size cap becomes a note, so the agent can still open it.
import path from 'node:path';

export interface TurnFile {
  path: string; // inside the sandbox
  mimeType: string;
}

export const LIMITS = {
  // The Messages API takes PDFs up to 32 MB per request and images up to 5 MB each.
  pdf: 10 * 1024 * 1024,
  image: 5 * 1024 * 1024,
  text: 200 * 1024,
  // Under the 32 MB request limit once base64 adds a third.
  turn: 20 * 1024 * 1024,
};

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
const TEXT_TYPES = /^(text\/|application\/(json|xml|x-yaml|yaml|csv|x-sh|javascript|x-ndjson|sql))/;
const TEXT_EXTENSIONS = new Set('txt md csv tsv json yaml yml xml html log ini toml ts js py sh sql'.split(' '));

export type Block =
  | { type: 'text'; text: string }
  | { type: 'image'; source: { type: 'base64'; media_type: string; data: string } }
  | { type: 'document'; source: { type: 'base64'; media_type: 'application/pdf'; data: string }; title?: string };

export interface FileReader {
  size(p: string): number;
  read(p: string): Buffer;
}

export function kindOf(f: TurnFile): 'pdf' | 'image' | 'text' | null {
  const ext = path.extname(f.path).slice(1).toLowerCase();
  if (f.mimeType === 'application/pdf' || ext === 'pdf') return 'pdf';
  if (IMAGE_TYPES.has(f.mimeType)) return 'image';
  if (TEXT_TYPES.test(f.mimeType) || TEXT_EXTENSIONS.has(ext)) return 'text';
  return null;
}

const note = (text: string): Block[] => [{ type: 'text', text }];

export function turnBlocks(files: TurnFile[], fs: FileReader, budget = LIMITS.turn): Block[] {
  const out: Block[] = [];
  let left = budget;
  for (const f of files) {
    const blocks = fileBlocks(f, fs);
    const size = blocks.reduce((n, b) => n + (b.type === 'text' ? b.text.length : (b.source.data.length * 3) / 4), 0);
    if (size > left && blocks.some((b) => b.type !== 'text')) {
      out.push({
        type: 'text',
        text: `[file ${path.basename(f.path)} not shown: this message's files are over ${LIMITS.turn / 1024 / 1024} MB together; it is at ${f.path}]`,
      });
      continue;
    }
    left -= size;
    out.push(...blocks);
  }
  return out;
}

export function fileBlocks(f: TurnFile, fs: FileReader): Block[] {
  const kind = kindOf(f);
  const name = path.basename(f.path);
  if (!kind) return [];
  let size: number;
  try {
    size = fs.size(f.path);
  } catch {
    return note(`[file ${name} could not be read]`);
  }
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  if (size > LIMITS[kind])
    return note(
      `[file ${name} not shown: ${mb(size)} is over the ${mb(LIMITS[kind])} limit for ${kind} files; it is at ${f.path}]`,
    );
  const bytes = fs.read(f.path);
  if (kind === 'text') return note(`<file name="${escapeAttr(name)}">\n${bytes.toString('utf8')}\n</file>`);
  const data = bytes.toString('base64');
  return [
    kind === 'pdf'
      ? { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data }, title: name }
      : { type: 'image', source: { type: 'base64', media_type: f.mimeType, data } },
  ];
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
