/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio, version 2 (virtio 1.2, 4.2.2): the register window and the
 * interrupt.  Offsets and widths come from the guest: registers answer only
 * aligned 32-bit accesses (4.2.2.2), anything else reads 0 and is ignored;
 * config space (0x100 on) is bounds-checked by the core.
 *
 * The interrupt is edge-triggered: every new ISR bit pulses the line, and
 * the guest acknowledges through InterruptACK.  Where KVM has irqfds the
 * pulse is one eventfd write (KVM pulses the line), else two
 * KVM_IRQ_LINE calls.  A device may route a queue's notifications to an
 * eventfd (hv_virtio_dev_set_queue_notify_fd()): a KVM ioeventfd on
 * QueueNotify, 4 bytes, datamatch = queue index, so those writes never
 * leave the kernel; other queues still reach hv_virtio_mmio_io().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/config.h"
#include "util/error.h"
#include "virtio/virtio_internal.h"

enum {
	REG_MAGIC = 0x000, REG_VERSION = 0x004, REG_DEVICE_ID = 0x008, REG_VENDOR_ID = 0x00c,
	REG_DEVICE_FEATURES = 0x010, REG_DEVICE_FEATURES_SEL = 0x014,
	REG_DRIVER_FEATURES = 0x020, REG_DRIVER_FEATURES_SEL = 0x024,
	REG_QUEUE_SEL = 0x030, REG_QUEUE_NUM_MAX = 0x034, REG_QUEUE_NUM = 0x038,
	REG_QUEUE_READY = 0x044, REG_QUEUE_NOTIFY = 0x050,
	REG_INTERRUPT_STATUS = 0x060, REG_INTERRUPT_ACK = 0x064, REG_STATUS = 0x070,
	REG_QUEUE_DESC_LOW = 0x080, REG_QUEUE_DESC_HIGH = 0x084,
	REG_QUEUE_DRIVER_LOW = 0x090, REG_QUEUE_DRIVER_HIGH = 0x094,
	REG_QUEUE_DEVICE_LOW = 0x0a0, REG_QUEUE_DEVICE_HIGH = 0x0a4,
	REG_SHM_SEL = 0x0ac, REG_SHM_LEN_LOW = 0x0b0, REG_SHM_LEN_HIGH = 0x0b4,
	REG_SHM_BASE_LOW = 0x0b8, REG_SHM_BASE_HIGH = 0x0bc,
	REG_CONFIG_GENERATION = 0x0fc, REG_CONFIG = 0x100,
};
_Static_assert((REG_QUEUE_DRIVER_LOW - REG_QUEUE_DESC_LOW) / 0x10 == HV_VIRTQ_ADDR_AVAIL &&
		       (REG_QUEUE_DEVICE_LOW - REG_QUEUE_DESC_LOW) / 0x10 == HV_VIRTQ_ADDR_USED &&
		       HV_VIRTQ_ADDR_DESC == 0 && (REG_QUEUE_DEVICE_HIGH & 4) != 0,
	       "queue address register pairs");

#define MMIO_MAGIC 0x74726976u /* "virt" */
#define MMIO_VERSION 2u
/* Selectors are plain registers that any vCPU may write at any time. */
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define MMIO_VENDOR 0x4c564848u /* "HHVL": any value is fine, drivers ignore it */

struct hv_virtio_mmio {
	struct hv_virtio_dev *dev;
	struct hv_virtio_mmio_config cfg;
	struct hv_bus *bus;
	uint32_t bus_handle;
	/* Driver-side selectors; each vCPU sees the same ones, as on hardware. */
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	uint32_t isr;               /* atomic: InterruptStatus */
	int *notify_fds;            /* per queue, the ioeventfd assigned (-1: none); dev->lock */
	int irq_fd;                 /* KVM irqfd pulsing cfg.irq, or -1: hv_vm_irq_line() */
};

static void mmio_interrupt(void *opaque, uint32_t isr_bits)
{
	struct hv_virtio_mmio *m = opaque;
	struct hv_vm *vm = m->cfg.vm;

	__atomic_or_fetch(&m->isr, isr_bits, __ATOMIC_SEQ_CST);
	/* The ISR bit is set before the edge, so the handler the edge starts
	 * always finds it (its InterruptStatus read follows the interrupt). */
	if (m->irq_fd >= 0) {
		eventfd_write(m->irq_fd, 1); /* cannot fail short of 2^64 - 1 pulses pending */
	} else if (m->cfg.set_irq) {
		m->cfg.set_irq(m->cfg.irq_opaque, m->cfg.irq, 1);
		m->cfg.set_irq(m->cfg.irq_opaque, m->cfg.irq, 0);
	} else {
		hv_vm_irq_line(vm, m->cfg.irq, 1);
		hv_vm_irq_line(vm, m->cfg.irq, 0);
	}
}

/* The transport's set_notify_fd (dev->lock held). */
static int mmio_set_notify_fd(void *opaque, uint32_t queue, int fd)
{
	struct hv_virtio_mmio *m = opaque;
	uint64_t addr = m->cfg.base + REG_QUEUE_NOTIFY;
	int ret;

	if (m->notify_fds[queue] >= 0) {
		hv_vm_ioeventfd(m->cfg.vm, m->notify_fds[queue], HV_BUS_MMIO, addr, 4, queue,
				HV_IOEVENTFD_F_DATAMATCH | HV_IOEVENTFD_F_DEASSIGN);
		m->notify_fds[queue] = -1;
	}
	if (fd < 0)
		return 0;
	ret = hv_vm_ioeventfd(m->cfg.vm, fd, HV_BUS_MMIO, addr, 4, queue,
			      HV_IOEVENTFD_F_DATAMATCH);
	if (!ret)
		m->notify_fds[queue] = fd;
	return ret;
}

static uint32_t read_reg(struct hv_virtio_mmio *m, uint32_t reg)
{
	struct hv_virtio_dev *dev = m->dev;
	uint32_t q = LOAD(m->queue_sel);

	switch (reg) {
	case REG_MAGIC: return MMIO_MAGIC;
	case REG_VERSION: return MMIO_VERSION;
	case REG_DEVICE_ID: return dev->ops->device_id;
	case REG_VENDOR_ID: return MMIO_VENDOR;
	case REG_DEVICE_FEATURES: return hv_virtio_dev_features_word(dev, LOAD(m->dev_features_sel));
	case REG_QUEUE_NUM_MAX: return q < dev->nr_queues ? dev->queues[q].max_size : 0;
	case REG_QUEUE_READY: return q < dev->nr_queues && dev->queues[q].ready;
	case REG_INTERRUPT_STATUS: return __atomic_load_n(&m->isr, __ATOMIC_SEQ_CST);
	case REG_STATUS: return hv_virtio_dev_status(dev);
	case REG_SHM_LEN_LOW: case REG_SHM_LEN_HIGH: return 0xffffffffu; /* no shared memory */
	case REG_SHM_BASE_LOW: case REG_SHM_BASE_HIGH: return 0xffffffffu;
	case REG_CONFIG_GENERATION:
		return __atomic_load_n(&dev->config_generation, __ATOMIC_ACQUIRE);
	default: return 0; /* write-only or reserved */
	}
}

static void write_reg(struct hv_virtio_mmio *m, uint32_t reg, uint32_t val)
{
	struct hv_virtio_dev *dev = m->dev;
	uint32_t q = LOAD(m->queue_sel);

	switch (reg) {
	case REG_DEVICE_FEATURES_SEL: STORE(m->dev_features_sel, val); break;
	case REG_DRIVER_FEATURES_SEL: STORE(m->drv_features_sel, val); break;
	case REG_DRIVER_FEATURES:
		hv_virtio_dev_set_driver_features(dev, LOAD(m->drv_features_sel), val);
		break;
	case REG_QUEUE_SEL: STORE(m->queue_sel, val); break;
	case REG_QUEUE_NUM: hv_virtio_dev_queue_set_size(dev, q, val); break;
	case REG_QUEUE_READY: hv_virtio_dev_queue_set_ready(dev, q, val & 1); break;
	case REG_QUEUE_NOTIFY: hv_virtio_dev_notify(dev, val & 0xffff); break;
	case REG_INTERRUPT_ACK: __atomic_and_fetch(&m->isr, ~val, __ATOMIC_SEQ_CST); break;
	case REG_STATUS:
		if (!val)
			__atomic_store_n(&m->isr, 0, __ATOMIC_SEQ_CST);
		hv_virtio_dev_write_status(dev, val);
		break;
	case REG_QUEUE_DESC_LOW: case REG_QUEUE_DESC_HIGH:
	case REG_QUEUE_DRIVER_LOW: case REG_QUEUE_DRIVER_HIGH:
	case REG_QUEUE_DEVICE_LOW: case REG_QUEUE_DEVICE_HIGH:
		/* Pairs 16 bytes apart in HV_VIRTQ_ADDR_* order, low half first. */
		hv_virtio_dev_queue_set_addr_half(dev, q, (int)((reg - REG_QUEUE_DESC_LOW) / 0x10),
						  reg & 4, val);
		break;
	default: break; /* read-only or reserved: ignored */
	}
}

HV_EXPORT int hv_virtio_mmio_io(struct hv_virtio_mmio *m, uint64_t offset, uint32_t width,
				bool is_write, uint64_t *value)
{
	HV_CHECK_ARG(m);
	HV_CHECK_ARG(value);
	if (offset >= HV_VIRTIO_MMIO_SIZE || !m->dev) { /* !dev: detached */
		if (!is_write)
			*value = 0;
		return 0;
	}
	if (offset >= REG_CONFIG) {
		hv_virtio_dev_config_access(m->dev, (uint32_t)offset - REG_CONFIG, width, is_write,
					    value);
		return 0;
	}
	if (width != 4 || offset % 4) {
		if (!is_write)
			*value = 0;
		return 0;
	}
	if (is_write)
		write_reg(m, (uint32_t)offset, (uint32_t)*value);
	else
		*value = read_reg(m, (uint32_t)offset);
	return 0;
}

static int mmio_bus_io(void *opaque, uint64_t offset, uint32_t width, bool is_write,
		       uint64_t *value)
{
	return hv_virtio_mmio_io(opaque, offset, width, is_write, value);
}

HV_EXPORT void hv_virtio_mmio_config_init(struct hv_virtio_mmio_config *cfg)
{
	HV_CHECK_ARG_RET(cfg, );
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
}

static int check_config(const struct hv_virtio_mmio_config *cfg)
{
	if (cfg->flags)
		return hv_err(-EINVAL, "virtio-mmio config: unknown flags 0x%x", cfg->flags);
	if (cfg->reserved)
		return hv_err(-EINVAL, "virtio-mmio config: reserved is 0x%x, must be 0",
			      cfg->reserved);
	if (cfg->base % 4096)
		return hv_err(-EINVAL, "virtio-mmio config: base 0x%llx is not 4 KiB aligned",
			      (unsigned long long)cfg->base);
	if (!cfg->bus && !cfg->vm)
		return hv_err(-EINVAL, "virtio-mmio config: neither a VM nor a bus");
	if (!cfg->set_irq && !cfg->vm)
		return hv_err(-EINVAL, "virtio-mmio config: neither a VM nor set_irq");
	return 0;
}

/* An irqfd for the VM's own line, when KVM has them (KVM_CAP_IRQFD and an
 * in-kernel irqchip); -1 otherwise, and interrupts take hv_vm_irq_line(). */
static int open_irqfd(const struct hv_virtio_mmio_config *cfg, struct hv_virtio_dev *dev)
{
	int fd, ret;

	if (cfg->set_irq || !cfg->vm)
		return -1;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -1;
	ret = hv_vm_irqfd(cfg->vm, fd, cfg->irq, -1, 0);
	if (ret) {
		hv_virtio_dev_logf(dev, HV_LOG_DEBUG, "interrupts through KVM_IRQ_LINE: %s",
				   hv_last_error());
		close(fd);
		return -1;
	}
	return fd;
}

static void close_irqfd(struct hv_virtio_mmio *m)
{
	if (m->irq_fd < 0)
		return;
	hv_vm_irqfd(m->cfg.vm, m->irq_fd, m->cfg.irq, -1, HV_IRQFD_F_DEASSIGN);
	close(m->irq_fd);
}

/* Leave the bus and the device, once: from hv_virtio_mmio_destroy(), or
 * first from hv_virtio_dev_destroy() if the device goes before us. */
static void mmio_leave(struct hv_virtio_mmio *m)
{
	if (!m->dev)
		return;
	/* Once unregistered, no vCPU is inside hv_virtio_mmio_io() any more. */
	hv_bus_unregister(m->bus, m->bus_handle);
	hv_virtio_dev_set_transport(m->dev, NULL); /* also drops the ioeventfds */
	close_irqfd(m); /* after: no interrupt is in flight any more */
	m->irq_fd = -1;
	m->dev = NULL;
}

static void mmio_detach(void *opaque)
{
	mmio_leave(opaque);
}

HV_EXPORT int hv_virtio_mmio_create(struct hv_virtio_dev *dev,
				    const struct hv_virtio_mmio_config *ucfg,
				    struct hv_virtio_mmio **out)
{
	struct hv_virtio_mmio_config c;
	const struct hv_virtio_mmio_config *cfg = &c;
	struct hv_virtio_transport t;
	struct hv_virtio_mmio *m;
	int ret;

	HV_CHECK_ARG(out);
	*out = NULL;
	HV_CHECK_ARG(dev);
	ret = HV_CFG_LOAD(&c, ucfg, hv_virtio_mmio_config_init, "virtio-mmio config");
	if (!ret)
		ret = check_config(cfg);

	if (ret)
		return ret;
	if (dev->transport.interrupt)
		return hv_err(-EBUSY, "%s: already has a transport", dev->name);
	m = calloc(1, sizeof(*m));
	if (!m)
		return hv_err(-ENOMEM, "allocating a virtio-mmio transport");
	m->notify_fds = malloc(dev->nr_queues * sizeof(*m->notify_fds));
	if (!m->notify_fds) {
		free(m);
		return hv_err(-ENOMEM, "allocating a virtio-mmio transport");
	}
	for (uint32_t q = 0; q < dev->nr_queues; q++)
		m->notify_fds[q] = -1;
	m->dev = dev;
	m->cfg = *cfg;
	m->irq_fd = open_irqfd(cfg, dev);
	m->bus = cfg->bus ? cfg->bus : hv_vm_bus(cfg->vm, HV_BUS_MMIO);
	memset(&t, 0, sizeof(t));
	t.interrupt = mmio_interrupt;
	t.detach = mmio_detach;
	t.opaque = m;
	/* Guest-physical notify addresses only exist on the VM's own bus. */
	if (cfg->vm && m->bus == hv_vm_bus(cfg->vm, HV_BUS_MMIO))
		t.set_notify_fd = mmio_set_notify_fd;
	hv_virtio_dev_set_transport(dev, &t);
	ret = hv_bus_register(m->bus, cfg->base, HV_VIRTIO_MMIO_SIZE, mmio_bus_io, m, dev->name,
			      &m->bus_handle);
	if (ret) {
		hv_virtio_dev_set_transport(dev, NULL);
		close_irqfd(m);
		free(m->notify_fds);
		free(m);
		return hv_err_context(ret, "%s at 0x%llx", dev->name,
				      (unsigned long long)cfg->base);
	}
	*out = m;
	return 0;
}

bool hv_virtio_mmio_uses_irqfd(const struct hv_virtio_mmio *m)
{
	return m->irq_fd >= 0;
}

HV_EXPORT void hv_virtio_mmio_destroy(struct hv_virtio_mmio *m)
{
	if (!m)
		return;
	mmio_leave(m);
	free(m->notify_fds);
	free(m);
}
