/** Linux errno values used by maps and helpers (returned negated to programs). */
export const EPERM = 1;
export const ENOENT = 2;
export const E2BIG = 7;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ERANGE = 34;
export const ENOTSUPP = 524;
export const EOPNOTSUPP = 95;

const NAMES: Record<number, string> = {
  [EPERM]: "EPERM",
  [ENOENT]: "ENOENT",
  [E2BIG]: "E2BIG",
  [EBADF]: "EBADF",
  [EAGAIN]: "EAGAIN",
  [ENOMEM]: "ENOMEM",
  [EFAULT]: "EFAULT",
  [EBUSY]: "EBUSY",
  [EEXIST]: "EEXIST",
  [EINVAL]: "EINVAL",
  [ENOSPC]: "ENOSPC",
  [ERANGE]: "ERANGE",
  [ENOTSUPP]: "ENOTSUPP",
  [EOPNOTSUPP]: "EOPNOTSUPP",
};

/** The name of an errno (positive or negated), e.g. `errnoName(-2) === "ENOENT"`. */
export function errnoName(errno: number): string {
  return NAMES[Math.abs(errno)] ?? `errno ${Math.abs(errno)}`;
}
