import type { Segment } from "../memory/address-space.js";
import type { Machine } from "../runtime/machine.js";

/**
 * The regions test runs reuse from run to run (a packet frame, a ctx), so a run costs no
 * allocation. Kept per machine.
 */
export class RunArena {
  private readonly segs = new Map<string, Segment>();
  constructor(private readonly m: Machine) {}

  /** A zeroed region named `name` of at least `size` bytes with `flags`. */
  region(name: string, size: number, flags: number): Segment {
    const key = `${name}/${flags}`;
    let seg = this.segs.get(key);
    if (seg === undefined || seg.bytes < size) {
      if (seg !== undefined) this.m.mem.unmap(seg);
      seg = this.m.mem.mapRegion(name, size, flags);
      this.segs.set(key, seg);
    } else {
      this.m.mem.u8.fill(0, seg.base, seg.base + seg.bytes);
    }
    this.m.mem.setWindow(seg, seg.base, seg.base + size);
    return seg;
  }
}

const arenas = new WeakMap<Machine, RunArena>();

/** The run arena of machine `m`. */
export function arenaOf(m: Machine): RunArena {
  let a = arenas.get(m);
  if (a === undefined) {
    a = new RunArena(m);
    arenas.set(m, a);
  }
  return a;
}
