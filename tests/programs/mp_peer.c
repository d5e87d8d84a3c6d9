/* mp_peer: the two halves of an exchange between two programs of one image (rc
 * entries that name this same program, so both copies sit at the same link address).
 * "server" (run in the background) publishes its pid and a private descriptor, then
 * answers one request over /tmp files and waits to be stopped; "client STATUS" checks
 * that it is a different process (pid, /proc/self, descriptor table, cwd, signal
 * dispositions, memory at the same address),
 * sends the request, checks the reply, connects to the server's AF_UNIX socket (each
 * side's SO_PEERCRED must name the other program), sends the server SIGUSR2 (its
 * handler must see the client's pid) and exits with STATUS. */
#define _GNU_SOURCE
#include "check_fatal.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const struct sockaddr_un peer_sock = {AF_UNIX, "/tmp/peer.sock"};

/* The pid SO_PEERCRED names for `fd`. */
static int
peer_pid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	CHECK(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0, "SO_PEERCRED: errno %d",
	      errno);
	return cred.pid;
}

static volatile sig_atomic_t usr2_from;
static void
on_usr2(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	usr2_from = si->si_pid;
}

/* Each copy writes its role here: reading the other's would mean shared memory. */
static char role_mark[32];

/* Writes `text` to `path` through a temporary file and rename, so a reader never
 * sees it half written. */
static void
publish(const char *path, const char *text)
{
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK(fd >= 0, "create %s: errno %d", tmp, errno);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write %s", tmp);
	close(fd);
	CHECK(rename(tmp, path) == 0, "rename %s: errno %d", tmp, errno);
}

/* Waits up to 20 s for `path` to exist and reads it into buf. */
static void
await(const char *path, char *buf, size_t size)
{
	for (int i = 0; i < 2000; i++) {
		int fd = open(path, O_RDONLY);
		if (fd >= 0) {
			ssize_t n = read(fd, buf, size - 1);
			close(fd);
			CHECK(n > 0, "read %s", path);
			buf[n] = 0;
			return;
		}
		CHECK(errno == ENOENT, "open %s: errno %d", path, errno);
		usleep(10000);
	}
	CHECK(0, "%s never appeared", path);
}

static void
server(void)
{
	strcpy(role_mark, "server");
	int fd = open("/tmp/server-private", O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 3, "open /tmp/server-private: %d errno %d", fd, errno);
	/* Process state the client must not share: cwd and a signal disposition. */
	CHECK(chdir("/tmp") == 0, "chdir /tmp: errno %d", errno);
	CHECK(signal(SIGUSR1, SIG_IGN) != SIG_ERR, "signal(SIGUSR1, SIG_IGN)");
	printf("server: pid=%d private fd=%d mark at %p\n", getpid(), fd, (void *)role_mark);
	fflush(stdout);
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(lfd >= 0 && bind(lfd, (const struct sockaddr *)&peer_sock, sizeof peer_sock) == 0 &&
		  listen(lfd, 1) == 0,
	      "listen on %s: errno %d", peer_sock.sun_path, errno);
	char text[64];
	snprintf(text, sizeof text, "%d %d", getpid(), fd);
	publish("/tmp/server.pid", text);
	char request[64], reply[128];
	await("/tmp/request", request, sizeof request);
	CHECK(strcmp(role_mark, "server") == 0, "server's memory now says \"%s\"", role_mark);
	snprintf(reply, sizeof reply, "reply to [%s] from %d", request, getpid());
	publish("/tmp/reply", reply);
	ok("server replied");
	int cfd = accept(lfd, NULL, NULL);
	CHECK(cfd >= 0, "accept: errno %d", errno);
	int client_pid = 0;
	CHECK(sscanf(request, "hello from %d", &client_pid) == 1, "request \"%s\"", request);
	CHECK(peer_pid(cfd) == client_pid, "server: SO_PEERCRED names pid %d, the client is %d",
	      peer_pid(cfd), client_pid);
	ok("server: SO_PEERCRED names the client program");
	struct sigaction sa = {0};
	sa.sa_sigaction = on_usr2;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGUSR2, &sa, NULL) == 0, "sigaction SIGUSR2");
	CHECK(write(cfd, "k", 1) == 1, "write to the client: errno %d", errno);
	while (!usr2_from)
		pause();
	CHECK(usr2_from == client_pid, "SIGUSR2 came from pid %d, the client is %d", (int)usr2_from,
	      client_pid);
	ok("server: SIGUSR2 from the client program arrived");
	CHECK(write(cfd, "s", 1) == 1, "write to the client: errno %d", errno);
	for (;;)
		pause(); /* until the image ends */
}

static int
client(int status)
{
	strcpy(role_mark, "client");
	char text[64];
	await("/tmp/server.pid", text, sizeof text);
	int server_pid, server_fd;
	CHECK(sscanf(text, "%d %d", &server_pid, &server_fd) == 2, "bad /tmp/server.pid \"%s\"", text);
	CHECK(getpid() != server_pid, "client and server both have pid %d", server_pid);
	CHECK(fcntl(server_fd, F_GETFD) == -1 && errno == EBADF,
	      "the server's fd %d is open in the client too", server_fd);
	char cwd[64];
	CHECK(getcwd(cwd, sizeof cwd) != NULL && strcmp(cwd, "/") == 0,
	      "the client's cwd is \"%s\" (the server's is /tmp)", cwd);
	struct sigaction old;
	CHECK(sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_handler == SIG_DFL,
	      "SIGUSR1 is not SIG_DFL in the client (the server ignores it)");
	char self[16] = "";
	CHECK(readlink("/proc/self", self, sizeof self - 1) > 0 && atoi(self) == getpid(),
	      "/proc/self is \"%s\", pid %d", self, getpid());
	printf("client: pid=%d server pid=%d mark at %p\n", getpid(), server_pid, (void *)role_mark);
	ok("own pid, descriptor table, cwd and signal dispositions");
	char request[64], reply[128], want[128];
	snprintf(request, sizeof request, "hello from %d", getpid());
	publish("/tmp/request", request);
	await("/tmp/reply", reply, sizeof reply);
	snprintf(want, sizeof want, "reply to [%s] from %d", request, server_pid);
	CHECK(strcmp(reply, want) == 0, "reply \"%s\", expected \"%s\"", reply, want);
	CHECK(strcmp(role_mark, "client") == 0, "client's memory now says \"%s\"", role_mark);
	ok("client got the reply");
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0 && connect(fd, (const struct sockaddr *)&peer_sock, sizeof peer_sock) == 0,
	      "connect %s: errno %d", peer_sock.sun_path, errno);
	CHECK(peer_pid(fd) == server_pid, "client: SO_PEERCRED names pid %d, the server is %d",
	      peer_pid(fd), server_pid);
	ok("client: SO_PEERCRED names the server program");
	/* The server says when it has checked its side (the image ends with us). */
	char k;
	CHECK(read(fd, &k, 1) == 1 && k == 'k', "no word from the server: errno %d", errno);
	CHECK(kill(server_pid, SIGUSR2) == 0, "kill(%d, SIGUSR2): errno %d", server_pid, errno);
	CHECK(read(fd, &k, 1) == 1 && k == 's', "the server did not see SIGUSR2: errno %d", errno);
	CHECK(kill(server_pid + 1000, 0) == -1 && errno == ESRCH, "kill of no program: errno %d",
	      errno);
	ok("client: kill() reaches the server program; no such pid gives ESRCH");
	return status;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "server") == 0)
		server();
	if (argc == 3 && strcmp(argv[1], "client") == 0)
		return client(atoi(argv[2]));
	printf("usage: mp_peer server | mp_peer client STATUS\n");
	return 2;
}
