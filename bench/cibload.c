// SPDX-License-Identifier: MIT
// cibload: a request load for benchmarks, written against libqb's own C client API (what
// Pacemaker's tools use): it registers with a CIB service, then runs N synchronous CIB
// queries back to back and prints one line: "ops=N seconds=S rate=R/s p50_us=X p99_us=Y".
//
//   cibload [-s cib_ro] [-n 10000] [-t SECONDS] [-r RATE] [-d A|B] [-x XPATH] [-p]
//
// -r paces the queries at RATE a second (query i starts i/RATE seconds after the first, or at
// once when the load is behind), for a watcher measured at a given message rate instead of at
// whatever the machine can do.
// -t stops after that many seconds if the N queries are not done by then (a load of a given
// length that ends cleanly: every query sent is answered before it exits).
//
// -p also prints "progress UNIX_NS OPS" on standard error every 100 ms, the queries done by
// then, so a test can compare what it observed over any interval with the load's own count.
// -d picks the Pacemaker envelope: A for 2.1.x and 3.0.0, B for 3.0.1 and later.
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>
#include <qb/qbipcc.h>

#define ENVELOPE 40

static char dialect = 'A';

// envelope fills the 40-byte Pacemaker header in front of an XML payload of len bytes (NUL
// included).
static void envelope(uint8_t *h, int32_t id, uint32_t len, uint32_t flags) {
	memset(h, 0, ENVELOPE);
	memcpy(h + 0, &id, 4);
	uint32_t size = ENVELOPE + len;
	memcpy(h + 8, &size, 4);
	if (dialect == 'A') {
		memcpy(h + 24, &len, 4); // size_uncompressed; size_compressed stays 0
		memcpy(h + 32, &flags, 4);
		h[36] = 1;
	} else {
		memcpy(h + 24, &len, 4); // this part's size
		memcpy(h + 28, &flags, 4);
		h[32] = 1; // part_id stays 0
	}
}

static double wallclock(void) {
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmpd(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static ssize_t roundtrip(qb_ipcc_connection_t *c, int32_t id, const char *xml, char *buf, size_t bufsize) {
	uint8_t h[ENVELOPE];
	uint32_t len = strlen(xml) + 1;
	envelope(h, id, len, 0x200); // crm_ipc_client_response: a reply is expected
	struct iovec iov[2] = {{h, ENVELOPE}, {(void *)xml, len}};
	ssize_t rc = qb_ipcc_sendv(c, iov, 2);
	if (rc < 0)
		return rc;
	return qb_ipcc_recv(c, buf, bufsize, 5000);
}

int main(int argc, char **argv) {
	const char *service = "cib_ro", *xpath = NULL;
	long n = 10000;
	double limit = 0, pace = 0;
	int opt, progress = 0;
	while ((opt = getopt(argc, argv, "s:n:t:r:d:x:p")) != -1) {
		switch (opt) {
		case 's': service = optarg; break;
		case 'n': n = atol(optarg); break;
		case 't': limit = atof(optarg); break;
		case 'r':
			pace = atof(optarg);
			if (pace <= 0) {
				fprintf(stderr, "cibload: -r %s: not a positive rate\n", optarg);
				return 2;
			}
			break;
		case 'd': dialect = optarg[0]; break;
		case 'x': xpath = optarg; break;
		case 'p': progress = 1; break;
		default:
			fprintf(stderr, "usage: cibload [-s service] [-n ops] [-t seconds] [-r rate] [-d A|B] [-x xpath] [-p]\n");
			return 2;
		}
	}
	size_t max = 512 * 1024;
	qb_ipcc_connection_t *c = qb_ipcc_connect(service, max);
	if (c == NULL) {
		fprintf(stderr, "cibload: connect %s: %s\n", service, strerror(errno));
		return 1;
	}
	char *buf = malloc(max);
	int32_t id = 1;
	ssize_t rc = roundtrip(c, id++,
		"<cib_command t=\"cib\" cib_op=\"register\" cib_clientname=\"cibload\" cib_callopt=\"4096\"/>",
		buf, max);
	if (rc < ENVELOPE) {
		fprintf(stderr, "cibload: register: %zd\n", rc);
		return 1;
	}
	buf[rc - 1] = 0;
	char clientid[64] = "";
	char *p = strstr(buf + ENVELOPE, "cib_clientid=\"");
	if (p)
		sscanf(p + 14, "%63[^\"]", clientid);

	char xml[1024];
	double *lat = malloc(sizeof(double) * n);
	double start = now(), shown = 0;
	for (long i = 0; i < n; i++) {
		if (limit > 0 && now() - start >= limit) {
			n = i;
			break;
		}
		if (progress && now() - shown >= 0.1) {
			shown = now();
			fprintf(stderr, "progress %.0f %ld\n", wallclock() * 1e9, i);
		}
		// cib_callopt 0x1100: sync call, local scope; +0x2 when an XPath selects the section.
		snprintf(xml, sizeof(xml),
			"<cib_command t=\"cib\" cib_async_id=\"%s\" cib_op=\"cib_query\" cib_callid=\"%ld\" "
			"cib_callopt=\"%d\" cib_clientname=\"cibload\"%s%s%s/>",
			clientid, i + 2, xpath ? 4354 : 4352, xpath ? " cib_section=\"" : "", xpath ? xpath : "",
			xpath ? "\"" : "");
		if (pace > 0) {
			double t = now(), wait = start + i / pace - t;
			if (limit > 0 && start + limit - t < wait)
				wait = start + limit - t;
			if (wait > 0) {
				long ns = (long)((wait - (time_t)wait) * 1e9);
				struct timespec ts = {(time_t)wait, ns > 999999999 ? 999999999 : ns};
				nanosleep(&ts, NULL);
			}
		}
		double t0 = now();
		rc = roundtrip(c, id++, xml, buf, max);
		if (rc < ENVELOPE) {
			fprintf(stderr, "cibload: query %ld: %zd\n", i, rc);
			return 1;
		}
		lat[i] = now() - t0;
	}
	double secs = now() - start;
	if (progress)
		fprintf(stderr, "progress %.0f %ld\n", wallclock() * 1e9, n);
	if (n == 0) {
		printf("ops=0 seconds=%.3f\n", secs);
		return 0;
	}
	qsort(lat, n, sizeof(double), cmpd);
	printf("ops=%ld seconds=%.3f rate=%.0f/s p50_us=%.1f p99_us=%.1f\n", n, secs, n / secs,
		lat[n / 2] * 1e6, lat[n * 99 / 100] * 1e6);
	qb_ipcc_disconnect(c);
	return 0;
}
