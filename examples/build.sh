#!/bin/sh
# Rebuilds the committed example objects from their C sources, so running the examples
# needs no clang:  examples/DIR/NAME.bpf.c -> examples/DIR/NAME.bpf.o  (-O2 -g -mcpu=v3)
# Needs clang with the BPF target (CLANG, default clang-19) and libbpf's headers
# (Debian/Ubuntu: apt-get install clang-19 libbpf-dev).
# Usage: examples/build.sh [SRC.bpf.c...]   (default: every examples/*/*.bpf.c)
set -eu
cd "$(dirname "$0")"

CLANG=${CLANG:-clang-19}
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

if [ $# -eq 0 ]; then set -- */*.bpf.c; fi
for src in "$@"; do
	dir=$(dirname "$src")
	out=${src%.c}.o
	echo "  $out"
	# -fdebug-prefix-map keeps the objects identical whatever directory they are built in
	(cd "$dir" && $CLANG -O2 -g -target bpf -mcpu=v3 -Wall -I"/usr/include/$MULTIARCH" \
		-fdebug-prefix-map="$PWD=." -c "$(basename "$src")" -o "$(basename "$out")")
done
