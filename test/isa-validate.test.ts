import { describe, expect, it } from "vitest";
import { ValidationError } from "../src/errors.js";
import { assemble } from "../src/isa/asm.js";
import { decodeProgram, encodeProgram, type Insn } from "../src/isa/decode.js";
import {
  instructionProblem,
  subprogramStarts,
  validateProgram,
  type ValidateOptions,
} from "../src/isa/validate.js";

const prog = (src: string): ReturnType<typeof decodeProgram> => decodeProgram(assemble(src));

/** The ValidationError validateProgram throws for `src`. */
function refusal(src: string, opts: ValidateOptions = {}): ValidationError {
  try {
    validateProgram(prog(src), opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error(`accepted: ${src}`);
}

function expectRefused(src: string, code: string, message: RegExp | string, pc?: number): void {
  const e = refusal(src);
  expect(e.code).toBe(code);
  expect(e.message).toMatch(message);
  if (pc !== undefined) expect(e.pc).toBe(pc);
}

const ok = (src: string, opts: ValidateOptions = {}): void => validateProgram(prog(src), opts);

describe("validateProgram accepts", () => {
  it("every instruction class of cpu v4", () => {
    ok(`
      mov %r0, 0
      lddw %r1, 0x1122334455667788
      ldxdw %r2, [%r10-8]
      ldxsb %r2, [%r10-1]
      stdw [%r10-8], 1
      stxw [%r10-4], %r1
      lock fetch add [%r10-8], %r1
      lock cmpxchg32 [%r10-8], %r1
      lock xchg [%r10-8], %r1
      sdiv32 %r1, %r2
      smod %r1, 3
      movsx3264 %r1, %r2
      movsx1632 %r1, %r2
      bswap64 %r1
      be16 %r1
      neg32 %r1
      jslt32 %r1, %r2, +1
      ja32 +0
      call 1
      call local sub
      exit
    sub:
      mov %r0, 1
      ja end
    end:
      exit
    `);
  });

  it("stores through r10 and r10 as a source", () => {
    ok("stxdw [%r10-8], %r10\nmov %r1, %r10\nstb [%r10-1], 0\nmov %r0, 0\nexit");
  });

  it("a program ending in a backward ja", () => ok("mov %r0, 0\njeq %r0, 0, +1\nexit\nja -3"));

  it("lddw with each pseudo src 0..6", () => {
    for (let src = 0; src <= 6; src++) {
      const imm = src === 4 ? 2 : 5; // src 4 (function) must point at a subprogram
      const bytes = encodeProgram([
        { code: 0x18, dst: 1, src, off: 0, imm },
        { code: 0, dst: 0, src: 0, off: 0, imm: 0 },
        { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
        { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
        { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
        { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
      ]);
      validateProgram(decodeProgram(bytes));
    }
  });
});

describe("validateProgram refuses", () => {
  it("an empty program", () => {
    expect(() => validateProgram(decodeProgram(new Uint8Array(0)))).toThrow(/empty program/);
  });

  it("a program over maxInsns", () => {
    const e = refusal("mov %r0, 0\nexit", { maxInsns: 1 });
    expect(e.code).toBe("TOO_LARGE");
  });

  it("unknown opcodes", () => {
    for (const word of ["0x00000000000000ff", "0x000000000000008c", "0x00000000000000df"]) {
      expectRefused(`.raw ${word}\nexit`, "UNKNOWN_OPCODE", /unknown opcode 0x/, 0);
    }
    expectRefused(".raw 0x0000000000000099\nexit", "UNKNOWN_OPCODE", /0x99/); // ldxsdw
    expectRefused(".raw 0x0000000000000096\nexit", "UNKNOWN_OPCODE", /0x96/); // exit in JMP32
    expectRefused(".raw 0x00000000000000d3\nexit", "UNKNOWN_OPCODE", /0xd3/); // atomic byte
  });

  it("non-zero unused fields, naming the instruction", () => {
    const e = refusal(".raw 0x0000000100040007\nexit");
    expect(e.message).toBe(
      'pc 0: invalid field: off=4 on "r0 += 0x1" (add64 with an immediate uses no offset)',
    );
    expect(e.code).toBe("RESERVED_FIELD");
    expectRefused(".raw 0x0000000000000095\n.raw 0x0000000000000195", "RESERVED_FIELD", /dst=1/, 1);
    expectRefused(".raw 0x0000000000010006\nexit", "RESERVED_FIELD", /off=1 on "gotol \+0x0"/);
  });

  it("bad values of used fields", () => {
    expectRefused(".raw 0x00000011000000dc\nexit", "RESERVED_FIELD", /imm=17.*16, 32 or 64/);
    expectRefused(".raw 0x00000000000421bf\nexit", "RESERVED_FIELD", /off=4.*movsx/);
    expectRefused(".raw 0x00000000002021bc\nexit", "RESERVED_FIELD", /off=32/); // movsx32 to w
    expectRefused(".raw 0x000000000001210f\nexit", "RESERVED_FIELD", /off=1.*no offset/);
    expectRefused(".raw 0x000000000002213f\nexit", "RESERVED_FIELD", /off=2.*0 or 1/);
    expectRefused(".raw 0x00000002000021db\nexit", "RESERVED_FIELD", /imm=2.*xchg/);
    expectRefused(".raw 0x0000000000003085\nexit", "RESERVED_FIELD", /src=3/);
  });

  it("division by an immediate zero", () => {
    expectRefused("div %r0, 0\nexit", "DIV_BY_ZERO", /division by zero/);
    expectRefused("smod32 %r0, 0\nexit", "DIV_BY_ZERO", /division by zero/);
  });

  it("shift counts out of range only with kernelShiftRange", () => {
    ok("lsh %r0, 64\narsh32 %r0, -1\nexit");
    const e = refusal("mov %r0, 0\narsh32 %r0, 32\nexit", { kernelShiftRange: true });
    expect(e.code).toBe("BAD_SHIFT");
    expect(e.pc).toBe(1);
  });

  it("registers above r10", () => {
    expectRefused("mov %r11, 1\nexit", "INVALID_REGISTER", /r11/);
    expectRefused("mov %r0, %r12\nexit", "INVALID_REGISTER", /r12 as src/);
    expectRefused("stxdw [%r15], %r0\nexit", "INVALID_REGISTER", /r15/);
  });

  it("writes to r10", () => {
    expectRefused("mov %r10, 1\nexit", "READONLY_R10", /r10 is read-only: "r10 = 0x1"/);
    expectRefused("ldxdw %r10, [%r1]\nexit", "READONLY_R10", /read-only/);
    expectRefused("lddw %r10, 1\nexit", "READONLY_R10", /read-only/);
    expectRefused("be16 %r10\nexit", "READONLY_R10", /read-only/);
    expectRefused("lock fetch add [%r1], %r10\nexit", "READONLY_R10", /read-only/);
    ok("lock add [%r1], %r10\nexit"); // no fetch: r10 is only read
  });

  it("jumps out of the program or into an lddw", () => {
    expectRefused("ja +5\nexit", "JUMP_OUT_OF_RANGE", /goes to pc 6/, 0);
    expectRefused("jeq %r1, 0, -3\nexit", "JUMP_OUT_OF_RANGE", /pc -2/);
    expectRefused("ja32 +1\nexit", "JUMP_OUT_OF_RANGE", /pc 2/);
    expectRefused("ja +1\nlddw %r0, 1\nexit", "JUMP_INTO_LDDW", /middle of the lddw at pc 1/);
  });

  it("jumps across subprograms", () => {
    const src = "call local f\nja +2\nexit\nf:\nmov %r0, 0\nexit";
    expectRefused(src, "JUMP_OUT_OF_RANGE", /outside its subprogram \(0\.\.2\)/, 1);
  });

  it("malformed lddw", () => {
    expectRefused(".raw 0x0000000100000118\nexit", "BAD_LDDW", /no second half|second slot/);
    expectRefused("exit\n.raw 0x0000000100000118", "BAD_LDDW", /last slot/);
    expectRefused(".raw 0x0000000100000018, 0x0000000000000195\nexit", "BAD_LDDW", /second slot/);
    expectRefused(".raw 0x0000000100007118, 0\nexit", "RESERVED_FIELD", /src=7/);
    expectRefused(".raw 0x0000000100001118, 0x100000000\nexit", "RESERVED_FIELD", /map/);
    expectRefused(".raw 0x0000000100010018, 0\nexit", "RESERVED_FIELD", /off=1/);
  });

  it("programs that run off their end", () => {
    expectRefused("mov %r0, 0", "LAST_INSN", /not exit or ja/, 0);
    expectRefused("mov %r0, 0\nexit\nmov %r0, 1", "LAST_INSN", /run off/, 2);
    expectRefused("exit\nlddw %r0, 1", "LAST_INSN", /second half of an lddw/, 1);
    expectRefused("exit\ncall 1", "LAST_INSN", /"call 0x1"/);
    const sub = "call local f\nexit\nf:\nmov %r0, 0\njeq %r0, 0, -2";
    expectRefused(sub, "LAST_INSN", /subprogram 1 \(pc 2\.\.3\)/, 3);
  });

  it("the last instruction of each subprogram", () => {
    const src = "call local f\nmov %r0, 1\nf:\nmov %r0, 2\nexit";
    expectRefused(src, "LAST_INSN", /subprogram 0 \(pc 0\.\.1\)/, 1);
  });

  it("bad local calls", () => {
    expectRefused("call local +5\nexit", "BAD_CALL", /outside the program/);
    expectRefused("call local -2\nexit", "BAD_CALL", /pc -1/);
    expectRefused("call local +1\nlddw %r0, 1\nexit", "BAD_CALL", /middle of the lddw/);
    const fn = ".raw 0x0000000900004118, 0\nexit";
    expectRefused(fn, "BAD_CALL", /function address to pc 10/);
  });

  it("unknown helpers when helperExists is given", () => {
    const src = "call 1\ncall 999\nexit";
    ok(src);
    const e = refusal(src, { helperExists: (id) => id === 1 });
    expect(e.code).toBe("UNKNOWN_HELPER");
    expect(e.pc).toBe(1);
  });

  it("callx unless allowed, kfunc calls unless allowed", () => {
    expectRefused("mov %r2, 1\ncall %r2\nexit", "UNSUPPORTED", /callx/);
    ok("mov %r2, 1\ncall %r2\nexit", { allowCallx: true });
    expectRefused("call runtime 5\nexit", "UNSUPPORTED", /kfunc/);
    ok("call runtime 5\nexit", { allowKfuncCalls: true });
  });

  it("extensions newer than RFC 9669", () => {
    expectRefused(".raw 0x00000000000000e5\nexit", "UNSUPPORTED", /may_goto/);
    expectRefused(".raw 0x00000001000121bf\nexit", "UNSUPPORTED", /addr_space_cast/);
    expectRefused(".raw 0x00000100000021db\nexit", "UNSUPPORTED", /load-acquire/);
  });

  it("legacy packet loads only when allowed", () => {
    ok("ldabsw 4\nldindh %r1, -2\nexit");
    const e = refusal("ldabsw 4\nexit", { legacyPacketLoads: false });
    expect(e.code).toBe("UNSUPPORTED");
    expectRefused(".raw 0x0000000400010020\nexit", "RESERVED_FIELD", /ldabsw uses no offset/);
  });

  it("instructions above cpuVersion", () => {
    const cases: [string, number][] = [
      ["jlt %r0, 1, +0", 1],
      ["jeq32 %r0, 1, +0", 2],
      ["lock or [%r10-8], %r1", 2],
      ["sdiv %r0, 1", 3],
      ["movsx864 %r0, %r1", 3],
      ["ldxsb %r0, [%r1]", 3],
      ["bswap16 %r0", 3],
      ["ja32 +0", 3],
    ];
    for (const [insn, v] of cases) {
      const e = refusal(`${insn}\nexit`, { cpuVersion: v });
      expect(e.code, insn).toBe("CPU_VERSION");
      ok(`${insn}\nexit`, { cpuVersion: v + 1 });
    }
    ok("lock add [%r10-8], %r1\njgt %r0, 1, +0\nexit", { cpuVersion: 1 });
  });

  it("unreachable instructions with rejectUnreachable", () => {
    const src = "ja +1\nmov %r0, 1\nexit";
    ok(src);
    const e = refusal(src, { rejectUnreachable: true });
    expect(e.code).toBe("UNREACHABLE");
    expect(e.pc).toBe(1);
    ok("call local f\nexit\nf:\nexit", { rejectUnreachable: true });
  });
});

describe("subprogramStarts and instructionProblem", () => {
  it("collects 0, local call targets and function addresses, sorted", () => {
    const p = prog("call local b\n.raw 0x0000000400004118, 0\nexit\na:\nexit\nb:\nexit\nc:\nexit");
    expect(subprogramStarts(p)).toEqual([0, 5, 6]);
    validateProgram(p);
  });

  it("checks one instruction", () => {
    const insn = (i: Partial<Insn>): ReturnType<typeof decodeProgram> =>
      decodeProgram(encodeProgram([{ code: 0x07, dst: 0, src: 0, off: 0, imm: 0, ...i }]));
    expect(instructionProblem(insn({}), 0)).toBeUndefined();
    expect(instructionProblem(insn({ src: 1 }), 0)?.code).toBe("RESERVED_FIELD");
  });
});
