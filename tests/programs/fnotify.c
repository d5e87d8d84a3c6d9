/* fnotify.c: fcntl(F_NOTIFY) (dnotify) answers as Linux's fcntl_dirnotify does:
 * a watch on a directory (tmpfs /tmp, the root) is accepted, a watch on anything else
 * is ENOTDIR, clearing the watches (no events, with or without DN_MULTISHOT) always
 * succeeds. Before: EINVAL for everything. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

#ifndef F_NOTIFY
#define F_NOTIFY 1026
#endif
#ifndef DN_CREATE
#define DN_ACCESS 0x00000001
#define DN_MODIFY 0x00000002
#define DN_CREATE 0x00000004
#define DN_DELETE 0x00000008
#define DN_MULTISHOT 0x80000000
#endif

int
main(void)
{
	int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
	CHECK(dir >= 0);
	CHECK(fcntl(dir, F_NOTIFY, DN_CREATE | DN_DELETE | DN_MULTISHOT) == 0);
	CHECK(fcntl(dir, F_NOTIFY, DN_MODIFY) == 0);
	CHECK(fcntl(dir, F_NOTIFY, 0) == 0);
	close(dir);

	int root = open("/", O_RDONLY | O_DIRECTORY);
	CHECK(root >= 0);
	CHECK(fcntl(root, F_NOTIFY, DN_ACCESS) == 0);
	close(root);

	int file = open("/tmp/fnotify-file", O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(file >= 0);
	errno = 0;
	CHECK(fcntl(file, F_NOTIFY, DN_MODIFY) == -1 && errno == ENOTDIR);
	/* clearing needs no directory */
	CHECK(fcntl(file, F_NOTIFY, 0) == 0);
	CHECK(fcntl(file, F_NOTIFY, DN_MULTISHOT) == 0);
	close(file);
	unlink("/tmp/fnotify-file");

	int fds[2];
	CHECK(pipe(fds) == 0);
	errno = 0;
	CHECK(fcntl(fds[0], F_NOTIFY, DN_CREATE) == -1 && errno == ENOTDIR);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(s >= 0);
	errno = 0;
	CHECK(fcntl(s, F_NOTIFY, DN_CREATE) == -1 && errno == ENOTDIR);

	errno = 0;
	CHECK(fcntl(9999, F_NOTIFY, DN_CREATE) == -1 && errno == EBADF);
	return CHECK_DONE();
}
