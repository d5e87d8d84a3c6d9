#define _GNU_SOURCE
/* groups_caps: the identity calls servers make when they drop privileges (issue 14
 * items 4 and 6): memcached -u and mosquitto call setgroups/initgroups; sandboxes set
 * PR_SET_NO_NEW_PRIVS; daemons keep capabilities across setuid with PR_SET_KEEPCAPS
 * and read them with capget. The program runs as root, so Linux answers:
 *   - setgroups sets the list getgroups returns (getgroups(0) counts, a too small
 *     buffer is EINVAL), initgroups works, setgroups(0) clears;
 *   - capget: version probing (a bad version is EINVAL and the preferred version is
 *     written back), root's sets (all permitted and effective, none inheritable);
 *     capset may drop a capability, not gain it back (EPERM);
 *   - prctl: NO_NEW_PRIVS set and read (bad arguments EINVAL), KEEPCAPS 0/1 (2 is
 *     EINVAL), PDEATHSIG set and read, CAPBSET_READ.
 * Prints one "ok   ..." line per check and ALL OK. */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

/* linux/capability.h's structures (musl has no kernel headers). */
#define _LINUX_CAPABILITY_VERSION_3 0x20080522
struct __user_cap_header_struct {
	uint32_t version;
	int pid;
};
struct __user_cap_data_struct {
	uint32_t effective, permitted, inheritable;
};

static int capget_(struct __user_cap_header_struct *h, struct __user_cap_data_struct *d)
{
	return syscall(SYS_capget, h, d);
}

static int capset_(struct __user_cap_header_struct *h, struct __user_cap_data_struct *d)
{
	return syscall(SYS_capset, h, d);
}

int main(void)
{
	gid_t set[3] = {44, 4, 1000}, got[8];
	CHECK(getgroups(0, NULL) == 0);
	CHECK(setgroups(3, set) == 0);
	CHECK(getgroups(0, NULL) == 3);
	int n = getgroups(8, got);
	CHECK(n == 3);
	int seen = 0;
	for (int i = 0; i < n; i++)
		seen += got[i] == 44 || got[i] == 4 || got[i] == 1000;
	CHECK(seen == 3);
	errno = 0;
	CHECK(getgroups(2, got) == -1 && errno == EINVAL);
	CHECK(initgroups("root", 0) == 0);
	n = getgroups(8, got);
	CHECK(n >= 1 && got[0] == 0);
	CHECK(setgroups(0, NULL) == 0 && getgroups(0, NULL) == 0);

	struct __user_cap_header_struct h = {.version = 0x12345678, .pid = 0};
	struct __user_cap_data_struct d[2];
	errno = 0;
	CHECK(capget_(&h, d) == -1 && errno == EINVAL);
	CHECK(h.version == _LINUX_CAPABILITY_VERSION_3);
	h.version = 0x12345678;
	CHECK(capget_(&h, NULL) == 0 && h.version == _LINUX_CAPABILITY_VERSION_3);
	memset(d, 0, sizeof d);
	CHECK(capget_(&h, d) == 0);
	CHECK(d[0].effective == 0xffffffff && d[0].permitted == 0xffffffff);
	CHECK(d[1].permitted == 0x1ff && d[0].inheritable == 0 && d[1].inheritable == 0);
	h.pid = getpid();
	CHECK(capget_(&h, d) == 0);
	h.pid = 0;
	/* Drop CAP_NET_RAW (13) from effective and permitted; it cannot come back. */
	d[0].effective &= ~(1u << 13);
	d[0].permitted &= ~(1u << 13);
	CHECK(capset_(&h, d) == 0);
	struct __user_cap_data_struct back[2];
	CHECK(capget_(&h, back) == 0 && !(back[0].permitted & (1u << 13)) &&
	      (back[0].permitted & (1u << 12)));
	d[0].permitted |= 1u << 13;
	errno = 0;
	CHECK(capset_(&h, d) == -1 && errno == EPERM);

	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0);
	errno = 0;
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0) == -1 && errno == EINVAL);
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	CHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 0);
	CHECK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0);
	CHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 1);
	errno = 0;
	CHECK(prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0) == -1 && errno == EINVAL);
	int sig = -1;
	CHECK(prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == 0);
	CHECK(prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) == 0 && sig == SIGTERM);
	CHECK(prctl(PR_CAPBSET_READ, 21, 0, 0, 0) == 1); /* CAP_SYS_ADMIN */
	errno = 0;
	CHECK(prctl(PR_CAPBSET_READ, 1000, 0, 0, 0) == -1 && errno == EINVAL);
	return CHECK_DONE();
}
