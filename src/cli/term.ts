/**
 * Terminal presentation: colours only when stdout is a terminal (and NO_COLOR is unset, or
 * FORCE_COLOR is set), progress lines only when stderr is one. Piped output is plain text.
 */
import pc from "picocolors";

/** Colour functions, as picocolors makes them. */
export type Colors = ReturnType<typeof pc.createColors>;

/** Whether stdout is a terminal that takes colours. */
function colorWanted(): boolean {
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== "0") return true;
  if (process.env.NO_COLOR) return false;
  return process.stdout.isTTY === true && process.env.TERM !== "dumb";
}

/** Colour functions: the identity when output is not a colour terminal. */
export const color: Colors = pc.createColors(colorWanted());

/** Whether stderr is a terminal (progress reports go there). */
export function progressWanted(): boolean {
  return process.stderr.isTTY === true && !process.env.CI;
}

/**
 * A progress line on stderr for long work, redrawn at most every 100 ms; a no-op when stderr
 * is not a terminal.
 */
export class Progress {
  private last = 0;
  private shown = false;
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    /** False to never show it. */
    wanted = true,
  ) {
    this.enabled = wanted && progressWanted();
  }

  /** Reports `done` of `total`. */
  update(done: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && done < this.total) return;
    this.last = now;
    const pct = this.total > 0 ? Math.floor((done * 100) / this.total) : 100;
    const width = 24;
    const filled = Math.round((pct / 100) * width);
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    process.stderr.write(`\r${this.label} ${bar} ${done}/${this.total} (${pct}%)`);
    this.shown = true;
  }

  /** Clears the line. */
  done(): void {
    if (this.shown) process.stderr.write("\r\x1b[2K");
    this.shown = false;
  }
}
