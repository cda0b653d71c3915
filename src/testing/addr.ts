/**
 * Address parsing for tests and map keys: MAC, IPv4 and IPv6 addresses as network-order bytes,
 * and LPM trie keys (`struct { __u32 prefixlen; __u8 addr[N]; }`) from CIDR notation.
 */

/** A usage error in a testing helper (bad address, bad layer option...). */
export class PacketError extends Error {
  override name = "PacketError";
}

/** Parses `02:00:00:00:00:01` (or `-` separated) into 6 bytes. */
export function parseMac(mac: string): Uint8Array {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new PacketError(`not a MAC address: "${mac}"`);
  }
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

/** Parses a dotted IPv4 address into 4 bytes (network order). */
export function parseIpv4(addr: string): Uint8Array {
  const parts = addr.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new PacketError(`not an IPv4 address: "${addr}"`);
  }
  return Uint8Array.from(parts, Number);
}

/** Parses an IPv6 address (`2001:db8::1`, `::ffff:10.0.0.1`) into 16 bytes (network order). */
export function parseIpv6(addr: string): Uint8Array {
  const bad = () => new PacketError(`not an IPv6 address: "${addr}"`);
  let text = addr;
  const tail: number[] = [];
  if (text.includes(".")) {
    // an embedded IPv4 address takes the last two words
    const lastColon = text.lastIndexOf(":");
    if (lastColon < 0) throw bad();
    const v4 = parseIpv4(text.slice(lastColon + 1));
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    text = text.endsWith("::", lastColon + 1)
      ? text.slice(0, lastColon + 1)
      : text.slice(0, lastColon);
  }
  const halves = text.split("::");
  if (halves.length > 2) throw bad();
  const words = (s: string): number[] =>
    s === ""
      ? []
      : s.split(":").map((w) => {
          if (!/^[0-9a-fA-F]{1,4}$/.test(w)) throw bad();
          return parseInt(w, 16);
        });
  const head = words(halves[0]);
  const rest = halves.length === 2 ? words(halves[1]) : [];
  const given = head.length + rest.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) throw bad();
  const all = [...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** Parses an IPv4 or IPv6 address (IPv6 if it contains a `:`). */
export function parseIp(addr: string): Uint8Array {
  return addr.includes(":") ? parseIpv6(addr) : parseIpv4(addr);
}

/** Formats 4 or 16 network-order bytes as an address (IPv6 without `::` compression). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  const words: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    words.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  }
  return words.join(":");
}

/**
 * An LPM trie key from CIDR notation, as `struct { __u32 prefixlen; __u8 addr[N]; }` lays it
 * out: the prefix length little-endian (host order), then the address in network order.
 * `lpmKey("10.1.0.0/16")` → `10000000 0a010000`. Without `/N` the whole address is the prefix.
 */
export function lpmKey(cidr: string): Uint8Array {
  const slash = cidr.indexOf("/");
  const addr = parseIp(slash < 0 ? cidr : cidr.slice(0, slash));
  const len = slash < 0 ? addr.length * 8 : Number(cidr.slice(slash + 1));
  if (!Number.isInteger(len) || len < 0 || len > addr.length * 8) {
    throw new PacketError(`bad prefix length in "${cidr}"`);
  }
  const key = new Uint8Array(4 + addr.length);
  new DataView(key.buffer).setUint32(0, len, true);
  key.set(addr, 4);
  return key;
}
