import { isIPv4, isIPv6 } from 'node:net';

// IP addresses as bigints, so IPv4 and IPv6 ranges are matched by the same few lines.

export type Family = 4 | 6;

export interface IpAddress {
  family: Family;
  value: bigint;
}

export interface Cidr {
  family: Family;
  base: bigint;
  prefix: number;
  text: string;
}

function v4ToBigint(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function v6ToBigint(text: string): bigint {
  let t = text;
  const lastColon = t.lastIndexOf(':');
  const tail = t.slice(lastColon + 1);
  if (tail.includes('.')) {
    // An embedded IPv4 tail ("::ffff:1.2.3.4") becomes its two hex groups.
    const v4 = v4ToBigint(tail);
    t = `${t.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const groupsOf = (s: string) => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  let groups: number[];
  const gap = t.indexOf('::');
  if (gap === -1) groups = groupsOf(t);
  else {
    const left = groupsOf(t.slice(0, gap));
    const right = groupsOf(t.slice(gap + 2));
    groups = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parses an IP literal (IPv6 zone ids and brackets dropped); IPv4-mapped IPv6 becomes the IPv4 address. */
export function parseIp(text: string): IpAddress | null {
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  const zone = t.indexOf('%');
  if (zone !== -1) t = t.slice(0, zone);
  if (isIPv4(t)) return { family: 4, value: v4ToBigint(t) };
  if (!isIPv6(t)) return null;
  const value = v6ToBigint(t);
  // ::ffff:a.b.c.d: the upper 96 bits are 0...0ffff.
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((ip.value >> s) & 0xffffn).toString(16));
  return groups.join(':');
}

/** `10.0.0.0/8`, `fc00::/7`, or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr | null {
  const [addr, bits, extra] = text.trim().split('/');
  if (extra !== undefined || !addr) return null;
  const ip = parseIp(addr);
  if (!ip) return null;
  const width = ip.family === 4 ? 32 : 128;
  // A prefix written against an IPv4-mapped IPv6 address counts from the IPv4 part.
  const mappedOffset = ip.family === 4 && addr.includes(':') ? 96 : 0;
  const prefix = bits === undefined ? width : Number(bits) - mappedOffset;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return null;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > width) return null;
  const shift = BigInt(width - prefix);
  return { family: ip.family, base: (ip.value >> shift) << shift, prefix, text: text.trim() };
}

export function inCidr(ip: IpAddress, cidr: Cidr): boolean {
  if (ip.family !== cidr.family) return false;
  const shift = BigInt((ip.family === 4 ? 32 : 128) - cidr.prefix);
  return ip.value >> shift === cidr.base >> shift;
}

export function parseCidrList(text: string): Cidr[] {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  return parts.map((p) => {
    const cidr = parseCidr(p);
    if (!cidr) throw new Error(`"${p}" is not an IP address or CIDR range`);
    return cidr;
  });
}

/** For the settings table: why a comma-separated CIDR list is invalid, or null when it is fine. */
export function cidrListProblem(text: string): string | null {
  try {
    parseCidrList(text);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
