/* tcp_sink: bulk TCP into the guest: accepts connections on port argv[1], reads each
 * to end of file and answers the number of bytes it read ("N\n"), then closes it.
 * bench/tcp-upload times uploads to it from the host. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: tcp_sink PORT\n");
		return 2;
	}
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 16) < 0) {
		perror("tcp_sink: bind/listen");
		return 1;
	}
	static char buf[65536];
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		long n = 0;
		ssize_t r;
		while ((r = read(c, buf, sizeof buf)) > 0)
			n += r;
		char out[32];
		int len = snprintf(out, sizeof out, "%ld\n", n);
		if (write(c, out, (size_t)len) != len)
			perror("tcp_sink: write");
		close(c);
	}
}
