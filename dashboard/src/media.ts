// Media bytes for the chat view. The API gives each media a URL that wants the API key in a header, which
// an <img src> cannot send: the bytes are fetched with the key and shown from a blob: URL (the page's
// content security policy allows blob: for images and media), one fetch per URL while the chat is open.

import { apiKey, unauthenticated } from './graphql.js';

const loaded = new Map<string, Promise<string>>();

async function fetchBlob(url: string): Promise<Blob> {
  const headers: Record<string, string> = {};
  const key = apiKey.get();
  if (key) headers['x-api-key'] = key;
  const res = await fetch(url, { headers });
  if (res.status === 401) unauthenticated();
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new Error(body?.error?.code ? `${body.error.code}: ${body.error.message ?? ''}` : `HTTP ${res.status}`);
  }
  return res.blob();
}

/** A blob: URL of the media at `url` (fetched once while the chat stays open). */
export function mediaObjectUrl(url: string): Promise<string> {
  let known = loaded.get(url);
  if (!known) {
    known = fetchBlob(url).then((blob) => URL.createObjectURL(blob));
    // A failed fetch is tried again the next time the message is drawn.
    known.catch(() => loaded.delete(url));
    loaded.set(url, known);
  }
  return known;
}

/** Saves the media as a file named `filename` (the browser's download). */
export async function downloadMedia(url: string, filename: string): Promise<void> {
  const objectUrl = await mediaObjectUrl(url);
  const a = document.createElement('a');
  a.href = objectUrl;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
}

/** Frees the blobs of the chat that was open. */
export function releaseMedia(): void {
  for (const promise of loaded.values()) promise.then((objectUrl) => URL.revokeObjectURL(objectUrl), () => {});
  loaded.clear();
}
