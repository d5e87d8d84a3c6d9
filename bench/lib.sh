# shellcheck shell=bash
# bench/lib.sh: helpers for bench/run (sourced, not run).  Needs bash 5 ($EPOCHREALTIME).
#
# The side-by-side runs boot the unikernel and the Linux guest with the SAME QEMU
# command line: the one `rumprun -D qemu|kvm -i -M MEM` prints (machine q35, the
# accelerator, -cpu, memory, qboot, the serial ports, isa-debug-exit), plus -smp 1 and
# -no-reboot for both; only -kernel/-initrd/-append differ.

export LC_ALL=C

# the guests' address on QEMU user networking (its DHCP would hand out the same) and
# the gateway (QEMU's host side), as the launcher's -W static and init's rr_net= want
GUEST_NET=10.0.2.15/24,10.0.2.2

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
# the launcher's virtio-blk drive for `-b $DISK,/data` when DISK is set, its
# virtio-net device on QEMU user networking with 127.0.0.1:$NET_PORT forwarded to the
# guest's port 80 when NET_PORT is set; its virtio-net device on tap0 with the static
# address TAP_NET ("addr/prefix,gateway") when TAP_NET is set; `-r "$APP_RC"` when
# APP_RC is set).  Sets QAPPEND to the launcher's -append.
# Uses $PLATFORM (qemu or kvm) and a baked image $1 only to ask the launcher.
qemu_base_cmd() {
	local image=$1 mem=$2 line i a
	# ask with -M 64 and put MEM in ourselves: the launcher refuses a -M below its own
	# estimate of the image's needs, and the bisection wants the guest's real floor
	local -a opts=()
	[ -z "${DISK:-}" ] || opts+=(-b "$DISK,/data")
	[ -z "${NET_PORT:-}" ] ||
		opts+=(-I "net0,vioif" -W "net0,inet,static,$GUEST_NET" -F "$NET_PORT:80")
	[ -z "${TAP_NET:-}" ] ||
		opts+=(-I "net0,vioif,tap,ifname=tap0,script=no,downscript=no" -W "net0,inet,static,$TAP_NET")
	[ -z "${APP_RC:-}" ] || opts+=(-r "$APP_RC")
	# UNI_ENV: words NAME=VALUE for the unikernel's environment (its kernel's knobs,
	# e.g. RUMPRUN_IDLE_POLL_US=0 to compare); the Linux guest's command line is its own
	local e
	for e in ${UNI_ENV:-}; do opts+=(-e "$e"); done
	line=$(rumprun -D "$PLATFORM" -i -M 64 "${opts[@]}" "$image" 2>/dev/null | grep '^qemu-system') || {
		echo "bench/run: rumprun -D $PLATFORM gave no QEMU command" >&2
		return 1
	}
	local -a all
	eval "all=($line)"
	QBASE=()
	QAPPEND=""
	for ((i = 0; i < ${#all[@]}; i++)); do
		a=${all[i]}
		case "$a" in
		-append)
			QAPPEND=${all[i + 1]}
			i=$((i + 1))
			continue
			;;
		-kernel | -initrd)
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
# initramfs built with --storage).  With NET_PORT set, both get the launcher's
# virtio-net-pci on the same user-mode netdev and the same static address
# ($GUEST_NET): the unikernel through the launcher's `net` config block, Linux through
# init's rr_net= (an initramfs built with --net).
guest_cmd() {
	local kind=$1 mem=$2 prog=$3
	shift 3
	qemu_base_cmd "$WORK/$prog.bin" "$mem" || return 1
	GCMD=("${QBASE[@]}")
	if [ "$kind" = uni ]; then
		local json="$prog.bin" a blk="" net=""
		for a in "$@"; do json="$json $a"; done
		[ -z "${DISK:-}" ] || blk=', "blk": {"source": "dev", "path": "/dev/vda", "fstype": "blk", "mountpoint": "/data"}'
		if [ -n "${NET_PORT:-}" ]; then
			net=$(grep -o '"net": {[^}]*}' <<<"$QAPPEND") || {
				echo "bench/run: no net block in the launcher's -append: $QAPPEND" >&2
				return 1
			}
			net=", $net"
		fi
		GCMD+=(-kernel "$WORK/$prog.bin" -append "{\"cmdline\": \"$json\"$blk$net}")
	else
		local append="console=ttyS0 quiet panic=-1${LINUX_EXTRA:+ $LINUX_EXTRA} rr_prog=/bin/$prog"
		[ -z "${DISK:-}" ] || append="$append rr_mount=/dev/vda:/data"
		[ -z "${NET_PORT:-}" ] || append="$append rr_net=$GUEST_NET"
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

# mem_ok KIND PROG MEM [ARGS...]: PROG works with MEM MB.  By default "works" means
# runs to a clean exit printing "Hello, world!" (60 s cap: a guest below its floor may
# hang rather than fail); with NET_PORT set it means serves: the HTTP server is up
# (http_guest_up) within 60 s, then it is told to quit.
mem_ok() {
	local kind=$1 prog=$2 mem=$3 log=$WORK/mem.log ok=0
	shift 3
	guest_cmd "$kind" "$mem" "$prog" "$@" || return 1
	if [ -n "${NET_PORT:-}" ]; then
		http_guest_start "$log"
		http_guest_up 60 >/dev/null || ok=1
		http_guest_stop
		return $ok
	fi
	timed_run 60 "$log" >/dev/null || return 1
	run_ok "$kind" "$log" && grep -q 'Hello, world!' "$log"
}

# mem_floor KIND PROG HI [ARGS...]: the smallest MB (bisection between 1 and HI) at
# which PROG works (mem_ok); prints it, or fails when even HI does not work
mem_floor() {
	local kind=$1 prog=$2 hi=$3 lo=0 mid
	shift 3
	mem_ok "$kind" "$prog" "$hi" "$@" || return 1
	while [ $((hi - lo)) -gt 1 ]; do
		mid=$(((lo + hi) / 2))
		if mem_ok "$kind" "$prog" "$mid" "$@"; then hi=$mid; else lo=$mid; fi
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

# ---- networking: QEMU user networking, a host port forwarded to the guest's port 80 ----

# free_port: a TCP port on 127.0.0.1 that nothing listens on now
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# http_get PORT PATH: the body of http://127.0.0.1:PORT/PATH (2 s cap); fails without it
http_get() {
	curl -sf --max-time 2 "http://127.0.0.1:$1/$2"
}

# http_guest_start LOG: starts "${GCMD[@]}" (a guest running tests/programs/
# http_server.c, NET_PORT set) in the background, its console in LOG; sets GUEST_PID
# and GUEST_T0 (now_us at the start)
http_guest_start() {
	GUEST_T0=$(now_us)
	timeout 600 "${GCMD[@]}" </dev/null >"$1" 2>&1 &
	GUEST_PID=$!
}

# http_guest_up LIMIT: waits (at most LIMIT s) until a GET / through the forwarded port
# gets the page; prints the ms from http_guest_start to then; fails when the guest
# exits first or the time runs out
http_guest_up() {
	local limit=$1 t
	while :; do
		if http_get "$NET_PORT" "" >/dev/null 2>&1; then
			t=$(now_us)
			echo "$(((t - GUEST_T0) / 1000)).$(((t - GUEST_T0) % 1000 / 100))"
			return 0
		fi
		kill -0 "$GUEST_PID" 2>/dev/null || return 1
		t=$(now_us)
		[ $(((t - GUEST_T0) / 1000000)) -lt "$limit" ] || return 1
		sleep 0.1
	done
}

# http_guest_stop: GET /quit (the server exits 0, the guest powers off); waits 30 s for
# that, then stops QEMU.  Fails unless the guest went away by itself.
http_guest_stop() {
	local i
	http_get "$NET_PORT" quit >/dev/null 2>&1 || true
	for ((i = 0; i < 300; i++)); do
		kill -0 "$GUEST_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$GUEST_PID" 2>/dev/null; then
		kill "$GUEST_PID" 2>/dev/null || true
		wait "$GUEST_PID" 2>/dev/null || true
		return 1
	fi
	wait "$GUEST_PID" 2>/dev/null || true
}

# wrk_rps CONNS SECONDS ERRFILE: one keep-alive wrk run against http://127.0.0.1:
# $NET_PORT/ (2 threads with more than one connection); prints its requests/s and
# appends its error count to ERRFILE (socket errors: connect, read, write, timeout;
# non-2xx responses).  The requests/s count completed requests only.
wrk_rps() {
	local conns=$1 secs=$2 errfile=$3 threads=1 out
	[ "$conns" -gt 1 ] && threads=2
	out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" "http://127.0.0.1:$NET_PORT/") || return 1
	awk '/Socket errors/ { gsub(",", ""); e += $4 + $6 + $8 + $10 } /Non-2xx/ { e += $NF }
		END { print e + 0 }' <<<"$out" >>"$errfile"
	awk '/^Requests\/sec:/ { print $2 }' <<<"$out"
}

# bulk_rx_start PORT MIB: starts (unless it runs) a receiver on 127.0.0.1:PORT (the
# guest's 10.0.2.2:PORT) for one connection of MIB MiB (bench/programs/tcp_send.c);
# returns when it listens.  bulk_rx_result then prints its MB/s.
bulk_rx_start() {
	local port=$1 mib=$2
	[ -z "${BULK_RX_PID:-}" ] || ! kill -0 "$BULK_RX_PID" 2>/dev/null || return 0
	rm -f "$WORK/bulk.ready" "$WORK/bulk.out"
	python3 - "$port" "$mib" "$WORK/bulk.ready" >"$WORK/bulk.out" <<'PY' &
# timed from accept to EOF; prints MB/s (10^6 bytes/s), or "short N" for fewer bytes
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.settimeout(300)
open(sys.argv[3], "w").close()
c, _ = s.accept(); t = time.monotonic(); n = 0
while True:
    b = c.recv(1 << 20)
    if not b: break
    n += len(b)
dt = time.monotonic() - t
print("%.1f" % (n / dt / 1e6) if n == int(sys.argv[2]) << 20 else "short %d" % n)
PY
	BULK_RX_PID=$!
	while [ ! -e "$WORK/bulk.ready" ]; do
		kill -0 "$BULK_RX_PID" 2>/dev/null || return 1
		sleep 0.05
	done
}

# bulk_rx_result: waits for the receiver; prints its MB/s, or fails (saying why)
bulk_rx_result() {
	local pid=${BULK_RX_PID:-}
	BULK_RX_PID=""
	[ -n "$pid" ] || return 1
	# the sender has exited: the receiver has all there is, or never will
	timeout 10 tail --pid="$pid" -f /dev/null || kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	grep -E '^[0-9.]+$' "$WORK/bulk.out" || {
		echo "bench: bulk receiver: $(cat "$WORK/bulk.out")" >&2
		return 1
	}
}
