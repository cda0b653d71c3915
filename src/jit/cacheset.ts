/**
 * The bounds-check caches and range-proof guards of one function being compiled: which exist
 * (all allocated before any code is emitted, so that the resets on entry and after calls cover
 * them all), their locals and globals, and the code that loads and resets them. What a cache
 * and a guard hold is in memcheck.ts and guards.ts.
 */
import { emitGuardReset, type Guard } from "./guards.js";
import { emitCacheSync, type Cache } from "./memcheck.js";
import { I32, I64, type Bytes } from "./wasm.js";

/** Cache groups keyed by a register's value per function (see `CacheSet.groupKey`). */
const MAX_VALUE_GROUPS = 16;

/** Where a function's locals and its module's globals come from. */
export interface Allocator {
  /** A new local of `type`. */
  local(type: number): number;
  /** A new global of `type`, initially `init`. */
  global(type: number, init: number): number;
}

/** The caches and guards of one function. */
export class CacheSet {
  private readonly caches = new Map<string, Cache>();
  private readonly groups = new Map<string, Cache[]>();
  private readonly guards = new Map<number, { read?: Guard; write?: Guard }>();
  private valueGroups = 0;
  private sealed = false;
  private gEpoch = -1;

  /**
   * `baseValue`: the value (ranges.ts) the base register of each access holds; `epochAddr`:
   * where the address space's epoch is (the scratch area).
   */
  constructor(
    private readonly alloc: Allocator,
    private readonly baseValue: ReadonlyMap<number, number>,
    private readonly epochAddr: number,
  ) {}

  private epochGlobal(): void {
    if (this.gEpoch < 0) this.gEpoch = this.alloc.global(I32, -1);
  }

  /** Allocates the guards after the loads at `pcs`' keys, for reads and for writes. */
  addGuards(guards: ReadonlyMap<number, { read: boolean; write: boolean }>): void {
    const guard = (): Guard => {
      const [lo, span] = [this.alloc.local(I64), this.alloc.local(I64)];
      const [glo, glim] = [this.alloc.global(I64, 0), this.alloc.global(I64, 0)];
      this.epochGlobal();
      return { lo, span, glo, glim };
    };
    for (const [pc, g] of guards) {
      this.guards.set(pc, { read: g.read ? guard() : undefined, write: g.write ? guard() : undefined }); // prettier-ignore
    }
  }

  /** The guards the load at `pc` fills, if any. */
  guardAt(pc: number): { read?: Guard; write?: Guard } | undefined {
    return this.guards.get(pc);
  }

  /** The guard of the load at `anchor` for reads or writes (which must exist). */
  guardOf(anchor: number, write: boolean): Guard {
    const g = this.guards.get(anchor);
    const guard = write ? g?.write : g?.read;
    if (guard === undefined) throw new Error(`jit: no guard at pc ${anchor}`);
    return guard;
  }

  /**
   * The cache of `size`-byte accesses (writes if `write`) through `reg` at `pc`; allocated on
   * first use until {@link seal}.
   */
  cache(pc: number, reg: number, write: boolean, size: number): Cache {
    const group = this.groupKey(pc, reg);
    const key = `${group}/${write ? "w" : "r"}${size}`;
    let c = this.caches.get(key);
    if (c === undefined) {
      if (this.sealed) throw new Error(`jit: no cache for r${reg} (${size} bytes) at pc ${pc}`);
      const lo = this.alloc.local(I64);
      this.alloc.local(I64); // lim
      const [glo, glim] = [this.alloc.global(I64, 0), this.alloc.global(I64, 0)];
      c = { reg, write, size, lo, lim: lo + 1, glo, glim, global: true };
      this.epochGlobal();
      this.caches.set(key, c);
      const members = this.groups.get(group) ?? [];
      members.push(c);
      this.groups.set(group, members);
    }
    return c;
  }

  /** Every cache the access through `reg` at `pc` shares its refills with. */
  group(pc: number, reg: number): readonly Cache[] {
    return this.groups.get(this.groupKey(pc, reg)) ?? [];
  }

  /** No cache is allocated after this. */
  seal(): void {
    this.sealed = true;
  }

  /**
   * The caches an access at `pc` through `reg` shares (and refills together): those of the
   * value the register holds there (ranges.ts `baseValue`), so that one register holding the
   * context and then the packet does not evict one range with the other on every run; those
   * of the register when the value is unknown, or past MAX_VALUE_GROUPS values.
   */
  private groupKey(pc: number, reg: number): string {
    const value = this.baseValue.get(pc);
    const byValue = value === undefined ? undefined : `r${reg}=${value}`;
    if (byValue !== undefined && this.groups.has(byValue)) return byValue;
    if (byValue !== undefined && this.valueGroups < MAX_VALUE_GROUPS && !this.sealed) {
      this.valueGroups++;
      return byValue;
    }
    return `r${reg}`;
  }

  /** The globals of every guard (emptied with the caches). */
  private guardGlobals(): number[] {
    const out: number[] = [];
    for (const g of this.guards.values()) {
      for (const k of [g.read, g.write]) if (k !== undefined) out.push(k.glo, k.glim);
    }
    return out;
  }

  /** On entry: the guards empty, the caches loaded from their globals (or emptied). */
  emitEntry(o: Bytes): void {
    for (const g of this.guards.values()) {
      for (const k of [g.read, g.write]) if (k !== undefined) emitGuardReset(o, k);
    }
    emitCacheSync(o, [...this.caches.values()], this.guardGlobals(), this.epochAddr, this.gEpoch, true); // prettier-ignore
  }

  /** After a call: everything emptied if the address space changed. */
  emitSync(o: Bytes): void {
    emitCacheSync(o, [...this.caches.values()], this.guardGlobals(), this.epochAddr, this.gEpoch, false); // prettier-ignore
  }
}
