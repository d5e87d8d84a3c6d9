/* tcp_send: bulk TCP from the guest: connects to HOST:PORT (argv[1], argv[2]) and
 * sends argv[3] MiB of a fixed pattern, shuts its side down and waits for the
 * receiver's EOF (so every byte has arrived when it exits). The receiver (bench/run,
 * bench/net-wrk; bench/lib.sh) times the transfer on the host. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: tcp_send HOST PORT MIB\n");
		return 2;
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
	inet_pton(AF_INET, argv[1], &a.sin_addr);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("connect");
		return 1;
	}
	static char buf[64 * 1024];
	memset(buf, 'x', sizeof buf);
	long long left = atoll(argv[3]) << 20;
	ssize_t w;
	while (left > 0) {
		w = write(s, buf, left < (long long)sizeof buf ? (size_t)left : sizeof buf);
		if (w <= 0) {
			perror("write");
			return 1;
		}
		left -= w;
	}
	/* Wait for the receiver's EOF before exiting: close() returns with data still
	 * queued, and a guest that powers off right after (the Linux guest's init does)
	 * would lose it. */
	if (shutdown(s, SHUT_WR) != 0) {
		perror("shutdown");
		return 1;
	}
	while ((w = read(s, buf, sizeof buf)) > 0)
		;
	if (w < 0) {
		perror("read");
		return 1;
	}
	close(s);
	printf("sent %s MiB\n", argv[3]);
	return 0;
}
