/* enosys: a syscall the kernel lacks (kexec_load, 246) must fail with ENOSYS and the
 * program must go on. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(void)
{
	long rv;

	errno = 0;
	rv = syscall(246 /* kexec_load */, 0L, 0L, 0L, 0L);
	if (rv != -1 || errno != ENOSYS) {
		printf("kexec_load returned %ld, errno %d (%s): expected -1/ENOSYS\n",
		    rv, errno, strerror(errno));
		return 1;
	}
	printf("errno ENOSYS ok\n");
	printf("still running\n");
	return 0;
}
