/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-util.h: what the libFuzzer targets of tests/fuzz share.
 *
 * GStreamer and GLib are not built with ASan, so an overread inside
 * libgstrtp (e.g. a GstRTCPPacket accessor reading past a short packet)
 * is invisible to the sanitizer. fuzz_guarded() copies the input to the
 * end of a page followed by a PROT_NONE page: any read past the input, by
 * instrumented code or not, faults. */
#ifndef __FUZZ_UTIL_H__
#define __FUZZ_UTIL_H__

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#define FUZZ_MAX_LEN 4096

static inline uint8_t *
fuzz_guarded (const uint8_t * data, size_t len)
{
  static uint8_t *area;
  long page = sysconf (_SC_PAGESIZE);

  if (len > FUZZ_MAX_LEN || len > (size_t) page)
    return NULL;
  if (!area) {
    area = mmap (NULL, 2 * page, PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED)
      abort ();
    if (mprotect (area + page, page, PROT_NONE) != 0)
      abort ();
  }
  memcpy (area + page - len, data, len);
  return area + page - len;
}

#define FUZZ_CHECK(cond) do { if (!(cond)) { \
      fprintf (stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
          #cond); abort (); } } while (0)

#endif
