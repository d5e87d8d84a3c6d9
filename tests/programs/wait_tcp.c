/* wait_tcp: waits until a TCP connection to ADDR PORT (IPv4) succeeds, trying every
 * 50 ms for up to SECONDS (default 30), then exits 0 ("ready"); 1 on a timeout. The
 * apps tests run it between a server started in the background and its clients in
 * the same image (rumprun -r 'server &' -r 'wait_tcp 127.0.0.1 6379' -r client). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: wait_tcp ADDR PORT [SECONDS]\n");
		return 2;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "wait_tcp: bad address %s\n", argv[1]);
		return 2;
	}
	int tries = (argc > 3 ? atoi(argv[3]) : 30) * 20;
	for (int i = 0; i < tries; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0) {
			perror("socket");
			return 1;
		}
		if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0) {
			close(s);
			printf("wait_tcp: %s:%s ready\n", argv[1], argv[2]);
			return 0;
		}
		close(s);
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "wait_tcp: %s:%s not ready\n", argv[1], argv[2]);
	return 1;
}
