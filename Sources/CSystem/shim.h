// Linux APIs that Swift's Glibc module does not expose.
#ifndef TASKER_CSYSTEM_SHIM_H
#define TASKER_CSYSTEM_SHIM_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <netinet/tcp.h>
#include <netinet/in.h>
#endif
