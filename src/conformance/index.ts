/** bpf_conformance `.data` test files: parsing and the program they describe. */

export * from "./parse.js";
