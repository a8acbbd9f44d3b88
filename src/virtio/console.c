/* SPDX-License-Identifier: MIT */
/*
 * virtio-console (virtio 1.2, 5.3), port 0 only, on the public device
 * interface.  Transmit chains are written out on the notifying vCPU thread;
 * host input waits in a bounded ring here and is copied into the guest's
 * receive chains whenever both exist: when input arrives (any host thread)
 * and when the driver notifies the receive queue (a vCPU thread).
 *
 * Locks, in order: in_lock (the input ring; serialises delivery) before the
 * queue and device locks that pop/notify take; the receive epoch's lock
 * only around copying into a popped chain and pushing it (chain_epoch.h:
 * once ops->reset returns, no chain popped before it is written to).
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dev/fd_out.h"
#include "hvlib/virtio_console.h"
#include "util/config.h"
#include "util/error.h"
#include "virtio/chain_epoch.h"

#define CON_QUEUE_SIZE 128u
#define CON_RX 0u
#define CON_TX 1u
#define VIRTIO_CONSOLE_F_SIZE        (1ull << 0)
#define VIRTIO_CONSOLE_F_EMERG_WRITE (1ull << 2)

/* Device config (5.3.4), little-endian. */
struct virtio_console_config {
	uint16_t cols;
	uint16_t rows;
	uint32_t max_nr_ports;
	uint32_t emerg_wr;
};
_Static_assert(sizeof(struct virtio_console_config) == 12, "virtio_console_config layout");
#define EMERG_WR_OFFSET 8u

struct hv_virtio_console {
	struct hv_virtio_dev *dev;
	hv_virtio_console_output_fn output;
	void *opaque;
	bool has_size;             /* VIRTIO_CONSOLE_F_SIZE offered */
	uint32_t size_word;        /* cols | rows << 16, atomic */

	pthread_mutex_t tx_lock;   /* output order; fd_out */
	struct hv_fd_out fd_out;

	pthread_mutex_t in_lock;   /* the input ring, rx_bufs */
	uint8_t *in_buf;
	uint32_t in_cap, in_head, in_len;
	struct hv_virtq_buf rx_bufs[CON_QUEUE_SIZE];

	struct hv_chain_epoch rx;  /* writes into popped chains vs reset */
};

HV_EXPORT void hv_virtio_console_config_init(struct hv_virtio_console_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->output_fd = -1;
	cfg->output_timeout_ms = 1000;
}

/* Guest bytes out, in order (tx_lock held). */
static void emit(struct hv_virtio_console *con, const uint8_t *buf, size_t len)
{
	if (con->output)
		con->output(con->opaque, buf, len);
	else
		hv_fd_out_write(&con->fd_out, buf, len);
}

static void con_config_read(void *opaque, uint32_t offset, void *buf, uint32_t len)
{
	struct hv_virtio_console *con = opaque;
	uint32_t size = __atomic_load_n(&con->size_word, __ATOMIC_RELAXED);
	struct virtio_console_config c = {
		.cols = htole16((uint16_t)size),
		.rows = htole16((uint16_t)(size >> 16)),
		.max_nr_ports = htole32(1),
	};

	memcpy(buf, (const uint8_t *)&c + offset, len);
}

/* The emergency write register: one character, even before DRIVER_OK. */
static void con_config_write(void *opaque, uint32_t offset, const void *buf, uint32_t len)
{
	struct hv_virtio_console *con = opaque;

	(void)len;
	if (offset != EMERG_WR_OFFSET)
		return;
	pthread_mutex_lock(&con->tx_lock);
	emit(con, buf, 1);
	pthread_mutex_unlock(&con->tx_lock);
}

/* Output gathered from the chains of one notification, so the embedder
 * gets runs rather than a call per (often one-byte) buffer. */
struct tx_run {
	size_t len;
	uint8_t buf[4096];
};

static void run_add(struct hv_virtio_console *con, struct tx_run *run, const uint8_t *p,
		    size_t len)
{
	if (len > sizeof(run->buf) - run->len) {
		if (run->len)
			emit(con, run->buf, run->len);
		run->len = 0;
	}
	if (len >= sizeof(run->buf)) {
		emit(con, p, len);
		return;
	}
	memcpy(run->buf + run->len, p, len);
	run->len += len;
}

static void transmit(struct hv_virtio_console *con, struct hv_virtq *q)
{
	struct hv_virtq_buf bufs[CON_QUEUE_SIZE];
	struct hv_virtq_req req;
	struct tx_run run;

	run.len = 0;
	pthread_mutex_lock(&con->tx_lock);
	while (hv_virtq_pop(q, bufs, CON_QUEUE_SIZE, &req) == 1) {
		for (uint32_t i = 0; i < req.nr_readable; i++)
			run_add(con, &run, req.bufs[i].addr, req.bufs[i].len);
		hv_virtq_push(q, &req, 0);
	}
	if (run.len)
		emit(con, run.buf, run.len);
	pthread_mutex_unlock(&con->tx_lock);
	hv_virtq_notify(q);
}

/* Copy the oldest buffered input into req (in_lock held, inside the rx epoch). */
static uint32_t fill_chain(struct hv_virtio_console *con, const struct hv_virtq_req *req)
{
	uint32_t done = 0;

	while (con->in_len && done < req->writable_bytes) {
		uint32_t run = con->in_cap - con->in_head;
		size_t n;

		if (run > con->in_len)
			run = con->in_len;
		n = hv_virtq_req_write(req, done, con->in_buf + con->in_head, run);
		if (!n)
			break;
		done += (uint32_t)n;
		con->in_head = (con->in_head + (uint32_t)n) % con->in_cap;
		con->in_len -= (uint32_t)n;
	}
	return done;
}

/* Hand buffered input to the guest's receive chains (in_lock held). */
static void deliver(struct hv_virtio_console *con)
{
	struct hv_virtq *q = hv_virtio_dev_queue(con->dev, CON_RX);
	struct hv_virtq_req req;
	bool pushed = false;

	/* At most a ring's worth per call: a guest posting empty chains as
	 * fast as we take them must not hold a host thread here. */
	for (uint32_t n = 0; con->in_len && n < CON_QUEUE_SIZE; n++) {
		uint32_t epoch = hv_chain_epoch_read(&con->rx);

		if (hv_virtq_pop(q, con->rx_bufs, CON_QUEUE_SIZE, &req) != 1)
			break;
		/* A reset since the pop: the chain is no longer ours to write. */
		if (hv_chain_epoch_enter(&con->rx, epoch)) {
			hv_virtq_push(q, &req, fill_chain(con, &req));
			hv_chain_epoch_leave(&con->rx);
		}
		pushed = true;
	}
	if (pushed)
		hv_virtq_notify(q);
}

static void con_notify(void *opaque, struct hv_virtio_dev *dev, uint32_t queue)
{
	struct hv_virtio_console *con = opaque;

	if (queue == CON_TX) {
		transmit(con, hv_virtio_dev_queue(dev, queue));
		return;
	}
	pthread_mutex_lock(&con->in_lock);
	deliver(con);
	pthread_mutex_unlock(&con->in_lock);
}

static void con_reset(void *opaque, struct hv_virtio_dev *dev)
{
	struct hv_virtio_console *con = opaque;

	(void)dev;
	/* Buffered input stays for the next driver. */
	hv_chain_epoch_bump(&con->rx);
}

static const struct hv_virtio_dev_ops con_ops = {
	.size = sizeof(struct hv_virtio_dev_ops),
	.device_id = HV_VIRTIO_ID_CONSOLE,
	.features = VIRTIO_CONSOLE_F_EMERG_WRITE,
	.config_bytes = sizeof(struct virtio_console_config),
	.config_read = con_config_read,
	.config_write = con_config_write,
	.notify = con_notify,
	.reset = con_reset,
};

HV_EXPORT size_t hv_virtio_console_input(struct hv_virtio_console *con, const uint8_t *data,
					 size_t len)
{
	size_t took = 0;

	HV_CHECK_ARG_RET(con, 0);

	pthread_mutex_lock(&con->in_lock);
	while (took < len && con->in_len < con->in_cap) {
		uint32_t tail = (con->in_head + con->in_len) % con->in_cap;
		/* Contiguous free space from tail: up to head once wrapped, else
		 * up to the end of the buffer. */
		size_t run = tail < con->in_head ? con->in_head - tail : con->in_cap - tail;

		if (run > len - took)
			run = len - took;
		memcpy(con->in_buf + tail, data + took, run);
		con->in_len += (uint32_t)run;
		took += run;
	}
	deliver(con);
	pthread_mutex_unlock(&con->in_lock);
	return took;
}

HV_EXPORT int hv_virtio_console_set_size(struct hv_virtio_console *con, uint16_t cols,
					 uint16_t rows)
{
	HV_CHECK_ARG(con);
	if (!con->has_size)
		return hv_err(-EINVAL, "virtio-console: created without a console size");
	__atomic_store_n(&con->size_word, (uint32_t)cols | (uint32_t)rows << 16,
			 __ATOMIC_RELAXED);
	hv_virtio_dev_config_changed(con->dev);
	return 0;
}

static int check_config(const struct hv_virtio_console_config *cfg)
{
	if (cfg->flags)
		return hv_err(-EINVAL, "virtio-console config: unknown flags 0x%x", cfg->flags);
	if (cfg->output && cfg->output_fd >= 0)
		return hv_err(-EINVAL, "virtio-console config: output and output_fd exclude each "
				       "other");
	if (cfg->output_fd < -1 || cfg->output_timeout_ms < -1)
		return hv_err(-EINVAL, "virtio-console config: output_fd %d or output_timeout_ms "
				       "%d below -1", cfg->output_fd, cfg->output_timeout_ms);
	if (cfg->input_bytes > HV_VIRTIO_CONSOLE_MAX_INPUT)
		return hv_err(-EINVAL, "virtio-console config: input_bytes %u, at most %u",
			      cfg->input_bytes, HV_VIRTIO_CONSOLE_MAX_INPUT);
	if (!cfg->cols != !cfg->rows)
		return hv_err(-EINVAL, "virtio-console config: size %ux%u (give both or neither)",
			      cfg->cols, cfg->rows);
	return 0;
}

static void free_console(struct hv_virtio_console *con)
{
	pthread_mutex_destroy(&con->tx_lock);
	pthread_mutex_destroy(&con->in_lock);
	hv_chain_epoch_fini(&con->rx);
	free(con->in_buf);
	free(con);
}

HV_EXPORT int hv_virtio_console_create(const struct hv_virtio_console_config *ucfg,
				       struct hv_virtio_console **out)
{
	struct hv_virtio_console_config c;
	const struct hv_virtio_console_config *cfg = &c;
	struct hv_virtio_dev_config dc;
	struct hv_virtio_console *con;
	int ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	ret = HV_CFG_LOAD(&c, ucfg, hv_virtio_console_config_init, "virtio-console config");
	if (!ret)
		ret = check_config(cfg);

	if (ret)
		return ret;
	con = calloc(1, sizeof(*con));
	if (!con)
		return hv_err(-ENOMEM, "allocating a virtio-console device");
	pthread_mutex_init(&con->tx_lock, NULL);
	pthread_mutex_init(&con->in_lock, NULL);
	hv_chain_epoch_init(&con->rx);
	con->in_cap = cfg->input_bytes ? cfg->input_bytes : HV_VIRTIO_CONSOLE_DEFAULT_INPUT;
	con->in_buf = malloc(con->in_cap);
	if (!con->in_buf) {
		free_console(con);
		return hv_err(-ENOMEM, "allocating a virtio-console input buffer");
	}
	con->output = cfg->output;
	con->opaque = cfg->opaque;
	con->has_size = cfg->cols != 0;
	con->size_word = (uint32_t)cfg->cols | (uint32_t)cfg->rows << 16;
	ret = hv_fd_out_init(&con->fd_out, cfg->output ? -1 : cfg->output_fd,
			     cfg->output_timeout_ms);
	if (ret) {
		free_console(con);
		return hv_err_context(ret, "virtio-console");
	}
	hv_virtio_dev_config_init(&dc);
	dc.ops = &con_ops;
	dc.opaque = con;
	dc.vm = cfg->vm;
	dc.ioloop = cfg->ioloop;
	dc.mem = cfg->mem;
	dc.features = cfg->cols ? VIRTIO_CONSOLE_F_SIZE : 0;
	dc.nr_queues = 2;
	dc.queue_max_size = CON_QUEUE_SIZE;
	dc.name = cfg->name ? cfg->name : "virtio-console";
	ret = hv_virtio_dev_create(&dc, &con->dev);
	if (ret) {
		free_console(con);
		return ret;
	}
	*out = con;
	return 0;
}

HV_EXPORT void hv_virtio_console_destroy(struct hv_virtio_console *con)
{
	if (!con)
		return;
	hv_virtio_dev_destroy(con->dev);
	free_console(con);
}

HV_EXPORT struct hv_virtio_dev *hv_virtio_console_dev(struct hv_virtio_console *con)
{
	HV_CHECK_ARG_RET(con, NULL);
	return con->dev;
}
