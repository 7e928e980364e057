/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ebpfprioritysrc with its kernel socket filter (mode=kernel): the same
 * tests as ebpfprioritysrc.c; exits 77 (skipped) without root. */
#define PSRC_TEST_KERNEL 1
#include "ebpfprioritysrc.c"
