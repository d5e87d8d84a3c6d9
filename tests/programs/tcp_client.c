/* tcp_client: connects to the host (QEMU user networking's 10.0.2.2) on the port in
 * argv[1], sends "ping from the unikernel\n", prints what comes back. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
	inet_pton(AF_INET, "10.0.2.2", &a.sin_addr);
	if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("connect");
		return 1;
	}
	const char *msg = "ping from the unikernel\n";
	if (write(s, msg, strlen(msg)) != (ssize_t)strlen(msg)) {
		perror("write");
		return 1;
	}
	char buf[256];
	ssize_t n = read(s, buf, sizeof buf - 1);
	if (n <= 0) {
		perror("read");
		return 1;
	}
	buf[n] = 0;
	printf("got: %s", buf);
	struct sockaddr_in me;
	socklen_t len = sizeof me;
	getsockname(s, (struct sockaddr *)&me, &len);
	printf("local address %s\n", inet_ntoa(me.sin_addr));
	close(s);
	return 0;
}
