// Everything public in xmem.
#pragma once

#include <xmem/error.h>
#include <xmem/memory_pool.h>
#include <xmem/system_info.h>
#include <xmem/types.h>
#include <xmem/version.h>
#include <xmem/virtual_memory.h>
