/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ebpfrelaysink's multiudpsink surface in mode=kernel: the tests of
 * ebpfrelaysink-udp.c, and the kernel's own copies (qos-dscp in them,
 * send-duplicates moving a client to userspace) captured on a veth of a
 * private network namespace; 77 without root. */
#define RELAY_UDP_KERNEL 1
#include "ebpfrelaysink-udp.c"
