// Runs inside the sandbox, mounted alone at /app/plugins/media.js: it may import only node built-ins (and types).
// A turn's files as model content; one over its size cap becomes a note, so the agent can still open it.
import fs from 'node:fs';
import path from 'node:path';

type TurnFile = { path: string; mimeType: string }; // path inside the sandbox
type FileReader = { size(p: string): number; read(p: string): Buffer };
type Base64 = { type: 'base64'; media_type: string; data: string };
type Block = { type: 'text'; text: string } | { type: 'image' | 'document'; source: Base64; title?: string };

// The Messages API takes PDFs up to 32 MB per request and images up to 5 MB each; base64 adds a third to the turn's.
export const LIMITS = { pdf: 10 * 1024 * 1024, image: 5 * 1024 * 1024, text: 200 * 1024, turn: 20 * 1024 * 1024 };
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];
const TEXT_TYPES = /^(text\/|application\/(json|xml|x-yaml|yaml|csv|x-sh|javascript|x-ndjson|sql))/;
const TEXT_EXTENSIONS = 'txt md csv tsv json yaml yml xml html log ini toml ts js py sh sql'.split(' ');
const note = (text: string): Block[] => [{ type: 'text', text }];
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

export const turnBlocks = (files: TurnFile[], reader: FileReader, budget = LIMITS.turn) =>
  files.flatMap((f) => {
    const blocks = fileBlocks(f, reader);
    const size = blocks.reduce((n, b) => n + (b.type === 'text' ? b.text.length : (b.source.data.length * 3) / 4), 0);
    if (size > budget && blocks.some((b) => b.type !== 'text'))
      return note(
        `[file ${path.basename(f.path)} not shown: this message's files are over ${LIMITS.turn / 1024 / 1024} MB together; it is at ${f.path}]`,
      );
    budget -= size;
    return blocks;
  });

export function fileBlocks(f: TurnFile, reader: FileReader): Block[] {
  const ext = path.extname(f.path).slice(1).toLowerCase();
  const name = path.basename(f.path);
  let kind: keyof typeof LIMITS;
  if (f.mimeType === 'application/pdf' || ext === 'pdf') kind = 'pdf';
  else if (IMAGE_TYPES.includes(f.mimeType)) kind = 'image';
  else if (TEXT_TYPES.test(f.mimeType) || TEXT_EXTENSIONS.includes(ext)) kind = 'text';
  else return [];
  let size: number;
  try {
    size = reader.size(f.path);
  } catch {
    return note(`[file ${name} could not be read]`);
  }
  if (size > LIMITS[kind])
    return note(
      `[file ${name} not shown: ${mb(size)} is over the ${mb(LIMITS[kind])} limit for ${kind} files; it is at ${f.path}]`,
    );
  const bytes = reader.read(f.path);
  const attr = name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  if (kind === 'text') return note(`<file name="${attr}">\n${bytes}\n</file>`);
  const source = { type: 'base64', media_type: f.mimeType, data: bytes.toString('base64') } as const;
  return [
    kind === 'pdf'
      ? { type: 'document', source: { ...source, media_type: 'application/pdf' }, title: name }
      : { type: 'image', source },
  ];
}

const disk = { size: (p: string) => fs.statSync(p).size, read: (p: string) => fs.readFileSync(p) };

/** The runner's content hook: a turn's files as the blocks before its prompt. */
export const content = (files: TurnFile[]) => turnBlocks(files, disk);
