// A minimal graphql-ws (graphql-transport-ws) client: connection_init/ack, subscribe/next/error/complete,
// ping/pong; it reconnects with backoff and subscribes again to everything still wanted.

import { apiKey, unauthenticated } from './graphql.js';

export interface Sink<T> {
  next(data: T): void;
  error?(message: string, code: string | null): void;
  complete?(): void;
}

interface Active {
  payload: { query: string; variables: Record<string, unknown> };
  sink: Sink<any>;
}

type Message =
  | { type: 'connection_ack' | 'ping' | 'pong' }
  | { type: 'next'; id: string; payload: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } }
  | { type: 'error'; id: string; payload: { message: string; extensions?: { code?: string } }[] }
  | { type: 'complete'; id: string };

export class WsClient {
  private socket: WebSocket | null = null;
  private acked = false;
  private nextId = 1;
  private retries = 0;
  private readonly active = new Map<string, Active>();

  constructor(
    private readonly url: string,
    private readonly onState: (state: 'connecting' | 'connected' | 'disconnected') => void = () => {},
  ) {}

  subscribe<T>(query: string, variables: Record<string, unknown>, sink: Sink<T>): () => void {
    const id = String(this.nextId++);
    this.active.set(id, { payload: { query, variables }, sink });
    if (this.acked) this.send({ id, type: 'subscribe', payload: { query, variables } });
    else this.connect();
    return () => {
      if (this.active.delete(id) && this.acked) this.send({ id, type: 'complete' });
    };
  }

  /** Drop the connection and open a new one (after the API key changed). */
  reconnect(): void {
    this.socket?.close(1000, 'reconnect');
  }

  private send(message: unknown): void {
    this.socket?.send(JSON.stringify(message));
  }

  private connect(): void {
    if (this.socket) return;
    this.onState('connecting');
    const socket = new WebSocket(this.url, 'graphql-transport-ws');
    this.socket = socket;
    socket.onopen = () => {
      const key = apiKey.get();
      this.send({ type: 'connection_init', payload: key ? { apiKey: key } : {} });
    };
    socket.onmessage = (event) => this.receive(JSON.parse(String(event.data)) as Message);
    socket.onclose = (event) => {
      this.socket = null;
      this.acked = false;
      this.onState('disconnected');
      if (event.code === 4401 || event.code === 4403) unauthenticated();
      if (this.active.size === 0) return;
      const delay = Math.min(10_000, 500 * 2 ** this.retries++);
      setTimeout(() => this.connect(), event.code === 1000 ? 0 : delay);
    };
  }

  private receive(message: Message): void {
    switch (message.type) {
      case 'connection_ack':
        this.acked = true;
        this.retries = 0;
        this.onState('connected');
        for (const [id, { payload }] of this.active) this.send({ id, type: 'subscribe', payload });
        return;
      case 'ping':
        this.send({ type: 'pong' });
        return;
      case 'next': {
        const sub = this.active.get(message.id);
        const error = message.payload.errors?.[0];
        // An error inside one event does not end the subscription; the server completes it if it ends.
        if (error) {
          if (error.extensions?.code === 'UNAUTHENTICATED') unauthenticated();
          sub?.sink.error?.(error.message, error.extensions?.code ?? null);
        } else sub?.sink.next(message.payload.data);
        return;
      }
      case 'error': {
        const error = message.payload[0];
        this.fail(message.id, error?.message ?? 'subscription failed', error?.extensions?.code ?? null);
        return;
      }
      case 'complete': {
        const sub = this.active.get(message.id);
        this.active.delete(message.id);
        sub?.sink.complete?.();
        return;
      }
    }
  }

  private fail(id: string, message: string, code: string | null): void {
    const sub = this.active.get(id);
    this.active.delete(id);
    if (code === 'UNAUTHENTICATED') unauthenticated();
    sub?.sink.error?.(message, code);
  }
}
