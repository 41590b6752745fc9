// Rejects request bodies over the limit before they are parsed (HTTP 413).
import type { Plugin } from 'graphql-yoga';
import { errorResponse } from './respond.ts';

/** Rejects bodies larger than `max` bytes before they are parsed. */
export function bodyLimit(max: number): Plugin {
  /** Reads a copy of a body without a length to its end, or until it is over the limit. */
  const count = async (reader: ReadableStreamDefaultReader<Uint8Array>, tooLarge: () => void): Promise<void> => {
    let seen = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
      if (seen > max) {
        await reader.cancel();
        tooLarge();
        return;
      }
    }
  };
  return {
    // Not async: a request with a length is checked without a promise (yoga then runs the next hook at once).
    onRequest({ request, endResponse, fetchAPI }) {
      if (request.method !== 'POST') return;
      const tooLarge = () => endResponse(errorResponse(fetchAPI, 413, 'PAYLOAD_TOO_LARGE', `request body over ${max} bytes`, { details: { limit: max } }));
      const declared = Number(request.headers.get('content-length') ?? NaN);
      if (Number.isFinite(declared)) {
        if (declared > max) tooLarge();
        return;
      }
      // No length given (chunked): count the bytes of a copy as they stream.
      const reader = request.clone().body?.getReader();
      if (!reader) return;
      return count(reader, tooLarge);
    },
  };
}
