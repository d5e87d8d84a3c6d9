/* mmap_file_test: MAP_PRIVATE and MAP_SHARED mappings of a tmpfs file (contents, zero fill past EOF, private writes stay private, shared writes reach the file on msync and munmap, the file never grows), EACCES/EINVAL/ENODEV, /dev/zero, and read() into a mapping of the same file. Prints ALL OK. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "check.h"
int main(void) {
    int fd = open("/tmp/m.dat", O_CREAT | O_RDWR, 0644);
    char buf[8192];
    for (int i = 0; i < 8192; i++) buf[i] = 'a' + i % 26;
    CHECK(write(fd, buf, 6000) == 6000);
    char *p = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED && p[0] == 'a' && p[5999] == buf[5999] && p[6000] == 0 && p[8191] == 0);
    char *q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 4096);
    CHECK(q != MAP_FAILED && q[0] == buf[4096]);
    q[0] = 'Z';
    CHECK(pread(fd, buf, 1, 4096) == 1 && buf[0] != 'Z'); /* private: file unchanged */
    char *s = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(s != MAP_FAILED);
    memcpy(s + 10, "SHARED", 6);
    CHECK(msync(s, 8192, MS_SYNC) == 0);
    CHECK(pread(fd, buf, 6, 10) == 6 && memcmp(buf, "SHARED", 6) == 0);
    s[20] = '!';
    CHECK(munmap(s, 8192) == 0);
    CHECK(pread(fd, buf, 1, 20) == 1 && buf[0] == '!');
    struct stat st; fstat(fd, &st); CHECK(st.st_size == 6000); /* never grown by the mapping */
    int ro = open("/tmp/m.dat", O_RDONLY);
    CHECK(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED && errno == EACCES);
    CHECK(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 100) == MAP_FAILED && errno == EINVAL);
    int dz = open("/dev/zero", O_RDWR);
    char *z = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, dz, 0);
    CHECK(z != MAP_FAILED && z[100] == 0);
    int d = open("/tmp", O_RDONLY);
    CHECK(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, d, 0) == MAP_FAILED && errno == ENODEV);
    /* read() into a file mapping of the same file */
    char *r = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(pread(fd, r + 100, 50, 0) == 50 && r[100] == 'a');
    return CHECK_DONE();
}
