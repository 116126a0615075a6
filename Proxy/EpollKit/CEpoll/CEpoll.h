// The Linux calls the proxy's event loop needs that Swift's Glibc module does not expose.
#ifndef CEPOLL_H
#define CEPOLL_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stddef.h>

// A GNU extension, declared by <sys/socket.h> only under _GNU_SOURCE, which the Glibc module is built without.
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

/// Names the calling thread (at most 15 bytes), as `top -H` and `/proc/<pid>/task/<tid>/comm` show it.
extern int pthread_setname_np(unsigned long thread, const char *name);
static inline int cepoll_name_thread(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}

/// Accepts one pending connection as a non-blocking, close-on-exec socket (-1 and errno when none is pending).
static inline int cepoll_accept(int fd) {
    return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/// The data of an epoll event: this loop stores the file descriptor there.
static inline int cepoll_event_fd(const struct epoll_event *event) {
    return event->data.fd;
}

#endif
