/* ext2_workload: a write-heavy workload on an ext2 disk mounted at /data, and its
 * verification on a later boot.
 *
 *   ext2_workload write [OPS]  a fixed pseudo-random sequence of OPS (default 3000)
 *       operations under /data/w: create, append, overwrite, truncate (down and up),
 *       rename (across directories, over existing files, of directories), unlink,
 *       mkdir, rmdir, fsync; 600 files in one directory; a hard link, a symlink and a
 *       sparse file with data past 4 GiB. The expected content of every file is kept
 *       in memory; at the end every file is read back and compared with it, and
 *       /data/MANIFEST lists each directory and each file's size and FNV-1a checksum.
 *       The program then just returns: the kernel writes everything back at exit.
 *   ext2_workload verify  (a later boot) checks every file of the manifest by size and
 *       checksum, the links and the sparse file, and that the tree holds exactly what
 *       the manifest lists.
 *
 * Fail-fast (check_fatal.h); prints "ALL OK" at the end. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_fatal.h"

#define TOP "/data/w"
#define MANIFEST "/data/MANIFEST"
#define MAX_DIRS 64
#define MAX_FILES 2048
#define MAX_LIVE_BYTES (20u << 20)
#define SPARSE TOP "/sparse"
#define GiB (1LL << 30)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static uint32_t
below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

static uint64_t
fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}
#define FNV_START 0xcbf29ce484222325ull

struct dir {
	int parent; /* -1: TOP */
	char name[32];
	int live;
};

struct file {
	int dir;
	char name[32];
	unsigned char *data;
	size_t size, cap;
	int live;
};

static struct dir dirs[MAX_DIRS];
static int ndirs;
static struct file files[MAX_FILES];
static int nfiles;
static size_t live_bytes;
static unsigned name_counter;

/* Appends "/name" to the path in out. */
static void
append_name(char *out, size_t len, const char *name)
{
	size_t n = strlen(out);
	CHECK(n + 1 + strlen(name) < len, "path too long: %s/%s", out, name);
	out[n] = '/';
	strcpy(out + n + 1, name);
}

static void
dir_path(int d, char *out, size_t len)
{
	if (d < 0) {
		snprintf(out, len, "%s", TOP);
		return;
	}
	dir_path(dirs[d].parent, out, len);
	append_name(out, len, dirs[d].name);
}

static void
file_path(const struct file *f, char *out, size_t len)
{
	dir_path(f->dir, out, len);
	append_name(out, len, f->name);
}

static void
reserve(struct file *f, size_t size)
{
	if (size <= f->cap)
		return;
	size_t cap = f->cap ? f->cap : 4096;
	while (cap < size)
		cap *= 2;
	f->data = realloc(f->data, cap);
	CHECK(f->data != NULL, "out of memory for the model (%zu bytes)", cap);
	f->cap = cap;
}

/* Sets the model's size, zero-filling growth (as ftruncate and writes past EOF do). */
static void
model_resize(struct file *f, size_t size)
{
	reserve(f, size);
	if (size > f->size)
		memset(f->data + f->size, 0, size - f->size);
	live_bytes = live_bytes - f->size + size;
	f->size = size;
}

static void
fill(unsigned char *p, size_t n)
{
	uint32_t x = rnd();
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (unsigned char)(x >> 19);
	}
}

/* Writes buf at off in chunks of random sizes (unaligned, crossing block boundaries). */
static void
write_chunks(int fd, const unsigned char *buf, size_t len, off_t off, const char *path)
{
	size_t done = 0;
	while (done < len) {
		size_t n = 1 + below(below(4) ? 5000 : 70000);
		if (n > len - done)
			n = len - done;
		ssize_t w = pwrite(fd, buf + done, n, off + (off_t)done);
		CHECK(w == (ssize_t)n, "pwrite %s at %lld: %zd (%s)", path,
		      (long long)(off + (off_t)done), w, strerror(errno));
		done += n;
	}
}

static size_t
random_size(void)
{
	uint32_t k = below(100);
	if (k < 60)
		return below(6000);
	if (k < 92)
		return 6000 + below(200000);
	return 300000 + below(1500000);
}

static int
random_live_dir(void)
{
	for (;;) {
		int d = (int)below(ndirs + 1) - 1;
		if (d < 0 || dirs[d].live)
			return d;
	}
}

static int
random_live_file(void)
{
	int live = 0;
	for (int i = 0; i < nfiles; i++)
		live += files[i].live;
	if (live == 0)
		return -1;
	int k = (int)below(live);
	for (int i = 0; i < nfiles; i++)
		if (files[i].live && k-- == 0)
			return i;
	return -1;
}

static int
make_dir(int parent)
{
	CHECK(ndirs < MAX_DIRS, "too many directories");
	struct dir *d = &dirs[ndirs];
	d->parent = parent;
	snprintf(d->name, sizeof d->name, "d%03u", name_counter++);
	char p[256];
	dir_path(ndirs, p, sizeof p);
	CHECK(mkdir(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
	d->live = 1;
	return ndirs++;
}

static int
create_file(int dir, size_t size)
{
	CHECK(nfiles < MAX_FILES, "too many files");
	struct file *f = &files[nfiles];
	f->dir = dir;
	snprintf(f->name, sizeof f->name, "f%05u", name_counter++);
	char p[300];
	file_path(f, p, sizeof p);
	int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
	CHECK(fd >= 0, "create %s: %s", p, strerror(errno));
	f->live = 1;
	model_resize(f, size);
	fill(f->data, size);
	write_chunks(fd, f->data, size, 0, p);
	CHECK(close(fd) == 0, "close %s", p);
	return nfiles++;
}

static void
op_append(struct file *f)
{
	char p[300];
	file_path(f, p, sizeof p);
	size_t n = 1 + below(below(3) ? 3000 : 60000), old = f->size;
	model_resize(f, old + n);
	fill(f->data + old, n);
	int fd = open(p, O_WRONLY | O_APPEND);
	CHECK(fd >= 0, "open %s for append: %s", p, strerror(errno));
	size_t done = 0;
	while (done < n) {
		size_t k = 1 + below(n - done);
		CHECK(write(fd, f->data + old + done, k) == (ssize_t)k, "append %s: %s", p,
		      strerror(errno));
		done += k;
	}
	CHECK(close(fd) == 0, "close %s", p);
}

static void
op_overwrite(struct file *f)
{
	char p[300];
	file_path(f, p, sizeof p);
	size_t off = below(f->size + 5000), n = 1 + below(40000);
	if (off + n > f->size)
		model_resize(f, off + n);
	fill(f->data + off, n);
	int fd = open(p, O_RDWR);
	CHECK(fd >= 0, "open %s: %s", p, strerror(errno));
	write_chunks(fd, f->data + off, n, (off_t)off, p);
	if (below(4) == 0)
		CHECK(fsync(fd) == 0, "fsync %s: %s", p, strerror(errno));
	CHECK(close(fd) == 0, "close %s", p);
}

static void
op_truncate(struct file *f)
{
	char p[300];
	file_path(f, p, sizeof p);
	size_t size = below(3) ? below(f->size + 1) : f->size + below(300000);
	CHECK(truncate(p, (off_t)size) == 0, "truncate %s to %zu: %s", p, size, strerror(errno));
	model_resize(f, size);
}

static void
op_rename(int i)
{
	struct file *f = &files[i];
	char from[300], to[300];
	file_path(f, from, sizeof from);
	int target = below(4) == 0 ? random_live_file() : -1;
	if (target == i)
		target = -1;
	if (target >= 0) { /* over an existing file: it is replaced */
		file_path(&files[target], to, sizeof to);
		f->dir = files[target].dir;
		memcpy(f->name, files[target].name, sizeof f->name);
		files[target].live = 0;
		live_bytes -= files[target].size;
		free(files[target].data);
		files[target].data = NULL;
	} else {
		f->dir = random_live_dir();
		snprintf(f->name, sizeof f->name, "r%05u", name_counter++);
		file_path(f, to, sizeof to);
	}
	CHECK(rename(from, to) == 0, "rename %s -> %s: %s", from, to, strerror(errno));
}

static void
op_unlink(struct file *f)
{
	char p[300];
	file_path(f, p, sizeof p);
	CHECK(unlink(p) == 0, "unlink %s: %s", p, strerror(errno));
	f->live = 0;
	live_bytes -= f->size;
	free(f->data);
	f->data = NULL;
}

static void
op_rename_dir(void)
{
	int d = (int)below(ndirs);
	if (!dirs[d].live)
		return;
	char from[256], to[256];
	dir_path(d, from, sizeof from);
	snprintf(dirs[d].name, sizeof dirs[d].name, "m%03u", name_counter++);
	dir_path(d, to, sizeof to);
	CHECK(rename(from, to) == 0, "rename dir %s -> %s: %s", from, to, strerror(errno));
}

/* Empties directory d (files and subdirectories) and removes it. */
static void
remove_dir(int d)
{
	for (int i = 0; i < nfiles; i++)
		if (files[i].live && files[i].dir == d)
			op_unlink(&files[i]);
	for (int s = 0; s < ndirs; s++)
		if (dirs[s].live && dirs[s].parent == d)
			remove_dir(s);
	char p[256];
	dir_path(d, p, sizeof p);
	CHECK(rmdir(p) == 0, "rmdir %s: %s", p, strerror(errno));
	dirs[d].live = 0;
}

static void
check_content(const char *p, const unsigned char *want, size_t size)
{
	struct stat st;
	CHECK(stat(p, &st) == 0, "stat %s: %s", p, strerror(errno));
	CHECK(S_ISREG(st.st_mode) && (size_t)st.st_size == size, "%s: size %lld, want %zu", p,
	      (long long)st.st_size, size);
	int fd = open(p, O_RDONLY);
	CHECK(fd >= 0, "open %s: %s", p, strerror(errno));
	static unsigned char buf[65536];
	size_t off = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		CHECK(n >= 0, "read %s: %s", p, strerror(errno));
		if (n == 0)
			break;
		CHECK(off + (size_t)n <= size && memcmp(buf, want + off, (size_t)n) == 0,
		      "%s: content differs in [%zu, %zu)", p, off, off + (size_t)n);
		off += (size_t)n;
	}
	CHECK(off == size, "%s: read %zu bytes, want %zu", p, off, size);
	close(fd);
}

/* The sparse file: data at 0, across 4 GiB and at 6 GiB; holes elsewhere. */
static const struct {
	long long off;
	const char *text;
} sparse_parts[] = {
	{0, "HEAD of the sparse file"},
	{4 * GiB - 10, "across the 4 GiB boundary"},
	{6 * GiB, "TAIL past 6 GiB"},
};
#define SPARSE_SIZE (6 * GiB + 15)

static void
write_sparse(void)
{
	int fd = open(SPARSE, O_CREAT | O_EXCL | O_RDWR, 0644);
	CHECK(fd >= 0, "create %s: %s", SPARSE, strerror(errno));
	CHECK(pwrite(fd, "junk", 4, 5 * GiB) == 4, "pwrite at 5 GiB: %s", strerror(errno));
	CHECK(ftruncate(fd, 5 * GiB) == 0, "ftruncate to 5 GiB: %s", strerror(errno));
	for (size_t i = 0; i < sizeof sparse_parts / sizeof sparse_parts[0]; i++) {
		size_t n = strlen(sparse_parts[i].text);
		CHECK(pwrite(fd, sparse_parts[i].text, n, sparse_parts[i].off) == (ssize_t)n,
		      "pwrite at %lld: %s", sparse_parts[i].off, strerror(errno));
	}
	CHECK(close(fd) == 0, "close %s", SPARSE);
}

static void
check_sparse(void)
{
	struct stat st;
	CHECK(stat(SPARSE, &st) == 0 && st.st_size == SPARSE_SIZE, "%s: size %lld", SPARSE,
	      (long long)st.st_size);
	CHECK(st.st_blocks < 256, "%s: %lld blocks: holes were filled", SPARSE,
	      (long long)st.st_blocks);
	int fd = open(SPARSE, O_RDONLY);
	CHECK(fd >= 0, "open %s", SPARSE);
	char buf[64];
	for (size_t i = 0; i < sizeof sparse_parts / sizeof sparse_parts[0]; i++) {
		size_t n = strlen(sparse_parts[i].text);
		CHECK(pread(fd, buf, n, sparse_parts[i].off) == (ssize_t)n &&
			  memcmp(buf, sparse_parts[i].text, n) == 0,
		      "%s: wrong data at %lld", SPARSE, sparse_parts[i].off);
	}
	static const long long holes[] = {4096, GiB, 4 * GiB + 100, 5 * GiB, 6 * GiB - 64};
	for (size_t i = 0; i < sizeof holes / sizeof holes[0]; i++) {
		memset(buf, 'x', sizeof buf);
		CHECK(pread(fd, buf, sizeof buf, holes[i]) == sizeof buf, "read hole at %lld",
		      holes[i]);
		for (size_t k = 0; k < sizeof buf; k++)
			CHECK(buf[k] == 0, "%s: hole at %lld is not zeros", SPARSE, holes[i]);
	}
	close(fd);
}

#define HARD_A TOP "/hard-a"
#define HARD_B TOP "/hard-b"
#define SYMLINK TOP "/link"
#define LINK_TARGET "hard-a"
static const char hard_text[] = "one inode, two names\n";

static void
check_links(void)
{
	struct stat a, b;
	CHECK(stat(HARD_A, &a) == 0 && stat(HARD_B, &b) == 0, "stat hard links");
	CHECK(a.st_ino == b.st_ino && a.st_nlink == 2, "hard links: inodes %lu %lu nlink %lu",
	      (unsigned long)a.st_ino, (unsigned long)b.st_ino, (unsigned long)a.st_nlink);
	check_content(HARD_B, (const unsigned char *)hard_text, strlen(hard_text));
	char t[64] = {0};
	CHECK(readlink(SYMLINK, t, sizeof t - 1) == (ssize_t)strlen(LINK_TARGET) &&
		  strcmp(t, LINK_TARGET) == 0,
	      "symlink %s -> %s", SYMLINK, t);
}

static int
do_write(int ops)
{
	CHECK(mkdir(TOP, 0755) == 0, "mkdir %s: %s", TOP, strerror(errno));
	for (int i = 0; i < 12; i++)
		make_dir(i < 8 ? -1 : (int)below(8));

	/* many names in one directory: the directory spans many blocks */
	int many = make_dir(-1);
	for (int i = 0; i < 600; i++)
		create_file(many, below(700));
	for (int i = 0; i < nfiles; i++)
		if (files[i].dir == many && i % 3 == 0)
			op_unlink(&files[i]);
	ok("600 files in one directory, every third unlinked");

	for (int i = 0; i < ops; i++) {
		uint32_t k = below(100);
		int f = random_live_file();
		if (k < 25 || f < 0) {
			size_t size = random_size();
			if (live_bytes + size < MAX_LIVE_BYTES)
				create_file(random_live_dir(), size);
		} else if (k < 40) {
			if (live_bytes < MAX_LIVE_BYTES)
				op_append(&files[f]);
		} else if (k < 57) {
			if (live_bytes < MAX_LIVE_BYTES)
				op_overwrite(&files[f]);
		} else if (k < 69) {
			op_truncate(&files[f]);
		} else if (k < 80) {
			op_rename(f);
		} else if (k < 94) {
			op_unlink(&files[f]);
		} else if (k < 96) {
			if (ndirs < MAX_DIRS - 4)
				make_dir(random_live_dir());
		} else if (k < 98) {
			op_rename_dir();
		} else {
			int fd = open(TOP, O_RDONLY | O_DIRECTORY);
			CHECK(fd >= 0 && fsync(fd) == 0, "fsync of %s: %s", TOP, strerror(errno));
			close(fd);
		}
	}
	/* two directory trees removed whole */
	remove_dir(1);
	remove_dir(2);
	printf("ok: %d operations, %d files made, %zu bytes live\n", ops, nfiles, live_bytes);

	int fd = open(HARD_A, O_CREAT | O_EXCL | O_WRONLY, 0644);
	CHECK(fd >= 0 && write(fd, hard_text, strlen(hard_text)) == (ssize_t)strlen(hard_text),
	      "write %s", HARD_A);
	close(fd);
	CHECK(link(HARD_A, HARD_B) == 0, "link: %s", strerror(errno));
	CHECK(symlink(LINK_TARGET, SYMLINK) == 0, "symlink: %s", strerror(errno));
	write_sparse();
	check_links();
	check_sparse();

	/* read everything back through the file system and write the manifest */
	FILE *m = fopen(MANIFEST, "w");
	CHECK(m != NULL, "create %s: %s", MANIFEST, strerror(errno));
	int live_files = 0, live_dirs = 0;
	for (int d = 0; d < ndirs; d++) {
		if (!dirs[d].live)
			continue;
		char p[256];
		dir_path(d, p, sizeof p);
		fprintf(m, "D %s\n", p);
		live_dirs++;
	}
	for (int i = 0; i < nfiles; i++) {
		if (!files[i].live)
			continue;
		char p[300];
		file_path(&files[i], p, sizeof p);
		check_content(p, files[i].data, files[i].size);
		fprintf(m, "F %zu %016llx %s\n", files[i].size,
			(unsigned long long)fnv1a(FNV_START, files[i].data, files[i].size), p);
		live_files++;
	}
	CHECK(fclose(m) == 0, "close %s: %s", MANIFEST, strerror(errno));
	printf("ok: %d files and %d directories read back and listed in %s\n", live_files,
	       live_dirs, MANIFEST);
	printf("ALL OK\n");
	return 0;
}

static int tree_files, tree_dirs;

static int
count_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_D)
		tree_dirs++;
	else if (type == FTW_F)
		tree_files++;
	else if (type != FTW_SL)
		CHECK(0, "%s: unexpected entry type %d", path, type);
	return 0;
}

static int
do_verify(void)
{
	FILE *m = fopen(MANIFEST, "r");
	CHECK(m != NULL, "open %s: %s", MANIFEST, strerror(errno));
	char line[512];
	int want_files = 0, want_dirs = 0;
	static unsigned char buf[65536];
	while (fgets(line, sizeof line, m)) {
		line[strcspn(line, "\n")] = 0;
		char path[400];
		size_t size;
		unsigned long long sum;
		struct stat st;
		if (sscanf(line, "D %399s", path) == 1) {
			CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "directory %s: %s", path,
			      strerror(errno));
			want_dirs++;
		} else if (sscanf(line, "F %zu %llx %399s", &size, &sum, path) == 3) {
			int fd = open(path, O_RDONLY);
			CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
			CHECK(fstat(fd, &st) == 0 && (size_t)st.st_size == size,
			      "%s: size %lld, want %zu", path, (long long)st.st_size, size);
			uint64_t h = FNV_START;
			size_t total = 0;
			ssize_t n;
			while ((n = read(fd, buf, sizeof buf)) > 0) {
				h = fnv1a(h, buf, (size_t)n);
				total += (size_t)n;
			}
			CHECK(n == 0 && total == size, "read %s: %zu bytes (%s)", path, total,
			      strerror(errno));
			CHECK(h == sum, "%s: checksum %016llx, want %016llx", path,
			      (unsigned long long)h, sum);
			close(fd);
			want_files++;
		} else {
			CHECK(0, "bad manifest line \"%s\"", line);
		}
	}
	fclose(m);
	CHECK(want_files > 100, "the manifest lists only %d files", want_files);
	printf("ok: %d files match their size and checksum, %d directories exist\n",
	       want_files, want_dirs);
	check_links();
	check_sparse();
	ok("hard link, symlink and the sparse file past 4 GiB");
	CHECK(nftw(TOP, count_entry, 16, FTW_PHYS) == 0, "walk %s: %s", TOP, strerror(errno));
	/* the tree also holds TOP, the sparse file and the two hard-link names */
	CHECK(tree_dirs == want_dirs + 1 && tree_files == want_files + 3,
	      "the tree has %d directories and %d files, the manifest %d and %d", tree_dirs,
	      tree_files, want_dirs + 1, want_files + 3);
	ok("the tree holds exactly the manifest's files and directories");
	printf("ALL OK\n");
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "write") == 0)
		return do_write(argc >= 3 ? atoi(argv[2]) : 3000);
	if (argc == 2 && strcmp(argv[1], "verify") == 0)
		return do_verify();
	fprintf(stderr, "usage: ext2_workload write [OPS] | verify\n");
	return 2;
}
