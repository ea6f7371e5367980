// Monitoring's readers of the kernel's files, behind LinuxPlatform's processUsage(),
// kernelCounters() and readPublishedRecords() (their contract is in os/os.h).
// Not on any allocation path: they allocate, and report unreadable files as a Status.
#pragma once

#include "os/os.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace xmem::os::linux_readers {

/// /proc/PID/status, smaps and numa_maps (PID "self" for pid 0), joined by start address.
Status processUsage(std::int64_t pid, std::size_t minMappingBytes, ProcessUsage& out);
/// /proc/vmstat's thp_*, compact_* and htlb_* counters and /proc/buddyinfo.
Status kernelCounters(KernelCounters& out);
/// The memfd "NAME" that process `pid` holds open, read through /proc/PID/fd/N.
Status readPublishedRecords(std::int64_t pid, const char* name, std::size_t maxBytes, std::string& out);

}  // namespace xmem::os::linux_readers
