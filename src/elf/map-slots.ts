/**
 * Static initialisation of prog_array and map-in-map slots from the relocations in `.maps`
 * (`.values = { [2] = &prog }`), following libbpf's `bpf_object__collect_map_relos`.
 */
import {
  BPF_MAP_TYPE_ARRAY_OF_MAPS,
  BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_PROG_ARRAY,
} from "./constants.js";
import { R_BPF_64_64, R_BPF_64_ABS64, describeSection } from "./elf.js";
import { LoadError, hex } from "./errors.js";
import type { BtfMapVar, ObjectMaps } from "./maps.js";
import { symbolAt, symbolName, type ObjectContext } from "./object.js";
import { INSN_SIZE, type BpfFunction } from "./programs.js";

const BPF_PTR_SIZE = 8;

/** Fills `initialSlots` of the maps from `.rel.maps`. */
export function applyMapRelocations(
  ctx: ObjectContext,
  maps: ObjectMaps,
  programs: BpfFunction[],
): void {
  const byOffset = [...maps.btfVars].sort((a, b) => a.offset - b.offset);
  const progByName = new Map(programs.map((p) => [p.name, p]));
  const btfMapNames = new Set(maps.maps.filter((m) => m.section === ".maps").map((m) => m.name));
  const slotsByMap = new Map<number, Map<number, string>>();
  for (const relSec of ctx.relSections) {
    if (ctx.elf.sections[relSec.info].name !== ".maps") continue;
    const relWhere = describeSection(relSec);
    ctx.elf.readRelocations(relSec).forEach((rel, i) => {
      const where = `${relWhere}: relocation #${i} at offset ${hex(rel.offset)}`;
      const fail = (code: "RELOCATION" | "MAP_DEFINITION", msg: string): never => {
        throw new LoadError(code, `${where}: ${msg}`, { section: ".maps", offset: rel.offset });
      };
      const sym = symbolAt(ctx, rel.symbol, where);
      const name = symbolName(ctx, sym);
      if (rel.type !== R_BPF_64_ABS64 && rel.type !== R_BPF_64_64)
        fail(
          "RELOCATION",
          `unexpected relocation type ${rel.type} against ${JSON.stringify(name)}`,
        );
      const mv = varAt(byOffset, rel.offset);
      if (!mv || rel.offset + BPF_PTR_SIZE > mv.offset + mv.size)
        return fail("RELOCATION", `no map at this offset (against ${JSON.stringify(name)})`);
      const map = maps.maps[mv.mapIndex];
      const isMapInMap =
        map.type === BPF_MAP_TYPE_ARRAY_OF_MAPS || map.type === BPF_MAP_TYPE_HASH_OF_MAPS;
      if (isMapInMap) {
        if (sym.shndx !== ctx.btfMapsIndex)
          fail("RELOCATION", `${JSON.stringify(name)} isn't a BTF-defined map`);
        if (map.type === BPF_MAP_TYPE_HASH_OF_MAPS && map.keySize !== 4)
          fail("MAP_DEFINITION", `hash-of-maps ${JSON.stringify(map.name)} should have key size 4`);
        if (!btfMapNames.has(name))
          fail("RELOCATION", `${JSON.stringify(name)} isn't a valid map reference`);
      } else if (map.type === BPF_MAP_TYPE_PROG_ARRAY) {
        const prog = progByName.get(name);
        if (!prog) fail("RELOCATION", `${JSON.stringify(name)} isn't a valid program reference`);
        else if (
          prog.section.index !== sym.shndx ||
          prog.secInsnOff * INSN_SIZE !== sym.value ||
          prog.subprog
        )
          fail("RELOCATION", `${JSON.stringify(name)} isn't an entry-point program`);
      } else {
        fail(
          "MAP_DEFINITION",
          `map ${JSON.stringify(map.name)} has initial values but is not a prog_array or map-in-map`,
        );
      }
      const last = mv.def.members[mv.def.members.length - 1];
      if (!last || last.name !== "values")
        fail("MAP_DEFINITION", `map ${JSON.stringify(map.name)}: last member is not 'values'`);
      const rel0 = rel.offset - mv.offset - Math.floor(last.bitOffset / 8);
      if (rel0 < 0 || rel0 % BPF_PTR_SIZE !== 0)
        fail("MAP_DEFINITION", `map ${JSON.stringify(map.name)}: misplaced 'values' relocation`);
      const key = rel0 / BPF_PTR_SIZE;
      if (map.type !== BPF_MAP_TYPE_HASH_OF_MAPS && key >= map.maxEntries)
        fail(
          "MAP_DEFINITION",
          `map ${JSON.stringify(map.name)}: initial slot ${key} >= max_entries ${map.maxEntries}`,
        );
      let slots = slotsByMap.get(mv.mapIndex);
      if (!slots) slotsByMap.set(mv.mapIndex, (slots = new Map()));
      slots.set(key, name);
    });
  }
  for (const [mapIndex, slots] of slotsByMap)
    maps.maps[mapIndex].initialSlots = [...slots]
      .sort((a, b) => a[0] - b[0])
      .map(([key, target]) => ({ key, target }));
}

/** The variable with the greatest offset <= `off`, in a list sorted by offset. */
function varAt(sorted: BtfMapVar[], off: number): BtfMapVar | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid].offset <= off) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? sorted[lo - 1] : undefined;
}
