// Everything public in xmem.
#pragma once

#include <xmem/config.h>
#include <xmem/environment.h>
#include <xmem/exposition.h>
#include <xmem/error.h>
#include <xmem/huge_pages.h>
#include <xmem/memory_pool.h>
#include <xmem/monitor.h>
#include <xmem/numa_memory_pool.h>
#include <xmem/placement.h>
#include <xmem/planner.h>
#include <xmem/pool_resource.h>
#include <xmem/profile_allocation.h>
#include <xmem/profiles.h>
#include <xmem/snapshot.h>
#include <xmem/system_info.h>
#include <xmem/topology.h>
#include <xmem/types.h>
#include <xmem/version.h>
#include <xmem/virtual_memory.h>
