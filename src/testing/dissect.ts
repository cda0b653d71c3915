/**
 * A one-line description of an Ethernet frame, as tcpdump would summarise it:
 * `IPv4 10.0.0.1 → 10.1.2.3 UDP 12345 → 53, 54 bytes`.
 */
import { formatIp } from "./addr.js";

const L4: Record<number, string> = { 1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6", 132: "SCTP" };
const TCP_FLAG_CHARS = ["F", "S", "R", "P", "A", "U", "E", "C"];

function l4Text(proto: number, b: Uint8Array, off: number): string {
  const name = L4[proto] ?? `proto ${proto}`;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if ((proto === 6 || proto === 17) && off + 4 <= b.length) {
    let s = `${name} ${dv.getUint16(off)} → ${dv.getUint16(off + 2)}`;
    if (proto === 6 && off + 14 <= b.length) {
      const f = b[off + 13];
      const flags = TCP_FLAG_CHARS.filter((_, i) => f & (1 << i)).join("");
      s += ` [${flags || "."}]`;
    }
    return s;
  }
  if ((proto === 1 || proto === 58) && off + 2 <= b.length) {
    return `${name} type ${b[off]} code ${b[off + 1]}`;
  }
  return name;
}

/** Describes an Ethernet frame in one line (what could be parsed of it). */
export function describePacket(b: Uint8Array): string {
  const size = `${b.length} bytes`;
  if (b.length < 14) return `truncated frame, ${size}`;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let type = dv.getUint16(12);
  let off = 14;
  let vlan = "";
  while ((type === 0x8100 || type === 0x88a8) && off + 4 <= b.length) {
    vlan += `vlan ${dv.getUint16(off) & 0xfff} `;
    type = dv.getUint16(off + 2);
    off += 4;
  }
  if (type === 0x0800 && off + 20 <= b.length) {
    const ihl = (b[off] & 0x0f) * 4;
    const src = formatIp(b.subarray(off + 12, off + 16));
    const dst = formatIp(b.subarray(off + 16, off + 20));
    const frag = dv.getUint16(off + 6) & 0x1fff;
    const l4 = frag === 0 ? " " + l4Text(b[off + 9], b, off + ihl) : " fragment";
    return `${vlan}IPv4 ${src} → ${dst}${l4}, ${size}`;
  }
  if (type === 0x86dd && off + 40 <= b.length) {
    const src = compressV6(formatIp(b.subarray(off + 8, off + 24)));
    const dst = compressV6(formatIp(b.subarray(off + 24, off + 40)));
    return `${vlan}IPv6 ${src} → ${dst} ${l4Text(b[off + 6], b, off + 40)}, ${size}`;
  }
  if (type === 0x0806 && off + 28 <= b.length) {
    const op = dv.getUint16(off + 6);
    const spa = formatIp(b.subarray(off + 14, off + 18));
    const tpa = formatIp(b.subarray(off + 24, off + 28));
    return `${vlan}ARP ${op === 1 ? `who-has ${tpa} tell ${spa}` : `reply ${spa}`}, ${size}`;
  }
  return `${vlan}ethertype 0x${type.toString(16).padStart(4, "0")}, ${size}`;
}

/** `2001:db8:0:0:0:0:0:1` → `2001:db8::1` (the longest run of zero words). */
export function compressV6(full: string): string {
  const words = full.split(":");
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < words.length;) {
    if (words[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < words.length && words[j] === "0") j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return full;
  const head = words.slice(0, best).join(":");
  const tail = words.slice(best + bestLen).join(":");
  return `${head}::${tail}`;
}
