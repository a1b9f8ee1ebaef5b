import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface OriginPolicyOptions {
  /** Origins (`https://app.example.com`) whose pages may call the API with CORS and open its sockets. */
  corsOrigins: readonly string[];
  /** Host names accepted without an API key besides loopback names, IP literals and the bound host. */
  allowedHosts: readonly string[];
  /** The address the server binds (config.host). */
  bindHost: string;
  /** True while no API key exists (the open, loopback-only mode), read per request: creating a key closes it. */
  open: () => boolean;
}

export type HostVerdict = 'ok' | 'malformed' | 'foreign';

// A Host header: a DNS name or IPv4 address, or a bracketed IPv6 address, with an optional port.
const HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** The name part of a Host value, lower case, without port or brackets. */
function hostName(host: string): string {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name.toLowerCase().replace(/\.$/, '');
}

function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * Who may drive the server from a browser, and under which Host name.
 *
 * - Host: a malformed Host header is refused (400). While no API key exists, a Host that is not loopback
 *   (`localhost`, `*.localhost`), not an IP address literal, not the bound host and not in --allowed-hosts
 *   is refused (403): a DNS-rebinding page reaches a loopback server under its own domain name, while an
 *   address literal can only be typed by someone who can already reach the server.
 * - Origin: a browser names the page that sent a request. It is accepted when it is this server's own origin
 *   (the dashboard, GraphiQL) or listed in --cors-origins; no Origin at all (curl, SDKs, node) is accepted.
 * - CORS headers are sent only to listed origins.
 */
export class OriginPolicy {
  private readonly listed: Set<string>;
  private readonly hosts: Set<string>;

  constructor(private readonly o: OriginPolicyOptions) {
    this.listed = new Set(o.corsOrigins.map((origin) => origin.replace(/\/$/, '').toLowerCase()));
    this.hosts = new Set(o.allowedHosts.map(hostName));
    if (o.bindHost && o.bindHost !== '0.0.0.0' && o.bindHost !== '::') this.hosts.add(hostName(o.bindHost));
  }

  host(req: IncomingMessage): HostVerdict {
    const host = req.headers.host;
    // HTTP/1.0 clients may send none; browsers always do.
    if (host === undefined) return 'ok';
    if (!HOST.test(host)) return 'malformed';
    if (!this.o.open()) return 'ok';
    const name = hostName(host);
    return isLoopbackName(name) || isIP(name) !== 0 || this.hosts.has(name) ? 'ok' : 'foreign';
  }

  /** No Origin, this server's own, or a listed one. */
  originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    return this.isListed(origin) || isSameOrigin(origin, req.headers.host);
  }

  isListed(origin: string): boolean {
    return this.listed.size > 0 && this.listed.has(origin.toLowerCase());
  }

  /**
   * Sets the CORS headers for a listed Origin; answers a preflight (OPTIONS with Access-Control-Request-Method)
   * itself and returns true then. A preflight from any other origin gets no CORS headers (the browser refuses).
   */
  cors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (origin === undefined || !this.isListed(origin)) return false;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-allow-credentials', 'true');
    res.setHeader('vary', 'Origin');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
        'access-control-allow-headers': 'authorization, content-type, x-api-key, x-request-id, accept',
        'access-control-max-age': '600',
        'content-length': 0,
      });
      res.end();
      return true;
    }
    res.setHeader('access-control-expose-headers', 'x-request-id, retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset');
    return false;
  }
}

/** Origin `scheme://host[:port]` names the same host and port as the Host header (scheme aside: a TLS proxy may sit in front). */
export function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const defaultPort = url.protocol === 'https:' ? ':443' : ':80';
  const given = host.toLowerCase().endsWith(defaultPort) ? host.slice(0, -defaultPort.length) : host;
  return url.host === given.toLowerCase();
}

const SIMPLE_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

/**
 * A request a page on any site can send without a CORS preflight: a method other than GET/HEAD with a
 * form, multipart or text/plain body (or none named). Such a request must never change state, so the API
 * refuses it before reading its body.
 */
export function isSimpleWrite(req: IncomingMessage): boolean {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return false;
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return type !== undefined && SIMPLE_TYPES.has(type);
}
