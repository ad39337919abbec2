/*
 * qbpair: a libqb IPC server and client whose messages the capture tests
 * can predict byte for byte.
 *
 *   qbpair server SERVICE shm|socket MAXMSG
 *       serves one client, prints "ready" once listening, exits 0 when the
 *       client disconnects (1 on any unexpected message). With QBPAIR_CLIENTS=N
 *       it serves N clients, one after the other, before it exits.
 *   qbpair client SERVICE MAXMSG SIZE...
 *       connects, and for each SIZE (message i, from 1) sends request i,
 *       reads response i and event i; exits 0 when all came back as expected.
 *       With QBPAIR_WAIT set, the client prints "connected" once connected
 *       and waits for a line on its standard input before sending.
 *   qbpair bench SERVICE MAXMSG N SIZE
 *       does N such exchanges of SIZE bytes and prints the nanoseconds one
 *       took on average (request, response and event: three messages).
 *
 * Message i on channel ch (q request, r response, e event) of length len:
 * a libqb header (request: id@0 size@8, 16 bytes; response and event:
 * id@0 size@8 error@16, 24 bytes) then fill(ch, i, j) for each byte j after
 * the header. Requests are sent with qb_ipcc_sendv (two iovecs), responses
 * with qb_ipcs_response_sendv (two iovecs), events with qb_ipcs_event_send
 * (one buffer). Build: cc -O2 -o qbpair qbpair.c -lqb
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include <qb/qbipcc.h>
#include <qb/qbipcs.h>
#include <qb/qbloop.h>

static unsigned char fill(char ch, uint32_t i, size_t j)
{
	return (unsigned char)(j * 131 + i * 7 + (unsigned char)ch * 29 + (j >> 8));
}

static size_t hdr_len(char ch)
{
	return ch == 'q' ? sizeof(struct qb_ipc_request_header) : sizeof(struct qb_ipc_response_header);
}

/* build returns message i of channel ch, len bytes (at least its header). */
static unsigned char *build(char ch, uint32_t i, size_t len)
{
	unsigned char *m = calloc(1, len);
	if (!m)
		exit(2);
	if (ch == 'q') {
		struct qb_ipc_request_header *h = (void *)m;
		h->id = i;
		h->size = len;
	} else {
		struct qb_ipc_response_header *h = (void *)m;
		h->id = i;
		h->size = len;
		h->error = 0;
	}
	for (size_t j = hdr_len(ch); j < len; j++)
		m[j] = fill(ch, i, j);
	return m;
}

static int check(char ch, const unsigned char *m, size_t len)
{
	const struct qb_ipc_request_header *h = (const void *)m;
	if (len < hdr_len(ch) || (size_t)h->size != len)
		return -1;
	for (size_t j = hdr_len(ch); j < len; j++)
		if (m[j] != fill(ch, h->id, j))
			return -1;
	return h->id;
}

/* ---- server ---- */

static qb_loop_t *loop;
static int failed;

static long clients_left = 1; /* QBPAIR_CLIENTS */

static int32_t s_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	return 0;
}

static int32_t s_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
	int id = check('q', data, size);
	if (id < 0) {
		fprintf(stderr, "server: bad request of %zu bytes\n", size);
		failed = 1;
		qb_loop_stop(loop);
		return 0;
	}
	size_t len = size < 24 ? 24 : size;
	unsigned char *r = build('r', id, len);
	struct iovec iov[2] = {{r, 24}, {r + 24, len - 24}};
	ssize_t n = qb_ipcs_response_sendv(c, iov, len > 24 ? 2 : 1);
	free(r);
	if (n != (ssize_t)len) {
		fprintf(stderr, "server: response %d: %zd\n", id, n);
		failed = 1;
	}
	unsigned char *e = build('e', id, len);
	n = qb_ipcs_event_send(c, e, len);
	free(e);
	if (n != (ssize_t)len) {
		fprintf(stderr, "server: event %d: %zd\n", id, n);
		failed = 1;
	}
	return 0;
}

static void s_destroyed(qb_ipcs_connection_t *c)
{
	if (--clients_left <= 0)
		qb_loop_stop(loop);
}

static int32_t l_job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	return qb_loop_job_add(loop, p, data, fn);
}

static int32_t l_dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
			      qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_add(loop, p, fd, events, data, fn);
}

static int32_t l_dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
			      qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_mod(loop, p, fd, events, data, fn);
}

static int32_t l_dispatch_del(int32_t fd)
{
	return qb_loop_poll_del(loop, fd);
}

static int server(const char *name, const char *type, uint32_t max)
{
	if (getenv("QBPAIR_CLIENTS"))
		clients_left = strtol(getenv("QBPAIR_CLIENTS"), NULL, 10);
	struct qb_ipcs_service_handlers sh = {
		.connection_accept = s_accept,
		.msg_process = s_msg,
		.connection_destroyed = s_destroyed,
	};
	struct qb_ipcs_poll_handlers ph = {
		.job_add = l_job_add,
		.dispatch_add = l_dispatch_add,
		.dispatch_mod = l_dispatch_mod,
		.dispatch_del = l_dispatch_del,
	};
	loop = qb_loop_create();
	qb_ipcs_service_t *s =
	    qb_ipcs_create(name, 0, strcmp(type, "socket") == 0 ? QB_IPC_SOCKET : QB_IPC_SHM, &sh);
	if (!s || !loop)
		return 2;
	qb_ipcs_enforce_buffer_size(s, max);
	qb_ipcs_poll_handlers_set(s, &ph);
	if (qb_ipcs_run(s) != 0) {
		fprintf(stderr, "server: qb_ipcs_run failed\n");
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	qb_loop_run(loop);
	qb_ipcs_destroy(s);
	return failed;
}

/* ---- client ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int client(const char *name, uint32_t max, int argc, char **argv, long repeat)
{
	qb_ipcc_connection_t *c = NULL;
	for (int tries = 0; tries < 100 && !c; tries++)
		c = qb_ipcc_connect(name, max);
	if (!c) {
		fprintf(stderr, "client: connect %s: %s\n", name, strerror(errno));
		return 2;
	}
	unsigned char *buf = malloc(max);
	if (!buf)
		return 2;
	if (getenv("QBPAIR_WAIT")) {
		char line[16];
		printf("connected\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			return 2;
	}
	uint64_t t0 = now_ns();
	long total = repeat ? repeat : argc;
	for (long k = 0; k < total; k++) {
		uint32_t i = k + 1;
		size_t len = strtoul(argv[repeat ? 0 : k], NULL, 10);
		if (len < 24)
			len = 24;
		unsigned char *q = build('q', i, len);
		struct iovec iov[2] = {{q, 16}, {q + 16, len - 16}};
		ssize_t n = qb_ipcc_sendv(c, iov, 2);
		free(q);
		if (n != (ssize_t)len) {
			fprintf(stderr, "client: request %u: %zd\n", i, n);
			return 1;
		}
		n = qb_ipcc_recv(c, buf, max, 10000);
		if (n != (ssize_t)len || check('r', buf, n) != (int)i) {
			fprintf(stderr, "client: response %u: %zd\n", i, n);
			return 1;
		}
		n = qb_ipcc_event_recv(c, buf, max, 10000);
		if (n != (ssize_t)len || check('e', buf, n) != (int)i) {
			fprintf(stderr, "client: event %u: %zd\n", i, n);
			return 1;
		}
	}
	uint64_t t1 = now_ns();
	qb_ipcc_disconnect(c);
	free(buf);
	if (repeat)
		printf("%llu\n", (unsigned long long)((t1 - t0) / repeat));
	else
		printf("ok %d\n", argc);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "server") == 0)
		return server(argv[2], argv[3], strtoul(argv[4], NULL, 10));
	if (argc >= 4 && strcmp(argv[1], "client") == 0)
		return client(argv[2], strtoul(argv[3], NULL, 10), argc - 4, argv + 4, 0);
	if (argc == 6 && strcmp(argv[1], "bench") == 0)
		return client(argv[2], strtoul(argv[3], NULL, 10), 1, argv + 5, strtol(argv[4], NULL, 10));
	fprintf(stderr, "usage: qbpair server SERVICE shm|socket MAXMSG | client SERVICE MAXMSG SIZE... |\n"
			"       bench SERVICE MAXMSG N SIZE\n");
	return 2;
}
