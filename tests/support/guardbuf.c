/* See guardbuf.h.  SPDX-License-Identifier: MIT */
#define _DEFAULT_SOURCE
#include "guardbuf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint8_t *region;
static size_t region_len, page;

const uint8_t *guardbuf_put(const void *data, size_t len)
{
    size_t need;
    if (page == 0)
        page = (size_t)sysconf(_SC_PAGESIZE);
    need = (len + page - 1) / page * page + page;
    if (need > region_len) {
        if (region)
            munmap(region, region_len);
        region = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (region == MAP_FAILED)
            abort();
        region_len = need;
        if (mprotect(region + need - page, page, PROT_NONE) != 0)
            abort();
    }
    uint8_t *dst = region + region_len - page - len;
    if (len)
        memcpy(dst, data, len);
    return dst;
}
