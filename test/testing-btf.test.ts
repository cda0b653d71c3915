/**
 * `tsbpf/testing`: map values decoded by BTF as bpftool formats them, the test object API
 * (maps by number or bytes, ring buffers, printk, globals) and the assertions.
 */
import { describe, expect, it } from "vitest";
import {
  AssertionError,
  assertMapValue,
  assertPacket,
  assertRetval,
  buildPacket,
  decodeBtfValue,
  eth,
  fromBytes,
  ipv4,
  loadObject,
  registeredEngines,
  retvalByName,
  stringifyBtfValue,
  tcp,
  toBytes,
  udp,
  XDP_DROP,
} from "../src/testing/index.js";
import { loadCollectionSpecFile } from "../src/node.js";

const VALUES = "test/testing-fixtures/btf_values.bpf.o";

describe("BTF value decoding", () => {
  it("decodes every kind as bpftool's formatted objects do", () => {
    const spec = loadCollectionSpecFile(VALUES);
    const m = spec.maps.find((x) => x.name === "btf_valu.data");
    expect(m?.initialValue).toBeDefined();
    const v = decodeBtfValue(spec.btf!, m!.valueTypeId!, m!.initialValue!);
    expect(v).toEqual({
      ".data": [
        {
          values: {
            name: "tsbpf",
            raw: [97, 98, 99, 100],
            neg: -2,
            col: "GREEN",
            d: "MINUS",
            f: { a: 5, b: 17, c: -3, on: true },
            w: { u: 0x04030201, bytes: [1, 2, 3, 4] },
            x: 7,
            y: 8,
            big: 0xfedcba9876543210n,
            small: -5,
            ratio: 0.5,
            ptr: 0,
            matrix: [
              [1, 2],
              [3, 4],
            ],
          },
        },
      ],
    });
    expect(stringifyBtfValue({ big: 0xfedcba9876543210n, s: "a" })).toBe(
      '{"big": 18364758544493064720, "s": "a"}',
    );
  });

  it("formats per-CPU values as [{cpu, value}] and dumps like bpftool -j", () => {
    const obj = loadObject("test/fixtures/maps.bpf.o", { numCpus: 2 });
    const pcpu = obj.map("pcpu_arr");
    pcpu.set(1, Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0));
    const e = pcpu.dump()[1];
    expect(e.key).toEqual(["0x01", "0x00", "0x00", "0x00"]);
    expect(e.values?.map((x) => x.cpu)).toEqual([0, 1]);
    expect(e.formatted).toEqual({
      key: 1,
      values: [
        { cpu: 0, value: 2 },
        { cpu: 1, value: 3 },
      ],
    });
    obj.close();
  });
});

describe.each(registeredEngines())("test objects on %s", (engine) => {
  it("run packets given as layers and read maps by number", () => {
    const obj = loadObject("examples/self-tail/self_tail.bpf.o", { engine });
    const r = obj.run([
      eth(),
      ipv4({ src: "1.1.1.1", dst: "2.2.2.2" }),
      udp({ sport: 1, dport: 2 }),
    ]);
    expect(r.retval).toBe(2 + 34); // byte 0 (a MAC's 0x02) counted up 34 times
    expect(obj.map("runs").getNumber(0)).toBe(34n);
    expect(obj.map("runs").formatted()).toEqual([
      { key: 0, value: 34 },
      { key: 1, value: 1 },
    ]);
    expect(obj.dumpMaps().runs).toEqual({
      "00000000": "2200000000000000",
      "01000000": "0100000000000000",
    });
    obj.close();
  });

  it("collect the trace, printk lines and ring buffer records", () => {
    const obj = loadObject("examples/ringbuf-logger/logger.bpf.o", { engine });
    const syn = buildPacket(
      eth(),
      ipv4({ src: "10.0.0.1", dst: "10.0.0.2" }),
      tcp({ sport: 7, dport: 8 }),
    );
    const r = obj.run(syn, { trace: true });
    expect(r.trace.map((e) => e.kind)).toContain("helper");
    expect(obj.printk).toEqual(["tcp 7 -> 8, 54 bytes"]);
    const [rec] = obj.map("events").drain();
    expect(fromBytes(rec.subarray(0, 8))).toBe(0n);
    expect(rec.length).toBe(24);
    expect(obj.map("events").drain()).toEqual([]);
    expect(() => obj.map("stats").drain()).toThrow(/not a ring buffer/);
  });

  it("set globals before load and slots after", () => {
    const fib = loadObject("examples/fib/fib.bpf.o", { engine, globals: { default_n: 12 } });
    expect(fib.test()).toBe(144);
    fib.setSlot("jmp", 0, null);
    expect(fib.test()).toBe(0xffffffff);
    expect(fib.map("state").getFormatted(0)).toMatchObject({ n: 12, steps: 0, exhausted: 1 });
  });
});

describe("assertions", () => {
  const fw = loadObject("examples/firewall/firewall.bpf.o");
  const p = buildPacket(
    eth(),
    ipv4({ src: "10.0.0.1", dst: "10.0.0.2" }),
    udp({ sport: 1, dport: 2 }),
  );
  const r = fw.run(p);

  it("pass quietly", () => {
    assertRetval(r, "XDP_PASS");
    assertRetval(r.retval, 2);
    assertPacket(r, p);
    assertMapValue(fw.map("stats"), 2, { packets: 1, bytes: p.length });
    assertMapValue(
      fw.map("stats"),
      2,
      Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, p.length, 0, 0, 0, 0, 0, 0, 0]),
    );
    assertMapValue(fw.map("blocklist_v4"), Uint8Array.of(32, 0, 0, 0, 10, 0, 0, 1), undefined);
    expect(retvalByName("TC_ACT_SHOT")).toBe(2);
    expect(retvalByName("XDP_TX")).toBe(3);
  });

  it("fail with actual and expected for the runner's diff", () => {
    const err = (() => {
      try {
        assertRetval(r, XDP_DROP);
      } catch (e) {
        return e as AssertionError;
      }
    })();
    expect(err).toBeInstanceOf(AssertionError);
    expect(err?.message).toBe(
      "expected return value 1 (XDP_DROP / TC_ACT_RECLASSIFY), got 2 (XDP_PASS / TC_ACT_SHOT)",
    );
    expect(err?.actual).toBe(2);
    expect(err?.expected).toBe(1);
    expect(err?.showDiff).toBe(true);
    expect(() => assertMapValue(fw.map("stats"), 2, { packets: 5, bytes: 42 })).toThrow(
      'map "stats" key 2: expected {"packets": 5, "bytes": 42}, got {"packets": 1, "bytes": 42}',
    );
    expect(() => assertMapValue(fw.map("stats"), 2, 7)).toThrow(AssertionError);
    expect(() => assertPacket(r, new Uint8Array(3))).toThrow("data_out differs");
    expect(() => assertRetval(r, "XDP_NOPE")).toThrow(TypeError);
  });

  it("keys and values: numbers are checked against the map's sizes", () => {
    expect(() => fw.map("stats").get(Uint8Array.of(1))).toThrow(/1 bytes, expected 4/);
    expect(() => toBytes(256, 1)).toThrow(/does not fit/);
    expect(toBytes(-1, 2)).toEqual(Uint8Array.of(0xff, 0xff));
  });
});
