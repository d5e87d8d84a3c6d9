/* bench/qemu-plugin/insn_prof.c: a QEMU TCG plugin for bench/insn-profile (not a
 * test). Counts the guest instructions executed per translation block (by its start
 * address): every block gets an inline counter, so the count is exact and costs
 * the guest little. Argument out=PATH: whenever PATH.req appears, it writes one
 * line per block, "address instructions-executed instructions-in-block
 * times-translated" (hex, then decimal), to PATH.dump and removes PATH.req; the
 * caller diffs two dumps. A block translated again (its page written, e.g. code
 * and data sharing a page, or the translation cache flushed) costs QEMU far more
 * than executing it: the count shows whether that happens per request.
 *
 * QEMU 7.2's plugin API (version 1; Debian 12 ships no qemu-plugin.h): the few
 * declarations used are written out below, as that header has them. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t, struct qemu_plugin_tb *);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t, qemu_plugin_vcpu_tb_trans_cb_t);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *, enum qemu_plugin_op,
                                              void *, uint64_t);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* An open-addressed table of blocks by start address (a block translated again
 * adds to the same counters). */
#define SLOTS (1 << 21)
struct block {
    uint64_t addr, executed, insns, translated;
};
static struct block *table;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char out[4000];

static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    uint64_t addr = qemu_plugin_tb_vaddr(tb), n = qemu_plugin_tb_n_insns(tb);
    pthread_mutex_lock(&lock);
    uint64_t h = (addr * 0x9E3779B97F4A7C15ull) >> 43;
    while (table[h].addr != addr && table[h].addr != 0)
        h = (h + 1) & (SLOTS - 1);
    table[h].addr = addr;
    table[h].insns = n;
    table[h].translated++;
    pthread_mutex_unlock(&lock);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &table[h].executed, n);
}

static void *dumper(void *arg)
{
    (void)arg;
    char req[4100], dump[4100], tmp[4100];
    snprintf(req, sizeof req, "%s.req", out);
    snprintf(dump, sizeof dump, "%s.dump", out);
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    for (;;) {
        if (access(req, F_OK) == 0) {
            FILE *f = fopen(tmp, "w");
            for (int i = 0; f && i < SLOTS; i++)
                if (table[i].addr)
                    fprintf(f, "%llx %llu %llu %llu\n", (unsigned long long)table[i].addr,
                            (unsigned long long)table[i].executed, (unsigned long long)table[i].insns,
                            (unsigned long long)table[i].translated);
            if (f) {
                fclose(f);
                rename(tmp, dump);
            }
            unlink(req);
        }
        usleep(20000);
    }
    return NULL;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info,
                                                               int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++)
        if (!strncmp(argv[i], "out=", 4))
            snprintf(out, sizeof out, "%s", argv[i] + 4);
    if (!out[0] || !(table = calloc(SLOTS, sizeof *table)))
        return -1;
    qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
    pthread_t t;
    return pthread_create(&t, NULL, dumper, NULL) ? -1 : 0;
}
