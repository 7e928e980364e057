/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ebpfprioritysrc's udpsrc surface with its kernel socket filter
 * (mode=kernel): the same tests as ebpfprioritysrc-udp.c; 77 without
 * root. */
#define PSRC_TEST_KERNEL 1
#include "ebpfprioritysrc-udp.c"
