#!/bin/bash
# build-rr.sh: build the rumprun kernel and host tools and install them into a
# destination directory (default ./rumprun).  See README.md and docs/ARCHITECTURE.md.
set -euo pipefail

TUPLE=x86_64-rumprun-linux
ARCH=x86_64
TARGET=x86_64-unknown-linux-gnu

SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

helpme() {
	cat >&2 <<EOF
Usage: $0 [-d destdir] [-j num] [-o objdir] [-q] hw|xen [build] [install]

	-d: destination base directory, used by "install" (default ./rumprun).
	-j: run <num> build jobs simultaneously (passed to cargo).
	-o: object directory for logs and stamps (default ./obj-amd64-<platform>).
	-q: quiet(er) build; cargo's output goes to logs in the objdir.

	The default actions are "build" and "install".

After "install", put <destdir>/bin on PATH and use
	$TUPLE-gcc, $TUPLE-g++, $TUPLE-musl-gcc, $TUPLE-cargo,
	rumprun-bake, rumprun and rumpstop.
EOF
	exit 1
}

die() {
	echo ">> ERROR: $*" >&2
	exit 1
}

say() {
	echo ">> $*"
}

DESTDIR=
OBJDIR=
JOBS=
QUIET=no

while getopts '?d:hj:o:q' opt; do
	case "$opt" in
	d) DESTDIR=$OPTARG ;;
	j)
		case "$OPTARG" in
		'' | *[!0-9]*) die "argument to -j must be a number" ;;
		esac
		[ "$OPTARG" -gt 0 ] || die "argument to -j must be a number"
		JOBS=$OPTARG
		;;
	o) OBJDIR=$OPTARG ;;
	q) QUIET=yes ;;
	h | '?' | *) helpme ;;
	esac
done
shift $((OPTIND - 1))

[ $# -ge 1 ] || helpme
PLATFORM=$1
shift
case "$PLATFORM" in
hw | xen) ;;
*) die "Platform \"$PLATFORM\" not supported!" ;;
esac

DOBUILD=no
DOINSTALL=no
[ $# -gt 0 ] || set -- build install
for action in "$@"; do
	case "$action" in
	build) DOBUILD=yes ;;
	install) DOINSTALL=yes ;;
	*) die "invalid argument \"$action\" (expected build and/or install)" ;;
	esac
done

DESTDIR=$(realpath -m -- "${DESTDIR:-./rumprun}")
OBJDIR=$(realpath -m -- "${OBJDIR:-./obj-amd64-$PLATFORM}")
mkdir -p "$OBJDIR"

KERNEL_TARGET_DIR=$SRCDIR/kernel/target
HOST_TARGET_DIR=$SRCDIR/target
KERNEL_ELF=$KERNEL_TARGET_DIR/$TARGET/release/rumprun-kernel

# ----------------------------------------------------------------------------
# Tools and Debian packages.  cargo and gcc are needed to build at all; the rest
# is needed to build or run programs, so their absence only warns.

checktools() {
	local fatal=() missing=()

	if ! command -v cargo >/dev/null 2>&1; then
		fatal+=("cargo (the Rust toolchain, from rustup)")
	fi
	if ! command -v gcc >/dev/null 2>&1; then
		fatal+=("gcc")
		missing+=(gcc)
	fi
	if [ ! -e /usr/lib/x86_64-linux-gnu/libc.a ]; then
		missing+=(libc6-dev)
	fi
	if ! command -v g++ >/dev/null 2>&1; then
		missing+=(g++)
	fi
	if ! command -v musl-gcc >/dev/null 2>&1; then
		missing+=(musl-tools)
	fi
	if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
		missing+=(qemu-system-x86)
	fi

	if [ ${#missing[@]} -gt 0 ]; then
		say "missing: ${missing[*]}  (apt-get install ${missing[*]})"
	fi
	if [ ${#fatal[@]} -gt 0 ]; then
		local f
		for f in "${fatal[@]}"; do
			echo ">> ERROR: required tool missing: $f" >&2
		done
		exit 1
	fi
	if [ ${#missing[@]} -gt 0 ]; then
		say "WARNING: building anyway; without these some wrappers cannot build"
		say "programs (libc6-dev: glibc static, g++: C++, musl-tools: musl)"
		say "and rumprun cannot run images (qemu-system-x86)"
	fi
}

# ----------------------------------------------------------------------------
# build

# run_cargo NAME DIR ARGS...: cargo in DIR; with -q its output goes to a log in
# the objdir and is shown only when it fails.
run_cargo() {
	local name=$1 dir=$2
	shift 2
	local args=(build --release "$@")
	[ -z "$JOBS" ] || args+=(-j "$JOBS")
	if [ "$QUIET" = yes ]; then
		local log=$OBJDIR/$name.log
		if ! (cd "$dir" && cargo "${args[@]}") >"$log" 2>&1; then
			tail -n 40 "$log" >&2
			die "building the $name failed (full log: $log)"
		fi
	else
		say "building the $name: (cd $dir && cargo ${args[*]})"
		(cd "$dir" && cargo "${args[@]}") || die "building the $name failed"
	fi
}

dobuild() {
	run_cargo kernel "$SRCDIR/kernel" --target-dir "$KERNEL_TARGET_DIR"
	[ -f "$KERNEL_ELF" ] || die "the kernel build produced no $KERNEL_ELF"
	"$SRCDIR/kernel/check-fpu-use" "$KERNEL_ELF" ||
	    die "the kernel touches FPU/SSE state a syscall does not save (kernel/check-fpu-use)"
	run_cargo tools "$SRCDIR" --target-dir "$HOST_TARGET_DIR" \
	    -p rumprun-bake -p rumprun
	date >"$OBJDIR/stamp-build"
}

# ----------------------------------------------------------------------------
# install

doinstall() {
	local bin=$DESTDIR/bin f
	local libdir p
	mkdir -p "$bin" "$DESTDIR/etc" "$DESTDIR/share/rumprun"

	[ -f "$KERNEL_ELF" ] || die "no kernel at $KERNEL_ELF: run \"$0 $PLATFORM build\" first"
	for f in rumprun-bake rumprun-cookfs rumprun rumpstop; do
		[ -f "$HOST_TARGET_DIR/release/$f" ] ||
		    die "no $f in $HOST_TARGET_DIR/release: run \"$0 $PLATFORM build\" first"
		install -m 0755 "$HOST_TARGET_DIR/release/$f" "$bin/$f"
	done
	for f in gcc g++ musl-gcc cargo cookfs; do
		install -m 0755 "$SRCDIR/app-tools/$TUPLE-$f" "$bin/$TUPLE-$f"
	done
	install -m 0644 "$SRCDIR/app-tools/rumprun-bake.conf" "$DESTDIR/etc/rumprun-bake.conf"
	# The kernel baked into images carries its symbols but not its debug info (that
	# would triple a small image); the full kernel stays beside it for gdb
	# (rumprun-bake's OUT.gdb script loads it).
	# One kernel serves both platforms (it detects Xen at boot), so either build
	# installs it for hw and xen.
	for p in hw xen; do
		libdir=$DESTDIR/lib/rumprun-$ARCH/$p
		mkdir -p "$libdir"
		install -m 0644 "$KERNEL_ELF" "$libdir/kernel.elf.debug"
		objcopy --strip-debug "$KERNEL_ELF" "$libdir/kernel.elf"
		chmod 0644 "$libdir/kernel.elf"
	done
	install -m 0644 "$SRCDIR/app-tools/$TUPLE-toolchain.cmake" \
	    "$DESTDIR/share/rumprun/$TUPLE-toolchain.cmake"

	# Like the original: sourceable files in the objdir.
	cat >"$OBJDIR/config" <<EOF
export RUMPRUN_PLATFORM="$PLATFORM"
export RUMPRUN_TUPLE="$TUPLE"
export RUMPRUN_DESTDIR="$DESTDIR"
export RUMPRUN_CC="$bin/$TUPLE-gcc"
export RUMPRUN_CXX="$bin/$TUPLE-g++"
export RUMPRUN_MUSL_CC="$bin/$TUPLE-musl-gcc"
export RUMPRUN_CARGO="$bin/$TUPLE-cargo"
export RUMPRUN_BAKE="$bin/rumprun-bake"
export RUMPRUN="$bin/rumprun"
export RUMPSTOP="$bin/rumpstop"
EOF
	# shellcheck disable=SC2016 # $PATH is expanded when the file is sourced
	printf 'export PATH="%s:$PATH"\n' "$bin" >"$OBJDIR/config-PATH.sh"
	date >"$OBJDIR/stamp-install"
}

# ----------------------------------------------------------------------------

checktools
[ "$DOBUILD" = no ] || dobuild
[ "$DOINSTALL" = no ] || doinstall

say "toolchain tuple: $TUPLE"
say "cc wrapper: $TUPLE-gcc"
if [ "$DOINSTALL" = yes ]; then
	say "installed to \"$DESTDIR\""
	say "export PATH=$DESTDIR/bin:\$PATH"
	say "  (or: . \"$OBJDIR/config-PATH.sh\")"
fi
say "$0 ran successfully"
