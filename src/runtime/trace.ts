/** Why a tail call fell through. */
export type TailCallFailure = "index out of range" | "empty slot" | "budget exhausted";

/** One event of a traced run (`--trace`, `RunOptions.trace`). */
export type TraceEvent =
  | {
      /** A program starts: the entry program, or a tail-call target. */
      kind: "enter";
      prog: string;
      /** Frame depth (0 = the entry program's frame). */
      depth: number;
    }
  | {
      /** A bpf-to-bpf call. */
      kind: "call";
      prog: string;
      pc: number;
      /** Called function's name. */
      target: string;
      /** Depth of the new frame. */
      depth: number;
    }
  | {
      /** A function returns to its caller. */
      kind: "return";
      /** Program returned into. */
      prog: string;
      /** Name of the function that returns. */
      from: string;
      /** Name of the function the caller is in. */
      to: string;
      /** Depth of the frame returned to. */
      depth: number;
      /** r0, as an unsigned 64-bit hex string. */
      r0: string;
    }
  | {
      /** `bpf_tail_call` jumped. */
      kind: "tail_call";
      prog: string;
      pc: number;
      map: string;
      index: bigint;
      target: string;
      depth: number;
      /** Successful tail calls left in this run after this one. */
      budgetLeft: number;
    }
  | {
      /** `bpf_tail_call` fell through. */
      kind: "tail_call_failed";
      prog: string;
      pc: number;
      map: string;
      index: bigint;
      reason: TailCallFailure;
      depth: number;
      budgetLeft: number;
    }
  | {
      /** A helper call. */
      kind: "helper";
      prog: string;
      pc: number;
      id: number;
      name: string;
    }
  | {
      /** The entry program's frame exits: the run's result. */
      kind: "exit";
      prog: string;
      /** r0, as an unsigned 64-bit hex string. */
      r0: string;
    };

/** Receives trace events. */
export type TraceSink = (event: TraceEvent) => void;

/** Formats a 64-bit value given as halves, as `0x…`. */
export function hex64(lo: number, hi: number): string {
  if (hi === 0) return "0x" + (lo >>> 0).toString(16);
  return "0x" + (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, "0");
}
