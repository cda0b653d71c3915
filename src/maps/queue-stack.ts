/**
 * `BPF_MAP_TYPE_QUEUE` (22, FIFO) and `BPF_MAP_TYPE_STACK` (23, LIFO), after the kernel's
 * `kernel/bpf/queue_stack_maps.c`.
 *
 * - Keyless: programs use `bpf_map_push_elem`, `bpf_map_pop_elem`, `bpf_map_peek_elem`;
 *   lookup gives NULL, update and delete -EINVAL.
 * - Push flags: `BPF_ANY`, or `BPF_EXIST` to make room when full by dropping the **oldest**
 *   element (for a stack too: the bottom); `BPF_NOEXIST` or unknown bits are -EINVAL; a push
 *   to a full map without `BPF_EXIST` is -E2BIG.
 * - Pop/peek on an empty map zero the destination and return -ENOENT.
 * - Host: `lookup` peeks (as `BPF_MAP_LOOKUP_ELEM` does), `update` pushes, {@link
 *   QueueStackMap.pop} is `BPF_MAP_LOOKUP_AND_DELETE_ELEM`; delete is EINVAL; `keys()` is
 *   empty (get_next_key is EINVAL in Linux).
 * - Values are copies held outside the linear memory: programs never get pointers to them.
 */
import { E2BIG, EINVAL, ENOENT, ENOMEM, EPERM } from "../errno.js";
import { BaseMap, u64 } from "./base.js";
import { BPF_EXIST, BPF_MAP_TYPE_STACK, BPF_NOEXIST } from "./constants.js";
import { HOST_ENTRY_BYTES } from "./slots.js";
import type { MapDefinition, MapEnv } from "./types.js";

/** A queue or a stack. */
export class QueueStackMap extends BaseMap {
  /** True for a stack (pop takes the newest element). */
  readonly lifo: boolean;
  private items: Uint8Array[] = [];
  private head = 0;

  constructor(def: MapDefinition, env: MapEnv, handle: number) {
    super(def, env, handle);
    this.lifo = def.type === BPF_MAP_TYPE_STACK;
  }

  /** Number of elements. */
  get count(): number {
    return this.items.length - this.head;
  }

  override pushElem(valueAddr: number, flags: bigint): number {
    if (!this.progWritable) return -EPERM;
    return this.pushCore(this.mem.read(valueAddr, this.def.valueSize), u64(flags));
  }

  override popElem(valueAddr: number): number {
    if (!this.progWritable) return -EPERM;
    return this.copyOut(this.take(true), valueAddr);
  }

  override peekElem(valueAddr: number): number {
    return this.copyOut(this.take(false), valueAddr);
  }

  /** Host push (`BPF_MAP_UPDATE_ELEM`). */
  push(value: Uint8Array, flags = 0n): void {
    this.checkHostWrite("push");
    this.checkSize("value", value, this.def.valueSize);
    this.check("push", this.pushCore(value.slice(), u64(flags)));
  }

  /** Host pop (`BPF_MAP_LOOKUP_AND_DELETE_ELEM`): the element, or undefined when empty. */
  pop(): Uint8Array | undefined {
    this.checkHostWrite("pop");
    return this.take(true)?.slice();
  }

  /** Host peek: the element pop would take, or undefined when empty. */
  peek(): Uint8Array | undefined {
    this.checkHostRead("peek");
    return this.take(false)?.slice();
  }

  /** Peeks (the key is ignored: queues and stacks have none). */
  lookup(_key: Uint8Array): Uint8Array | undefined {
    return this.peek();
  }

  /** Pushes (the key is ignored). */
  update(_key: Uint8Array, value: Uint8Array, flags = 0n): void {
    this.push(value, flags);
  }

  delete(_key: Uint8Array): void {
    this.fail("delete: queues and stacks have no keys", -EINVAL);
  }

  keys(): Uint8Array[] {
    return [];
  }

  override destroy(): void {
    this.mem.releaseExternal(this.count * this.itemBytes);
    this.items = [];
    this.head = 0;
  }

  /** Bytes an element costs, counted against the address space's `maxBytes`. */
  private get itemBytes(): number {
    return this.def.valueSize + HOST_ENTRY_BYTES;
  }

  private pushCore(value: Uint8Array, f: bigint): number {
    if (f & BPF_NOEXIST || f > BPF_EXIST) return -EINVAL;
    if (this.count >= this.def.maxEntries) {
      if (!(f & BPF_EXIST)) return -E2BIG;
      this.head++; // drop the oldest (its bytes go to the new element)
    } else {
      try {
        this.mem.reserveExternal(this.itemBytes, `map ${this.def.name} element`);
      } catch {
        return -ENOMEM;
      }
    }
    this.items.push(value);
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return 0;
  }

  private take(remove: boolean): Uint8Array | undefined {
    if (this.count === 0) return undefined;
    const v = this.lifo ? this.items[this.items.length - 1] : this.items[this.head];
    if (remove) {
      if (this.lifo) this.items.pop();
      else this.head++;
      this.mem.releaseExternal(this.itemBytes);
      if (this.count === 0) {
        this.items = [];
        this.head = 0;
      }
    }
    return v;
  }

  private copyOut(v: Uint8Array | undefined, valueAddr: number): number {
    const u8 = this.mem.u8;
    if (v === undefined) {
      u8.fill(0, valueAddr, valueAddr + this.def.valueSize);
      return -ENOENT;
    }
    u8.set(v, valueAddr);
    return 0;
  }
}
