/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-record.h: the record bench-send writes at the start of each UDP
 * payload (after a 12-byte RTP header with --rtp) and bench-recv reads.
 * All fields big-endian, no padding:
 *
 *   0  u32 magic    "EBRB"
 *   4  u32 flags    bit 0: an RTP header precedes the record
 *   8  u64 seq      0, 1, 2... per sender run
 *  16  u64 tx_ns    CLOCK_REALTIME at the sendto() call, in ns
 *  24  ...          filler up to the datagram size
 */
#ifndef BENCH_RECORD_H
#define BENCH_RECORD_H

#include <stdint.h>
#include <string.h>

#include "tool-util.h"

#define BENCH_MAGIC 0x45425242u /* "EBRB" */
#define BENCH_REC_LEN 24
#define BENCH_RTP_LEN 12
#define BENCH_FLAG_RTP 1u

static inline void
bench_put64 (uint8_t * p, uint64_t v)
{
  tool_put32 (p, (uint32_t) (v >> 32));
  tool_put32 (p + 4, (uint32_t) v);
}

static inline uint32_t
bench_get32 (const uint8_t * p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
      (uint32_t) p[2] << 8 | p[3];
}

static inline uint64_t
bench_get64 (const uint8_t * p)
{
  return (uint64_t) bench_get32 (p) << 32 | bench_get32 (p + 4);
}

/* Finds the record in a payload: at 0, or after an RTP header. Returns its
 * offset, or -1. */
static inline int
bench_find_record (const uint8_t * p, size_t len)
{
  if (len >= BENCH_REC_LEN && bench_get32 (p) == BENCH_MAGIC)
    return 0;
  if (len >= BENCH_RTP_LEN + BENCH_REC_LEN && (p[0] & 0xc0) == 0x80
      && bench_get32 (p + BENCH_RTP_LEN) == BENCH_MAGIC)
    return BENCH_RTP_LEN;
  return -1;
}

#endif
