/* SPDX-License-Identifier: MIT */
/*
 * The I/O thread (hvlib/ioloop.h).  epoll carries a registration id, never
 * a pointer: an event already returned by epoll_wait() for an fd removed
 * since (or removed and registered again) finds no entry with its id and is
 * dropped, so nothing freed is ever touched.  hv_ioloop_remove() from
 * another thread waits until the callback running, if it is that fd's, has
 * returned: after that the entry is gone and no later event can find it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hvlib/ioloop.h"
#include "util/config.h"
#include "util/error.h"
#include "util/ioloop_internal.h"
#include "util/thread.h"

#define WAKE_ID 0 /* the loop's own eventfd; registrations count from 1 */
#define MAX_EVENTS 32

struct entry {
	int fd;
	uint64_t id;
	hv_ioloop_fn fn;
	void *opaque;
};

struct hv_ioloop {
	int epfd;
	int wake_fd;              /* written by destroy to stop the thread */
	pthread_t thread;
	pthread_mutex_t lock;     /* everything below */
	pthread_cond_t idle;      /* running changed */
	struct entry *entries;
	size_t nr, cap;
	uint64_t next_id;
	uint64_t running;         /* id whose callback runs now, 0: none */
	bool stop;
	/* hv_ioloop_destroy() ran with registrations left: the thread and
	 * descriptors are gone, the struct stays until the last is removed. */
	bool destroyed;
};

static struct entry *find_id(struct hv_ioloop *l, uint64_t id)
{
	for (size_t i = 0; i < l->nr; i++)
		if (l->entries[i].id == id)
			return &l->entries[i];
	return NULL;
}

static struct entry *find_fd(struct hv_ioloop *l, int fd)
{
	for (size_t i = 0; i < l->nr; i++)
		if (l->entries[i].fd == fd)
			return &l->entries[i];
	return NULL;
}

static uint32_t to_hv(uint32_t ev)
{
	return ((ev & EPOLLIN) ? HV_IOLOOP_IN : 0) | ((ev & EPOLLOUT) ? HV_IOLOOP_OUT : 0) |
	       ((ev & (EPOLLERR | EPOLLHUP)) ? HV_IOLOOP_ERR : 0);
}

/* One ready registration: call it unless it was removed meanwhile. */
static void dispatch(struct hv_ioloop *l, uint64_t id, uint32_t events)
{
	struct entry e, *p;

	pthread_mutex_lock(&l->lock);
	p = find_id(l, id);
	if (p) {
		e = *p; /* the array may move while we run */
		l->running = id;
	}
	pthread_mutex_unlock(&l->lock);
	if (!p)
		return;
	e.fn(e.opaque, e.fd, to_hv(events));
	pthread_mutex_lock(&l->lock);
	l->running = 0;
	pthread_cond_broadcast(&l->idle);
	pthread_mutex_unlock(&l->lock);
}

static void *loop_thread(void *arg)
{
	struct hv_ioloop *l = arg;
	struct epoll_event ev[MAX_EVENTS];

	for (;;) {
		int n = epoll_wait(l->epfd, ev, MAX_EVENTS, -1);
		bool stop;

		pthread_mutex_lock(&l->lock);
		stop = l->stop;
		pthread_mutex_unlock(&l->lock);
		if (stop)
			break;
		for (int i = 0; i < n; i++)
			if (ev[i].data.u64 != WAKE_ID)
				dispatch(l, ev[i].data.u64, ev[i].events);
	}
	return NULL;
}

HV_EXPORT int hv_ioloop_create(struct hv_ioloop **out)
{
	HV_CHECK_ARG(out);
	return hv_ioloop_create_thread(out, 0);
}

int hv_ioloop_create_thread(struct hv_ioloop **out, uint32_t thread_flags)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = WAKE_ID };
	struct hv_ioloop *l;
	int ret;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return hv_err(-ENOMEM, "allocating an I/O loop");
	l->next_id = WAKE_ID + 1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->epfd < 0 || l->wake_fd < 0) {
		ret = hv_err_sys(-errno, "I/O loop: creating its epoll and eventfd");
		goto fail_fds;
	}
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &ev)) {
		ret = hv_err_sys(-errno, "I/O loop: epoll_ctl");
		goto fail_fds;
	}
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->idle, NULL);
	/* Signals are the embedder's (and the vCPUs' kick): none lands here. */
	ret = hv_thread_start(&l->thread, HV_THREAD_IO, thread_flags & HV_THREAD_F_SECCOMP,
			      "hv-io", loop_thread, l);
	if (ret)
		goto fail_thread;
	*out = l;
	return 0;

fail_thread:
	pthread_cond_destroy(&l->idle);
	pthread_mutex_destroy(&l->lock);
fail_fds:
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	if (l->epfd >= 0)
		close(l->epfd);
	free(l);
	return ret;
}

static void free_loop(struct hv_ioloop *l)
{
	pthread_cond_destroy(&l->idle);
	pthread_mutex_destroy(&l->lock);
	free(l->entries);
	free(l);
}

HV_EXPORT void hv_ioloop_destroy(struct hv_ioloop *l)
{
	bool keep;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	pthread_mutex_unlock(&l->lock);
	/* Level-triggered and never read: every later epoll_wait sees it. */
	if (eventfd_write(l->wake_fd, 1) == 0)
		pthread_join(l->thread, NULL);
	pthread_mutex_lock(&l->lock);
	close(l->wake_fd);
	close(l->epfd);
	l->wake_fd = l->epfd = -1;
	keep = l->nr != 0;
	l->destroyed = keep;
	pthread_mutex_unlock(&l->lock);
	if (!keep)
		free_loop(l);
}

HV_EXPORT int hv_ioloop_add(struct hv_ioloop *l, int fd, uint32_t events, hv_ioloop_fn fn,
			    void *opaque)
{
	struct epoll_event ev = { 0 };
	int ret = 0;

	HV_CHECK_ARG(l);

	if (fd < 0 || !fn || !events || (events & ~HV_IOLOOP_ALL))
		return hv_err(-EINVAL, "I/O loop: bad fd %d, callback or events 0x%x", fd, events);
	ev.events = ((events & HV_IOLOOP_IN) ? EPOLLIN : 0) |
		    ((events & HV_IOLOOP_OUT) ? EPOLLOUT : 0);
	pthread_mutex_lock(&l->lock);
	if (l->destroyed) {
		ret = hv_err(-ESHUTDOWN, "I/O loop: destroyed (fd %d)", fd);
		goto out;
	}
	if (find_fd(l, fd)) {
		ret = hv_err(-EEXIST, "I/O loop: fd %d is already registered", fd);
		goto out;
	}
	if (l->nr == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct entry *e = realloc(l->entries, cap * sizeof(*e));

		if (!e) {
			ret = hv_err(-ENOMEM, "I/O loop: registering fd %d", fd);
			goto out;
		}
		l->entries = e;
		l->cap = cap;
	}
	ev.data.u64 = l->next_id;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		ret = hv_err_sys(-errno, "I/O loop: watching fd %d", fd);
		goto out;
	}
	l->entries[l->nr++] = (struct entry){ .fd = fd, .id = l->next_id++, .fn = fn,
					      .opaque = opaque };
out:
	pthread_mutex_unlock(&l->lock);
	return ret;
}

HV_EXPORT int hv_ioloop_remove(struct hv_ioloop *l, int fd)
{
	struct entry *e;
	uint64_t id;

	HV_CHECK_ARG(l);

	pthread_mutex_lock(&l->lock);
	e = find_fd(l, fd);
	if (!e) {
		pthread_mutex_unlock(&l->lock);
		return hv_err(-ENOENT, "I/O loop: fd %d is not registered", fd);
	}
	id = e->id;
	/* May fail if the caller already closed fd: the entry goes anyway. */
	if (l->epfd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	*e = l->entries[--l->nr];
	if (l->destroyed) {
		/* Its owner destroyed the loop first; the last removal frees it. */
		bool last = !l->nr;

		pthread_mutex_unlock(&l->lock);
		if (last)
			free_loop(l);
		return 0;
	}
	/* From the loop thread, the callback running is the caller's own. */
	if (!pthread_equal(pthread_self(), l->thread))
		while (l->running == id)
			pthread_cond_wait(&l->idle, &l->lock);
	pthread_mutex_unlock(&l->lock);
	return 0;
}
