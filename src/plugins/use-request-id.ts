import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const ids = new WeakMap<Request, string>();

/** The caller's x-request-id when it is sane, otherwise a new one. */
export function requestIdFrom(headers: { get(name: string): string | null }): string {
  const given = headers.get('x-request-id');
  return given && ID_PATTERN.test(given) ? given : randomUUID();
}

export function requestIdOf(request: Request): string {
  let id = ids.get(request);
  if (!id) {
    id = requestIdFrom(request.headers);
    ids.set(request, id);
  }
  return id;
}

/** Every response carries x-request-id; resolvers find it in context.requestId. */
export function useRequestId(): Plugin<{ requestId?: string }> {
  return {
    onResponse({ request, response }) {
      response.headers.set('x-request-id', requestIdOf(request));
    },
  };
}
