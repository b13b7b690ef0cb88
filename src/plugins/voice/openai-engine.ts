// Any OpenAI-compatible transcription endpoint (OpenAI, Groq, a local
// whisper server): POST {url}/audio/transcriptions, multipart, one WAV per
// window. The key is read on the host and sent only there.
import { readBody } from '../../kit/bounded.js';
import { toWav } from './audio.js';
import type { SttEngine } from './engine.js';

export interface OpenAiEngineOptions {
  url: string;
  apiKey: string;
  model: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

const TRANSCRIPT_MAX_BYTES = 1024 * 1024;

export function createOpenAiEngine(o: OpenAiEngineOptions): SttEngine {
  const doFetch = o.fetch ?? fetch;
  const endpoint = `${o.url}/audio/transcriptions`;
  return {
    name: 'openai',
    async transcribe(pcm) {
      const form = new FormData();
      form.set('file', new Blob([new Uint8Array(toWav(pcm))], { type: 'audio/wav' }), 'voice.wav');
      form.set('model', o.model);
      form.set('response_format', 'json');
      const res = await doFetch(endpoint, {
        method: 'POST',
        headers: o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {},
        body: form,
        signal: AbortSignal.timeout(o.timeoutMs ?? 120_000),
      });
      // A transcript of 30 s of speech is a few hundred bytes; an endless answer is cut at 1 MB.
      const body = await readBody(res, TRANSCRIPT_MAX_BYTES, "the transcription service's answer");
      if (!res.ok) throw new Error(`the transcription service answered ${res.status}: ${body.slice(0, 200)}`);
      let text: unknown;
      try {
        text = (JSON.parse(body) as { text?: unknown }).text;
      } catch {
        throw new Error('the transcription service answered something that is not JSON');
      }
      if (typeof text !== 'string') throw new Error('the transcription service answered without a text field');
      return text.trim();
    },
  };
}
