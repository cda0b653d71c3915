#!/bin/sh
# Rebuilds the loader's test objects. The .o files are committed, so tests do not need clang.
# Usage: test/elf-fixtures/build.sh   (needs clang with the BPF target and libbpf headers)
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-$(command -v clang-19 || command -v clang)}
ARCH_INC=/usr/include/$(uname -m)-linux-gnu
CFLAGS="-g -target bpf -I$ARCH_INC"

build() { # out src flags...
	out=$1 src=$2
	shift 2
	"$CLANG" $CFLAGS "$@" -c "$src" -o "$out"
}

for f in calls globals tailmaps legacy static_prog kconfig; do
	build "$f.bpf.o" "$f.bpf.c" -O2 -mcpu=v3
done
for v in v1 v2 v4; do
	build "calls.$v.bpf.o" calls.bpf.c -O2 -mcpu=$v
done
build o0.bpf.o o0.bpf.c -O0 -mcpu=v3
# No BTF at all (no -g): programs and legacy maps must still load.
"$CLANG" -target bpf -I"$ARCH_INC" -O2 -c legacy.bpf.c -o legacy.nobtf.bpf.o
