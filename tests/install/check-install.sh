#!/usr/bin/env bash
# Install hvlib from a build tree into a temporary prefix, then build
# examples/hello out of tree twice: with pkg-config and with CMake's
# find_package(hvlib).  Both binaries must link against the installed library.
set -euo pipefail
# (No grep -q after a pipe: it exits at the first match, and pipefail then
# fails on the writer's SIGPIPE.)
build=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*/ | head -n1)
libdir=${libdir%/}
export PKG_CONFIG_PATH=$libdir/pkgconfig
cflags=$(pkg-config --cflags hvlib)
libs=$(pkg-config --libs hvlib)
case "$cflags" in *"$prefix"*) ;; *) echo "pkg-config cflags do not point into the prefix: $cflags"; exit 1 ;; esac

cc -std=c11 -Wall -Wextra -Werror $cflags "$src/examples/hello/hello.c" -o "$prefix/hello-pc" $libs
LD_LIBRARY_PATH=$libdir ldd "$prefix/hello-pc" | grep "$libdir/libhvlib.so.0" >/dev/null
echo "pkg-config build: ok ($prefix/hello-pc links $libdir/libhvlib.so.0)"

mkdir -p "$prefix/cm"
cat > "$prefix/cm/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(hello_consumer C)
find_package(hvlib 0.1 REQUIRED)
add_executable(hello $src/examples/hello/hello.c)
target_link_libraries(hello PRIVATE hvlib::hvlib)
CMAKE
cmake -S "$prefix/cm" -B "$prefix/cm/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/cm/build" >/dev/null
LD_LIBRARY_PATH=$libdir ldd "$prefix/cm/build/hello" | grep "$libdir/libhvlib.so.0" >/dev/null
echo "find_package build: ok"
# Running it needs KVM: through with-kvm (skips loudly, exit 77, without KVM and QEMU).
HVLIB_WITH_KVM_SHARE=$prefix LD_LIBRARY_PATH=$libdir "$src/scripts/with-kvm" "$prefix/hello-pc"
