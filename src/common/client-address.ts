import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Client addresses, normalised once where they enter so that every column
 * (varchar(45)), rate-limit key and log line holds the same short, canonical
 * text: IPv4 dotted-quad, IPv6 per RFC 5952 (lower case, the first longest
 * run of zeros compressed), an IPv4-mapped IPv6 address as the IPv4 address,
 * and never a zone id (`%eth0` names an interface of the sender's host,
 * meaningless here, and unbounded in length).
 */
export function normaliseAddress(value: string | undefined | null): string | null {
  if (!value) return null;
  const zone = value.indexOf('%');
  const bare = zone === -1 ? value : value.slice(0, zone);
  // node:net is strict about syntax (no octal or short IPv4 forms, no brackets or ports); ipaddr.js then reads it.
  const family = isIP(bare);
  if (family === 0 || (family === 4 && zone !== -1)) return null;
  // node:net accepts only the canonical dotted quad (no leading zeros): it is its own normal form.
  if (family === 4) return bare;
  const address = ipaddr.process(bare);
  return address.kind() === 'ipv4' ? address.toString() : rfc5952((address as ipaddr.IPv6).parts);
}

/**
 * The client's address: Fastify's `request.ip` (the X-Forwarded-For hop that
 * TRUST_PROXY designates, read as Express read it), normalised; when a proxy
 * wrote something that is not an address there, the socket's peer.
 */
export function clientAddressOf(req: { ip?: string; socket: { remoteAddress?: string } }): string {
  return normaliseAddress(req.ip) ?? normaliseAddress(req.socket.remoteAddress) ?? 'unknown';
}

/**
 * The network an address is counted in by the rate limits: an IPv4 address
 * alone, an IPv6 address with its first `ipv6PrefixLength` bits (a /64 is
 * what one subscriber is usually given, and rotating within it is free).
 * Takes a normalised address; anything else is its own key.
 */
export function rateLimitNetwork(address: string, ipv6PrefixLength: number): string {
  if (isIP(address) !== 6) return address;
  const parts = ipaddr.IPv6.parse(address).parts.map((part, index) => {
    const kept = Math.min(16, Math.max(0, ipv6PrefixLength - index * 16));
    return kept === 0 ? 0 : part & ~((1 << (16 - kept)) - 1) & 0xffff;
  });
  return `${rfc5952(parts)}/${ipv6PrefixLength}`;
}

/** RFC 5952 §4.2: the longest run of two or more zero groups, the first of equals, becomes `::`. */
function rfc5952(parts: number[]): string {
  let runStart = -1;
  let runLength = 1;
  for (let start = 0; start < parts.length; ) {
    let end = start;
    while (end < parts.length && parts[end] === 0) end += 1;
    if (end - start > runLength) {
      runStart = start;
      runLength = end - start;
    }
    start = end === start ? start + 1 : end;
  }
  const hex = parts.map((part) => part.toString(16));
  if (runStart === -1) return hex.join(':');
  return `${hex.slice(0, runStart).join(':')}::${hex.slice(runStart + runLength).join(':')}`;
}
