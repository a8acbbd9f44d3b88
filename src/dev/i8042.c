/* SPDX-License-Identifier: MIT */
/*
 * 8042 keyboard controller with nothing attached (see hvlib/i8042.h).  The
 * command set follows the IBM PC/AT and PS/2 technical references.  Commands
 * complete instantly, so the input buffer is never full and responses are
 * in the output buffer by the time the guest polls the status register.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hvlib/i8042.h"
#include "util/config.h"
#include "util/error.h"

/* Status register. */
#define STS_OBF     0x01 /* output buffer full: data port has a byte */
#define STS_SYS     0x04 /* system flag, a copy of command byte bit 2 */
#define STS_CMD     0x08 /* last input byte was a command (port 0x64) */
#define STS_UNLOCK  0x10 /* keyboard not inhibited by the key lock */
#define STS_AUXDATA 0x20 /* the output byte came from the AUX port */

/* Command byte (internal RAM byte 0). */
#define CTR_SYS    0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
/* What firmware leaves: keyboard interrupt on, POST passed, AUX port
 * disabled, scancode translation on. */
#define CTR_DEFAULT 0x65

/* Output port: bit 0 is the CPU reset line (active low), bit 1 gate A20. */
#define OUTPORT_NORESET 0x01
#define OUTPORT_DEFAULT 0x03

#define RAM_BYTES 32
#define QUEUE_LEN 4

struct hv_i8042 {
	pthread_mutex_t lock;   /* everything below: vCPU threads */
	struct hv_i8042_config cfg;
	struct hv_bus *bus;     /* attached to, or NULL */
	uint32_t handles[2];

	uint8_t ram[RAM_BYTES]; /* ram[0] is the command byte */
	uint8_t outport;
	uint8_t pending;        /* command awaiting its data byte, or 0 */
	bool last_was_cmd;
	uint8_t last_out;       /* what a read of an empty output buffer sees */
	uint8_t head, count;    /* output buffer, as a queue of responses */
	struct {
		uint8_t byte;
		bool aux;
	} queue[QUEUE_LEN];
};

/* Queue a response.  A real 8042 holds one byte and would not take the
 * next command until it is read; a short queue forgives guests that do not
 * wait, and drops what does not fit. */
static void respond(struct hv_i8042 *k, uint8_t byte, bool aux)
{
	uint8_t tail = (uint8_t)((k->head + k->count) % QUEUE_LEN);

	if (k->count == QUEUE_LEN)
		return;
	k->queue[tail].byte = byte;
	k->queue[tail].aux = aux;
	k->count++;
}

static uint8_t read_status(const struct hv_i8042 *k)
{
	uint8_t status = STS_UNLOCK | (k->ram[0] & CTR_SYS ? STS_SYS : 0);

	if (k->last_was_cmd)
		status |= STS_CMD;
	if (k->count)
		status |= STS_OBF | (k->queue[k->head].aux ? STS_AUXDATA : 0);
	return status;
}

static uint8_t read_data(struct hv_i8042 *k)
{
	if (k->count) {
		k->last_out = k->queue[k->head].byte;
		k->head = (uint8_t)((k->head + 1) % QUEUE_LEN);
		k->count--;
	}
	return k->last_out;
}

/* Returns true when the command pulses the reset line. */
static bool write_command(struct hv_i8042 *k, uint8_t cmd)
{
	k->last_was_cmd = true;
	k->pending = 0; /* a new command abandons one waiting for data */
	if (cmd >= 0x20 && cmd <= 0x3f) {
		respond(k, k->ram[cmd & 0x1f], false);
		return false;
	}
	if ((cmd >= 0x60 && cmd <= 0x7f) || (cmd >= 0xd1 && cmd <= 0xd4)) {
		k->pending = cmd;
		return false;
	}
	/* 0xf0-0xff pulse the output port bits whose command bit is 0;
	 * bit 0 is the reset line.  0xff pulses nothing. */
	if (cmd >= 0xf0)
		return !(cmd & OUTPORT_NORESET);
	switch (cmd) {
	case 0xa7: /* disable AUX */
		k->ram[0] |= CTR_AUXDIS;
		break;
	case 0xa8: /* enable AUX */
		k->ram[0] &= (uint8_t)~CTR_AUXDIS;
		break;
	case 0xa9: /* AUX interface test: 0 = no clock or data line stuck */
	case 0xab: /* keyboard interface test: likewise */
		respond(k, 0x00, false);
		break;
	case 0xaa: /* controller self-test: passed, which sets the system flag */
		k->ram[0] |= CTR_SYS;
		respond(k, 0x55, false);
		break;
	case 0xad: /* disable keyboard */
		k->ram[0] |= CTR_KBDDIS;
		break;
	case 0xae: /* enable keyboard */
		k->ram[0] &= (uint8_t)~CTR_KBDDIS;
		break;
	case 0xd0: /* read output port */
		respond(k, k->outport, false);
		break;
	default:
		break; /* unknown commands are ignored, as by AT-class controllers */
	}
	return false;
}

/* The parameter of a pending command, or a byte for the keyboard.
 * Returns true when it pulls the reset line. */
static bool write_data(struct hv_i8042 *k, uint8_t val)
{
	uint8_t cmd = k->pending;

	k->last_was_cmd = false;
	k->pending = 0;
	if (cmd >= 0x60 && cmd <= 0x7f) {
		k->ram[cmd & 0x1f] = val;
		return false;
	}
	switch (cmd) {
	case 0xd1: /* write output port; A20 cannot be masked under KVM */
		k->outport = val;
		return !(val & OUTPORT_NORESET);
	case 0xd2: /* as if from the keyboard */
		respond(k, val, false);
		break;
	case 0xd3: /* as if from the AUX device: the loopback Linux probes with */
		respond(k, val, true);
		break;
	default:
		break; /* 0xd4 (to the mouse) or plain (to the keyboard): nobody there */
	}
	return false;
}

HV_EXPORT int hv_i8042_io(struct hv_i8042 *k, uint16_t port, uint32_t width, bool is_write,
			  uint64_t *value)
{
	bool reset = false;

	HV_CHECK_ARG(k);
	HV_CHECK_ARG(value);

	if (width != 1 || (port != HV_I8042_DATA_PORT && port != HV_I8042_COMMAND_PORT))
		return hv_err(-EINVAL, "i8042: %u-byte access to port 0x%x", width, port);
	pthread_mutex_lock(&k->lock);
	if (port == HV_I8042_DATA_PORT && is_write)
		reset = write_data(k, (uint8_t)*value);
	else if (port == HV_I8042_DATA_PORT)
		*value = read_data(k);
	else if (is_write)
		reset = write_command(k, (uint8_t)*value);
	else
		*value = read_status(k);
	pthread_mutex_unlock(&k->lock);
	/* Unlocked, so the embedder may call hv_i8042_reset() from here. */
	if (reset && k->cfg.reset)
		k->cfg.reset(k->cfg.opaque);
	return 0;
}

static void reset_state(struct hv_i8042 *k)
{
	memset(k->ram, 0, sizeof(k->ram));
	k->ram[0] = CTR_DEFAULT;
	k->outport = OUTPORT_DEFAULT;
	k->pending = 0;
	k->last_was_cmd = false;
	k->last_out = 0;
	k->head = 0;
	k->count = 0;
}

HV_EXPORT void hv_i8042_reset(struct hv_i8042 *k)
{
	HV_CHECK_ARG_RET(k, );
	pthread_mutex_lock(&k->lock);
	reset_state(k);
	pthread_mutex_unlock(&k->lock);
}

HV_EXPORT void hv_i8042_config_init(struct hv_i8042_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
}

HV_EXPORT int hv_i8042_create(const struct hv_i8042_config *ucfg, struct hv_i8042 **out)
{
	struct hv_i8042_config c;
	const struct hv_i8042_config *cfg = &c;
	struct hv_i8042 *k;
	int ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	ret = HV_CFG_LOAD(&c, ucfg, hv_i8042_config_init, "i8042 config");
	if (ret)
		return ret;
	if (cfg->flags)
		return hv_err(-EINVAL, "i8042 config: unknown flags 0x%x", cfg->flags);
	k = calloc(1, sizeof(*k));
	if (!k)
		return hv_err(-ENOMEM, "allocating an i8042");
	if (pthread_mutex_init(&k->lock, NULL)) {
		free(k);
		return hv_err(-ENOMEM, "initialising an i8042 lock");
	}
	k->cfg = *cfg;
	reset_state(k);
	*out = k;
	return 0;
}

static int data_port_io(void *opaque, uint64_t offset, uint32_t width, bool is_write,
			uint64_t *value)
{
	(void)offset;
	return hv_i8042_io(opaque, HV_I8042_DATA_PORT, width, is_write, value);
}

static int command_port_io(void *opaque, uint64_t offset, uint32_t width, bool is_write,
			   uint64_t *value)
{
	(void)offset;
	return hv_i8042_io(opaque, HV_I8042_COMMAND_PORT, width, is_write, value);
}

HV_EXPORT int hv_i8042_attach(struct hv_i8042 *k, struct hv_bus *bus)
{
	int ret;

	HV_CHECK_ARG(k);
	HV_CHECK_ARG(bus);

	if (k->bus)
		return hv_err(-EBUSY, "i8042: already attached to a bus");
	if (!bus)
		return hv_err(-EINVAL, "i8042: no bus");
	ret = hv_bus_register(bus, HV_I8042_DATA_PORT, 1, data_port_io, k, "i8042 data",
			      &k->handles[0]);
	if (ret)
		return hv_err_context(ret, "i8042 data port");
	ret = hv_bus_register(bus, HV_I8042_COMMAND_PORT, 1, command_port_io, k,
			      "i8042 command", &k->handles[1]);
	if (ret) {
		hv_bus_unregister(bus, k->handles[0]);
		return hv_err_context(ret, "i8042 command port");
	}
	k->bus = bus;
	return 0;
}

HV_EXPORT void hv_i8042_destroy(struct hv_i8042 *k)
{
	if (!k)
		return;
	if (k->bus) {
		hv_bus_unregister(k->bus, k->handles[1]);
		hv_bus_unregister(k->bus, k->handles[0]);
	}
	pthread_mutex_destroy(&k->lock);
	free(k);
}
