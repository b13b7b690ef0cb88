// A saved file's extension: the sender's only if harmless (`x.html.exe` must not become runnable), else by MIME.
const OOXML = 'application/vnd.openxmlformats-officedocument';
// "type/subtype:ext", or just the type where the extension is its subtype.
const EXT_BY_MIME: Record<string, string> = Object.fromEntries(
  `image/jpeg:jpg image/png image/gif image/webp image/heic image/svg+xml:svg audio/ogg audio/opus audio/mpeg:mp3
  audio/mp4:m4a audio/x-m4a:m4a audio/aac audio/wav audio/x-wav:wav audio/flac video/mp4 video/webm video/quicktime:mov
  application/pdf text/plain:txt text/markdown:md text/csv text/html application/json application/xml text/xml:xml
  application/zip application/rtf application/epub+zip:epub application/msword:doc application/vnd.ms-excel:xls
  ${OOXML}.wordprocessingml.document:docx ${OOXML}.spreadsheetml.sheet:xlsx ${OOXML}.presentationml.presentation:pptx`
    .split(/\s+/)
    .map((t) => [t.split(':')[0], t.split(':')[1] ?? t.split('/')[1]]),
);
const SAFE_EXTENSIONS = new Set([
  ...Object.values(EXT_BY_MIME),
  ...'py js ts yaml yml toml log ini sql tsv jpeg'.split(' '),
]);

export function extensionFor(mimeType: string | undefined, fileName: string | undefined, fallback = 'bin'): string {
  const own = /\.([a-z0-9]{1,8})$/i.exec(fileName ?? '')?.[1]?.toLowerCase();
  if (own && SAFE_EXTENSIONS.has(own)) return own;
  return EXT_BY_MIME[(mimeType ?? '').toLowerCase().split(';')[0]!.trim()] ?? fallback;
}
