import { TsbpfError } from "../errors.js";

/** A test run refused its input, as BPF_PROG_TEST_RUN would with `errno`. */
export class TestRunError extends TsbpfError {
  constructor(
    message: string,
    /** Linux errno name, e.g. `EINVAL`. */
    readonly errno: string,
  ) {
    super(errno, `test run: ${message}: ${errno}`);
  }
}
