/* mp_count: counts the lines and bytes on stdin until end of file, like `wc -lc`
 * (the consumer of the `|` runmode test), and prints them. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int
main(void)
{
	char buf[4096];
	long lines = 0, bytes = 0;
	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);
		if (n < 0) {
			printf("count: read error %d\n", errno);
			return 1;
		}
		if (n == 0)
			break;
		bytes += n;
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	}
	printf("count: lines=%ld bytes=%ld\n", lines, bytes);
	return 0;
}
