import { lookup as dnsLookup } from 'node:dns/promises';
import { textProblem } from '../text-input.js';
import { validationError } from '../errors.js';
import { formatIp, inCidr, parseCidr, parseCidrList, parseIp, type Cidr, type IpAddress } from './cidr.js';

// Webhook URLs are chosen by API callers, so the server must not become their way into its own network.

const blocked: [string, string][] = [
  ['0.0.0.0/8', 'reserved ("this network")'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-grade NAT (CGNAT)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved (IETF protocol assignments)'],
  ['192.0.2.0/24', 'reserved (documentation)'],
  ['192.31.196.0/24', 'reserved (AS112)'],
  ['192.52.193.0/24', 'reserved (AMT)'],
  ['192.88.99.0/24', 'reserved (6to4 relay)'],
  ['192.168.0.0/16', 'private'],
  ['192.175.48.0/24', 'reserved (AS112)'],
  ['198.18.0.0/15', 'reserved (benchmarking)'],
  ['198.51.100.0/24', 'reserved (documentation)'],
  ['203.0.113.0/24', 'reserved (documentation)'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved (incl. broadcast)'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fe80::/10', 'link-local'],
  ['fc00::/7', 'private (unique local)'],
  ['ff00::/8', 'multicast'],
  ['64:ff9b::/96', 'reserved (NAT64)'],
  ['64:ff9b:1::/48', 'reserved (local NAT64)'],
  ['2001::/23', 'reserved (IETF protocol assignments, Teredo)'],
  ['2001:db8::/32', 'reserved (documentation)'],
  ['2002::/16', 'reserved (6to4)'],
  ['3fff::/20', 'reserved (documentation)'],
];
const blockedRanges = blocked.map(([cidr, why]) => ({ cidr: parseCidr(cidr)!, why }));
// Only global unicast IPv6 (2000::/3) is public at all; everything else is reserved.
const globalUnicast = parseCidr('2000::/3')!;

/** Why an address may not be reached (loopback, private ...), or null when it is public. */
export function blockedReason(ip: IpAddress): string | null {
  const hit = blockedRanges.find((r) => inCidr(ip, r.cidr));
  if (hit) return hit.why;
  if (ip.family === 6 && !inCidr(ip, globalUnicast)) return 'reserved';
  return null;
}

export type Lookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

const systemLookup: Lookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export interface ResolvedTarget {
  url: URL;
  /** The checked address to connect to (the request must not resolve the name again). */
  address: string;
  family: 4 | 6;
}

export class SsrfGuard {
  private readonly allow: Cidr[];

  constructor(allowCidrs: string, private readonly lookup: Lookup = systemLookup) {
    this.allow = parseCidrList(allowCidrs);
  }

  /** The URL's form only: http or https, a host, no credentials. Throws VALIDATION_ERROR. */
  static parseUrl(raw: unknown): URL {
    if (typeof raw !== 'string' || raw.trim() === '') throw validationError('url is required', { field: 'url' });
    if (raw.length > 2048) throw validationError('url is longer than 2048 characters', { field: 'url' });
    // URL parsing would drop tabs and line breaks silently, and keep other control characters percent-encoded.
    if (textProblem(raw.trim(), 'name')) throw validationError('url must not contain control characters', { field: 'url' });
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      throw validationError(`url "${raw}" is not a valid URL`, { field: 'url' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw validationError(`url must use http or https, not ${url.protocol.replace(':', '')}`, { field: 'url' });
    }
    if (url.username || url.password) {
      throw validationError('url must not contain credentials; send them as a custom header instead', { field: 'url' });
    }
    if (!url.hostname) throw validationError('url has no host', { field: 'url' });
    url.hash = '';
    return url;
  }

  private allowed(ip: IpAddress): boolean {
    return this.allow.some((c) => inCidr(ip, c));
  }

  /**
   * Resolves the URL's host and checks every address it resolves to: one forbidden address refuses
   * the whole name, so a name with a public and a private record cannot slip through. Returns the
   * first address to connect to. Throws VALIDATION_ERROR with the reason.
   */
  async resolve(url: URL): Promise<ResolvedTarget> {
    const host = url.hostname;
    const literal = parseIp(host);
    let addresses: IpAddress[];
    if (literal) addresses = [literal];
    else {
      let found: { address: string }[];
      try {
        found = await this.lookup(host);
      } catch (error) {
        throw validationError(`cannot resolve host "${host}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { field: 'url', host });
      }
      addresses = found.map((a) => parseIp(a.address)).filter((a): a is IpAddress => a !== null);
      if (addresses.length === 0) throw validationError(`host "${host}" resolves to no address`, { field: 'url', host });
    }
    for (const ip of addresses) {
      const why = blockedReason(ip);
      if (why && !this.allowed(ip)) {
        const address = formatIp(ip);
        throw validationError(
          `url host "${host}" resolves to ${address}, a ${why} address that webhooks may not reach (see --webhook-allow-cidrs)`,
          { field: 'url', host, address, range: why },
        );
      }
    }
    const first = addresses[0]!;
    return { url, address: formatIp(first), family: first.family };
  }
}
