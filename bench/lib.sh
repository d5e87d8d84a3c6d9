# bench/lib.sh: helpers for bench/run (sourced, not run).  Needs bash 5 ($EPOCHREALTIME).
#
# The side-by-side runs boot the unikernel and the Linux guest with the SAME QEMU
# command line: the one `rumprun -D qemu|kvm -i -M MEM` prints (machine q35, the
# accelerator, -cpu, memory, qboot, the serial ports, isa-debug-exit), plus -smp 1 and
# -no-reboot for both; only -kernel/-initrd/-append differ.

export LC_ALL=C

# median_stats: reads numbers, one a line; prints "median min max" (%.1f, or %.2f
# under 10).
median_stats() {
	sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "nan nan nan"; exit }
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			f = (m < 10) ? "%.2f" : "%.1f"
			printf f " " f " " f "\n", m, v[1], v[NR]
		}'
}

# now_us: wall clock in microseconds, no fork
now_us() {
	local t=$EPOCHREALTIME
	echo "${t/./}"
}

# qemu_base_cmd IMAGE MEM: sets the array QBASE to the launcher's QEMU command without
# -kernel/-append, with the status chardev in $WORK and -smp 1 -no-reboot added (and
# the launcher's virtio-blk drive for `-b $DISK,/data` when DISK is set).
# Uses $PLATFORM (qemu or kvm) and a baked image $1 only to ask the launcher.
qemu_base_cmd() {
	local image=$1 mem=$2 line i a
	# ask with -M 64 and put MEM in ourselves: the launcher refuses a -M below its own
	# estimate of the image's needs, and the bisection wants the guest's real floor
	local -a disk=()
	[ -z "${DISK:-}" ] || disk=(-b "$DISK,/data")
	line=$(rumprun -D "$PLATFORM" -i -M 64 "${disk[@]}" "$image" 2>/dev/null | grep '^qemu-system') || {
		echo "bench/run: rumprun -D $PLATFORM gave no QEMU command" >&2
		return 1
	}
	local -a all
	eval "all=($line)"
	QBASE=()
	for ((i = 0; i < ${#all[@]}; i++)); do
		a=${all[i]}
		case "$a" in
		-kernel | -append | -initrd)
			i=$((i + 1))
			continue
			;;
		-m)
			QBASE+=(-m "$mem")
			i=$((i + 1))
			continue
			;;
		file,id=rrstatus,path=*)
			a="file,id=rrstatus,path=$WORK/status"
			;;
		esac
		QBASE+=("$a")
	done
	QBASE+=(-smp 1 -no-reboot)
}

# guest_cmd KIND MEM PROG [ARGS...]: sets the array GCMD to the QEMU command that
# runs PROG (a program name: $WORK/PROG.bin for the unikernel, /bin/PROG in the Linux
# guest).  KIND: uni or linux.  Linux uses $LINUX_DIR/{vmlinuz,initramfs.cpio.gz}
# (or $LINUX_INITRD when set).  With DISK set (an ext2 image), both get the
# launcher's drive for `-b $DISK,/data` (virtio-blk-pci), mounted on /data: the
# unikernel through its `blk` config block, Linux through init's rr_mount= (an
# initramfs built with --storage).
guest_cmd() {
	local kind=$1 mem=$2 prog=$3
	shift 3
	qemu_base_cmd "$WORK/$prog.bin" "$mem" || return 1
	GCMD=("${QBASE[@]}")
	if [ "$kind" = uni ]; then
		local json="$prog.bin" a blk=""
		for a in "$@"; do json="$json $a"; done
		[ -z "${DISK:-}" ] || blk=', "blk": {"source": "dev", "path": "/dev/vda", "fstype": "blk", "mountpoint": "/data"}'
		GCMD+=(-kernel "$WORK/$prog.bin" -append "{\"cmdline\": \"$json\"$blk}")
	else
		local append="console=ttyS0 quiet panic=-1 rr_prog=/bin/$prog"
		[ -z "${DISK:-}" ] || append="$append rr_mount=/dev/vda:/data"
		[ $# -eq 0 ] || append="$append rr_args=\"$*\""
		GCMD+=(-kernel "$LINUX_DIR/vmlinuz" -initrd "${LINUX_INITRD:-$LINUX_DIR/initramfs.cpio.gz}"
			-append "$append")
	fi
}

# marker_of KIND: the console line that says "the program starts now"
marker_of() {
	if [ "$1" = uni ]; then echo '=== calling "'; else echo '=== rr-init: exec '; fi
}

# timed_run TIMEOUT LOG: runs "${GCMD[@]}" with its console streamed through a
# timestamping reader (each line prefixed with the microseconds since launch) into
# LOG; prints "E2E_US" (launch to QEMU exit).  Fails when QEMU fails or times out.
timed_run() {
	local limit=$1 log=$2 t0 t1 line rc
	t0=$(now_us)
	set +e
	timeout "$limit" "${GCMD[@]}" </dev/null 2>&1 | {
		while IFS= read -r line || [ -n "$line" ]; do
			t1=$EPOCHREALTIME
			printf '%s %s\n' "$((${t1/./} - t0))" "$line"
		done
	} >"$log"
	rc=${PIPESTATUS[0]}
	t1=$(now_us)
	set -e
	# the unikernel exits through isa-debug-exit: QEMU's status is 2*v+1 (1 for 0)
	[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || return 1
	echo $((t1 - t0))
}

# run_ok KIND LOG: the run in LOG reached the program and saw it exit 0
run_ok() {
	local kind=$1 log=$2
	grep -q -F "$(marker_of "$kind")" "$log" || return 1
	if [ "$kind" = uni ]; then
		grep -q 'main() of ".*" returned 0 ===' "$log"
	else
		grep -q '=== rr-init: .* exited with status 0 ===' "$log"
	fi
}

# marker_us KIND LOG: microseconds from launch to the marker line
marker_us() {
	grep -m1 -F "$(marker_of "$1")" "$2" | awk '{ print $1 }'
}

# result_of LOG [ERE]: the number after the last '=' on the program's result line, the
# last line matching ERE (default: "name: ... ns_per_op=X" or "ns_per_roundtrip=X")
result_of() {
	{ grep -E "${2:-ns_per_(op|roundtrip)=}" "$1" || true; } | tail -1 | sed -E 's/.*=([0-9.]+).*/\1/'
}

# mem_ok KIND PROG MEM: hello runs to a clean exit with MEM MB (60 s cap: a guest
# below its floor may hang rather than fail)
mem_ok() {
	local kind=$1 prog=$2 mem=$3 log=$WORK/mem.log
	guest_cmd "$kind" "$mem" "$prog" || return 1
	timed_run 60 "$log" >/dev/null || return 1
	run_ok "$kind" "$log" && grep -q 'Hello, world!' "$log"
}

# mem_floor KIND PROG HI: the smallest MB (bisection between 1 and HI) at which PROG
# runs; prints it, or fails when even HI does not work
mem_floor() {
	local kind=$1 prog=$2 hi=$3 lo=0 mid
	mem_ok "$kind" "$prog" "$hi" || return 1
	while [ $((hi - lo)) -gt 1 ]; do
		mid=$(((lo + hi) / 2))
		if mem_ok "$kind" "$prog" "$mid"; then hi=$mid; else lo=$mid; fi
	done
	echo "$hi"
}

# ratio A B: A/B as %.3g
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		num = "^[0-9]+([.][0-9]*)?$"
		if (a !~ num || b !~ num || b + 0 == 0) print "n/a"; else printf "%.3g\n", a / b
	}'
}
