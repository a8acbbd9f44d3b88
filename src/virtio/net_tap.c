/* SPDX-License-Identifier: MIT */
/*
 * The tap side of virtio-net: /dev/net/tun with IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR, the virtio-net v1 header size, and offloads that follow the
 * driver's features.  The errors say what to do about them, since setting
 * up a tap is where embedders stumble (permissions, a tun of that name).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/error.h"
#include "virtio/net_internal.h"

static int setiff_error(int err, const char *name)
{
	switch (err) {
	case EPERM:
	case EACCES:
		return hv_err(-EPERM, "tap %s: permission denied (needs CAP_NET_ADMIN, or a "
				      "persistent tap owned by this user: ip tuntap add %s mode tap "
				      "user USER)", name, name);
	case EBUSY:
		return hv_err(-EBUSY, "tap %s: already attached to another process", name);
	case EINVAL:
		return hv_err(-EINVAL, "tap %s: the interface exists but is not a single-queue "
				       "tap (a tun device, or multiqueue)", name);
	default:
		return hv_err_sys(-err, "tap %s: TUNSETIFF", name);
	}
}

int hv_virtio_net_tap_open(const char *name, int *out)
{
	unsigned int features = 0;
	struct ifreq ifr;
	int fd, hdr = NET_HDR_BYTES, ret;

	if (strlen(name) >= IFNAMSIZ)
		return hv_err(-EINVAL, "tap %s: the name is longer than %d bytes", name,
			      IFNAMSIZ - 1);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return hv_err_sys(-errno, "tap %s: opening /dev/net/tun%s", name,
				  errno == ENOENT ? " (is the tun module loaded?)" : "");
	if (!ioctl(fd, TUNGETFEATURES, &features) && !(features & IFF_VNET_HDR)) {
		ret = hv_err(-EOPNOTSUPP, "tap %s: the kernel's tun has no IFF_VNET_HDR", name);
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		ret = setiff_error(errno, name);
		goto fail;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr)) {
		ret = hv_err_sys(-errno, "tap %s: TUNSETVNETHDRSZ %d", name, hdr);
		goto fail;
	}
	ret = hv_virtio_net_tap_set_offload(fd, 0);
	if (ret) {
		ret = hv_err_context(ret, "tap %s", name);
		goto fail;
	}
	*out = fd;
	return 0;

fail:
	close(fd);
	return ret;
}

uint32_t hv_virtio_net_tap_offload(uint64_t features)
{
	uint32_t off = 0;

	/* The tap refuses segmentation without checksum offload, and so
	 * does the spec (GUEST_TSO* require GUEST_CSUM); a driver that
	 * accepted TSO alone gets neither. */
	if (!(features & VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	off |= TUN_F_CSUM;
	if (features & VIRTIO_NET_F_GUEST_TSO4)
		off |= TUN_F_TSO4;
	if (features & VIRTIO_NET_F_GUEST_TSO6)
		off |= TUN_F_TSO6;
	if ((off & (TUN_F_TSO4 | TUN_F_TSO6)) && (features & VIRTIO_NET_F_GUEST_ECN))
		off |= TUN_F_TSO_ECN;
	return off;
}

int hv_virtio_net_tap_set_offload(int fd, uint32_t offload)
{
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)offload))
		return hv_err_sys(-errno, "TUNSETOFFLOAD 0x%x", offload);
	return 0;
}
