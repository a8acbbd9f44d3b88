/* SPDX-License-Identifier: MIT */
/* 16550A UART: life cycle, locking, bus attachment and output. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dev/serial_internal.h"
#include "util/config.h"
#include "util/error.h"

/* The power-on divisor is undefined; 12 (9600 baud) is what PC firmware sets. */
#define DIVISOR_DEFAULT 12

HV_EXPORT int hv_serial_io(struct hv_serial *s, uint64_t offset, uint32_t width, bool is_write,
			   uint64_t *value)
{
	uint64_t result = 0;

	HV_CHECK_ARG(s);
	HV_CHECK_ARG(value);

	if ((width != 1 && width != 2 && width != 4 && width != 8) ||
	    offset > HV_SERIAL_NR_PORTS - width)
		return hv_err(-EINVAL, "UART: %u-byte access at register %llu", width,
			      (unsigned long long)offset);
	for (uint32_t i = 0; i < width; i++) {
		uint32_t reg = (uint32_t)offset + i;
		uint8_t byte = is_write ? (uint8_t)(*value >> (8 * i)) : 0;
		bool send = false;

		pthread_mutex_lock(&s->lock);
		if (is_write)
			send = hv_serial_write_reg(s, reg, byte);
		else
			result |= (uint64_t)hv_serial_read_reg(s, reg) << (8 * i);
		hv_serial_settle(s);
		if (!send) {
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		/* Emit outside the register lock, so a slow output holds up
		 * neither input nor other vCPUs' register accesses, but take
		 * the transmit lock first, so bytes leave in THR order. */
		pthread_mutex_lock(&s->tx_lock);
		pthread_mutex_unlock(&s->lock);
		hv_serial_tx_byte(s, byte);
		pthread_mutex_unlock(&s->tx_lock);
	}
	if (!is_write)
		*value = result;
	return 0;
}

HV_EXPORT size_t hv_serial_input(struct hv_serial *s, const uint8_t *data, size_t len)
{
	size_t n;

	HV_CHECK_ARG_RET(s, 0);

	pthread_mutex_lock(&s->lock);
	n = hv_serial_receive(s, data, len);
	hv_serial_settle(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

HV_EXPORT void hv_serial_reset(struct hv_serial *s)
{
	HV_CHECK_ARG_RET(s, );
	pthread_mutex_lock(&s->lock);
	hv_serial_reset_regs(s);
	hv_serial_settle(s);
	pthread_mutex_unlock(&s->lock);
}

HV_EXPORT void hv_serial_config_init(struct hv_serial_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->output_fd = -1;
	cfg->output_timeout_ms = 1000;
}

static int check_config(const struct hv_serial_config *cfg)
{
	if (cfg->flags)
		return hv_err(-EINVAL, "UART config: unknown flags 0x%x", cfg->flags);
	if (cfg->output && cfg->output_fd >= 0)
		return hv_err(-EINVAL, "UART config: both an output callback and output_fd %d",
			      cfg->output_fd);
	if (cfg->output_fd < -1)
		return hv_err(-EINVAL, "UART config: output_fd %d", cfg->output_fd);
	if (cfg->output_timeout_ms < -1)
		return hv_err(-EINVAL, "UART config: output_timeout_ms %d", cfg->output_timeout_ms);
	return 0;
}

HV_EXPORT int hv_serial_create(const struct hv_serial_config *ucfg, struct hv_serial **out)
{
	struct hv_serial_config c;
	const struct hv_serial_config *cfg = &c;
	struct hv_serial *s;
	int ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	ret = HV_CFG_LOAD(&c, ucfg, hv_serial_config_init, "UART config");
	if (!ret)
		ret = check_config(cfg);
	if (ret)
		return ret;
	s = calloc(1, sizeof(*s));
	if (!s)
		return hv_err(-ENOMEM, "allocating a UART");
	s->cfg = *cfg;
	ret = hv_fd_out_init(&s->fd_out, cfg->output ? -1 : cfg->output_fd,
			     cfg->output_timeout_ms);
	if (ret) {
		free(s);
		return hv_err_context(ret, "UART config");
	}
	if (pthread_mutex_init(&s->lock, NULL))
		goto fail_lock;
	if (pthread_mutex_init(&s->tx_lock, NULL))
		goto fail_tx_lock;
	ret = hv_serial_tx_init(s);
	if (ret)
		goto fail_tx;
	s->dll = DIVISOR_DEFAULT;
	hv_serial_reset_regs(s);
	*out = s;
	return 0;

fail_tx:
	pthread_mutex_destroy(&s->tx_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return ret;
fail_tx_lock:
	pthread_mutex_destroy(&s->lock);
fail_lock:
	free(s);
	return hv_err(-ENOMEM, "initialising a UART lock");
}

static int serial_bus_io(void *opaque, uint64_t offset, uint32_t width, bool is_write,
			 uint64_t *value)
{
	return hv_serial_io(opaque, offset, width, is_write, value);
}

HV_EXPORT int hv_serial_attach(struct hv_serial *s, struct hv_bus *bus, uint16_t base)
{
	int ret;

	HV_CHECK_ARG(s);
	HV_CHECK_ARG(bus);

	if (s->bus)
		return hv_err(-EBUSY, "UART: already attached to a bus");
	if (!bus)
		return hv_err(-EINVAL, "UART at port 0x%x: no bus", base);
	ret = hv_bus_register(bus, base, HV_SERIAL_NR_PORTS, serial_bus_io, s, "serial",
			      &s->bus_handle);
	if (ret)
		return hv_err_context(ret, "UART at port 0x%x", base);
	s->bus = bus;
	return 0;
}

HV_EXPORT void hv_serial_destroy(struct hv_serial *s)
{
	if (!s)
		return;
	/* Once unregistered, no vCPU is inside hv_serial_io() any more. */
	if (s->bus)
		hv_bus_unregister(s->bus, s->bus_handle);
	hv_serial_tx_fini(s);
	pthread_mutex_destroy(&s->tx_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
