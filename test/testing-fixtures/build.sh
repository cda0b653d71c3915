#!/bin/sh
# Rebuilds btf_values.bpf.o (needs clang-19 with the BPF target and libbpf's headers).
set -eu
cd "$(dirname "$0")"
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
${CLANG:-clang-19} -O2 -g -target bpf -mcpu=v3 -I"/usr/include/$MULTIARCH" \
	-fdebug-prefix-map="$PWD=." -c btf_values.bpf.c -o btf_values.bpf.o
