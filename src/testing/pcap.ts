/**
 * Packet capture files: a reader for classic pcap (microsecond and nanosecond, either byte
 * order) and pcapng (section header, interface description, enhanced, simple and obsolete
 * packet blocks; other blocks are skipped), and a writer of classic pcap. Bounds-checked:
 * malformed input is a {@link CaptureError} naming the offset, never a crash.
 */

/** LINKTYPE_ETHERNET: the link type XDP and tc programs expect. */
export const LINKTYPE_ETHERNET = 1;

/** A malformed or unsupported capture file. */
export class CaptureError extends Error {
  override name = "CaptureError";
}

/** One captured packet. */
export interface CapturedPacket {
  /** The captured bytes (may be shorter than the packet on the wire). */
  data: Uint8Array;
  /** Length of the packet on the wire. */
  originalLength: number;
  /** Capture time in nanoseconds since the epoch (0n when the block has none). */
  timestampNs: bigint;
  /** The interface's link type (LINKTYPE_*). */
  linkType: number;
}

/** What {@link readCapture} returns. */
export interface Capture {
  /** `pcap` or `pcapng`. */
  format: "pcap" | "pcapng";
  /** The packets, in file order. */
  packets: CapturedPacket[];
}

const PCAP_US = 0xa1b2c3d4;
const PCAP_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

/** Whether `bytes` start like a pcap or pcapng file. */
export function isCapture(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const be = dv.getUint32(0, false);
  const le = dv.getUint32(0, true);
  return [PCAP_US, PCAP_NS].includes(be) || [PCAP_US, PCAP_NS].includes(le) || be === PCAPNG_SHB;
}

/** Parses a pcap or pcapng file. */
export function readCapture(bytes: Uint8Array): Capture {
  if (bytes.length < 4) throw new CaptureError("not a capture file: shorter than 4 bytes");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, false) === PCAPNG_SHB)
    return { format: "pcapng", packets: readPcapng(bytes, dv) };
  return { format: "pcap", packets: readPcap(bytes, dv) };
}

function readPcap(bytes: Uint8Array, dv: DataView): CapturedPacket[] {
  let le: boolean;
  let nano: boolean;
  const magicLe = dv.getUint32(0, true);
  if (magicLe === PCAP_US || magicLe === PCAP_NS) {
    le = true;
    nano = magicLe === PCAP_NS;
  } else {
    const magicBe = dv.getUint32(0, false);
    if (magicBe !== PCAP_US && magicBe !== PCAP_NS) {
      throw new CaptureError(`not a pcap or pcapng file (magic 0x${magicBe.toString(16)})`);
    }
    le = false;
    nano = magicBe === PCAP_NS;
  }
  if (bytes.length < 24) throw new CaptureError("pcap: truncated file header");
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  const packets: CapturedPacket[] = [];
  let off = 24;
  while (off < bytes.length) {
    if (off + 16 > bytes.length) {
      throw new CaptureError(`pcap: truncated record header at offset ${off}`);
    }
    const sec = BigInt(dv.getUint32(off, le));
    const frac = BigInt(dv.getUint32(off + 4, le));
    const incl = dv.getUint32(off + 8, le);
    const orig = dv.getUint32(off + 12, le);
    if (off + 16 + incl > bytes.length) {
      throw new CaptureError(
        `pcap: record at offset ${off} claims ${incl} bytes, ${bytes.length - off - 16} left`,
      );
    }
    packets.push({
      data: bytes.slice(off + 16, off + 16 + incl),
      originalLength: orig,
      timestampNs: sec * 1_000_000_000n + (nano ? frac : frac * 1000n),
      linkType,
    });
    off += 16 + incl;
  }
  return packets;
}

interface Iface {
  linkType: number;
  snapLen: number;
  /** Timestamp units per second. */
  unitsPerSec: bigint;
}

function readPcapng(bytes: Uint8Array, dv: DataView): CapturedPacket[] {
  const packets: CapturedPacket[] = [];
  let ifaces: Iface[] = [];
  let le = true;
  let off = 0;
  while (off < bytes.length) {
    if (off + 12 > bytes.length) throw new CaptureError(`pcapng: truncated block at offset ${off}`);
    const typeBe = dv.getUint32(off, false);
    if (typeBe === PCAPNG_SHB) {
      const bom = dv.getUint32(off + 8, true);
      if (bom === PCAPNG_BOM) le = true;
      else if (dv.getUint32(off + 8, false) === PCAPNG_BOM) le = false;
      else throw new CaptureError(`pcapng: bad byte-order magic at offset ${off + 8}`);
      ifaces = [];
    }
    const type = dv.getUint32(off, le);
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || len % 4 !== 0 || off + len > bytes.length) {
      throw new CaptureError(`pcapng: block at offset ${off} has a bad length ${len}`);
    }
    const body = off + 8;
    const bodyEnd = off + len - 4;
    const need = (n: number) => {
      if (body + n > bodyEnd) throw new CaptureError(`pcapng: block at offset ${off} is too short`);
    };
    const iface = (id: number): Iface => {
      const i = ifaces[id];
      if (i === undefined) {
        throw new CaptureError(`pcapng: block at offset ${off} names unknown interface ${id}`);
      }
      return i;
    };
    const ts = (i: Iface, hi: number, lo: number) =>
      (((BigInt(hi) << 32n) | BigInt(lo)) * 1_000_000_000n) / i.unitsPerSec;
    switch (type) {
      case 1: {
        need(8);
        ifaces.push({
          linkType: dv.getUint16(body, le),
          snapLen: dv.getUint32(body + 4, le),
          unitsPerSec: tsResolution(dv, body + 8, bodyEnd, le),
        });
        break;
      }
      case 6: // enhanced packet block
      case 2: {
        // obsolete packet block: the same layout with a 16-bit interface id
        need(20);
        const i = iface(type === 6 ? dv.getUint32(body, le) : dv.getUint16(body, le));
        const cap = dv.getUint32(body + 12, le);
        need(20 + cap);
        packets.push({
          data: bytes.slice(body + 20, body + 20 + cap),
          originalLength: dv.getUint32(body + 16, le),
          timestampNs: ts(i, dv.getUint32(body + 4, le), dv.getUint32(body + 8, le)),
          linkType: i.linkType,
        });
        break;
      }
      case 3: {
        need(4);
        const i = iface(0);
        const orig = dv.getUint32(body, le);
        const cap = Math.min(orig, i.snapLen || orig, bodyEnd - body - 4);
        packets.push({
          data: bytes.slice(body + 4, body + 4 + cap),
          originalLength: orig,
          timestampNs: 0n,
          linkType: i.linkType,
        });
        break;
      }
      default:
        break; // section header, statistics, name resolution, custom blocks...
    }
    off += len;
  }
  return packets;
}

/** The `if_tsresol` option of an interface description block (default microseconds). */
function tsResolution(dv: DataView, off: number, end: number, le: boolean): bigint {
  while (off + 4 <= end) {
    const code = dv.getUint16(off, le);
    const len = dv.getUint16(off + 2, le);
    if (code === 0) break;
    if (code === 9 && len >= 1 && off + 5 <= end) {
      const v = dv.getUint8(off + 4);
      const exp = BigInt(v & 0x7f);
      if (exp > 30n) throw new CaptureError(`pcapng: unsupported if_tsresol 0x${v.toString(16)}`);
      return v & 0x80 ? 1n << exp : 10n ** exp;
    }
    off += 4 + Math.ceil(len / 4) * 4;
  }
  return 1_000_000n;
}

/** A packet to write: bytes, or bytes with a capture time. */
export type PacketToWrite = Uint8Array | { data: Uint8Array; timestampNs?: bigint };

/**
 * Writes a classic little-endian pcap file (microsecond timestamps). Packets without a time get
 * one a millisecond apart from the epoch, so the file is the same every time.
 */
export function writePcap(packets: PacketToWrite[], linkType = LINKTYPE_ETHERNET): Uint8Array {
  const items = packets.map((p, i) =>
    p instanceof Uint8Array
      ? { data: p, timestampNs: BigInt(i) * 1_000_000n }
      : { data: p.data, timestampNs: p.timestampNs ?? BigInt(i) * 1_000_000n },
  );
  const size = 24 + items.reduce((n, p) => n + 16 + p.data.length, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, PCAP_US, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 262144, true);
  dv.setUint32(20, linkType, true);
  let off = 24;
  for (const p of items) {
    const us = p.timestampNs / 1000n;
    dv.setUint32(off, Number(us / 1_000_000n) >>> 0, true);
    dv.setUint32(off + 4, Number(us % 1_000_000n), true);
    dv.setUint32(off + 8, p.data.length, true);
    dv.setUint32(off + 12, p.data.length, true);
    out.set(p.data, off + 16);
    off += 16 + p.data.length;
  }
  return out;
}
