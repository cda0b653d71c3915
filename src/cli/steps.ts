import { fromHex } from "../runtime/dump.js";
import { UsageError } from "./output.js";

/** A step of `tsbpf run`, applied in command-line order before the reported run. */
export type Step =
  | { kind: "slots"; map: string; slots: { index: number; prog: string }[] }
  | { kind: "clear"; map: string; indices: number[] }
  | { kind: "update"; map: string; entries: { key: Uint8Array; value: Uint8Array }[] }
  | { kind: "run" };

function splitMap(option: string, spec: string): [string, string[]] {
  const eq = spec.indexOf("=");
  if (eq <= 0 || eq === spec.length - 1) {
    throw new UsageError(`${option} ${spec}: expected MAP=…`);
  }
  return [spec.slice(0, eq), spec.slice(eq + 1).split(",")];
}

function index(option: string, s: string): number {
  if (!/^\d+$/.test(s))
    throw new UsageError(`${option}: slot "${s}" is not a non-negative integer`);
  return Number(s);
}

/** Parses `--slots MAP=IDX:PROG[,IDX:PROG…]`. */
export function parseSlots(spec: string): Step {
  const [map, items] = splitMap("--slots", spec);
  const slots = items.map((item) => {
    const colon = item.indexOf(":");
    if (colon <= 0 || colon === item.length - 1) {
      throw new UsageError(`--slots ${spec}: "${item}" is not IDX:PROG`);
    }
    return { index: index("--slots", item.slice(0, colon)), prog: item.slice(colon + 1) };
  });
  return { kind: "slots", map, slots };
}

/** Parses `--clear MAP=IDX[,IDX…]`. */
export function parseClear(spec: string): Step {
  const [map, items] = splitMap("--clear", spec);
  return { kind: "clear", map, indices: items.map((i) => index("--clear", i)) };
}

/** Parses `--update MAP=KEYHEX:VALHEX[,…]`. */
export function parseUpdate(spec: string): Step {
  const [map, items] = splitMap("--update", spec);
  const entries = items.map((item) => {
    const colon = item.indexOf(":");
    if (colon <= 0 || colon === item.length - 1) {
      throw new UsageError(`--update ${spec}: "${item}" is not KEYHEX:VALHEX`);
    }
    try {
      return { key: fromHex(item.slice(0, colon)), value: fromHex(item.slice(colon + 1)) };
    } catch (e) {
      throw new UsageError(`--update ${spec}: ${(e as Error).message}`);
    }
  });
  return { kind: "update", map, entries };
}

/** Steps as the native kernel runner takes them on its command line. */
export function stepArgs(steps: Step[]): string[] {
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return steps.flatMap((s): string[] => {
    switch (s.kind) {
      case "slots":
        return ["--slots", `${s.map}=${s.slots.map((x) => `${x.index}:${x.prog}`).join(",")}`];
      case "clear":
        return ["--clear", `${s.map}=${s.indices.join(",")}`];
      case "update":
        return [
          "--update",
          `${s.map}=${s.entries.map((e) => `${hex(e.key)}:${hex(e.value)}`).join(",")}`,
        ];
      case "run":
        return ["--run"];
    }
  });
}
