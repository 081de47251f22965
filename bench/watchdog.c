/* Watchdog thread, signal handling and the side channel that tells rank 0 how the job
 * ended. The heartbeat is a counter, not a timestamp, so the measuring thread never reads
 * a clock for it; the watchdog samples it every 100 ms.
 *
 * No MPI call is made here: the program initialises MPI without threads (rt.c), so the
 * thread reaches the other ranks through its own UDP socket. Rank 0 binds one at start
 * and broadcasts its IPv4 addresses and port with a random job token (main thread);
 * a stalled or interrupted rank sends rank 0 a report every 0.5 s until acknowledged,
 * and leaves when rank 0 says it saved (or after a grace period). */
#define _DEFAULT_SOURCE /* getifaddrs, sigaction */
#include "watchdog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define WD_MAX_ADDRS 16
#define WD_MAGIC 0x74627764u
#define WD_COLLECT_S 3.0 /* rank 0 gathers the other ranks' reports this long */
#define WD_ACK_S 5.0     /* unacknowledged this long: rank 0 is stopped or stuck */
#define WD_GRACE_S 15.0  /* a reporting rank leaves at the latest after this */

/* MSG_ABORT: a rank ends the job from its main thread (tb_rt_abort); signo carries the
 * status and `where` the message. */
enum { MSG_STALL = 1, MSG_SIGNAL, MSG_ACK, MSG_DONE, MSG_ABORT };

typedef struct wd_report {
    uint32_t magic;
    uint32_t token;
    int32_t type, rank, peer, signo;
    double stalled;
    long long iteration;
    char where[160], what[96];
} wd_report_t;

typedef struct wd_channel {
    uint32_t token;
    uint16_t port;
    int32_t naddrs;
    uint32_t addrs[WD_MAX_ADDRS]; /* network byte order */
} wd_channel_t;

atomic_ulong tb_wd_heartbeat;

static int sig_pipe[2] = {-1, -1};

static struct {
    pthread_t thread;
    pthread_mutex_t lock;
    int running;
    const tb_rt_t *rt;
    double timeout;
    tb_wd_hook_t hook;
    void *arg;
    /* context, under lock */
    char test[48], variant[32], what[96];
    size_t size;
    int round, peer;
    atomic_long iteration;
    atomic_int busy;
    char stop_test[32];
    /* side channel */
    int sock;
    wd_channel_t chan;
    /* rank 0: what the others reported, and where from */
    wd_report_t *reports;
    struct sockaddr_in *from;
} wd = {.lock = PTHREAD_MUTEX_INITIALIZER, .sock = -1};

static void on_signal(int signo)
{
    int saved = errno;
    unsigned char b = (unsigned char)signo;
    if (write(sig_pipe[1], &b, 1) < 0)
        (void)0; /* the pipe is full: a signal is already pending */
    errno = saved;
}

void tb_wd_context(const char *test, const char *variant, size_t size, int round, int peer,
                   const char *what)
{
    int stop;
    pthread_mutex_lock(&wd.lock);
    stop = wd.stop_test[0] && test && !strcmp(wd.stop_test, test);
    if (stop)
        wd.stop_test[0] = '\0';
    snprintf(wd.test, sizeof(wd.test), "%s", test ? test : "");
    snprintf(wd.variant, sizeof(wd.variant), "%s", variant ? variant : "");
    snprintf(wd.what, sizeof(wd.what), "%s", what ? what : "");
    wd.size = size;
    wd.round = round;
    wd.peer = peer;
    atomic_store_explicit(&wd.iteration, -1, memory_order_relaxed);
    pthread_mutex_unlock(&wd.lock);
    if (stop) {
        tb_log(TB_LOG_WARN, "test fault: stopping this process (SIGSTOP) in test '%s'", test);
        raise(SIGSTOP);
    }
    tb_wd_beat();
}

void tb_wd_context_keep(int restore)
{
    static struct {
        char test[48], variant[32], what[96];
        size_t size;
        int round, peer;
    } kept;
    pthread_mutex_lock(&wd.lock);
#define TB_WD_COPY(dst, src)                                                               \
    do {                                                                                   \
        memcpy(dst.test, src.test, sizeof(dst.test));                                      \
        memcpy(dst.variant, src.variant, sizeof(dst.variant));                             \
        memcpy(dst.what, src.what, sizeof(dst.what));                                      \
        dst.size = src.size;                                                               \
        dst.round = src.round;                                                             \
        dst.peer = src.peer;                                                               \
    } while (0)
    if (restore)
        TB_WD_COPY(wd, kept);
    else
        TB_WD_COPY(kept, wd);
#undef TB_WD_COPY
    pthread_mutex_unlock(&wd.lock);
}

void tb_wd_stop_in(const char *test)
{
    pthread_mutex_lock(&wd.lock);
    snprintf(wd.stop_test, sizeof(wd.stop_test), "%s", test);
    pthread_mutex_unlock(&wd.lock);
}

void tb_wd_iteration(long iteration)
{
    atomic_store_explicit(&wd.iteration, iteration, memory_order_relaxed);
}

void tb_wd_busy(int busy)
{
    atomic_store_explicit(&wd.busy, busy, memory_order_relaxed);
    tb_wd_beat();
}

tb_status_t tb_wd_wait_polled_for(MPI_Request *req, double max_seconds)
{
    const struct timespec pause = {0, 200 * 1000};
    double start = tb_now();
    int done = 0;
    while (!done) {
        tb_status_t st = TB_MPI_CHECK(MPI_Test(req, &done, MPI_STATUS_IGNORE));
        if (st != TB_OK)
            return st;
        if (!done)
            nanosleep(&pause, NULL);
        if (max_seconds <= 0 || tb_now() - start < max_seconds)
            tb_wd_beat();
    }
    return TB_OK;
}

tb_status_t tb_wd_wait_polled(MPI_Request *req)
{
    return tb_wd_wait_polled_for(req, 0);
}

/* "test 'bw' (intra-node) size 8 round 2": the place, without the iteration, so ranks
 * waiting in the same collective compare equal. */
static void format_where(char *where, size_t len)
{
    snprintf(where, len, "test '%s'%s%s%s size %zu", wd.test, wd.variant[0] ? " (" : "",
             wd.variant, wd.variant[0] ? ")" : "", wd.size);
    if (wd.round > 0)
        snprintf(where + strlen(where), len - strlen(where), " round %d", wd.round);
}

/* This rank's report of what it is doing (type MSG_STALL or MSG_SIGNAL). */
static void make_report(wd_report_t *r, int type, int signo, double stalled)
{
    memset(r, 0, sizeof(*r));
    r->magic = WD_MAGIC;
    r->token = wd.chan.token;
    r->type = type;
    r->rank = wd.rt->rank;
    r->signo = signo;
    r->stalled = stalled;
    r->iteration = atomic_load_explicit(&wd.iteration, memory_order_relaxed);
    pthread_mutex_lock(&wd.lock);
    format_where(r->where, sizeof(r->where));
    r->peer = wd.peer;
    snprintf(r->what, sizeof(r->what), "%s", wd.what);
    pthread_mutex_unlock(&wd.lock);
}

/* "rank 1 (host a)" */
static const char *rank_name(int rank, char *buf, size_t len)
{
    snprintf(buf, len, "rank %d (host %s)", rank, tb_rt_host_of(wd.rt, rank));
    return buf;
}

/* What a report waits on, for messages: "waiting on rank 1 (host a)", then " in <where>
 * iteration i" unless `where` is 0. */
static void format_wait(const wd_report_t *r, char *buf, size_t len, int where)
{
    char it[32] = "", who[96];
    const char *what = r->what;
    if (r->iteration >= 0)
        snprintf(it, sizeof(it), " iteration %lld", r->iteration);
    if (r->peer >= 0)
        what = rank_name(r->peer, who, sizeof(who));
    else if (!what[0])
        what = r->peer == TB_WD_LOCAL    ? "busy outside communication"
               : r->peer == TB_WD_LEADERS ? "waiting in a collective of the node leaders"
                                          : "waiting in a collective";
    snprintf(buf, len, "%s%s%s%s%s", r->peer >= 0 ? "waiting on " : "", what,
             where ? " in " : "", where ? r->where : "", where ? it : "");
}

static void send_to_rank0(const wd_report_t *r)
{
    for (int i = 0; i < wd.chan.naddrs; i++) {
        struct sockaddr_in to;
        memset(&to, 0, sizeof(to));
        to.sin_family = AF_INET;
        to.sin_port = htons(wd.chan.port);
        to.sin_addr.s_addr = wd.chan.addrs[i];
        /* Loopback reaches rank 0 only from its own host. */
        if ((ntohl(to.sin_addr.s_addr) >> 24) == 127 && wd.rt->node_of[wd.rt->rank] != 0)
            continue;
        (void)sendto(wd.sock, r, sizeof(*r), 0, (struct sockaddr *)&to, sizeof(to));
    }
}

/* Reads one datagram of this job; 0 when none is waiting or it is not ours. */
static int receive(wd_report_t *r, struct sockaddr_in *from)
{
    socklen_t flen = sizeof(*from);
    ssize_t n = recvfrom(wd.sock, r, sizeof(*r), MSG_DONTWAIT, (struct sockaddr *)from, &flen);
    return n == (ssize_t)sizeof(*r) && r->magic == WD_MAGIC && r->token == wd.chan.token &&
           r->rank >= 0 && r->rank < wd.rt->size;
}

static void reply(int type, const struct sockaddr_in *to)
{
    wd_report_t m;
    memset(&m, 0, sizeof(m));
    m.magic = WD_MAGIC;
    m.token = wd.chan.token;
    m.type = type;
    (void)sendto(wd.sock, &m, sizeof(m), 0, (const struct sockaddr *)to, sizeof(*to));
}

static const char *signal_name(int signo)
{
    return signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "a signal";
}

/* A rank other than 0 stalled or was interrupted: report to rank 0 until it has saved
 * the document, then leave. Never returns. */
static void __attribute__((noreturn)) end_other(int type, int signo, double stalled)
{
    tb_status_t status = type == MSG_SIGNAL ? TB_ERR_INTERRUPTED : TB_ERR_TIMEOUT;
    wd_report_t r;
    double t0 = tb_now(), last_send = -1;
    int acked = 0, done = 0, silent = 0;
    make_report(&r, type, signo, stalled);
    while (wd.sock >= 0 && !done && tb_now() - t0 < WD_GRACE_S) {
        struct pollfd pfd = {wd.sock, POLLIN, 0};
        wd_report_t m;
        struct sockaddr_in from;
        if (!acked && tb_now() - last_send >= 0.5) {
            send_to_rank0(&r);
            last_send = tb_now();
        }
        if (!acked && !silent && tb_now() - t0 >= WD_ACK_S) {
            char msg[768], who[96], me[96], what[300];
            static const int rank0[1] = {0};
            tb_wd_ending_t e = {.status = status, .message = msg, .rank0_silent = 1,
                                .stalled = rank0, .nstalled = 1};
            silent = 1;
            format_wait(&r, what, sizeof(what), 1);
            snprintf(msg, sizeof(msg),
                     "%s: %s did not answer the %s report of %s, %s: rank 0 is stopped or "
                     "stuck itself",
                     tb_status_string(status), rank_name(0, who, sizeof(who)),
                     type == MSG_SIGNAL ? "interruption" : "timeout",
                     rank_name(wd.rt->rank, me, sizeof(me)), what);
            tb_log(TB_LOG_ERROR, "%s", msg);
            if (wd.hook)
                wd.hook(wd.arg, &e);
            break;
        }
        if (poll(&pfd, 1, 100) > 0)
            while (receive(&m, &from)) {
                acked |= m.type == MSG_ACK || m.type == MSG_DONE;
                done |= m.type == MSG_DONE;
            }
    }
    if (wd.sock < 0)
        sleep(4); /* no side channel: give rank 0 time to save if it noticed by itself */
    _exit(tb_status_exit_code(status));
}

/* Rank 0: the ranks the stalled ranks wait on that did not report being stalled
 * themselves (stopped, dead, or busy elsewhere), and those stuck outside communication.
 * Writes the people's message and fills stalled[] (at most max). */
static int analyse(char *msg, size_t len, int *stalled, int max)
{
    const tb_rt_t *rt = wd.rt;
    int n = rt->size, nstalled = 0, nwait = 0, more = 0;
    char *target = calloc((size_t)n, 1);
    size_t off;
    if (!target) {
        snprintf(msg, len, "timeout (no memory to analyse the other ranks' reports)");
        return 0;
    }
    for (int r = 0; r < n; r++) {
        const wd_report_t *rep = &wd.reports[r];
        if (rep->type != MSG_STALL)
            continue;
        if (rep->peer >= 0 && rep->peer < n) {
            target[rep->peer] |= 1;
        } else if (rep->peer == TB_WD_LOCAL) {
            target[r] |= 2;
        } else {
            int leaders = rep->peer == TB_WD_LEADERS, members = leaders ? rt->nnodes : n;
            for (int k = 0; k < members; k++) {
                int q = leaders ? rt->first_rank_of_node[k] : k;
                const wd_report_t *o = &wd.reports[q];
                if (q != r && !(o->type == MSG_STALL && o->peer == rep->peer &&
                                !strcmp(o->where, rep->where)))
                    target[q] |= 1;
            }
        }
    }
    off = (size_t)snprintf(msg, len, "timeout: ");
    for (int q = 0; q < n; q++) {
        char who[96], what[300] = "";
        int culprit = (target[q] & 2) || (target[q] && wd.reports[q].type != MSG_STALL);
        if (!culprit)
            continue;
        if (nstalled < max)
            stalled[nstalled] = q;
        if (nstalled++ >= 4) {
            more++;
            continue;
        }
        if (target[q] & 2) {
            format_wait(&wd.reports[q], what, sizeof(what), 1);
            if (off < len)
                off += (size_t)snprintf(msg + off, len - off, "%s%s is stuck outside "
                                        "communication (%s)", nstalled > 1 ? ", " : "",
                                        rank_name(q, who, sizeof(who)), what);
            continue;
        }
        else if (q == 0) {
            wd_report_t self;
            make_report(&self, MSG_STALL, 0, 0);
            snprintf(what, sizeof(what), "not stalled itself: it is in %s", self.where);
        }
        else
            snprintf(what, sizeof(what),
                     "no report from it: stopped, killed, or its watchdog cannot reach rank 0");
        if (off < len)
            off += (size_t)snprintf(msg + off, len - off, "%s%s did not arrive (%s)",
                                    nstalled > 1 ? ", " : "", rank_name(q, who, sizeof(who)),
                                    what);
    }
    if (more && off < len)
        off += (size_t)snprintf(msg + off, len - off, ", and %d more ranks", more);
    if (nstalled == 0 && off < len)
        off += (size_t)snprintf(msg + off, len - off,
                                "every stalled rank waits on another stalled rank (a circular "
                                "wait)");
    /* The waiting ranks, the place said once while it stays the same. */
    int prev = -1;
    for (int r = 0; r < n && off < len; r++) {
        char who[96], what[300];
        const wd_report_t *rep = &wd.reports[r];
        if (rep->type != MSG_STALL || (target[r] & 2))
            continue;
        if (nwait++ >= 4) {
            off += (size_t)snprintf(msg + off, len - off, ", and others");
            break;
        }
        if (prev >= 0 && strcmp(wd.reports[prev].where, rep->where) != 0)
            off += (size_t)snprintf(msg + off, len - off, " in %s", wd.reports[prev].where);
        format_wait(rep, what, sizeof(what), 0);
        off += (size_t)snprintf(msg + off, len - off, "%s%s %s", nwait == 1 ? "; " : ", ",
                                rank_name(r, who, sizeof(who)), what);
        prev = r;
    }
    if (prev >= 0 && off < len)
        off += (size_t)snprintf(msg + off, len - off, " in %s", wd.reports[prev].where);
    free(target);
    return nstalled < max ? nstalled : max;
}

/* Rank 0: record the ending through the hook, tell the reporting ranks, leave. */
static void __attribute__((noreturn)) end_rank0(tb_status_t status, const char *message,
                                                const int *stalled, int nstalled)
{
    tb_wd_ending_t e = {.status = status, .message = message, .stalled = stalled,
                        .nstalled = nstalled};
    tb_log(TB_LOG_ERROR, "%s", message);
    if (wd.hook)
        wd.hook(wd.arg, &e);
    for (int r = 1; wd.reports && r < wd.rt->size; r++)
        if (wd.reports[r].type)
            reply(MSG_DONE, &wd.from[r]);
    _exit(tb_status_exit_code(status));
}

/* Rank 0: reads the reports waiting on the socket. Returns the rank of a report that
 * ends the run at once (an interruption or an abort), -1 otherwise; *stall_seen is set
 * when a stall was reported. */
static int rank0_receive(int *stall_seen)
{
    wd_report_t m;
    struct sockaddr_in from;
    int now = -1;
    while (receive(&m, &from)) {
        if (m.type != MSG_STALL && m.type != MSG_SIGNAL && m.type != MSG_ABORT)
            continue;
        m.where[sizeof(m.where) - 1] = m.what[sizeof(m.what) - 1] = '\0';
        wd.reports[m.rank] = m;
        wd.from[m.rank] = from;
        reply(MSG_ACK, &from);
        if (m.type == MSG_STALL)
            *stall_seen = 1;
        else
            now = m.rank;
    }
    return now;
}

/* Rank 0: another rank's abort. */
static void __attribute__((noreturn)) aborted(int rank)
{
    const wd_report_t *r = &wd.reports[rank];
    tb_status_t status = (tb_status_t)r->signo;
    char msg[512], who[96];
    if ((unsigned)status >= TB_STATUS_COUNT || status == TB_OK)
        status = TB_ERR_INTERNAL;
    snprintf(msg, sizeof(msg), "%s: %s ended the job: %s", tb_status_string(status),
             rank_name(rank, who, sizeof(who)), r->where);
    end_rank0(status, msg, NULL, 0);
}

/* tb_rt_abort's hook, on the failing rank's main thread: the ending reaches the
 * document before MPI_Abort takes the job down. */
static void abort_hook(tb_status_t status, const char *message)
{
    char msg[512], who[96];
    if (!wd.running)
        return;
    if (wd.rt->rank == 0) {
        tb_wd_ending_t e = {.status = status, .message = msg};
        snprintf(msg, sizeof(msg), "%s: %s ended the job: %s", tb_status_string(status),
                 rank_name(0, who, sizeof(who)), message);
        if (wd.hook)
            wd.hook(wd.arg, &e);
        return;
    }
    if (wd.sock >= 0) {
        wd_report_t r, m;
        struct sockaddr_in from;
        double t0 = tb_now(), last_send = -1;
        int done = 0;
        make_report(&r, MSG_ABORT, (int)status, 0);
        snprintf(r.where, sizeof(r.where), "%s", message);
        while (!done && tb_now() - t0 < WD_ACK_S) {
            struct pollfd pfd = {wd.sock, POLLIN, 0};
            if (tb_now() - last_send >= 0.5) {
                send_to_rank0(&r);
                last_send = tb_now();
            }
            if (poll(&pfd, 1, 100) > 0)
                while (receive(&m, &from))
                    done |= m.type == MSG_DONE;
        }
    }
}

static void __attribute__((noreturn)) interrupted(int rank, int signo)
{
    char msg[256], who[96];
    snprintf(msg, sizeof(msg), "interrupted: %s received %s; what finished is kept",
             rank_name(rank, who, sizeof(who)), signal_name(signo));
    if (wd.rt->rank != 0)
        end_other(MSG_SIGNAL, signo, 0); /* rank 0 says it for the job */
    end_rank0(TB_ERR_INTERRUPTED, msg, NULL, 0);
}

static void *wd_main(void *unused)
{
    unsigned long last = atomic_load(&tb_wd_heartbeat);
    double last_change = tb_now(), deadline = 0;
    int is0 = wd.rt->rank == 0, collecting = 0;
    (void)unused;
    for (;;) {
        struct pollfd fds[2] = {{sig_pipe[0], POLLIN, 0}, {wd.sock, POLLIN, 0}};
        nfds_t nfds = is0 && wd.sock >= 0 && wd.reports ? 2 : 1;
        unsigned long now_beat;
        double limit = wd.timeout;
        unsigned char b;
        if (poll(fds, nfds, 100) > 0 && (fds[0].revents & POLLIN) &&
            read(sig_pipe[0], &b, 1) == 1) {
            if (b == 0)
                break; /* tb_wd_stop */
            interrupted(wd.rt->rank, b);
        }
        if (nfds == 2 && (fds[1].revents & POLLIN)) {
            int seen = 0, from = rank0_receive(&seen);
            if (from >= 0 && wd.reports[from].type == MSG_ABORT)
                aborted(from);
            if (from >= 0)
                interrupted(from, wd.reports[from].signo);
            if (seen && !collecting) {
                collecting = 1;
                deadline = tb_now() + WD_COLLECT_S;
            }
        }
        now_beat = atomic_load_explicit(&tb_wd_heartbeat, memory_order_relaxed);
        if (now_beat != last) {
            last = now_beat;
            last_change = tb_now();
        } else if (atomic_load_explicit(&wd.busy, memory_order_relaxed)) {
            limit *= TB_WD_BUSY_FACTOR;
        }
        if (now_beat == last && last_change > 0 && tb_now() - last_change >= limit) {
            double stalled = tb_now() - last_change;
            wd_report_t mine;
            char what[300];
            char it[32] = "";
            make_report(&mine, MSG_STALL, 0, stalled);
            format_wait(&mine, what, sizeof(what), 0);
            if (mine.iteration >= 0)
                snprintf(it, sizeof(it), " iteration %lld", mine.iteration);
            tb_log(TB_LOG_ERROR, "timeout: no progress for %.1f s in %s%s: %s", stalled,
                   mine.where, it, what);
            if (!is0)
                end_other(MSG_STALL, 0, stalled);
            if (wd.reports)
                wd.reports[0] = mine;
            last_change = -1; /* reported once */
            if (!collecting) {
                collecting = 1;
                deadline = tb_now() + WD_COLLECT_S;
            }
        }
        if (collecting && tb_now() >= deadline) {
            char msg[1024];
            int stalled[64], n = 0;
            if (wd.reports) {
                n = analyse(msg, sizeof(msg), stalled, 64);
            } else {
                char what[300];
                wd_report_t mine;
                make_report(&mine, MSG_STALL, 0, 0);
                format_wait(&mine, what, sizeof(what), 1);
                snprintf(msg, sizeof(msg), "timeout: rank 0 is %s", what);
            }
            end_rank0(TB_ERR_TIMEOUT, msg, stalled, n);
        }
    }
    return NULL;
}

/* Rank 0's IPv4 addresses (loopback included, for ranks on its host). */
static void local_addresses(wd_channel_t *c)
{
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) != 0)
        return;
    for (struct ifaddrs *i = ifa; i && c->naddrs < WD_MAX_ADDRS; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
            c->addrs[c->naddrs++] = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
    freeifaddrs(ifa);
}

/* Rank 0 binds the socket; every rank learns where it is. Without a channel the
 * watchdog still works on each rank alone (rank 0 then records only its own stall). */
static tb_status_t channel_open(const tb_rt_t *rt)
{
    tb_status_t st;
    memset(&wd.chan, 0, sizeof(wd.chan));
    wd.sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (rt->rank == 0 && wd.sock >= 0) {
        struct sockaddr_in a;
        socklen_t alen = sizeof(a);
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_ANY);
        if (bind(wd.sock, (struct sockaddr *)&a, sizeof(a)) == 0 &&
            getsockname(wd.sock, (struct sockaddr *)&a, &alen) == 0) {
            wd.chan.port = ntohs(a.sin_port);
            wd.chan.token = (uint32_t)getpid() ^ (uint32_t)time(NULL) ^
                            (uint32_t)((uintptr_t)&wd >> 4);
            local_addresses(&wd.chan);
        }
        wd.reports = calloc((size_t)rt->size, sizeof(*wd.reports));
        wd.from = calloc((size_t)rt->size, sizeof(*wd.from));
        if (!wd.reports || !wd.from || !wd.chan.naddrs) {
            free(wd.reports);
            free(wd.from);
            wd.reports = NULL;
            wd.from = NULL;
            wd.chan.naddrs = 0;
            tb_warn("watchdog: no side channel (%s); a rank other than 0 that stalls is "
                    "not recorded in the document",
                    !wd.chan.naddrs ? "no IPv4 address or socket" : "out of memory");
        }
    }
    st = TB_MPI_CHECK(MPI_Bcast(&wd.chan, sizeof(wd.chan), MPI_BYTE, 0, rt->world));
    if (st == TB_OK && wd.chan.naddrs == 0 && wd.sock >= 0) {
        close(wd.sock);
        wd.sock = -1;
    }
    return st;
}

tb_status_t tb_wd_start(const tb_rt_t *rt, double timeout, tb_wd_hook_t hook, void *arg)
{
    struct sigaction sa;
    tb_status_t st;
    wd.rt = rt;
    wd.timeout = timeout;
    wd.hook = hook;
    wd.arg = arg;
    wd.peer = TB_WD_LOCAL;
    if ((st = channel_open(rt)))
        return st;
    if (sig_pipe[0] < 0 && pipe(sig_pipe) != 0)
        return tb_error(TB_ERR_ENV, "watchdog: cannot create a pipe: %s", strerror(errno));
    fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (pthread_create(&wd.thread, NULL, wd_main, NULL) != 0)
        return tb_error(TB_ERR_ENV, "cannot start the watchdog thread");
    wd.running = 1;
    tb_rt_set_abort_hook(abort_hook);
    return TB_OK;
}

void tb_wd_stop(void)
{
    unsigned char stop = 0;
    if (!wd.running)
        return;
    /* The handlers stay: a signal from now on finds the run writing its final document,
     * which is what it would save anyway. */
    if (write(sig_pipe[1], &stop, 1) != 1)
        tb_warn("watchdog: cannot wake the thread to stop it");
    pthread_join(wd.thread, NULL);
    wd.running = 0;
    tb_rt_set_abort_hook(NULL);
}
